"""Helpers of the desk service tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bookings_app.models import Attendance, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World

Status = DeskAction.Status
Kind = DeskAction.Kind


def assert_all_synced() -> None:
    left = list(DeskAction.objects.exclude(status=Status.SYNCED).values_list("kind", "status", "error_code", "message"))
    assert not left, left


def full_class(world: World, capacity: int) -> None:
    """Shrink tomorrow's class to ``capacity`` places in Wix (before the mirror reads it)."""
    with world.sb.state.transaction():
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = capacity
        world.sb.state.put("events", event)


def settle_session(hours: int) -> Session:
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return factories.SessionFactory(start=start, capacity=200, service__price=Decimal("12.00"))


def settle_roster(session: Session, n: int) -> list[desk.SettleChoice]:
    """``n`` rows on ``session``, cycling through the cases a commit handles: walk-ins still on
    their way (the payment and the check-in wait for the walk-in), money already on its way (the
    next payment waits for it), part paid in Wix, an order, two bookings on one pass, unlimited,
    owes, no-shows, already checked in, on the waiting list, two people on one booking."""
    ps, att = Booking.PaymentStatus, Attendance.Status

    def booking(first: str, contact=None, **fields) -> Booking:
        contact = contact or factories.ContactFactory(first_name=first, last_name="Settle")
        return factories.BookingFactory(session=session, contact=contact, **fields)

    def walk_in(first: str, **fields) -> Booking:
        b = booking(first, wix_id=None, pending_sync=True, payment_status=ps.UNDEFINED, **fields)
        factories.DeskActionFactory(booking=b, kind=Kind.WALK_IN, params={"type": "class"})
        factories.DeskActionFactory(booking=b, kind=Kind.WALK_IN, status=Status.UNDONE)  # later, but undone
        return b

    def plan(b: Booking, credits: str | None = "3", *, unlimited: bool = False) -> BenefitBalance:
        return factories.BenefitBalanceFactory(
            member=factories.MemberFactory(contact=b.contact),
            remaining_credits=None if credits is None else Decimal(credits),
            unlimited=unlimited,
            covered_service_ids=[b.service.wix_id],
        )

    def part_paid(first: str, amount: str) -> Booking:
        b = booking(first, payment_status=ps.PARTIALLY_PAID)
        factories.DeskActionFactory(booking=b, status=Status.SYNCED, params={"method": "CASH", "amount": amount})
        return b

    def walk_in_cash(i: int) -> list[desk.SettleChoice]:
        return [desk.SettleChoice(booking_id=walk_in(f"Walk{i}").pk, resolution="cash", check_in=True)]

    def money_on_its_way(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Way{i}", payment_status=ps.PARTIALLY_PAID, pending_sync=True)
        factories.DeskActionFactory(
            booking=b,
            params={"method": "CASH", "amount": "5.00", "full": False, "due": "12.00"},
            before={"booking": {"payment_status": ps.NOT_PAID, "selected_payment_option": "OFFLINE"}},
        )
        return [desk.SettleChoice(booking_id=b.pk, resolution="card", check_in=True)]

    def part_paid_in_wix(i: int) -> list[desk.SettleChoice]:
        b = part_paid(f"Part{i}", "4.00")
        return [desk.SettleChoice(booking_id=b.pk, resolution="cash", amount=Decimal("3"), check_in=None)]

    def with_an_order(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Order{i}")
        factories.OrderLineItemFactory(booking=b, order__contact=b.contact, order__balance=Decimal("10.00"))
        factories.AttendanceFactory(booking=b, session=session, status=att.NOT_ATTENDED)
        return [desk.SettleChoice(booking_id=b.pk, resolution="check", check_in=True)]

    def one_pass_twice(i: int) -> list[desk.SettleChoice]:
        first = booking(f"Pass{i}")
        second = booking("", contact=first.contact)
        balance = plan(first, "2")
        return [
            desk.SettleChoice(booking_id=first.pk, resolution="plan", balance_id=balance.pk, check_in=True),
            desk.SettleChoice(booking_id=second.pk, resolution="plan", balance_id=balance.pk, check_in=False),
        ]

    def unlimited_checked_in(i: int) -> list[desk.SettleChoice]:
        b = walk_in(f"Unl{i}")
        balance = plan(b, None, unlimited=True)
        factories.AttendanceFactory(booking=b, session=session, status=att.ATTENDED)
        return [desk.SettleChoice(booking_id=b.pk, resolution="plan", balance_id=balance.pk, check_in=True)]

    def owes_no_show(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Owes{i}", payment_status=ps.UNDEFINED, selected_payment_option="ONLINE")
        return [desk.SettleChoice(booking_id=b.pk, resolution="owes", check_in=False)]

    def owes_the_rest(i: int) -> list[desk.SettleChoice]:
        return [desk.SettleChoice(booking_id=part_paid(f"Rest{i}", "2.00").pk, resolution="owes", check_in=True)]

    def paid_already(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Paid{i}", payment_status=ps.PAID)
        factories.AttendanceFactory(booking=b, session=session, status=att.NOT_SET)
        return [desk.SettleChoice(booking_id=b.pk, resolution="paid", check_in=True)]

    def waiting_list(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Wait{i}", status=Booking.Status.WAITING_LIST)
        return [desk.SettleChoice(booking_id=b.pk, resolution="skip", check_in=True)]

    def two_people(i: int) -> list[desk.SettleChoice]:
        b = walk_in(f"Two{i}", total_participants=2)
        return [desk.SettleChoice(booking_id=b.pk, resolution="cash", check_in=True)]

    cases = [
        walk_in_cash,
        money_on_its_way,
        part_paid_in_wix,
        with_an_order,
        one_pass_twice,
        unlimited_checked_in,
        owes_no_show,
        owes_the_rest,
        paid_already,
        waiting_list,
        two_people,
    ]
    choices: list[desk.SettleChoice] = []
    for i in range(n):
        if len(choices) >= n:
            break
        choices += cases[i % len(cases)](i)
    return choices[:n]
