"""Sessions with their roster numbers (``selectors.sessions``): the Today list's counts, in one query."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookings_app import selectors
from bookings_app.models import Booking, Payment, Service
from tests import factories
from tests.selectors.helpers import NOW, at, busy_class


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.mark.django_db
def test_day_list_counts_booked_paid_plan_unpaid_and_checked_in():
    session = busy_class(at(7))

    [row] = selectors.session_day_list(day=date(2026, 11, 21))

    assert row.pk == session.pk
    assert (row.places, row.booked, row.paid_count, row.plan_count, row.unpaid_count, row.checked_in) == (
        20,
        8,
        3,
        2,
        3,
        2,
    )


@pytest.mark.django_db
def test_day_list_is_two_queries_however_many_sessions(django_assert_num_queries):
    """The day's session ids, then their numbers (a query compiled once per process)."""
    for hour in range(6, 18):
        busy_class(at(hour))

    with django_assert_num_queries(2):
        sessions = selectors.session_day_list(day=date(2026, 11, 21))
        assert [s.booked for s in sessions] == [8] * 12
        assert all(s.service.name and s.staff.name for s in sessions)


@pytest.mark.django_db
def test_course_sessions_count_the_course_bookings():
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to swim", default_capacity=8)
    week1 = factories.SessionFactory(service=course, start=at(10))
    factories.SessionFactory(service=course, start=at(10, day=date(2026, 11, 28)))
    factories.BookingFactory.create_batch(3, session=None, service=course)
    factories.BookingFactory(session=None, service=course, payment_status=Booking.PaymentStatus.PAID)
    other_class = factories.ServiceFactory()
    factories.BookingFactory(session=None, service=other_class)  # not a course: never on a course roster

    [row] = selectors.session_day_list(day=date(2026, 11, 21))

    assert row.pk == week1.pk
    assert (row.places, row.booked, row.paid_count, row.unpaid_count) == (8, 4, 1, 3)


@pytest.mark.django_db
def test_a_settled_booking_that_chose_a_plan_counts_as_plan_without_an_order():
    session = factories.SessionFactory(start=at(8))
    factories.BookingFactory(
        session=session,
        payment_status=Booking.PaymentStatus.PAID,
        selected_payment_option=Booking.PaymentOption.MEMBERSHIP,
    )
    voided = factories.OrderLineItemFactory(booking__session=session, booking__payment_status="NOT_PAID")
    factories.PaymentFactory(order=voided.order, method=Payment.Method.PLAN, status=Payment.Status.VOIDED)

    [row] = selectors.session_day_list(day=date(2026, 11, 21))

    assert (row.booked, row.plan_count, row.paid_count, row.unpaid_count) == (2, 1, 0, 1)


@pytest.mark.django_db
def test_the_day_is_the_business_day_in_local_time(settings):
    settings.TIME_ZONE = "Europe/London"
    summer = date(2026, 7, 1)
    # 00:30 on 1 July in London (BST) is 23:30 UTC on 30 June; 23:30 BST on 1 July is 22:30 UTC.
    early = factories.SessionFactory(start=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    late = factories.SessionFactory(start=datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    factories.SessionFactory(start=datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 00:30 on 2 July

    assert [s.pk for s in selectors.session_day_list(day=summer)] == [early.pk, late.pk]


@pytest.mark.django_db
def test_the_desks_own_changes_count_before_wix_has_them_and_once_only_after(django_user_model):
    """A settle's plan charges, payments and check-ins count on Today at once — a booking on a Wix
    order counts as plan while its charge waits for Wix — and once Wix has them (the plan payment
    mirrored), each counts once. A plan charge being voided counts as unpaid."""
    from decimal import Decimal

    from bookings_app.models import Attendance, DeskAction
    from bookings_app.services import desk

    user = django_user_model.objects.create(username="desk")
    session = factories.SessionFactory(start=at(8), service__price=Decimal("12.00"))

    def on_an_order(first: str) -> Booking:
        item = factories.OrderLineItemFactory(booking__session=session, booking__contact__first_name=first)
        return item.booking

    planned, cash, owes = on_an_order("Pat"), on_an_order("Cas"), on_an_order("Ow")
    balance = factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=planned.contact),
        remaining_credits=Decimal("3"),
        covered_service_ids=[session.service.wix_id],
    )
    choices = [
        desk.SettleChoice(booking_id=planned.pk, resolution="plan", balance_id=balance.pk, check_in=True),
        desk.SettleChoice(booking_id=cash.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=owes.pk, resolution="owes", check_in=False),
    ]
    desk.settle_commit(user=user, session=session, rows=choices, idempotency_key="settle-today")

    def counts() -> tuple[int, int, int, int, int]:
        [row] = selectors.session_day_list(day=date(2026, 11, 21))
        return (row.booked, row.plan_count, row.paid_count, row.unpaid_count, row.checked_in)

    assert counts() == (3, 1, 1, 1, 2)

    # Wix has them: the actions are synced and the plan payment mirrored — still counted once.
    DeskAction.objects.update(status=DeskAction.Status.SYNCED)
    Booking.objects.update(pending_sync=False)
    order = planned.line_items.get().order
    factories.PaymentFactory(order=order, method=Payment.Method.PLAN)
    assert counts() == (3, 1, 1, 1, 2)
    assert Attendance.objects.filter(status="ATTENDED").count() == 2

    # A manager voids the plan charge: unpaid at once, though the plan payment is still mirrored.
    manager = django_user_model.objects.create(username="boss", is_superuser=True)
    charge = DeskAction.objects.get(kind=DeskAction.Kind.PLAN_CHARGE)
    desk.action_reverse(user=manager, action=charge, idempotency_key="void-it")
    assert counts() == (3, 0, 1, 2, 2)
