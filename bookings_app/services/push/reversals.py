"""Phase 5: reversals — cancel a booking, void a plan charge, refund — in the payment mode the
reversed action was pushed in."""

from __future__ import annotations

from bookings_app.models import DeskAction, Payment
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import MESSAGES
from bookings_app.services.push.money import payment_mode
from bookings_app.services.push.money_booking_only import flush_confirm
from bookings_app.services.push.money_ecom import membership_payments, order_refresh
from bookings_app.services.push.order_place import order_line, order_of
from bookings_app.services.push.worker import Attention, Push, booking_absorb, booking_read
from bookings_app.wix import (
    WixConflict,
    WixError,
    benefit_programs,
    bookings,
    order_transactions,
    orders,
)

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
        current = booking_read(push, booking.wix_id or "")
        if current.get("status") == "CANCELED":
            booking_absorb(booking, current)
            push.synced(action)
            return
    revision = str((current or {}).get("revision") or booking.revision)
    # Staff cancel for the business, after the page showed them the service's policy: the policy
    # binds the customers' own online cancels (CancelBookingFlowControlSettings.ignoreCancellationPolicy).
    flow = {"ignoreCancellationPolicy": True} if action.params.get("ignore_policy") else None
    push.save_steps(action, cancel_sent=True)
    try:
        answer = push.call(
            bookings.cancel_booking, booking_id=booking.wix_id or "", revision=revision, flow_control_settings=flow
        )
    except WixConflict:
        # Someone changed the booking since we last saw it: read its revision and go again.
        current = booking_read(push, booking.wix_id or "")
        if current.get("status") == "CANCELED":
            booking_absorb(booking, current)
            push.synced(action)
            return
        answer = push.call(
            bookings.cancel_booking,
            booking_id=booking.wix_id or "",
            revision=str(current["revision"]),
            flow_control_settings=flow,
        )
    booking_absorb(booking, answer["booking"])
    push.synced(action)


def _void_plan(
    push: Push, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]
) -> None:
    mode = (original.steps.get("mode") if original else None) or payment_mode(push, action)
    push.save_steps(action, mode=mode)
    if mode != "ecom":
        transaction_id = (original.steps if original else {}).get("redemption_id")
        if transaction_id and not action.steps.get("redemption_cancelled"):
            _credits_back(push, action, transaction_id)
            push.save_steps(action, redemption_cancelled=True)
        confirm.append((action, "NOT_PAID"))
        return
    order_id = (original.steps if original else {}).get("order_id") or order_of(push, action)
    if not order_id:
        raise Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
    line_id = (original.steps if original else {}).get("line_item_id") or order_line(push, action, order_id)
    charged = membership_payments(push, order_id, line_id)
    payments = [p for p in charged if p.get("status") == "APPROVED"]
    if not payments:
        if action.steps.get("void_sent") or charged:
            # Our refund went through before (its answer lost), or Wix never charged it.
            order_refresh(push, order_id)
            push.synced(action)
            return
        raise Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
    push.save_steps(action, void_sent=True)
    # Refund Payments (public) gives a membership payment's credit back, whole; Void Memberships
    # has no public SDK function (CONTRACT.md §20).
    push.call(orders.refund_payments, order_id=order_id, payment_refunds=[{"paymentId": p["id"]} for p in payments])
    Payment.objects.filter(wix_id__in=[p["id"] for p in payments]).update(status=Payment.Status.VOIDED)
    redemption_id = (original.steps if original else {}).get("redemption_id")
    if redemption_id:
        # A plan payment the desk recorded after Redeem Benefit (a line sold to be paid offline):
        # whether refunding it gives the redeemed credits back is UNCONFIRMED — if Wix did not
        # reverse the redemption, Change Balance does.
        _credits_back_unless_returned(push, action, redemption_id)
    order_refresh(push, order_id)
    push.synced(action, voided_payment_ids=[p["id"] for p in payments])


def _credits_back(push: Push, action: DeskAction, transaction_id: str) -> None:
    """Give a redemption's credits back with Change Balance (public; Cancel Redemption has no public
    SDK function): the redemption's own amount, read from Query Transactions by its id, added to
    its pool. The action's idempotency key makes a repeat after a lost answer ALREADY_EXECUTED
    (or, UNCONFIRMED, the same answer again): done either way."""
    found = (
        push.call(
            benefit_programs.query_transactions, query={"filter": {"id": transaction_id}, "cursorPaging": {"limit": 1}}
        ).get("transactions")
        or []
    )
    if not found:
        raise Attention("TRANSACTION_NOT_FOUND", "The plan charge was not found in Wix — check the plan in Wix.")
    redemption = found[0]
    pool_id = (redemption.get("pool") or {}).get("id") or action.params.get("pool_id") or ""
    try:
        push.call(
            benefit_programs.change_balance,
            pool_id=pool_id,
            idempotency_key=action.idempotency_key,
            adjust_by=str(redemption.get("amount") or "1"),
        )
    except WixError as err:
        if err.code != "ALREADY_EXECUTED":
            raise


def _credits_back_unless_returned(push: Push, action: DeskAction, redemption_id: str) -> None:
    reversals = (
        push.call(
            benefit_programs.query_transactions,
            query={"filter": {"relatedTransactionId": redemption_id}, "cursorPaging": {"limit": 10}},
        ).get("transactions")
        or []
    )
    if not reversals:
        _credits_back(push, action, redemption_id)


def _refund(push: Push, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]) -> None:
    mode = (original.steps.get("mode") if original else None) or payment_mode(push, action)
    push.save_steps(action, mode=mode)
    if mode != "ecom":
        confirm.append((action, "REFUNDED"))
        return
    order_id = (original.steps if original else {}).get("order_id") or order_of(push, action)
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
    paid_ids = [i for i in (original.steps if original else {}).get("payment_ids") or [] if i]
    if not paid_ids:
        raise Attention(
            "refund_in_dashboard",
            "Give the money back, record the refund on the order in the Wix dashboard, then tap Retry.",
        )
    if action.steps.get("refund_sent") and _refunded(push, order_id, paid_ids):
        order_refresh(push, order_id)
        push.synced(action)
        return
    push.save_steps(action, refund_sent=True)
    # Money given back at the desk: Refund Payments with externalRefund (no provider is called).
    push.call(
        orders.refund_payments,
        order_id=order_id,
        payment_refunds=[{"paymentId": i, "externalRefund": True} for i in paid_ids],
        customer_reason=(action.params.get("reason") or "")[:200] or None,
    )
    order_refresh(push, order_id)
    push.synced(action, refunded_payment_ids=paid_ids)


def _refunded(push: Push, order_id: str, payment_ids: list[str]) -> bool:
    """Whether the order's refunds already cover these payments (a lost Refund Payments answer)."""
    record = push.call(order_transactions.list_transactions_for_single_order, order_id=order_id)
    refunded = {
        t.get("paymentId")
        for refund in (record.get("orderTransactions") or {}).get("refunds") or []
        for t in refund.get("transactions") or []
    }
    return set(payment_ids) <= refunded
