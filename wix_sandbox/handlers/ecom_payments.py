"""Taking money for orders: Payments Collector, Order Billing and Order Transactions (CONTRACT.md §12.2–12.4, §15, §20).

Every endpoint here only records payments (and refunds) on the order's transactions; the order's
balance and payment status then follow through :func:`ecom_orders.order_recalculate` (which also
syncs the bookings in the order). Membership charges are asynchronous: Charge Memberships answers
PENDING payments that :func:`ecom_orders.settle_membership_payments` settles later, taking the plan
credit through ``rules/plan_credits.py``; Refund Payments gives a membership payment's credit back.

Not routed on purpose (a call answers the sandbox's 404 for an unknown path, as Wix would):

- Bulk Mark Orders As Paid (protoPath ``/v1/bulk/payments-collector/mark-as-paid``): the SDK's
  ``meta.js`` gives it no ``www.wixapis.com`` mapping, so no public URL reaches it (§12.2, §20).
- Void Memberships (``/ecom/v1/order-billing/void-memberships``) and the Payments Collector's
  Charge Memberships (``…/payments-collector/orders/{id}/charge-membership``): REST metadata
  only, no public SDK function. Refund Payments (public) gives a plan charge back; Order Billing
  Charge Memberships (public preview) takes it.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from wix_sandbox.app import PRICING_PLANS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import dec, now_iso, price, stamp_new
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
from wix_sandbox.handlers.ecom_orders import (
    PENDING_CHARGES,
    get_order,
    order_balance,
    order_recalculate,
    settle_before_call,
)
from wix_sandbox.routing import route
from wix_sandbox.rules import plan_credits
from wix_sandbox.rules.booking_orders import MEMBERSHIP_OPTIONS
from wix_sandbox.rules.plan_programs import NAMESPACE, advance

MAX_ADD_PAYMENTS = 50
MAX_MEMBERSHIP_CHARGES = 100
MAX_PAYMENT_REFUNDS = 50
MAX_REFUND_LINE_ITEMS = 300
MAX_CUSTOMER_REASON = 200
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
# ``Payment`` fields the SDK marks @readonly.
_READ_ONLY_PAYMENT_FIELDS = ("id", "updatedDate", "supportReceiptGeneration")


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
    settle_before_call(sb, order_id)
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
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed([violation(field, "must be a decimal string", "FORMAT")]) from exc
    if not amount.is_finite():
        raise ValidationFailed([violation(field, "must be a decimal string", "FORMAT")])
    return amount


def _is_charged_membership(payment: dict[str, Any], record: dict[str, Any]) -> bool:
    """A membership payment that took (or is taking) a plan credit, as opposed to one only recorded."""
    details = payment.get("membershipPaymentDetails")
    return details is not None and (
        bool(details.get("externalTransactionId")) or payment["id"] in (record.get(PENDING_CHARGES) or {})
    )


# -- Payments Collector (hidden REST methods the app still uses) ---------------------------------------


@route("POST /ecom/v1/payments-collector/orders/{ecomOrderId}/mark-as-paid")
def mark_order_as_paid(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    return {"order": order_mark_paid(sb, req.path_params["ecomOrderId"])}


@route("POST /ecom/v1/payments-collector/orders/{orderId}/manual-payment")
def record_manually_collected_payment(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    settle_before_call(sb, req.path_params["orderId"])
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
    settle_before_call(sb, req.path_params["ecomOrderId"])
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


# -- Order Billing: Charge Memberships ---------------------------------------------------------------


def _not_eligible(reason: str, description: str, **data: Any) -> SandboxError:
    # UNCONFIRMED: the HTTP status of MEMBERSHIP_NOT_ELIGIBLE is not documented; 428
    # (FAILED_PRECONDITION), as for every state-dependent refusal (CONTRACT.md §2.2). ``data.reason``
    # is the sandbox's own word (INSUFFICIENT_FUNDS, MEMBERSHIP_NOT_FOUND, NOT_APPLICABLE_TO_LINE_ITEMS
    # follow Cart V2's InvalidMembershipReason); callers should match the code only.
    return precondition("MEMBERSHIP_NOT_ELIGIBLE", description, {"reason": reason, **data})


_POOL_REFUSALS = {
    "POOL_NOT_FOUND": "MEMBERSHIP_NOT_FOUND",
    "POOL_NOT_ACTIVE": "MEMBERSHIP_NOT_ACTIVE",
    "BENEFIT_NOT_FOUND": "NOT_APPLICABLE_TO_LINE_ITEMS",
    "NOT_ENOUGH_BALANCE": "INSUFFICIENT_FUNDS",
}


def _charge_inputs(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Validate a ChargeMembershipsRequest; returns (lineItemId, appId, membershipId) per item."""
    problems = []
    for key in ("orderId", "memberId"):
        if not body.get(key):
            problems.append(violation(key, f"{key} is required", "REQUIRED_FIELD"))
    memberships = body.get("memberships")
    if not memberships:
        problems.append(violation("memberships", "memberships is required (1 to 100 items)", "REQUIRED_FIELD"))
        memberships = []
    elif not isinstance(memberships, list):
        problems.append(violation("memberships", "memberships must be a list", "VALIDATION"))
        memberships = []
    elif len(memberships) > MAX_MEMBERSHIP_CHARGES:
        problems.append(violation("memberships", f"at most {MAX_MEMBERSHIP_CHARGES} memberships", "MAX_SIZE"))
        memberships = []
    wanted = []
    for i, item in enumerate(memberships):
        item = item if isinstance(item, dict) else {}
        field = f"memberships[{i}]"
        identifier = item.get("membershipIdentifier") or {}
        existing = identifier.get("existingMembership") or {}
        if not item.get("lineItemId"):
            problems.append(violation(f"{field}.lineItemId", "lineItemId is required", "REQUIRED_FIELD"))
        if "futureMembership" in identifier:
            # The sandbox sells plans only through Pricing Plans orders, never inside an eCom order,
            # so a membership still to be bought can't pay.
            problems.append(
                violation(f"{field}.membershipIdentifier.futureMembership", "not supported", "FIELD_NOT_ALLOWED")
            )
            continue
        for key in ("appId", "membershipId"):
            if not existing.get(key):
                problems.append(
                    violation(
                        f"{field}.membershipIdentifier.existingMembership.{key}", f"{key} is required", "REQUIRED_FIELD"
                    )
                )
        wanted.append((item.get("lineItemId"), existing.get("appId"), existing.get("membershipId")))
    if problems:
        raise ValidationFailed(problems)
    return wanted


