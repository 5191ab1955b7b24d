"""Phase 3: money — ``PAYMENT``, ``PLAN_CHARGE``, ``PAY_LATER``, in the payment mode of the setting
(``money_ecom`` or ``money_booking_only``), with the bulk calls made once for the whole batch."""

from __future__ import annotations

from bookings_app.models import DeskAction, OrderLineItem
from bookings_app.services.push.money_booking_only import benefit_keys, booking_only_money, flush_confirm
from bookings_app.services.push.money_ecom import ecom_money, follow_charges
from bookings_app.services.push.worker import Attention, Push

Kind = DeskAction.Kind


def push_money(push: Push, actions: list[DeskAction]) -> None:
    charging: list[DeskAction] = []
    confirm: list[tuple[DeskAction, str]] = []
    keys = benefit_keys(push, [a for a in actions if a.kind == Kind.PLAN_CHARGE and payment_mode(push, a) != "ecom"])
    for position, action in enumerate(actions):
        if position and position % 25 == 0:
            push.extend_lease(actions[position:])  # one call each from here on: keep the claim

        def step(action: DeskAction = action) -> None:
            booking = action.booking
            if booking is None or not booking.wix_id:
                raise Attention("booking_missing", "The booking isn't in Wix — remove this.")
            mode = payment_mode(push, action)
            if action.steps.get("mode") != mode:
                push.save_steps(action, mode=mode)
            if mode == "ecom":
                ecom_money(push, action, charging)
            else:
                booking_only_money(push, action, confirm, keys)

        push.guarded(action, step)
    follow_charges(push, charging)
    flush_confirm(push, confirm)


def payment_mode(push: Push, action: DeskAction) -> str:
    """ecom, or booking-only — except for a booking Wix already gave an order (made online):
    its payment status follows the order, so only the order can record the money."""
    if action.steps.get("mode"):
        return action.steps["mode"]
    if push.mode == "ecom":
        return "ecom"
    if action.booking_id and (
        OrderLineItem.objects.filter(booking_id=action.booking_id).exclude(order__status="CANCELED").exists()
    ):
        return "ecom"
    return "booking_only"
