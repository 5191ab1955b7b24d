"""Phase 3, ecom mode: money recorded on the booking's eCommerce order (what the Wix dashboard shows).

Checkout (``BACKOFFICE_MERCHANT``, the booking as its line; for a plan, the membership selected)
→ create order → Bulk Mark Orders As Paid (≤100) for the full amount, Add Payments for a part,
Charge Memberships for a plan. Each id is saved before the next call; a "sent" marker before a
call that moves money, so a lost answer is looked up in the order (its balance, its transactions)
rather than paid twice.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from bookings_app.models import DeskAction, Order, OrderLineItem
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json, decimal_or_zero
from bookings_app.services.push.messages import MESSAGES, message
from bookings_app.services.push.worker import Attention, Later, Push, chunks
from bookings_app.wix import (
    WixBadRequest,
    WixNotFound,
    WixPreconditionFailed,
    WixUnavailable,
    checkout,
    order_transactions,
    orders,
)
from bookings_app.wix.ids import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID

logger = logging.getLogger("bookings_app.services.push")

Kind = DeskAction.Kind

CHANNEL = "BACKOFFICE_MERCHANT"
LINE_NAMESPACE = uuid.UUID("6f1d3c1e-4c1a-4d8e-9a57-d35c0f0e4b11")
BULK_MARK_PAID = orders.BULK_MARK_AS_PAID_LIMIT  # 100

# Set when Wix answered the bulk mark-as-paid path with a plain 404 (no such route).
_BULK_MARK_PAID_MISSING = False


def ecom_money(push: Push, action: DeskAction, mark_paid: list[DeskAction]) -> None:
    """One money action: its order (made now if the booking has none), then the payment — a full
    payment waits in ``mark_paid`` for ``flush_mark_paid``."""
    order_id, line_id = order_of(push, action)
    if order_id is None:
        order_id, line_id = _order_create(push, action)
        if action.kind == Kind.PLAN_CHARGE:
            # The checkout named the membership: creating the order charged it.
            push.synced(action)
            return
    if action.kind == Kind.PAY_LATER:
        push.synced(action)
    elif action.kind == Kind.PLAN_CHARGE:
        _charge_memberships(push, action, order_id, line_id)
    elif action.params.get("full"):
        mark_paid.append(action)
    else:
        _add_payment(push, action, order_id)


def order_of(push: Push, action: DeskAction) -> tuple[str | None, str | None]:
    """The Wix order (and line) of the action's booking: saved in its steps, else the mirror's latest."""
    if action.steps.get("order_id"):
        return action.steps["order_id"], action.steps.get("line_item_id")
    line = (
        OrderLineItem.objects.filter(booking_id=action.booking_id)
        .exclude(order__status="CANCELED")
        .select_related("order")
        .order_by("-order__wix_created_at", "-pk")
        .first()
    )
    if line is None or not line.order.wix_id:
        return None, None
    push.save_steps(action, order_id=line.order.wix_id, line_item_id=line.line_item_id)
    return line.order.wix_id, line.line_item_id


def _order_create(push: Push, action: DeskAction) -> tuple[str, str]:
    """Checkout (BACKOFFICE_MERCHANT, the booking as its line; for a plan, the membership
    selected) → order. Each id is saved before the next call."""
    booking = action.booking
    assert booking is not None
    if not action.steps.get("checkout_id"):
        line_id = str(uuid.uuid5(LINE_NAMESPACE, action.idempotency_key))
        info: Json | None = None
        if action.kind == Kind.PLAN_CHARGE:
            info = {
                "membershipOptions": {
                    "selectedMemberships": {
                        "memberships": [
                            {
                                "id": action.params.get("pool_id"),
                                "appId": PRICING_PLANS_APP_ID,
                                "lineItemIds": [line_id],
                            }
                        ]
                    }
                }
            }
        answer = push.call(
            checkout.create_checkout,
            channel_type=CHANNEL,
            line_items=[
                {
                    "id": line_id,
                    "quantity": 1,
                    "catalogReference": {"catalogItemId": booking.wix_id, "appId": BOOKINGS_APP_ID},
                }
            ],
            checkout_info=info,
        )
        found = answer["checkout"]
        line = next((li for li in found.get("lineItems") or [] if li.get("id") == line_id), None)
        if line is None:
            line = (found.get("lineItems") or [{}])[0]
            line_id = line.get("id") or line_id
        push.save_steps(
            action,
            checkout_id=found["id"],
            line_item_id=line_id,
            checkout_total=((found.get("priceSummary") or {}).get("total") or {}).get("amount"),
            checkout_line=_line_summary(line),
        )
        if action.kind == Kind.PLAN_CHARGE and line.get("paymentOption") != "MEMBERSHIP":
            raise Attention("NOT_ENOUGH_BALANCE", message("NOT_ENOUGH_BALANCE", action, None))
    checkout_id = action.steps["checkout_id"]
    try:
        order_id = push.call(checkout.create_order_from_checkout, checkout_id=checkout_id)["orderId"]
    except (WixPreconditionFailed, WixBadRequest) as err:
        if err.code == "CHECKOUT_ALREADY_PAID":
            # We made this order before and lost the answer: find it by its checkout.
            order_id = _order_by_checkout(push, checkout_id)
        elif err.code in ("VIOLATIONS_WITH_ERROR_SEVERITY", "FULL_OUT_OF_STOCK") and action.kind == Kind.PLAN_CHARGE:
            raise Attention("NOT_ENOUGH_BALANCE", message("NOT_ENOUGH_BALANCE", action, None)) from err
        else:
            raise
    push.save_steps(action, order_id=order_id)
    mirror.orders.order_placed(
        booking=booking,
        order_id=order_id,
        line_item_id=action.steps.get("line_item_id") or "",
        checkout_total=action.steps.get("checkout_total"),
        checkout_line=action.steps.get("checkout_line") or {},
    )
    return order_id, action.steps["line_item_id"]


def _order_by_checkout(push: Push, checkout_id: str) -> str:
    answer = push.call(
        orders.search_orders, search={"filter": {"checkoutId": checkout_id}, "cursorPaging": {"limit": 10}}
    )
    found = answer.get("orders") or []
    if not found:
        raise Later(f"The order of checkout {checkout_id} is not searchable yet")
    return found[0]["id"]


def _charge_memberships(push: Push, action: DeskAction, order_id: str, line_id: str | None) -> None:
    booking = action.booking
    assert booking is not None
    if not line_id:
        order = push.call(orders.get_order, order_id=order_id)["order"]
        line_id = next(
            (
                li["id"]
                for li in order.get("lineItems") or []
                if (li.get("catalogReference") or {}).get("catalogItemId") == booking.wix_id
            ),
            None,
        )
        if line_id is None:
            raise Attention("line_missing", "The booking isn't on its Wix order — check the order in Wix.")
        push.save_steps(action, line_item_id=line_id)
    if action.steps.get("charge_sent"):
        mine = membership_payments(push, order_id, line_id)
        if mine:
            mirror.payments.membership_payments_record(order_id=order_id, payments=mine)
            push.synced(action, charge_payment_ids=[p["id"] for p in mine])
            return
    push.save_steps(action, charge_sent=True)
    try:
        answer = push.call(
            orders.charge_memberships,
            order_id=order_id,
            member_id=action.params.get("member_id"),
            memberships=[
                {
                    "lineItemId": line_id,
                    "membershipIdentifier": {
                        "existingMembership": {
                            "appId": PRICING_PLANS_APP_ID,
                            "membershipId": action.params.get("pool_id"),
                        }
                    },
                }
            ],
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, charge_sent=False)
        raise
    payments = answer.get("payments") or []
    mirror.payments.membership_payments_record(order_id=order_id, payments=payments)
    push.synced(action, charge_payment_ids=[p.get("id") for p in payments])


def membership_payments(push: Push, order_id: str, line_id: str) -> list[Json]:
    """The approved plan charges of this order line, from the order's transactions."""
    record = push.call(order_transactions.list_transactions_for_single_order, order_id=order_id)
    return [
        p
        for p in (record.get("orderTransactions") or {}).get("payments") or []
        if (p.get("membershipPaymentDetails") or {}).get("lineItemId") == line_id and p.get("status") == "APPROVED"
    ]


