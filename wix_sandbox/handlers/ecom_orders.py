"""eCommerce orders, and the money rules every eCom endpoint shares (CONTRACT.md §12.1).

An order's ``balanceSummary`` and ``paymentStatus`` are never set directly: they follow from the
payments recorded on its order transactions (collection ``order_transactions``, keyed by order
id). :func:`order_recalculate` is the one place that derives them, and the one place that tells
the bookings in the order that their payment status changed.

Membership charges are asynchronous (Order Billing Charge Memberships answers PENDING payments,
CONTRACT.md §12.3): :func:`settle_membership_payments` settles them — by itself at the start of
the next eCommerce call on the order (``Faults.membership_settlement = "next_call"``, the
default), or only when called (``"manual"``).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import dec, now_iso, parse_local, price, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
from wix_sandbox.faults import SETTLE_ON_NEXT_CALL
from wix_sandbox.query import run_query
from wix_sandbox.routing import route
from wix_sandbox.rules import plan_credits
from wix_sandbox.rules.booking_orders import booking_ids_of, order_created_for_booking, order_payment_changed

CHANNEL_TYPES = (
    "UNSPECIFIED",
    "WEB",
    "POS",
    "EBAY",
    "AMAZON",
    "OTHER_PLATFORM",
    "WIX_APP_STORE",
    "WIX_INVOICES",
    "BACKOFFICE_MERCHANT",
    "WISH",
    "CLASS_PASS",
    "GLOBAL_E",
    "FACEBOOK",
    "ETSY",
    "TIKTOK",
    "FAIRE_COM",
    "PAYPAL_AGENTIC_CHECKOUT",
    "STRIPE_AGENTIC_CHECKOUT",
)
PAYMENT_OPTIONS = (
    "FULL_PAYMENT_ONLINE",
    "FULL_PAYMENT_OFFLINE",
    "MEMBERSHIP",
    "DEPOSIT_ONLINE",
    "MEMBERSHIP_OFFLINE",
    "MEMBERSHIP_ONLINE_WITH_OFFLINE_REMAINDER",
)
ITEM_TYPE_PRESETS = ("UNRECOGNISED", "PHYSICAL", "DIGITAL", "GIFT_CARD", "SERVICE")

# Payment statuses whose money reached the merchant (a refund is accounted separately).
_COLLECTED = ("APPROVED", "REFUNDED", "PARTIALLY_REFUNDED")
PAID_UP = ("PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED")
MAX_ORDER_LINE_ITEMS = 300
# Key of the transactions record holding what settling a pending membership charge needs
# (payment id -> {memberId, serviceId}); never part of the API's OrderTransactions.
PENDING_CHARGES = "pendingMembershipCharges"


# -- shared lookups --------------------------------------------------------------------------


def get_order(sb: Sandbox, order_id: str) -> dict[str, Any]:
    """The live order, or 404 ``ORDER_NOT_FOUND``."""
    order = sb.state.get("orders", order_id)
    if order is None:
        raise not_found("ORDER_NOT_FOUND", "Order", order_id)
    return order


def transactions_of(sb: Sandbox, order_id: str) -> dict[str, Any]:
    """The order's transactions record (read-only view; empty when nothing was recorded)."""
    return sb.state.get("order_transactions", order_id) or {
        "id": order_id,
        "orderId": order_id,
        "payments": [],
        "refunds": [],
    }


def edit_transactions(sb: Sandbox, order_id: str) -> dict[str, Any]:
    """A private copy of the order's transactions record, to change and ``put``."""
    return sb.state.edit("order_transactions", order_id) or {
        "id": order_id,
        "orderId": order_id,
        "payments": [],
        "refunds": [],
    }


def public_transactions(record: dict[str, Any]) -> dict[str, Any]:
    """``OrderTransactions`` as the API answers it: ``{orderId, payments, refunds}``."""
    return {"orderId": record["orderId"], "payments": record["payments"], "refunds": record["refunds"]}


def line_total(line: dict[str, Any]) -> Decimal:
    return dec((line.get("totalPriceAfterTax") or {}).get("amount"))


