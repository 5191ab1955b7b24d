"""Phase 5: reversals — cancel a booking, void a plan charge, refund — in the payment mode the
reversed action was pushed in."""

from __future__ import annotations

from bookings_app.models import DeskAction, Payment
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import MESSAGES
from bookings_app.services.push.money import payment_mode
from bookings_app.services.push.money_booking_only import flush_confirm
from bookings_app.services.push.money_ecom import membership_payments, order_of, order_refresh
from bookings_app.services.push.worker import Attention, Push, booking_absorb
from bookings_app.wix import WixConflict, WixPreconditionFailed, benefit_programs, bookings, extended_bookings, orders

Kind = DeskAction.Kind


def push_reversals(push: Push, actions: list[DeskAction]) -> None:
    confirm: list[tuple[DeskAction, str]] = []
    for action in actions:

        def step(action: DeskAction = action) -> None:
            booking = action.booking
            if booking is None or not booking.wix_id:
                raise Attention("booking_missing", "The booking isn't in Wix — remove this.")
            original = DeskAction.objects.filter(pk=action.params.get("reverses")).first()
            if action.kind == Kind.CANCEL_BOOKING:
                _cancel(push, action)
            elif action.kind == Kind.VOID_PLAN_CHARGE:
                _void_plan(push, action, original, confirm)
            else:
                _refund(push, action, original, confirm)

        push.guarded(action, step)
    flush_confirm(push, confirm)


def _cancel(push: Push, action: DeskAction) -> None:
    booking = action.booking
    assert booking is not None
    current: Json | None = None
    if action.steps.get("cancel_sent") or booking.revision is None:
        current = _booking_get(push, booking.wix_id or "")
        if current.get("status") == "CANCELED":
            booking_absorb(booking, current)
            push.synced(action)
            return
    revision = str((current or {}).get("revision") or booking.revision)
    push.save_steps(action, cancel_sent=True)
    try:
        answer = push.call(bookings.cancel_booking, booking_id=booking.wix_id or "", revision=revision)
    except WixConflict:
        # Someone changed the booking since we last saw it: read its revision and go again.
        current = _booking_get(push, booking.wix_id or "")
        if current.get("status") == "CANCELED":
            booking_absorb(booking, current)
            push.synced(action)
            return
        answer = push.call(bookings.cancel_booking, booking_id=booking.wix_id or "", revision=str(current["revision"]))
    booking_absorb(booking, answer["booking"])
    push.synced(action)


def _booking_get(push: Push, booking_id: str) -> Json:
    answer = push.call(
        extended_bookings.query_extended_bookings,
        query={"filter": {"id": booking_id}, "cursorPaging": {"limit": 1}},
    )
    found = answer.get("extendedBookings") or []
    if not found:
        raise Attention("BOOKING_NOT_FOUND", MESSAGES["BOOKING_NOT_FOUND"])
    return found[0]["booking"]


def _void_plan(
    push: Push, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]
) -> None:
    mode = (original.steps.get("mode") if original else None) or payment_mode(push, action)
    push.save_steps(action, mode=mode)
    if mode != "ecom":
        transaction_id = (original.steps if original else {}).get("redemption_id")
        if transaction_id and not action.steps.get("redemption_cancelled"):
            try:
                push.call(benefit_programs.cancel_redemption, transaction_id=transaction_id)
            except WixPreconditionFailed as err:
                if err.code != "REDEMPTION_ALREADY_CANCELED":
                    raise
            push.save_steps(action, redemption_cancelled=True)
        confirm.append((action, "NOT_PAID"))
        return
    order_id = (original.steps if original else {}).get("order_id") or order_of(push, action)[0]
    line_id = (original.steps if original else {}).get("line_item_id")
    if not order_id:
        raise Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
    if not line_id:
        order = push.call(orders.get_order, order_id=order_id)["order"]
        booking_id = action.booking.wix_id if action.booking else None
        line_id = next(
            (
                li["id"]
                for li in order.get("lineItems") or []
                if (li.get("catalogReference") or {}).get("catalogItemId") == booking_id
            ),
            None,
        )
    payments = membership_payments(push, order_id, line_id or "")
    if not payments:
        if action.steps.get("void_sent"):
            order_refresh(push, order_id)
            push.synced(action)
            return
        raise Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
    push.save_steps(action, void_sent=True)
    push.call(orders.void_memberships, order_id=order_id, payment_ids=[p["id"] for p in payments])
    Payment.objects.filter(wix_id__in=[p["id"] for p in payments]).update(status=Payment.Status.VOIDED)
    order_refresh(push, order_id)
    push.synced(action, voided_payment_ids=[p["id"] for p in payments])


def _refund(push: Push, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]) -> None:
    mode = (original.steps.get("mode") if original else None) or payment_mode(push, action)
    push.save_steps(action, mode=mode)
    if mode != "ecom":
        confirm.append((action, "REFUNDED"))
        return
    order_id = (original.steps if original else {}).get("order_id") or order_of(push, action)[0]
    if not order_id:
        raise Attention("ORDER_NOT_FOUND", MESSAGES["ORDER_NOT_FOUND"])
    order = push.call(orders.get_order, order_id=order_id)["order"]
    status = order.get("paymentStatus")
    if status in ("FULLY_REFUNDED", "PARTIALLY_REFUNDED") or order.get("status") == "CANCELED":
        mirror.orders.order_absorb(order)
        push.synced(action)
        return
    if status == "NOT_PAID":
        answer = push.call(orders.cancel_order, order_id=order_id)
        mirror.orders.order_absorb(answer.get("order") or order)
        push.synced(action, order_cancelled=True)
        return
    # UNCONFIRMED: our contract has no public "record an offline refund" for eCommerce orders.
    raise Attention(
        "refund_in_dashboard",
        "Give the money back, record the refund on the order in the Wix dashboard, then tap Retry.",
    )