def _add_payment(push: Push, action: DeskAction, order_id: str) -> None:
    amount = decimal_or_zero(action.params.get("amount"))
    order = Order.objects.filter(wix_id=order_id).first()
    if action.steps.get("add_sent"):
        found = push.call(orders.get_order, order_id=order_id)["order"]
        paid = decimal_or_zero(((found.get("balanceSummary") or {}).get("paid") or {}).get("amount"))
        if paid >= decimal_or_zero(action.steps.get("paid_before")) + amount:
            mirror.orders.order_absorb(found)
            push.synced(action)
            return
    paid_before = order.paid if order is not None else Decimal("0")
    push.save_steps(action, add_sent=True, paid_before=str(paid_before))
    method = action.params.get("method") or "CASH"
    name = {"custom": "Card"} if method == "CARD" else {"predefined": method}
    try:
        answer = push.call(
            order_transactions.add_payments,
            order_id=order_id,
            payments=[
                {
                    "amount": {"amount": str(amount)},
                    "regularPaymentDetails": {
                        "offlinePayment": True,
                        "paymentMethodName": {"userDefinedName": name},
                    },
                    "status": "APPROVED",
                }
            ],
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, add_sent=False)
        raise
    ids = answer.get("paymentsIds") or []
    if order is not None:
        mirror.payments.offline_payments_record(order=order, payment_ids=ids, amount=amount, method=method)
    push.synced(action, payment_ids=ids)


