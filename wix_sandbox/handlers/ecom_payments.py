"""Taking money for orders: Payments Collector, Order Billing and Order Transactions (CONTRACT.md §12.2–12.4, §15).

Every endpoint here only records payments on the order's transactions; the order's balance and
payment status then follow through :func:`ecom_orders.order_recalculate` (which also syncs the
bookings in the order). Membership charges take plan credits through ``rules/plan_credits.py``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import dec, now_iso, price
from wix_sandbox.errors import (
    SandboxError,
    ValidationFailed,
    invalid,
    not_found,
    precondition,
    require,
    violation,
)
from wix_sandbox.handlers import ecom_orders
from wix_sandbox.handlers.ecom_orders import get_order, order_balance, order_recalculate
from wix_sandbox.routing import route
from wix_sandbox.rules import plan_credits

MAX_BULK_MARK_AS_PAID = 100
MAX_ADD_PAYMENTS = 50
MAX_MEMBERSHIP_CHARGES = 100
MAX_BULK_STATUS_UPDATES = 300
MAX_LIST_BY_IDS = 100

PAYMENT_STATUSES = (
    "APPROVED",
    "PENDING",
    "PENDING_MERCHANT",
    "CANCELED",
    "DECLINED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "AUTHORIZED",
    "VOIDED",
)
# Gift-card and membership payments only move between these.
_NON_REGULAR_STATUSES = ("APPROVED", "PENDING", "CANCELED", "DECLINED", "VOIDED")
_FINAL_STATUSES = ("CANCELED", "DECLINED", "VOIDED", "REFUNDED")
_DETAIL_KEYS = ("regularPaymentDetails", "giftcardPaymentDetails", "membershipPaymentDetails")


# -- shared rules ----------------------------------------------------------------------------


def _check_collectable(order: dict[str, Any]) -> None:
    """Reject money for a cancelled or already settled order (428)."""
    if order["status"] == "CANCELED":
        raise precondition("ORDER_CANCELED", f"Order {order['id']} is canceled")
    if order["paymentStatus"] in ecom_orders.PAID_UP or order_balance(order) <= 0:
        raise precondition("ORDER_ALREADY_PAID", f"Order {order['id']} is already paid")


def _record(sb: Sandbox, order_id: str, payments: list[dict[str, Any]]) -> dict[str, Any]:
    record = ecom_orders.edit_transactions(sb, order_id)
    record["payments"].extend(payments)
    sb.state.put("order_transactions", record)
    return record


def _offline_payment(sb: Sandbox, amount: Decimal) -> dict[str, Any]:
    return ecom_orders.new_payment(sb, amount, regularPaymentDetails={"offlinePayment": True})


def order_mark_paid(sb: Sandbox, order_id: str) -> dict[str, Any]:
    """Record an offline payment for the whole balance. Raises ORDER_NOT_FOUND, ORDER_CANCELED, ORDER_ALREADY_PAID."""
    order = get_order(sb, order_id)
    _check_collectable(order)
    _record(sb, order_id, [_offline_payment(sb, order_balance(order))])
    return order_recalculate(sb, order_id)


def _bulk_result(item_id: str, index: int, item: dict[str, Any] | None, error: SandboxError | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": item_id, "originalIndex": index, "success": error is None}
    if error is not None:
        meta["error"] = {"code": error.code, "description": error.description, "data": error.data}
    result: dict[str, Any] = {"itemMetadata": meta}
    if item is not None:
        result["item"] = item
    return result


def _bulk_metadata(results: list[dict[str, Any]]) -> dict[str, int]:
    ok = sum(1 for r in results if r["itemMetadata"]["success"])
    return {"totalSuccesses": ok, "totalFailures": len(results) - ok, "undetailedFailures": 0}


def _amount(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed([violation(field, "must be a decimal string", "FORMAT")]) from exc


# -- Payments Collector ----------------------------------------------------------------------


@route("POST /ecom/v1/payments-collector/orders/{ecomOrderId}/mark-as-paid")
def mark_order_as_paid(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    return {"order": order_mark_paid(sb, req.path_params["ecomOrderId"])}


# UNCONFIRMED: the SDK's table gives this operation no www.wixapis.com prefix, so the natural
# /ecom/v1/… spelling is routed too.
@route("POST /v1/bulk/payments-collector/mark-as-paid", "/ecom/v1/bulk/payments-collector/mark-as-paid")
def bulk_mark_orders_as_paid(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    ids = req.body.get("ecomOrderIds") or []
    require("ecomOrderIds", ids)
    if len(ids) > MAX_BULK_MARK_AS_PAID:
        raise ValidationFailed([violation("ecomOrderIds", f"at most {MAX_BULK_MARK_AS_PAID} ids", "MAX_SIZE")])
    results = []
    for index, order_id in enumerate(ids):
        try:
            # Every rejection is raised before anything is written, so a failed item leaves no trace.
            order = order_mark_paid(sb, order_id)
        except SandboxError as exc:
            results.append(_bulk_result(order_id, index, None, exc))
        else:
            results.append(_bulk_result(order_id, index, order, None))
    return {"results": results, "bulkActionMetadata": _bulk_metadata(results)}


@route("POST /ecom/v1/payments-collector/orders/{orderId}/manual-payment")
def record_manually_collected_payment(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order = get_order(sb, req.path_params["orderId"])
    raw = (req.body.get("amount") or {}).get("amount")
    require("amount.amount", raw)
    amount = _amount(raw, "amount.amount")
    _check_collectable(order)
    if amount <= 0:
        raise invalid("INVALID_AMOUNT", "amount must be greater than 0")
    if amount > order_balance(order):
        raise invalid("INVALID_AMOUNT", f"amount is above the balance of {order_balance(order)}")
    _record(sb, order["id"], [_offline_payment(sb, amount)])
    order_recalculate(sb, order["id"])
    return {}


@route("GET /ecom/v1/payments-collector/orders/{ecomOrderId}/payment-collectability-status")
def payment_collectability_status(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order = get_order(sb, req.path_params["ecomOrderId"])
    if order["status"] == "CANCELED":
        status = "NONCOLLECTABLE_ORDER_IS_CANCELLED"
    elif order["status"] == "PENDING":
        status = "NONCOLLECTABLE_ORDER_IS_PENDING"
    elif order["status"] == "REJECTED":
        status = "NONCOLLECTABLE_ORDER_IS_REJECTED"
    elif order["paymentStatus"] in ecom_orders.PAID_UP or order_balance(order) <= 0:
        status = "NONCOLLECTABLE_ORDER_IS_PAID"
    else:
        status = "COLLECTABLE"
    return {"status": status, "amount": price(sb, order_balance(order))}


@route("POST /ecom/v1/payments-collector/orders/{ecomOrderId}/charge-membership")
def collector_charge_memberships(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    member_id = req.body.get("memberId")
    require("memberId", member_id)
    charges = req.body.get("membershipCharges") or []
    require("membershipCharges", charges)
    problems = []
    wanted = []
    for i, charge in enumerate(charges):
        for key in ("membershipId", "appId", "lineItemId"):
            if not charge.get(key):
                problems.append(violation(f"membershipCharges[{i}].{key}", f"{key} is required", "REQUIRED_FIELD"))
        wanted.append(
            (charge.get("lineItemId"), charge.get("appId"), charge.get("membershipId"), charge.get("membershipName"))
        )
    if problems:
        raise ValidationFailed(problems)
    order_charge_memberships(sb, req.path_params["ecomOrderId"], member_id, wanted)
    return {}


# -- Order Billing ---------------------------------------------------------------------------


def order_charge_memberships(
    sb: Sandbox, order_id: str, member_id: str, wanted: list[tuple[str, str, str, Any]]
) -> list[dict[str, Any]]:
    """Charge order lines to memberships: ``wanted`` = (lineItemId, appId, membershipId, name or None).

    All or nothing: a plan without credit raises 428 NOT_ENOUGH_BALANCE from
    :func:`~wix_sandbox.rules.plan_credits.charge_membership` and the request's rollback undoes the earlier charges.
    Raises ORDER_NOT_FOUND, ORDER_CANCELED, ORDER_ALREADY_PAID, 400 for a line not in the order.
    """
    order = get_order(sb, order_id)
    if order["status"] == "CANCELED":
        raise precondition("ORDER_CANCELED", f"Order {order_id} is canceled")
    lines = {line["id"]: line for line in order["lineItems"]}
    record = ecom_orders.edit_transactions(sb, order_id)
    charged_lines = {
        p["membershipPaymentDetails"]["lineItemId"]
        for p in record["payments"]
        if "membershipPaymentDetails" in p and p["status"] == "APPROVED"
    }
    unknown = [
        violation(f"memberships[{i}].lineItemId", f"line item {w[0]} is not in order {order_id}", "VALIDATION")
        for i, w in enumerate(wanted)
        if w[0] not in lines
    ]
    if unknown:
        raise ValidationFailed(unknown)
    balance = order_balance(order)
    payments = []
    for line_id, app_id, membership_id, name in wanted:
        if line_id in charged_lines or balance <= 0:
            # UNCONFIRMED: charging a line already paid by a plan (or an order with nothing left to pay)
            # is refused with the collector's ORDER_ALREADY_PAID.
            raise precondition("ORDER_ALREADY_PAID", f"Line item {line_id} of order {order_id} is already paid")
        line = lines[line_id]
        service_id = line.get("rootCatalogItemId") or ""
        if name is None:
            offered = plan_credits.eligible_memberships(
                sb, member_id=member_id, service_id=service_id, line_item_ids=[line_id]
            )
            name = next((m.get("name") for m in offered if m["id"] == membership_id), None)
        transaction_id = plan_credits.charge_membership(
            sb,
            member_id=member_id,
            membership_id=membership_id,
            service_id=service_id,
            reference=f"{order_id}:{line_id}",
        )
        amount = min(ecom_orders.line_total(line), balance)
        balance -= amount
        charged_lines.add(line_id)
        payments.append(
            ecom_orders.new_payment(
                sb,
                amount,
                membershipPaymentDetails={
                    "membershipId": membership_id,
                    "lineItemId": line_id,
                    "status": "CHARGED",
                    "name": name or {"original": "Membership"},
                    "externalTransactionId": transaction_id,
                    "voided": False,
                    "providerAppId": app_id,
                },
            )
        )
    record["payments"].extend(payments)
    sb.state.put("order_transactions", record)
    order_recalculate(sb, order_id)
    return payments


@route("POST /ecom/v1/order-billing/charge-memberships")
def charge_memberships(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    require("orderId", body.get("orderId"))
    require("memberId", body.get("memberId"))
    memberships = body.get("memberships") or []
    require("memberships", memberships)
    if len(memberships) > MAX_MEMBERSHIP_CHARGES:
        raise ValidationFailed([violation("memberships", f"at most {MAX_MEMBERSHIP_CHARGES} memberships", "MAX_SIZE")])
    problems = []
    wanted = []
    for i, item in enumerate(memberships):
        identifier = item.get("membershipIdentifier") or {}
        existing = identifier.get("existingMembership") or {}
        if not item.get("lineItemId"):
            problems.append(violation(f"memberships[{i}].lineItemId", "lineItemId is required", "REQUIRED_FIELD"))
        if "futureMembership" in identifier:
            # The sandbox sells plans only through Pricing Plans orders, not inside an eCom order.
            problems.append(
                violation(
                    f"memberships[{i}].membershipIdentifier.futureMembership", "not supported", "FIELD_NOT_ALLOWED"
                )
            )
        else:
            for key in ("appId", "membershipId"):
                if not existing.get(key):
                    problems.append(
                        violation(
                            f"memberships[{i}].membershipIdentifier.existingMembership.{key}",
                            f"{key} is required",
                            "REQUIRED_FIELD",
                        )
                    )
        wanted.append((item.get("lineItemId"), existing.get("appId"), existing.get("membershipId"), None))
    if problems:
        raise ValidationFailed(problems)
    return {"payments": order_charge_memberships(sb, body["orderId"], body["memberId"], wanted)}


@route("POST /ecom/v1/order-billing/void-memberships")
def void_memberships(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_id = req.body.get("orderId")
    require("orderId", order_id)
    payment_ids = req.body.get("paymentIds") or []
    require("paymentIds", payment_ids)
    if len(payment_ids) > MAX_MEMBERSHIP_CHARGES:
        raise ValidationFailed([violation("paymentIds", f"at most {MAX_MEMBERSHIP_CHARGES} ids", "MAX_SIZE")])
    order = sb.state.edit("orders", get_order(sb, order_id)["id"])
    assert order is not None
    record = ecom_orders.edit_transactions(sb, order_id)
    payments = {p["id"]: p for p in record["payments"]}
    repriced = False
    for payment_id in payment_ids:
        payment = payments.get(payment_id)
        if payment is None:
            raise not_found("PAYMENT_NOT_FOUND", "Payment", payment_id)
        details = payment.get("membershipPaymentDetails")
        if details is None:
            raise invalid("INVALID_ARGUMENT", f"Payment {payment_id} is not a membership payment")
        if payment["status"] != "APPROVED":
            raise precondition("STATUS_NOT_ALLOWED", f"Payment {payment_id} is {payment['status']}, not APPROVED")
        if details.get("externalTransactionId"):
            plan_credits.void_membership_charge(sb, transaction_id=details["externalTransactionId"])
        payment["status"] = "VOIDED"
        payment["updatedDate"] = now_iso(sb)
        details.update({"status": "VOIDED", "voided": True})
        repriced |= _restore_line_price(sb, order, details["lineItemId"])
    sb.state.put("order_transactions", record)
    if repriced:
        order["priceSummary"] = ecom_orders.price_summary(sb, order["lineItems"])
        sb.state.put("orders", order)
    order_recalculate(sb, order_id)
    return {}


def _restore_line_price(sb: Sandbox, order: dict[str, Any], line_id: str) -> bool:
    """A line that a plan made free at checkout owes its full price again once the charge is voided."""
    line = next((li for li in order["lineItems"] if li["id"] == line_id), None)
    if line is None or line.get("paymentOption") != "MEMBERSHIP" or ecom_orders.line_total(line) > 0:
        return False
    full = sb.state.get("checkouts", order.get("checkoutId") or "")
    source = next((li for li in (full or {}).get("lineItems", []) if li["id"] == line_id), None)
    unit = dec(((source or {}).get("fullPrice") or {}).get("amount"))
    if unit <= 0:
        return False
    # UNCONFIRMED: the voided line goes back to pay-at-the-desk at its full price.
    total = unit * line["quantity"]
    line["paymentOption"] = "FULL_PAYMENT_OFFLINE"
    line["price"] = line["priceBeforeDiscounts"] = price(sb, unit)
    line["totalPriceBeforeTax"] = line["totalPriceAfterTax"] = price(sb, total)
    line["taxDetails"] = {"taxableAmount": price(sb, total), "taxRate": "0", "totalTax": price(sb, 0)}
    return True


# -- Order Transactions ----------------------------------------------------------------------


def _payment_from_input(
    sb: Sandbox, raw: dict[str, Any], field: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    problems = []
    amount_raw = (raw.get("amount") or {}).get("amount")
    amount = Decimal(0)
    if amount_raw is None:
        problems.append(violation(f"{field}.amount.amount", "amount.amount is required", "REQUIRED_FIELD"))
    else:
        try:
            amount = Decimal(str(amount_raw))
        except (InvalidOperation, ValueError):
            problems.append(violation(f"{field}.amount.amount", "must be a decimal string", "FORMAT"))
        else:
            if amount < 0:
                problems.append(violation(f"{field}.amount.amount", "must be ≥ 0", "DECIMAL_GTE"))
    kinds = [k for k in _DETAIL_KEYS if raw.get(k) is not None]
    if len(kinds) != 1:
        problems.append(violation(field, f"exactly one of {', '.join(_DETAIL_KEYS)}", "ONE_OF_ALIGNMENT"))
        return None, problems
    kind = kinds[0]
    details = dict(raw[kind])
    if kind == "membershipPaymentDetails":
        for key, value in (
            ("lineItemId", details.get("lineItemId")),
            ("name.original", (details.get("name") or {}).get("original")),
            ("providerAppId", details.get("providerAppId")),
        ):
            if not value:
                problems.append(
                    violation(f"{field}.membershipPaymentDetails.{key}", f"{key} is required", "REQUIRED_FIELD")
                )
    # UNCONFIRMED: without a status (new or deprecated) a recorded payment counts as APPROVED.
    status = raw.get("status") or (details.get("status") if kind == "regularPaymentDetails" else None) or "APPROVED"
    allowed = PAYMENT_STATUSES if kind == "regularPaymentDetails" else _NON_REGULAR_STATUSES
    if status not in allowed:
        problems.append(violation(f"{field}.status", f"status {status} is not allowed here", "INVALID_ENUM_VALUE"))
    if problems:
        return None, problems
    payment = ecom_orders.new_payment(sb, amount, status=status, **{kind: details})
    payment["refundDisabled"] = bool(raw.get("refundDisabled", False))
    if raw.get("createdDate"):
        payment["createdDate"] = raw["createdDate"]
    return payment, []


@route("POST /ecom/v1/payments/orders/{orderId}/add-payment")
def add_payments(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_id = req.path_params["orderId"]
    raw_payments = req.body.get("payments") or []
    require("payments", raw_payments)
    if len(raw_payments) > MAX_ADD_PAYMENTS:
        raise ValidationFailed([violation("payments", f"at most {MAX_ADD_PAYMENTS} payments", "MAX_SIZE")])
    get_order(sb, order_id)
    problems: list[dict[str, Any]] = []
    payments = []
    for i, raw in enumerate(raw_payments):
        payment, more = _payment_from_input(sb, raw, f"payments[{i}]")
        problems += more
        if payment is not None:
            payments.append(payment)
    if problems:
        raise ValidationFailed(problems)
    record = _record(sb, order_id, payments)
    # UNCONFIRMED: recording an APPROVED payment recalculates the order's payment status at once.
    order_recalculate(sb, order_id)
    return {"orderTransactions": ecom_orders.public_transactions(record), "paymentsIds": [p["id"] for p in payments]}


def _set_payment_status(sb: Sandbox, order_id: str, payment_id: str, status: Any) -> dict[str, Any]:
    """Change one payment's status (checks first, then writes). Returns the transactions record."""
    if sb.state.get("orders", order_id) is None:
        raise not_found("ORDER_TRANSACTIONS_NOT_FOUND", "Order transactions of order", order_id)
    record = ecom_orders.edit_transactions(sb, order_id)
    payment = next((p for p in record["payments"] if p["id"] == payment_id), None)
    if payment is None:
        raise not_found("PAYMENT_NOT_FOUND", "Payment", payment_id)
    allowed = PAYMENT_STATUSES if "regularPaymentDetails" in payment else _NON_REGULAR_STATUSES
    if status == payment["status"]:
        return record
    if status not in allowed or payment["status"] in _FINAL_STATUSES:
        raise precondition(
            "STATUS_NOT_ALLOWED",
            f"Payment {payment_id} can't go from {payment['status']} to {status}",
            {"status": status},
        )
    payment["status"] = status
    payment["updatedDate"] = now_iso(sb)
    sb.state.put("order_transactions", record)
    order_recalculate(sb, order_id)
    return record