def order_total(order: dict[str, Any]) -> Decimal:
    return dec((order.get("priceSummary") or {}).get("total", {}).get("amount"))


def order_balance(order: dict[str, Any]) -> Decimal:
    return dec((order.get("balanceSummary") or {}).get("balance", {}).get("amount"))


def add_activity(sb: Sandbox, order: dict[str, Any], activity_type: str) -> None:
    order.setdefault("activities", []).append(
        {"id": sb.state.new_id(), "createdDate": now_iso(sb), "type": activity_type}
    )


def new_payment(sb: Sandbox, amount: Decimal, *, status: str = "APPROVED", **details: Any) -> dict[str, Any]:
    """An order-transactions ``Payment``; ``details`` is one of the ``*PaymentDetails`` keys."""
    payment: dict[str, Any] = {
        "id": sb.state.new_id(),
        "createdDate": now_iso(sb),
        "updatedDate": now_iso(sb),
        "amount": price(sb, amount),
        "refundDisabled": False,
        "supportReceiptGeneration": False,
        "status": status,
    }
    payment.update(details)
    regular = payment.get("regularPaymentDetails")
    if regular is not None:
        payment["regularPaymentDetails"] = {"savedPaymentMethod": False, **regular}
    set_payment_status(payment, status)
    return payment


def set_payment_status(payment: dict[str, Any], status: str) -> None:
    """Set ``status``, and the deprecated ``regularPaymentDetails.status`` twin a regular payment carries."""
    payment["status"] = status
    if "regularPaymentDetails" in payment:
        payment["regularPaymentDetails"]["status"] = status


# -- the one money rule ----------------------------------------------------------------------