def flush_mark_paid(push: Push, actions: list[DeskAction]) -> None:
    """The full payments of this round: Bulk Mark Orders As Paid, 100 orders a call."""
    for chunk in chunks(actions, BULK_MARK_PAID):
        push.extend_lease(chunk)
        previously = {a.pk: bool(a.steps.get("mark_sent")) for a in chunk}
        push.save_steps_many(chunk, mark_sent=True)
        if len(chunk) == 1 or _BULK_MARK_PAID_MISSING:
            for action in chunk:
                _mark_one_paid(push, action, previously[action.pk])
            continue
        try:
            answer = push.call(orders.bulk_mark_orders_as_paid, order_ids=[a.steps["order_id"] for a in chunk])
        except WixNotFound as err:
            if err.code not in ("NOT_FOUND", ""):
                for action in chunk:
                    push.fail(action, err)
                continue
            # The bulk endpoint's public path is UNCONFIRMED (CONTRACT §12.2): if this Wix
            # doesn't route it, pay the orders one by one from now on.
            _bulk_mark_paid_missing()
            for action in chunk:
                _mark_one_paid(push, action, previously[action.pk])
            continue
        except Exception as err:  # noqa: BLE001 - sorted by fail()
            for action in chunk:
                push.fail(action, err)
            continue
        by_index: dict[int, Json] = {}
        for position, result in enumerate(answer.get("results") or []):
            index = (result.get("itemMetadata") or {}).get("originalIndex", position)
            by_index[index] = result
        for index, action in enumerate(chunk):
            result = by_index.get(index)
            if result is None:
                push.later(action, "Bulk Mark Orders As Paid gave no result for this order")
                continue
            meta = result.get("itemMetadata") or {}
            if meta.get("success"):
                if result.get("item"):
                    mirror.orders.order_absorb(result["item"])
                push.synced(action)
            else:
                error = meta.get("error") or {}
                code = str(error.get("code") or "REJECTED")
                _mark_paid_refused(push, action, code, previously[action.pk], error.get("description") or code)


def _mark_one_paid(push: Push, action: DeskAction, sent_before: bool) -> None:
    try:
        order = push.call(orders.mark_order_as_paid, order_id=action.steps["order_id"])["order"]
    except (WixPreconditionFailed, WixBadRequest) as err:
        _mark_paid_refused(push, action, err.code, sent_before, str(err))
    except Exception as err:  # noqa: BLE001 - sorted by fail()
        push.fail(action, err)
    else:
        mirror.orders.order_absorb(order)
        push.synced(action)


def _mark_paid_refused(push: Push, action: DeskAction, code: str, sent_before: bool, detail: str) -> None:
    if code == "ORDER_ALREADY_PAID" and sent_before:
        # Our earlier mark-as-paid went through; its answer was lost.
        Order.objects.filter(wix_id=action.steps.get("order_id")).update(payment_status="PAID", balance=0)
        push.synced(action, mark_reconciled=True)
    elif code in MESSAGES or code.isupper():
        push.attention(action, code, message(code, action, None, detail), detail)
    else:
        push.later(action, detail)


def _bulk_mark_paid_missing() -> None:
    global _BULK_MARK_PAID_MISSING
    logger.warning("Bulk Mark Orders As Paid is not routed by this Wix; paying orders one by one")
    _BULK_MARK_PAID_MISSING = True


def order_refresh(push: Push, order_id: str) -> None:
    """Read the order back from Wix into the mirror."""
    order = push.call(orders.get_order, order_id=order_id)["order"]
    mirror.orders.order_absorb(order)


def _line_summary(line: Json) -> Json:
    name = line.get("productName")
    return {
        "name": name.get("original") if isinstance(name, dict) else (name or ""),
        "quantity": line.get("quantity") or 1,
        "price": ((line.get("totalPriceAfterTax") or line.get("price") or {}).get("amount")),
        "paymentOption": line.get("paymentOption") or "",
    }