def _check_status_enum(status: Any) -> None:
    require("status", status)
    if status not in PAYMENT_STATUSES and status != "UNDEFINED":
        raise ValidationFailed([violation("status", f"unknown TransactionStatus {status}", "INVALID_ENUM_VALUE")])


@route("POST /ecom/v1/payments/{paymentId}/orders/{orderId}/update-payment-transaction-status")
def update_payment_status(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    status = req.body.get("status")
    _check_status_enum(status)
    record = _set_payment_status(sb, req.path_params["orderId"], req.path_params["paymentId"], status)
    return {"orderTransactions": ecom_orders.public_transactions(record)}


@route("POST /ecom/v1/bulk/payments/update-payment-transaction-status")
def bulk_update_payment_statuses(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    pairs = req.body.get("paymentAndOrderIds") or []
    require("paymentAndOrderIds", pairs)
    if len(pairs) > MAX_BULK_STATUS_UPDATES:
        raise ValidationFailed(
            [violation("paymentAndOrderIds", f"at most {MAX_BULK_STATUS_UPDATES} items", "MAX_SIZE")]
        )
    status = req.body.get("status")
    _check_status_enum(status)
    full = bool(req.body.get("returnFullEntity"))
    results = []
    for index, pair in enumerate(pairs):
        try:
            record = _set_payment_status(sb, pair.get("orderId") or "", pair.get("paymentId") or "", status)
        except SandboxError as exc:
            results.append(_bulk_result(pair.get("paymentId") or "", index, None, exc))
        else:
            item = ecom_orders.public_transactions(record) if full else None
            results.append(_bulk_result(pair["paymentId"], index, item, None))
    return {"results": results, "bulkActionMetadata": _bulk_metadata(results)}


@route("GET /ecom/v1/payments/orders/{orderId}")
def list_transactions_for_single_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_id = req.path_params["orderId"]
    if sb.state.get("orders", order_id) is None:
        raise not_found("ORDER_TRANSACTIONS_NOT_FOUND", "Order transactions of order", order_id)
    return {"orderTransactions": ecom_orders.public_transactions(ecom_orders.transactions_of(sb, order_id))}


@route("POST /ecom/v1/payments/list-by-ids")
def list_transactions_for_multiple_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_ids = req.body.get("orderIds") or []
    require("orderIds", order_ids)
    if len(order_ids) > MAX_LIST_BY_IDS:
        raise ValidationFailed([violation("orderIds", f"at most {MAX_LIST_BY_IDS} ids", "MAX_SIZE")])
    return {
        "orderTransactions": [
            ecom_orders.public_transactions(ecom_orders.transactions_of(sb, order_id))
            for order_id in order_ids
            if sb.state.get("orders", order_id) is not None
        ]
    }
