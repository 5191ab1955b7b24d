"""The drift watchdog's detection (``selectors.drift``): each kind planted in the mirror and the
desk's ledger is found, with plain words, since when and the fixes that apply; its look-alikes
that are not drift are not; counts and pages cost the same number of queries however many cases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import Attendance, Booking, DeskAction
from bookings_app.selectors import drift, drift_cases
from bookings_app.wix.config import WixConfig
from tests.factories import (
    AttendanceFactory,
    BenefitBalanceFactory,
    BookingFactory,
    DeskActionFactory,
    OrderFactory,
    OrderLineItemFactory,
    SessionFactory,
    WriteOffFactory,
)

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind
PS = Booking.PaymentStatus


def ago(**kwargs) -> timezone.datetime:
    return timezone.now() - timedelta(**kwargs)


def cases(kind: str) -> list[drift_cases.DriftCase]:
    (section,) = drift.drift_sections(kind=kind)
    assert section.count == len(section.cases)
    return section.cases


# --- the desk's payment and Wix's order --------------------------------------------------------------


def desk_payment(*, booking: Booking, synced_minutes_ago: int = 30, kind=Kind.PAYMENT, **fields) -> DeskAction:
    action = DeskActionFactory(
        booking=booking, kind=kind, status=Status.SYNCED, created_at=ago(minutes=synced_minutes_ago + 1), **fields
    )
    DeskAction.objects.filter(pk=action.pk).update(updated_at=ago(minutes=synced_minutes_ago))
    action.refresh_from_db()
    return action


def paid_booking_on_order(order_status: str, **order) -> Booking:
    booking = BookingFactory(payment_status=PS.PAID, contact__first_name="Ann", contact__last_name="Archer")
    OrderLineItemFactory(booking=booking, order=OrderFactory(payment_status=order_status, number="10042", **order))
    return booking


def test_a_desk_payment_wix_took_whose_order_is_still_unpaid_after_the_grace_is_drift():
    booking = paid_booking_on_order("NOT_PAID", synced_at=ago(minutes=40))
    action = desk_payment(booking=booking, synced_minutes_ago=30)

    (case,) = cases(drift.PAID_AT_DESK)

    assert case.action == action and case.booking == booking
    assert case.since == action.updated_at
    assert "Ann Archer: £12.00 cash was taken at the desk" in case.what
    assert "Wix's order #10042 says not paid" in case.what
    assert case.fixes == [drift_cases.RESYNC]
    assert case.wix_url is None  # the sandbox has no dashboard


def test_with_a_live_site_the_case_opens_the_order_in_the_wix_dashboard(settings):
    settings.WIX = WixConfig(mode="api_key", api_key="key", site_id="site-1")
    booking = paid_booking_on_order("NOT_PAID", synced_at=ago(minutes=40), wix_id="order-9")
    desk_payment(booking=booking)

    (case,) = cases(drift.PAID_AT_DESK)

    assert case.wix_url == "https://manage.wix.com/dashboard/site-1/ecom-platform/order-details/order-9"


def test_an_order_read_again_since_the_payment_reached_wix_is_drift_at_once():
    booking = paid_booking_on_order("PARTIALLY_PAID", synced_at=timezone.now())
    desk_payment(booking=booking, synced_minutes_ago=1)

    assert [c.booking for c in cases(drift.PAID_AT_DESK)] == [booking]


def test_no_drift_while_the_sync_may_still_bring_the_paid_order():
    booking = paid_booking_on_order("NOT_PAID", synced_at=ago(minutes=5))
    desk_payment(booking=booking, synced_minutes_ago=2)

    assert cases(drift.PAID_AT_DESK) == []


@pytest.mark.parametrize(
    "look_alike",
    ["order_paid", "part_payment", "refunded_since", "cancelled_order", "on_its_way", "booking_cancelled", "old"],
)
def test_desk_payments_that_agree_with_wix_are_not_drift(look_alike):
    booking = paid_booking_on_order("PAID" if look_alike == "order_paid" else "NOT_PAID", synced_at=ago(minutes=40))
    fields = {}
    if look_alike == "part_payment":
        fields["params"] = {"method": "CASH", "amount": "5.00", "full": False, "due": "12.00"}
    action = desk_payment(booking=booking, **fields)
    if look_alike == "refunded_since":
        DeskActionFactory(booking=booking, kind=Kind.REFUND, status=Status.SYNCED, params={"reverses": action.pk})
    elif look_alike == "cancelled_order":
        booking.line_items.update(order=OrderFactory(status="CANCELED", payment_status="NOT_PAID"))
    elif look_alike == "on_its_way":
        Booking.objects.filter(pk=booking.pk).update(pending_sync=True)
    elif look_alike == "booking_cancelled":
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELED)
    elif look_alike == "old":
        DeskAction.objects.filter(pk=action.pk).update(updated_at=ago(days=30))

    assert cases(drift.PAID_AT_DESK) == []


def test_without_an_order_the_booking_wix_holds_unpaid_after_a_desk_payment_is_drift():
    booking = BookingFactory(payment_status=PS.NOT_PAID, synced_at=timezone.now())  # booking-only mode
    desk_payment(booking=booking, synced_minutes_ago=1)

    (case,) = cases(drift.PAID_AT_DESK)

    assert "the booking in Wix says not paid" in case.what


def test_a_plan_charge_wix_took_on_an_order_it_left_unpaid_is_drift():
    booking = paid_booking_on_order("NOT_PAID", synced_at=timezone.now())
    desk_payment(booking=booking, kind=Kind.PLAN_CHARGE, params={"balance_id": 1, "plan_name": "10 Swim Pass"})

    (case,) = cases(drift.PAID_AT_DESK)

    assert "a credit of 10 Swim Pass was charged at the desk" in case.what


# --- Wix's order and the booking -------------------------------------------------------------------


def test_an_order_paid_in_wix_whose_booking_is_not_paid_is_drift():
    booking = BookingFactory(payment_status=PS.NOT_PAID, contact__first_name="Bo", contact__last_name="Birch")
    order = OrderFactory(payment_status="PAID", number="777", wix_updated_at=ago(hours=2))
    line = OrderLineItemFactory(booking=booking, order=order)
    OrderLineItemFactory(order=order, booking=BookingFactory(payment_status=PS.PAID))  # its neighbour agrees

    (case,) = cases(drift.PAID_IN_WIX)

    assert case.pk == line.pk and case.booking == booking
    assert case.since == order.wix_updated_at
    assert case.what == "Bo Birch: Wix's order #777 is paid, but the booking says “not paid”."
    assert case.fixes == [drift_cases.RESYNC]


@pytest.mark.parametrize("look_alike", ["on_its_way", "exempt", "cancelled_order"])
def test_paid_orders_that_the_desk_is_changing_or_that_agree_are_not_drift(look_alike):
    booking = BookingFactory(
        payment_status=PS.EXEMPT if look_alike == "exempt" else PS.NOT_PAID, pending_sync=look_alike == "on_its_way"
    )
    OrderLineItemFactory(
        booking=booking,
        order=OrderFactory(payment_status="PAID", status="CANCELED" if look_alike == "cancelled_order" else "APPROVED"),
    )

    assert cases(drift.PAID_IN_WIX) == []


# --- came but did not pay ----------------------------------------------------------------------------


def ended_session(**fields):
    return SessionFactory(start=ago(hours=3), end=ago(hours=2), title="Open water 7am", **fields)


def test_checked_in_at_a_session_that_ended_and_not_paid_is_drift_with_the_payment_offered():
    session = ended_session()
    booking = BookingFactory(session=session, payment_status=PS.NOT_PAID, contact__first_name="Cy")
    attendance = AttendanceFactory(booking=booking)

    (case,) = cases(drift.ATTENDED_UNPAID)

    assert case.pk == attendance.pk and case.session == session
    assert case.since == session.end
    assert case.what.startswith(f"{booking.contact} was checked in at Open water 7am on ")
    assert case.what.endswith("and has not paid.")
    assert case.fixes == [drift_cases.PAY, drift_cases.ROSTER]
    assert case.due == Decimal("12.00") and case.currency == "GBP"


def test_a_part_paid_attendee_is_offered_the_rest():
    booking = BookingFactory(session=ended_session(), payment_status=PS.PARTIALLY_PAID)
    OrderLineItemFactory(booking=booking, order=OrderFactory(payment_status="PARTIALLY_PAID", balance=Decimal("4")))
    AttendanceFactory(booking=booking)

    (case,) = cases(drift.ATTENDED_UNPAID)

    assert case.due == Decimal("4") and case.what.endswith("and has paid only part of it.")


@pytest.mark.parametrize(
    "look_alike", ["paid", "no_show", "still_running", "free", "on_its_way", "plan", "old", "written_off"]
)
def test_attendees_who_paid_or_owe_nothing_are_not_drift(look_alike):
    session = ended_session()
    if look_alike == "still_running":
        session = SessionFactory(start=ago(minutes=30), end=timezone.now() + timedelta(minutes=30))
    elif look_alike == "old":
        session = SessionFactory(start=ago(days=30), end=ago(days=30) + timedelta(hours=1))
    booking = BookingFactory(
        session=session,
        payment_status=PS.PAID if look_alike == "paid" else PS.NOT_PAID,
        pending_sync=look_alike == "on_its_way",
    )
    if look_alike == "free":
        booking.service.price = Decimal("0")
        booking.service.save()
    if look_alike == "plan":
        Booking.objects.filter(pk=booking.pk).update(
            payment_status=PS.EXEMPT, selected_payment_option=Booking.PaymentOption.MEMBERSHIP
        )
    if look_alike == "written_off":  # a manager decided not to collect it
        WriteOffFactory(booking=booking, contact=booking.contact)
    status = Attendance.Status.NOT_ATTENDED if look_alike == "no_show" else Attendance.Status.ATTENDED
    AttendanceFactory(booking=booking, status=status)

    assert cases(drift.ATTENDED_UNPAID) == []


def test_every_payment_status_is_judged_by_the_rule_on_a_paid_order_and_at_a_check_in():
    """Each payment status, with the desk changing the booking and without: "paid in Wix" finds
    the bookings not settled, "came but did not pay" the unpaid ones (on SQLite both first read
    the unsettled bookings' ids from an index of their own: the same cases)."""
    session = ended_session()
    lines, check_ins = {}, {}
    for status in PS.values:
        for pending in (False, True):
            booking = BookingFactory(session=session, payment_status=status, pending_sync=pending)
            order = OrderFactory(payment_status="PAID", wix_updated_at=ago(hours=2))
            lines[status, pending] = OrderLineItemFactory(booking=booking, order=order).pk
            check_ins[status, pending] = AttendanceFactory(booking=booking).pk

    unsettled = [PS.UNDEFINED, PS.NOT_PAID, PS.PARTIALLY_PAID, PS.REFUNDED, PS.FAILED]
    assert {c.pk for c in cases(drift.PAID_IN_WIX)} == {lines[s, False] for s in unsettled}
    unpaid = [PS.UNDEFINED, PS.NOT_PAID, PS.PARTIALLY_PAID, PS.FAILED]
    assert {c.pk for c in cases(drift.ATTENDED_UNPAID)} == {check_ins[s, False] for s in unpaid}


# --- plan credits ------------------------------------------------------------------------------------


def plan_charge(balance, *, credits_before: str | None = "5.00") -> DeskAction:
    booking = BookingFactory(payment_status=PS.PAID, selected_payment_option=Booking.PaymentOption.MEMBERSHIP)
    return desk_payment(
        booking=booking,
        kind=Kind.PLAN_CHARGE,
        params={"balance_id": balance.pk, "plan_name": "10 Swim Pass", "due": "12.00"},
        before={"booking": {"payment_status": "NOT_PAID"}, "credits": credits_before},
    )


def test_a_plan_charge_whose_credits_are_back_where_they_were_is_drift():
    balance = BenefitBalanceFactory(remaining_credits=Decimal("5"))
    action = plan_charge(balance)

    (case,) = cases(drift.PLAN_CREDITS)

    assert case.action == action
    assert "10 Swim Pass was charged at the desk on" in case.what
    assert case.what.endswith("with 5 credits left; the plan still shows 5.")
    assert case.fixes == [drift_cases.RESYNC]


@pytest.mark.parametrize("look_alike", ["went_down", "unlimited", "voided", "no_before"])
def test_plan_charges_whose_credits_went_down_or_came_back_on_purpose_are_not_drift(look_alike):
    balance = BenefitBalanceFactory(
        remaining_credits=Decimal("4" if look_alike == "went_down" else "5"), unlimited=look_alike == "unlimited"
    )
    action = plan_charge(balance, credits_before=None if look_alike == "no_before" else "5.00")
    if look_alike == "voided":
        DeskActionFactory(
            booking=action.booking, kind=Kind.VOID_PLAN_CHARGE, status=Status.SYNCED, params={"reverses": action.pk}
        )

    assert cases(drift.PLAN_CREDITS) == []


# --- stuck desk actions ------------------------------------------------------------------------------


def test_an_action_needing_attention_longer_than_the_threshold_is_stuck_with_retry():
    fresh = DeskActionFactory(status=Status.NEEDS_ATTENTION, message="The class is full.")
    old = DeskActionFactory(status=Status.NEEDS_ATTENTION, message="The class is full.", error_code="SESSION_FULL")
    DeskAction.objects.filter(pk=old.pk).update(updated_at=ago(minutes=20))
    DeskAction.objects.filter(pk=fresh.pk).update(updated_at=ago(minutes=5))

    (case,) = cases(drift.STUCK_ATTENTION)

    assert case.action.pk == old.pk
    assert case.what == f"Payment for {old.contact}: Wix refused it — The class is full."
    assert case.fixes == [drift_cases.RETRY, drift_cases.ROSTER]


def test_an_action_waiting_for_wix_longer_than_the_threshold_is_stuck_unless_it_is_being_sent():
    waiting = DeskActionFactory(run_after=ago(minutes=40), attempts=3, last_error="Wix answered 503")
    sending = DeskActionFactory(
        run_after=ago(minutes=30), status=Status.RUNNING, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    DeskActionFactory(run_after=ago(minutes=2))  # in its first minutes: not stuck

    first, second = cases(drift.STUCK_WAITING)

    assert (first.action.pk, second.action.pk) == (waiting.pk, sending.pk)
    assert first.what == f"Payment for {waiting.contact} has not reached Wix (3 tries; last answer: Wix answered 503)."
    assert first.fixes == [drift_cases.RETRY, drift_cases.ROSTER]
    assert drift_cases.RETRY not in second.fixes and second.retry_blocked == "Being sent to Wix right now."


# --- over capacity -----------------------------------------------------------------------------------


def test_a_session_with_more_people_booked_than_places_is_over_capacity():
    session = SessionFactory(capacity=2, start=timezone.now() + timedelta(days=1), title="Lane swim")
    BookingFactory(session=session, total_participants=2, wix_created_at=ago(hours=2))
    last = BookingFactory(session=session, wix_created_at=ago(minutes=3))
    BookingFactory(session=session, status=Booking.Status.CANCELED)
    SessionFactory(capacity=5)  # room to spare

    (case,) = cases(drift.OVER_CAPACITY)

    assert case.session == session and case.since == session.start
    assert case.what.startswith("Lane swim on ")
    assert case.what.endswith(f": 3 booked for 2 places (the last booked {drift_cases._when(last.wix_created_at)}).")
    assert case.fixes == [drift_cases.ROSTER]


def test_a_course_session_counts_the_course_bookings_against_its_places():
    session = SessionFactory(capacity=1, service__type="COURSE", start=timezone.now() + timedelta(days=1))
    BookingFactory.create_batch(2, session=None, service=session.service)

    assert [c.session for c in cases(drift.OVER_CAPACITY)] == [session]


# --- counts, pages, the header -----------------------------------------------------------------------


def plant_one_of_each() -> None:
    desk_payment(booking=paid_booking_on_order("NOT_PAID", synced_at=timezone.now()), synced_minutes_ago=1)
    OrderLineItemFactory(booking=BookingFactory(), order=OrderFactory(payment_status="PAID"))
    AttendanceFactory(booking=BookingFactory(session=ended_session()))
    plan_charge(BenefitBalanceFactory(remaining_credits=Decimal("5")))
    DeskAction.objects.filter(pk=DeskActionFactory(status=Status.NEEDS_ATTENTION).pk).update(updated_at=ago(hours=1))
    DeskActionFactory(run_after=ago(hours=1))
    BookingFactory.create_batch(2, session=SessionFactory(capacity=1))


def test_every_kind_is_counted_and_the_header_total_is_kept_a_minute():
    plant_one_of_each()
    drift.drift_forget()

    assert drift.drift_counts() == {kind: 1 for kind in drift.QUERIES}
    assert drift.drift_total_cached() == 7
    plant_one_of_each()
    assert drift.drift_total_cached() == 7  # cached
    drift.drift_forget()
    assert drift.drift_total_cached() == 14


def test_the_page_costs_the_same_queries_however_many_cases():
    plant_one_of_each()
    with CaptureQueriesContext(connection) as one:
        drift.drift_sections()
    for _ in range(4):
        plant_one_of_each()
    with CaptureQueriesContext(connection) as five:
        sections = drift.drift_sections()

    assert all(s.count == 5 for s in sections)
    assert len(five.captured_queries) == len(one.captured_queries) <= 2 * len(drift.QUERIES) + 3


def test_a_kind_is_paged_oldest_first_by_its_cursor(settings, monkeypatch):
    monkeypatch.setattr(drift, "PAGE_SIZE", 2)
    actions = [DeskActionFactory(run_after=ago(hours=5 - i)) for i in range(5)]

    (first,) = drift.drift_sections(kind=drift.STUCK_WAITING)
    (second,) = drift.drift_sections(kind=drift.STUCK_WAITING, after=drift.cursor_parse(first.more))
    (third,) = drift.drift_sections(kind=drift.STUCK_WAITING, after=drift.cursor_parse(second.more))

    pages = [[c.action.pk for c in s.cases] for s in (first, second, third)]
    assert pages == [[a.pk for a in actions[:2]], [a.pk for a in actions[2:4]], [actions[4].pk]]
    assert third.more == "" and first.count == 5


@pytest.mark.parametrize("bad", ["", "nonsense", "2026-01-01T00:00:00|x", "2026-01-01T00:00:00|5", "x|5", "1" * 90])
def test_a_cursor_that_cannot_be_read_is_none(bad):
    assert drift.cursor_parse(bad) is None


def test_one_case_is_read_back_while_it_stands():
    action = DeskActionFactory(run_after=ago(hours=1))

    assert drift.drift_case_get(kind=drift.STUCK_WAITING, pk=action.pk).action == action
    assert drift.drift_case_get(kind=drift.STUCK_ATTENTION, pk=action.pk) is None
    assert drift.drift_case_get(kind="nonsense", pk=action.pk) is None
    assert drift.drift_case_get(kind=drift.STUCK_WAITING, pk=2**70) is None