def order_charge_memberships(
    sb: Sandbox, order_id: str, member_id: str, wanted: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """Ask memberships to pay order lines: ``wanted`` = (lineItemId, appId, membershipId).

    Everything is checked before anything is written (all or nothing). Each accepted item becomes a
    PENDING membership payment for the line's price; no credit moves until it settles
    (:func:`ecom_orders.settle_membership_payments`). Raises 404 ORDER_NOT_FOUND, 400 for a line not
    in the order, 428 MEMBERSHIP_NOT_ELIGIBLE (``data.reason``) for a membership that is unknown,
    not active, not this member's, doesn't cover the line's service, or lacks the credit now —
    counting credits that this request and charges still pending elsewhere will take; for a line
    already paid (by a membership, pending or not, or by money) or not sold for a membership
    payment; and for a canceled order.
    """
    order = get_order(sb, order_id)
    lines = {line["id"]: line for line in order["lineItems"]}
    unknown = [
        violation(f"memberships[{i}].lineItemId", f"line item {w[0]} is not in order {order_id}", "VALIDATION")
        for i, w in enumerate(wanted)
        if w[0] not in lines
    ]
    if unknown:
        raise ValidationFailed(unknown)
    record = ecom_orders.edit_transactions(sb, order_id)
    live = {
        p["membershipPaymentDetails"]["lineItemId"]
        for p in record["payments"]
        if "membershipPaymentDetails" in p and p["status"] in ("APPROVED", "PENDING")
    }
    advance(sb)  # plan orders start and end with the clock, as for every plan credit rule
    balance = order_balance(order)
    taking: Counter[str] = Counter()
    payments = []
    charges = {}
    for line_id, app_id, membership_id in wanted:
        line = lines[line_id]
        about = {"lineItemId": line_id, "membershipId": membership_id}
        total = ecom_orders.line_total(line)
        if order["status"] == "CANCELED":
            # UNCONFIRMED: ChargeMembershipsApplicationErrors has no code for a canceled order.
            raise _not_eligible("ORDER_CANCELED", f"Order {order_id} is canceled", **about)
        if line_id in live:
            # UNCONFIRMED: a second charge for a line already paid (or being paid) by a membership is refused.
            raise _not_eligible("LINE_ITEM_ALREADY_PAID", f"Line item {line_id} is paid by a membership", **about)
        if line.get("paymentOption") not in MEMBERSHIP_OPTIONS:
            # UNCONFIRMED (strict reading): only a line sold for a membership payment (the booking's
            # selectedPaymentOption MEMBERSHIP / MEMBERSHIP_OFFLINE) can be charged to one.
            raise _not_eligible(
                "PAYMENT_OPTION_NOT_MEMBERSHIP",
                f"Line item {line_id} is sold as {line.get('paymentOption')}, not for a membership",
                **about,
            )
        if total > 0 and balance <= 0:
            raise _not_eligible("LINE_ITEM_ALREADY_PAID", f"Order {order_id} has nothing left to pay", **about)
        if app_id != PRICING_PLANS_APP_ID:
            raise _not_eligible("MEMBERSHIP_NOT_FOUND", f"App {app_id} provides no memberships here", **about)
        service_id = line.get("rootCatalogItemId") or ""
        if not service_id:
            raise _not_eligible("NOT_APPLICABLE_TO_LINE_ITEMS", f"Line item {line_id} is not a booking", **about)
        taking[membership_id] += 1
        result, options, _ = plan_credits.evaluate(
            sb,
            pool_id=membership_id,
            item_ref={"externalId": service_id, "providerAppId": line["catalogReference"]["appId"], "category": ""},
            benefit_key=None,
            count=taking[membership_id] + ecom_orders.pending_charges_of_pool(sb, membership_id),
            member_id=member_id,
            namespace=NAMESPACE,
        )
        if result != "ELIGIBLE":
            failure = ((options.get("failureDetails") or [{}])[0]).get("code")
            other = "NOT_MEMBERS_MEMBERSHIP" if failure == "BENEFICIARY_MISMATCH" else "NOT_APPLICABLE_TO_LINE_ITEMS"
            reason = _POOL_REFUSALS.get(result, other)
            raise _not_eligible(reason, f"Membership {membership_id} can't pay line item {line_id} ({reason})", **about)
        amount = min(total, balance)
        balance -= amount
        live.add(line_id)
        pool = sb.state.get("pools", membership_id) or {}
        payment = ecom_orders.new_payment(
            sb,
            amount,
            status="PENDING",
            membershipPaymentDetails={
                "membershipId": membership_id,
                "lineItemId": line_id,
                "status": "CHARGE_PENDING",  # the deprecated twin of ``status``
                "name": {"original": pool.get("displayName") or "Membership"},
                "voided": False,
                "providerAppId": app_id,
            },
        )
        payments.append(payment)
        charges[payment["id"]] = {"memberId": member_id, "serviceId": service_id}
    record["payments"].extend(payments)
    record[PENDING_CHARGES] = {**(record.get(PENDING_CHARGES) or {}), **charges}
    sb.state.put("order_transactions", record)
    order_recalculate(sb, order_id)
    return [dict(p) for p in payments]


@route("POST /ecom/v1/order-billing/charge-memberships")
def charge_memberships(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Order Billing Charge Memberships (public preview): ``{payments[]}``, each PENDING.

    "The status will be updated asynchronously on the returned payments" (SDK doc); errors
    ``ChargeMembershipsApplicationErrors``: ORDER_NOT_FOUND, MEMBERSHIP_NOT_ELIGIBLE — never the
    Benefit Programs codes (NOT_ENOUGH_BALANCE …), which surface only as a DECLINED payment later.
    """
    wanted = _charge_inputs(req.body)
    settle_before_call(sb, req.body["orderId"])
    return {"payments": order_charge_memberships(sb, req.body["orderId"], req.body["memberId"], wanted)}


# -- Order Billing: Refund Payments ---------------------------------------------------------------------


def _not_refundable(payment_id: str, reason: str, description: str) -> SandboxError:
    # UNCONFIRMED statuses: PAYMENT_NOT_REFUNDABLE 428 (a state refusal), the amount and
    # external-refund codes 400 (the request is wrong), the *_NOT_FOUND codes 404 (CONTRACT.md §2.2).
    return precondition("PAYMENT_NOT_REFUNDABLE", description, {"paymentId": payment_id, "nonRefundableReason": reason})


def _refund_inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate a RefundPaymentsRequest; returns its payment refunds."""
    problems = []
    if not body.get("orderId"):
        problems.append(violation("orderId", "orderId is required", "REQUIRED_FIELD"))
    refunds = body.get("paymentRefunds")
    if not refunds:
        problems.append(violation("paymentRefunds", "paymentRefunds is required (1 to 50 items)", "REQUIRED_FIELD"))
        refunds = []
    elif not isinstance(refunds, list):
        problems.append(violation("paymentRefunds", "paymentRefunds must be a list", "VALIDATION"))
        refunds = []
    elif len(refunds) > MAX_PAYMENT_REFUNDS:
        problems.append(violation("paymentRefunds", f"at most {MAX_PAYMENT_REFUNDS} payment refunds", "MAX_SIZE"))
        refunds = []
    seen: set[str] = set()
    for i, refund in enumerate(refunds):
        field = f"paymentRefunds[{i}]"
        if not isinstance(refund, dict) or not refund.get("paymentId"):
            problems.append(violation(f"{field}.paymentId", "paymentId is required", "REQUIRED_FIELD"))
            continue
        if refund["paymentId"] in seen:
            # UNCONFIRMED: one payment named twice in one refund is refused rather than summed.
            problems.append(violation(f"{field}.paymentId", "payment named twice", "VALIDATION"))
        seen.add(refund["paymentId"])
        if "amount" in refund:
            raw = (refund.get("amount") or {}).get("amount")
            try:
                ok = raw is not None and Decimal(str(raw)).is_finite()
            except (InvalidOperation, ValueError):
                ok = False
            if not ok:
                problems.append(violation(f"{field}.amount.amount", "must be a decimal string", "FORMAT"))
        if "externalRefund" in refund and not isinstance(refund["externalRefund"], bool):
            problems.append(violation(f"{field}.externalRefund", "must be a boolean", "VALIDATION"))
    items = body.get("refundItems") or {}
    for i, item in enumerate(items.get("lineItems") or []):
        for key in ("lineItemId", "quantity"):
            if not (item or {}).get(key):
                problems.append(violation(f"refundItems.lineItems[{i}].{key}", f"{key} is required", "REQUIRED_FIELD"))
    for i, fee in enumerate(items.get("additionalFees") or []):
        if not (fee or {}).get("additionalFeeId"):
            name = f"refundItems.additionalFees[{i}].additionalFeeId"
            problems.append(violation(name, "additionalFeeId is required", "REQUIRED_FIELD"))
    restock = ((body.get("sideEffects") or {}).get("restock") or {}).get("lineItems") or []
    for i, item in enumerate(restock):
        for key in ("lineItemId", "quantity"):
            if not (item or {}).get(key):
                problems.append(
                    violation(f"sideEffects.restock.lineItems[{i}].{key}", f"{key} is required", "REQUIRED_FIELD")
                )
    reason = body.get("customerReason")
    if reason is not None and len(str(reason)) > MAX_CUSTOMER_REASON:
        problems.append(violation("customerReason", f"at most {MAX_CUSTOMER_REASON} characters", "MAX_LENGTH"))
    if problems:
        raise ValidationFailed(problems)
    return refunds


def _refunded_so_far(record: dict[str, Any], payment_id: str) -> Decimal:
    return sum(
        (
            dec((t.get("amount") or {}).get("amount"))
            for refund in record["refunds"]
            for t in refund.get("transactions", [])
            if t.get("paymentId") == payment_id and t.get("refundStatus", "SUCCEEDED") in ("SUCCEEDED", "PENDING")
        ),
        Decimal(0),
    )


def _plan_refund(
    order: dict[str, Any], record: dict[str, Any], payment: dict[str, Any] | None, asked: dict[str, Any], field: str
) -> Decimal:
    """Check one PaymentRefund against its payment; returns the amount it gives back. Writes nothing."""
    payment_id = asked["paymentId"]
    if payment is None:
        raise SandboxError(404, "PAYMENT_NOT_FOUND", f"Payment {payment_id} is not in order {order['id']}", asked)
    if order.get("status") == "PENDING":
        raise _not_refundable(payment_id, "ORDER_IS_PENDING", f"Order {order['id']} is pending")
    if order.get("status") == "REJECTED":
        raise _not_refundable(payment_id, "ORDER_IS_REJECTED", f"Order {order['id']} was rejected")
    status = payment.get("status")
    amount = dec(payment["amount"]["amount"])
    if "giftcardPaymentDetails" in payment:
        # UNCONFIRMED: the sandbox sells no gift cards, so it can't give a gift card balance back.
        raise _not_refundable(payment_id, "FORBIDDEN", "The sandbox does not refund gift card payments")
    if payment.get("refundDisabled"):
        raise _not_refundable(payment_id, "DISABLED_BY_PROVIDER", f"Refunds of payment {payment_id} are disabled")
    if "membershipPaymentDetails" in payment:
        if status == "VOIDED":
            raise _not_refundable(payment_id, "ALREADY_REFUNDED", f"Membership payment {payment_id} is already voided")
        if status != "APPROVED":
            raise _not_refundable(payment_id, "NOT_PAID", f"Membership payment {payment_id} is {status}")
        if "amount" in asked:
            # "Not applicable for membership payments … where the full credit is refunded" (SDK);
            # UNCONFIRMED whether Wix ignores an amount sent anyway: the sandbox refuses it.
            raise SandboxError(
                400, "INVALID_PAYMENT_REFUND_AMOUNT", "A membership payment is refunded whole: send no amount", asked
            )
        if asked.get("externalRefund"):
            # UNCONFIRMED: an "external" refund of a plan credit means nothing (the credit is Wix's to
            # give back), so the sandbox refuses it rather than guess whether the credit would return.
            why = "a membership payment is not refunded externally"
            raise ValidationFailed([violation(f"{field}.externalRefund", why, "FIELD_NOT_ALLOWED")])
        return amount
    details = payment.get("regularPaymentDetails") or {}
    if status == "REFUNDED":
        raise _not_refundable(payment_id, "ALREADY_REFUNDED", f"Payment {payment_id} is already refunded")
    if status not in ("APPROVED", "PARTIALLY_REFUNDED"):
        raise _not_refundable(payment_id, "NOT_PAID", f"Payment {payment_id} is {status}")
    if amount <= 0:
        raise _not_refundable(payment_id, "ZERO_PRICE", f"Payment {payment_id} is of 0")
    left = amount - _refunded_so_far(record, payment_id)
    if left <= 0:
        raise _not_refundable(payment_id, "ALREADY_REFUNDED", f"Payment {payment_id} is already refunded")
    if details.get("offlinePayment") and not asked.get("externalRefund"):
        raise SandboxError(
            400, "EXTERNAL_REFUND_EXPECTED", f"Payment {payment_id} was taken offline: refund it externally", asked
        )
    if not asked.get("externalRefund") and not details.get("gatewayTransactionId"):
        # UNCONFIRMED: an online payment only recorded through Add Payments has no gateway transaction
        # for Wix to refund through the provider.
        raise _not_refundable(payment_id, "TRANSACTION_NOT_FOUND", f"Payment {payment_id} has no gateway transaction")
    wanted = dec((asked.get("amount") or {}).get("amount")) if "amount" in asked else left
    if wanted <= 0 or wanted > left:
        raise SandboxError(
            400, "INVALID_PAYMENT_REFUND_AMOUNT", f"Refund amount must be above 0 and at most {left}", asked
        )
    return wanted


def _refund_line_items(order: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("refundItems") or {}
    lines = {line["id"]: line for line in order["lineItems"]}
    out = []
    for item in items.get("lineItems") or []:
        line = lines.get(item["lineItemId"])
        if line is None:
            raise not_found("LINE_ITEM_NOT_FOUND", "Line item", item["lineItemId"])
        quantity = item["quantity"]
        if not isinstance(quantity, int) or not 1 <= quantity <= line["quantity"]:
            raise invalid(
                "INVALID_LINE_ITEM_REFUND_QUANTITY",
                f"Line item {line['id']} has quantity {line['quantity']}",
                {"lineItemId": line["id"], "quantity": quantity},
            )
        out.append({"lineItemId": line["id"], "quantity": quantity})
    for fee in items.get("additionalFees") or []:
        # The sandbox's orders carry no additional fees.
        raise SandboxError(404, "ADDITIONAL_FEE_NOT_FOUND", f"Additional fee {fee['additionalFeeId']} not found", fee)
    if dec(((items.get("shipping") or {}).get("amount") or {}).get("amount")) > 0:
        raise SandboxError(404, "SHIPPING_NOT_FOUND", "The order has no shipping to refund", items["shipping"])
    return out


@route("POST /ecom/v1/order-billing/refund-payments")
def refund_payments(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Order Billing Refund Payments: ``{refund{id, transactions[], details, summary}, orderTransactions}``.

    A membership payment is refunded whole: its plan credit comes back and the payment is VOIDED
    (the SDK: membership payments "don't support partial refunds, so a full refund of one is
    reported as VOIDED"). A regular payment taken offline needs ``externalRefund: true``
    (EXTERNAL_REFUND_EXPECTED otherwise); it ends REFUNDED or PARTIALLY_REFUNDED. All refunds are
    checked before any is applied. The order's balance and payment status, and its bookings'
    payment status, follow.
    """
    body = req.body
    refunds = _refund_inputs(body)
    order_id = body["orderId"]
    settle_before_call(sb, order_id)
    order = sb.state.get("orders", order_id)
    if order is None:
        # UNCONFIRMED: RefundPaymentsApplicationErrors has no ORDER_NOT_FOUND; the payments of an
        # unknown order are not found.
        raise SandboxError(404, "PAYMENT_NOT_FOUND", f"Order {order_id} not found", refunds[0])
    record = ecom_orders.edit_transactions(sb, order_id)
    payments = {p["id"]: p for p in record["payments"]}
    planned = [
        (asked, _plan_refund(order, record, payments.get(asked["paymentId"]), asked, f"paymentRefunds[{i}]"))
        for i, asked in enumerate(refunds)
    ]
    refunded_lines = _refund_line_items(order, body)

    transactions = []
    total = Decimal(0)
    for asked, amount in planned:
        payment = payments[asked["paymentId"]]
        payment["updatedDate"] = now_iso(sb)
        transaction: dict[str, Any] = {
            "paymentId": payment["id"],
            "amount": price(sb, amount),
            "refundStatus": "SUCCEEDED",
            "externalRefund": bool(asked.get("externalRefund")),
        }
        if "membershipPaymentDetails" in payment:
            details = payment["membershipPaymentDetails"]
            if details.get("externalTransactionId"):
                plan_credits.void_membership_charge(sb, transaction_id=details["externalTransactionId"])
            payment["status"] = "VOIDED"
            details.update({"status": "VOIDED", "voided": True})
        else:
            left = dec(payment["amount"]["amount"]) - _refunded_so_far(record, payment["id"]) - amount
            ecom_orders.set_payment_status(payment, "REFUNDED" if left <= 0 else "PARTIALLY_REFUNDED")
            if not asked.get("externalRefund"):
                transaction["gatewayRefundId"] = sb.state.new_id()
        transactions.append(transaction)
        total += amount
    refund: dict[str, Any] = {
        "transactions": transactions,
        "details": {
            "items": refunded_lines,
            "lineItems": refunded_lines,
            "additionalFees": [],
            "shippingIncluded": False,
        },
        "summary": {
            "requestedRefund": price(sb, total),
            "pendingRefund": price(sb, 0),
            "refunded": price(sb, total),
            "failedRefundAmount": price(sb, 0),
            "pending": False,
            "breakdown": {"lineItems": []},
        },
    }
    if body.get("customerReason"):
        refund["details"]["reason"] = body["customerReason"]
    if sb.app_id:
        refund["requestingServiceAppId"] = sb.app_id
    stamp_new(sb, refund, revision=False)
    refund.pop("updatedDate", None)
    record["refunds"].append(refund)
    sb.state.put("order_transactions", record)
    order_recalculate(sb, order_id)
    return {"refund": refund, "orderTransactions": ecom_orders.public_transactions(record)}


# -- Order Transactions ----------------------------------------------------------------------


def _payment_from_input(
    sb: Sandbox, raw: dict[str, Any], field: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    problems = []
    if not isinstance(raw, dict):
        return None, [violation(field, "a payment is an object", "VALIDATION")]
    for key in _READ_ONLY_PAYMENT_FIELDS:
        if key in raw:
            # UNCONFIRMED whether Wix ignores or rejects a read-only field; the sandbox rejects it.
            problems.append(violation(f"{field}.{key}", f"{key} is read-only", "FIELD_NOT_ALLOWED"))
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
            if not amount.is_finite():
                problems.append(violation(f"{field}.amount.amount", "must be a decimal string", "FORMAT"))
            elif amount < 0:
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
    """Add Payments (AddPaymentsRequest: ``payments`` 1..50, each with ``amount`` and exactly one
    kind of details): records payments, charges nothing. ``{orderTransactions, paymentsIds}``."""
    order_id = req.path_params["orderId"]
    raw_payments = req.body.get("payments") or []
    require("payments", raw_payments)
    if not isinstance(raw_payments, list):
        raise ValidationFailed([violation("payments", "payments must be a list", "VALIDATION")])
    if len(raw_payments) > MAX_ADD_PAYMENTS:
        raise ValidationFailed([violation("payments", f"at most {MAX_ADD_PAYMENTS} payments", "MAX_SIZE")])
    settle_before_call(sb, order_id)
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
    # UNCONFIRMED (CONTRACT.md §17): recording an APPROVED payment recalculates the order's payment
    # status (PAID / PARTIALLY_PAID) at once, and the bookings in the order follow it.
    order_recalculate(sb, order_id)
    return {"orderTransactions": ecom_orders.public_transactions(record), "paymentsIds": [p["id"] for p in payments]}


def _set_payment_status(sb: Sandbox, order_id: str, payment_id: str, status: Any) -> dict[str, Any]:
    """Change one payment's status (checks first, then writes). Returns the transactions record."""
    settle_before_call(sb, order_id)
    if sb.state.get("orders", order_id) is None:
        raise not_found("ORDER_TRANSACTIONS_NOT_FOUND", "Order transactions of order", order_id)
    record = ecom_orders.edit_transactions(sb, order_id)
    payment = next((p for p in record["payments"] if p["id"] == payment_id), None)
    if payment is None:
        raise not_found("PAYMENT_NOT_FOUND", "Payment", payment_id)
    allowed = PAYMENT_STATUSES if "regularPaymentDetails" in payment else _NON_REGULAR_STATUSES
    if status == payment["status"]:
        return record
    if status not in allowed or payment["status"] in _FINAL_STATUSES or _is_charged_membership(payment, record):
        # UNCONFIRMED: a membership payment that took a plan credit moves only by its charge settling
        # or by Refund Payments (which gives the credit back), never by a bare status change.
        raise precondition(
            "STATUS_NOT_ALLOWED",
            f"Payment {payment_id} can't go from {payment['status']} to {status}",
            {"status": status},
        )
    ecom_orders.set_payment_status(payment, status)
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
    settle_before_call(sb, order_id)
    if sb.state.get("orders", order_id) is None:
        raise not_found("ORDER_TRANSACTIONS_NOT_FOUND", "Order transactions of order", order_id)
    return {"orderTransactions": ecom_orders.public_transactions(ecom_orders.transactions_of(sb, order_id))}


@route("POST /ecom/v1/payments/list-by-ids")
def list_transactions_for_multiple_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_ids = req.body.get("orderIds") or []
    require("orderIds", order_ids)
    if len(order_ids) > MAX_LIST_BY_IDS:
        raise ValidationFailed([violation("orderIds", f"at most {MAX_LIST_BY_IDS} ids", "MAX_SIZE")])
    for order_id in order_ids:
        settle_before_call(sb, order_id)
    return {
        "orderTransactions": [
            ecom_orders.public_transactions(ecom_orders.transactions_of(sb, order_id))
            for order_id in order_ids
            if sb.state.get("orders", order_id) is not None
        ]
    }