def price_summary(sb: Sandbox, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """An order ``priceSummary`` for these line items (no shipping, tax or discounts in a studio)."""
    subtotal = sum((line_total(line) for line in lines), Decimal(0))
    return {
        "subtotal": price(sb, subtotal),
        "shipping": price(sb, 0),
        "tax": price(sb, 0),
        "discount": price(sb, 0),
        "total": price(sb, subtotal),
        "totalAdditionalFees": price(sb, 0),
    }


def order_recalculate(sb: Sandbox, order_id: str, *, notify: bool = True) -> dict[str, Any]:
    """Derive the order's ``balanceSummary`` and ``paymentStatus`` from its payments; store it.

    Collected money is every payment APPROVED (or later refunded); refunds are the refund
    records plus payments whose status says REFUNDED. When ``paymentStatus`` changed and
    ``notify`` is set, every booking in the order learns it through
    :func:`~wix_sandbox.rules.booking_orders.order_payment_changed`. Returns the stored order.
    """
    order = sb.state.edit("orders", order_id)
    if order is None:
        raise not_found("ORDER_NOT_FOUND", "Order", order_id)
    record = transactions_of(sb, order_id)
    paid = pending = authorized = refunded = Decimal(0)
    partial_refund = False
    refunded_payment_ids = {
        t.get("paymentId") for refund in record["refunds"] for t in refund.get("transactions", []) if t.get("paymentId")
    }
    # A refunded membership (or gift card) payment is VOIDED: its credit went back, no money moved,
    # so its refund record is not money refunded. UNCONFIRMED: the order then owes the line again
    # (NOT_PAID, balance = total) rather than showing FULLY_REFUNDED.
    voided_ids = {p["id"] for p in record["payments"] if p.get("status") == "VOIDED"}
    for payment in record["payments"]:
        amount = dec(payment["amount"]["amount"])
        status = payment.get("status")
        if status in _COLLECTED:
            paid += amount
            if status == "REFUNDED" and payment["id"] not in refunded_payment_ids:
                refunded += amount
            partial_refund = partial_refund or status == "PARTIALLY_REFUNDED"
        elif status in ("PENDING", "PENDING_MERCHANT"):
            pending += amount
        elif status == "AUTHORIZED":
            authorized += amount
    for refund in record["refunds"]:
        for t in refund.get("transactions", []):
            if t.get("paymentId") in voided_ids:
                continue
            if t.get("refundStatus", "SUCCEEDED") == "SUCCEEDED":
                refunded += dec((t.get("amount") or {}).get("amount"))

    total = order_total(order)
    if refunded > 0 or partial_refund:
        status = "FULLY_REFUNDED" if paid > 0 and refunded >= paid else "PARTIALLY_REFUNDED"
    elif paid >= total:
        status = "PAID"  # a zero total (every line paid by a plan, or free) is paid as well
    elif paid > 0:
        status = "PARTIALLY_PAID"
    elif pending > 0:
        status = "PENDING"
    else:
        status = "NOT_PAID"

    previous = order.get("paymentStatus")
    order["balanceSummary"] = {
        "balance": {
            k: v for k, v in price(sb, max(total - paid, Decimal(0))).items() if k in ("amount", "formattedAmount")
        },
        "paid": price(sb, paid),
        "refunded": price(sb, refunded),
        "authorized": price(sb, authorized),
        "pending": price(sb, pending),
        "pendingRefund": price(sb, 0),
    }
    order["paymentStatus"] = status
    if status != previous:
        if status == "PAID":
            add_activity(sb, order, "ORDER_PAID")
        if order.get("status") == "INITIALIZED" and status in ("PAID", "PARTIALLY_PAID"):
            order["status"] = "APPROVED"
        touch(sb, order)
    sb.state.put("orders", order)
    if notify and previous is not None and status != previous:
        for booking_id in booking_ids_of(order):
            if sb.state.get("bookings", booking_id) is not None:
                order_payment_changed(sb, booking_id=booking_id, order=order)
    return order


def order_create(
    sb: Sandbox,
    *,
    lines: list[dict[str, Any]],
    channel_type: str,
    status: str,
    buyer_info: dict[str, Any],
    checkout_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store a new order with an empty transactions record; balance and payment status derived."""
    order: dict[str, Any] = {
        "number": str(sb.state.next_counter("order_number")),
        "lineItems": lines,
        "buyerInfo": buyer_info,
        "buyerLanguage": "en",
        "siteLanguage": "en",
        "weightUnit": "KG",
        "currency": sb.currency,
        "taxIncludedInPrices": False,
        "priceSummary": price_summary(sb, lines),
        "status": status,
        "fulfillmentStatus": "NOT_FULFILLED",
        "archived": False,
        "seenByAHuman": False,
        "channelInfo": {"type": channel_type},
        "appliedDiscounts": [],
        "additionalFees": [],
        "activities": [],
    }
    if checkout_id:
        order["checkoutId"] = checkout_id
    order.update(extra or {})
    stamp_new(sb, order, revision=False)
    order.setdefault("purchasedDate", order["createdDate"])
    add_activity(sb, order, "ORDER_PLACED")
    sb.state.put("orders", order)
    sb.state.put("order_transactions", edit_transactions(sb, order["id"]))
    return order_recalculate(sb, order["id"], notify=False)


# -- asynchronous membership charges -----------------------------------------------------------------


def settle_membership_payments(sb: Sandbox, order_id: str | None = None) -> int:
    """Settle the pending membership payments of one order (or of every order); returns how many.

    The explicit trigger for tests and scripts (``Faults.membership_settlement = "manual"``).
    Each pending payment ends APPROVED with one plan credit taken
    (:func:`~wix_sandbox.rules.plan_credits.charge_membership`), or DECLINED when the plan can't
    pay any more (no credit left, pool ended, …) or ``Faults.membership_decline_rate`` says so.
    The order's payment status and its bookings' follow.
    """
    with sb.state.transaction():
        ids = [order_id] if order_id else _orders_with_pending_charges(sb)
        return sum(_settle(sb, i) for i in ids)


def settle_before_call(sb: Sandbox, order_id: str | None) -> None:
    """UNCONFIRMED (Wix only says "the status will be updated asynchronously"): a membership charge
    settles before the next eCommerce call on its order, so the Charge Memberships answer is the
    only place the sandbox shows it PENDING — unless settlement is ``manual``. Like everything a
    request does, the settling is undone when that call is rejected; the next one settles again."""
    if order_id and sb.faults.membership_settlement == SETTLE_ON_NEXT_CALL:
        _settle(sb, order_id)


def settle_all_before_call(sb: Sandbox) -> None:
    """:func:`settle_before_call` for every order (Search Orders can show any of them)."""
    if sb.faults.membership_settlement == SETTLE_ON_NEXT_CALL:
        for order_id in _orders_with_pending_charges(sb):
            _settle(sb, order_id)


def _orders_with_pending_charges(sb: Sandbox) -> list[str]:
    return sorted(r["id"] for r in sb.state.find("order_transactions", lambda r: bool(r.get(PENDING_CHARGES))))


def pending_charges_of_pool(sb: Sandbox, pool_id: str) -> int:
    """How many unsettled membership charges name this pool, on any order (credit they will take)."""
    count = 0
    for record in sb.state.find("order_transactions", lambda r: bool(r.get(PENDING_CHARGES))):
        for payment in record["payments"]:
            if (
                payment["id"] in record[PENDING_CHARGES]
                and payment.get("status") == "PENDING"
                and (payment.get("membershipPaymentDetails") or {}).get("membershipId") == pool_id
            ):
                count += 1
    return count


def _declined_on_purpose(sb: Sandbox, payment_id: str) -> bool:
    rate = sb.faults.membership_decline_rate
    # Seeded by the payment id, so a test (or a demo) declines the same payments every run.
    return rate >= 1 or (rate > 0 and random.Random(payment_id).random() < rate)


def _settle(sb: Sandbox, order_id: str) -> int:
    record = sb.state.edit("order_transactions", order_id)
    if record is None or not record.get(PENDING_CHARGES):
        return 0
    pending = record.pop(PENDING_CHARGES)
    settled = 0
    for payment in record["payments"]:
        charge = pending.get(payment["id"])
        if charge is None or payment.get("status") != "PENDING":
            continue
        details = payment["membershipPaymentDetails"]
        approved = False
        if not _declined_on_purpose(sb, payment["id"]):
            try:
                details["externalTransactionId"] = plan_credits.charge_membership(
                    sb,
                    member_id=charge["memberId"],
                    membership_id=details["membershipId"],
                    service_id=charge["serviceId"],
                    reference=f"{order_id}:{details['lineItemId']}",
                )
            except SandboxError:
                # The balance no longer covers it (or the pool ended) since the charge was accepted.
                approved = False
            else:
                approved = True
        payment["status"] = "APPROVED" if approved else "DECLINED"
        details["status"] = "CHARGED" if approved else "CHARGE_FAILED"  # the deprecated twin of ``status``
        payment["updatedDate"] = now_iso(sb)
        settled += 1
    sb.state.put("order_transactions", record)
    order_recalculate(sb, order_id)
    return settled


# -- orders API ------------------------------------------------------------------------------


@route("GET /ecom/v1/orders/{id}")
def get_order_endpoint(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    settle_before_call(sb, req.path_params["id"])
    return {"order": get_order(sb, req.path_params["id"])}


@route("POST /ecom/v1/orders/search")
def search_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    settle_all_before_call(sb)
    search = dict(req.body.get("search") or {})
    flt = search.get("filter") or {}
    # Search never returns INITIALIZED orders, and PENDING / REJECTED only when asked for by status.
    hidden = ("INITIALIZED",) if "status" in _filter_fields(flt) else ("INITIALIZED", "PENDING", "REJECTED")
    orders = [o for o in sb.state.all("orders") if o.get("status") not in hidden]
    search["cursorPaging"] = search.get("cursorPaging") or {}
    page, meta = run_query(
        orders,
        search,
        default_limit=100,
        max_limit=100,
        default_sort=[{"fieldName": "createdDate", "order": "DESC"}],
    )
    return {
        "orders": page,
        "metadata": {"count": meta["count"], "cursors": meta["cursors"], "hasNext": meta["hasNext"]},
    }


def _filter_fields(flt: Any) -> set[str]:
    if isinstance(flt, list):
        return set().union(*(_filter_fields(f) for f in flt)) if flt else set()
    if not isinstance(flt, dict):
        return set()
    fields: set[str] = set()
    for key, value in flt.items():
        if key in ("$and", "$or", "$not"):
            fields |= _filter_fields(value)
        else:
            fields.add(key)
    return fields


@route("POST /ecom/v1/orders")
def create_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body.get("order") or {}
    problems = []
    channel = (body.get("channelInfo") or {}).get("type")
    if not channel:
        problems.append(violation("order.channelInfo.type", "order.channelInfo.type is required", "REQUIRED_FIELD"))
    elif channel not in CHANNEL_TYPES:
        problems.append(violation("order.channelInfo.type", f"unknown ChannelType {channel}", "INVALID_ENUM_VALUE"))
    raw_lines = body.get("lineItems") or []
    if not raw_lines:
        problems.append(violation("order.lineItems", "order.lineItems is required", "REQUIRED_FIELD"))
    elif len(raw_lines) > MAX_ORDER_LINE_ITEMS:
        problems.append(violation("order.lineItems", f"at most {MAX_ORDER_LINE_ITEMS} line items", "MAX_SIZE"))
    lines = []
    for i, raw in enumerate(raw_lines[:MAX_ORDER_LINE_ITEMS]):
        line, line_problems = _direct_line(sb, raw, f"order.lineItems[{i}]")
        problems += line_problems
        lines.append(line)
    status = body.get("status", "APPROVED")
    if status not in ("INITIALIZED", "APPROVED", "PENDING"):
        problems.append(violation("order.status", "a new order is INITIALIZED, APPROVED or PENDING", "VALIDATION"))
    if problems:
        raise ValidationFailed(problems)
    if body.get("purchasedDate") and _parse_utc(body["purchasedDate"]) > sb.state.now():
        raise invalid("PURCHASED_DATE_CANNOT_BE_IN_FUTURE", "purchasedDate cannot be in the future")

    extra = {
        k: body[k] for k in ("billingInfo", "shippingInfo", "recipientInfo", "buyerNote", "purchasedDate") if k in body
    }
    order = order_create(
        sb,
        lines=lines,
        channel_type=channel,
        status=status,
        buyer_info={
            k: v
            for k, v in (body.get("buyerInfo") or {}).items()
            if k in ("contactId", "memberId", "visitorId", "email")
        },
        extra=extra,
    )
    # UNCONFIRMED: Bookings reacts to any order holding its catalog items (it listens to order events),
    # so a booking put in a directly created order is confirmed the same way as through a checkout.
    for booking_id in booking_ids_of(order):
        if sb.state.get("bookings", booking_id) is not None:
            order_created_for_booking(sb, booking_id=booking_id, order=order)
    return {"order": sb.state.get("orders", order["id"])}


def _parse_utc(value: str) -> datetime:
    try:
        dt = parse_local(value)
    except ValueError as exc:
        raise ValidationFailed([violation("order.purchasedDate", "not an ISO-8601 timestamp", "FORMAT")]) from exc
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _direct_line(sb: Sandbox, raw: dict[str, Any], field: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    problems = []
    name = (raw.get("productName") or {}).get("original")
    if not name:
        problems.append(
            violation(f"{field}.productName.original", "productName.original is required", "REQUIRED_FIELD")
        )
    preset = (raw.get("itemType") or {}).get("preset")
    if not raw.get("itemType"):
        problems.append(violation(f"{field}.itemType", "itemType is required", "REQUIRED_FIELD"))
    elif preset is not None and preset not in ITEM_TYPE_PRESETS:
        problems.append(violation(f"{field}.itemType.preset", f"unknown ItemTypePreset {preset}", "INVALID_ENUM_VALUE"))
    quantity = raw.get("quantity")
    if not isinstance(quantity, int) or not 1 <= quantity <= 100000:
        problems.append(violation(f"{field}.quantity", "quantity must be between 1 and 100000", "MIN"))
        quantity = 1
    amount = (raw.get("price") or {}).get("amount")
    try:
        unit = dec(amount) if amount is not None else None
    except ArithmeticError:
        unit = None
    if unit is None or unit < 0:
        problems.append(violation(f"{field}.price.amount", "price.amount must be a decimal ≥ 0", "DECIMAL_GTE"))
        unit = Decimal(0)
    option = raw.get("paymentOption", "FULL_PAYMENT_OFFLINE")
    if option not in PAYMENT_OPTIONS:
        problems.append(
            violation(f"{field}.paymentOption", f"unknown PaymentOptionType {option}", "INVALID_ENUM_VALUE")
        )
    total = unit * quantity
    line = {
        "id": raw.get("id") or sb.state.new_id(),
        "productName": {"original": name, "translated": (raw.get("productName") or {}).get("translated") or name},
        "quantity": quantity,
        "itemType": raw.get("itemType") or {},
        "price": price(sb, unit),
        "priceBeforeDiscounts": price(sb, unit),
        "totalDiscount": price(sb, 0),
        "totalPriceBeforeTax": price(sb, total),
        "totalPriceAfterTax": price(sb, total),
        "taxDetails": {"taxableAmount": price(sb, total), "taxRate": "0", "totalTax": price(sb, 0)},
        "paymentOption": option,
        "descriptionLines": raw.get("descriptionLines") or [],
    }
    for key in ("catalogReference", "rootCatalogItemId", "serviceProperties"):
        if key in raw:
            line[key] = raw[key]
    return line, problems


# Fields a merchant may change on an order; the rest (status, money, line items) is derived or
# changed by dedicated endpoints.
_UPDATABLE = (
    "billingInfo",
    "shippingInfo",
    "recipientInfo",
    "buyerNote",
    "archived",
    "purchasedDate",
    "extendedFields",
)


@route("PATCH /ecom/v1/orders/{order.id}")
def update_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_id = req.path_params["order_id"]
    settle_before_call(sb, order_id)
    order = sb.state.edit("orders", order_id)
    if order is None:
        raise not_found("ORDER_NOT_FOUND", "Order", order_id)
    _reject_pending_or_rejected(order)
    patch = req.body.get("order") or {}
    # UNCONFIRMED: read-only fields in the patch (status, paymentStatus, lineItems, …) are ignored
    # rather than rejected, like Wix's field-masked updates.
    for key in _UPDATABLE:
        if key in patch:
            order[key] = patch[key]
    if "email" in (patch.get("buyerInfo") or {}):
        order["buyerInfo"] = {**order.get("buyerInfo", {}), "email": patch["buyerInfo"]["email"]}
    touch(sb, order)
    sb.state.put("orders", order)
    return {"order": order}


@route("POST /ecom/v1/orders/{id}/cancel")
def cancel_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    order_id = req.path_params["id"]
    settle_before_call(sb, order_id)
    order = sb.state.edit("orders", order_id)
    if order is None:
        raise not_found("ORDER_NOT_FOUND", "Order", order_id)
    _reject_pending_or_rejected(order)
    if order["status"] == "CANCELED":
        # UNCONFIRMED: cancelling a cancelled order is answered with the order, unchanged.
        return {"order": order}
    if any(p.get("status") == "AUTHORIZED" for p in transactions_of(sb, order_id)["payments"]):
        raise precondition("ORDER_HAS_AUTHORIZED_TRANSACTION", "Void or capture the authorized payment first")
    order["status"] = "CANCELED"
    add_activity(sb, order, "ORDER_CANCELED")
    touch(sb, order)
    sb.state.put("orders", order)
    return {"order": order}


def _reject_pending_or_rejected(order: dict[str, Any]) -> None:
    if order.get("status") == "PENDING":
        raise precondition("ORDER_IS_PENDING", f"Order {order['id']} is pending")
    if order.get("status") == "REJECTED":
        raise precondition("ORDER_IS_REJECTED", f"Order {order['id']} was rejected")
