"""``roster_list.numbers_from_rows``: the roster header's numbers worked out from the roster's own
rows equal the session's numbers in SQL (``selectors.session_get``), which Today shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app import roster_list, roster_rows, selectors
from bookings_app.models import Attendance, Booking, DeskAction, Payment, Service
from bookings_app.services import desk
from tests import factories
from tests.selectors.helpers import NOW, at, busy_class

NUMBERS = ("booked", "paid_count", "plan_count", "unpaid_count", "checked_in")


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _from_rows(session, *, include_cancelled: bool = False) -> tuple[int, ...]:
    plain = selectors.session_get(ref=session.ref, numbers="none")
    rows = roster_rows.row_list(session=plain, include_cancelled=include_cancelled)
    roster_rows.desk_state_attach(rows=rows, session=plain)
    roster_list.numbers_from_rows(plain, rows)
    return tuple(getattr(plain, n) for n in NUMBERS)


def _in_sql(session) -> tuple[int, ...]:
    full = selectors.session_get(ref=session.ref)
    return tuple(getattr(full, n) for n in NUMBERS)


def _agree(session) -> tuple[int, ...]:
    sql = _in_sql(session)
    assert _from_rows(session) == sql
    assert _from_rows(session, include_cancelled=True) == sql
    return sql


@pytest.mark.django_db
def test_a_busy_class_counts_the_same_from_its_rows():
    session = busy_class(at(7))
    assert _agree(session) == (8, 3, 2, 3, 2)


@pytest.mark.django_db
def test_a_cancelled_booking_checked_in_before_counts_in_neither():
    session = busy_class(at(7))
    gone = Booking.objects.get(session=session, status=Booking.Status.CANCELED)
    factories.AttendanceFactory(booking=gone, session=session)
    assert _agree(session)[-1] == 2


@pytest.mark.django_db
def test_a_course_session_counts_the_course_bookings_the_same_from_its_rows():
    course = factories.ServiceFactory(type=Service.Type.COURSE, default_capacity=8)
    week1 = factories.SessionFactory(service=course, start=at(10))
    factories.BookingFactory.create_batch(3, session=None, service=course)
    paid = factories.BookingFactory(session=None, service=course, payment_status=Booking.PaymentStatus.PAID)
    factories.AttendanceFactory(booking=paid, session=week1)
    factories.BookingFactory(session=None, service=course, status=Booking.Status.WAITING_LIST)
    assert _agree(week1) == (4, 1, 0, 3, 1)


@pytest.mark.django_db
def test_the_desks_changes_on_their_way_count_the_same_from_the_rows(django_user_model):
    """A settle's pending plan charge counts as plan, a void on its way as unpaid — in both."""
    user = django_user_model.objects.create(username="desk")
    session = factories.SessionFactory(start=at(8), service__price=Decimal("12.00"))

    def on_an_order(first: str) -> Booking:
        return factories.OrderLineItemFactory(booking__session=session, booking__contact__first_name=first).booking

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
    assert _agree(session) == (3, 1, 1, 1, 2)

    DeskAction.objects.update(status=DeskAction.Status.SYNCED)
    Booking.objects.update(pending_sync=False)
    factories.PaymentFactory(order=planned.line_items.get().order, method=Payment.Method.PLAN)
    assert _agree(session) == (3, 1, 1, 1, 2)

    manager = django_user_model.objects.create(username="boss", is_superuser=True)
    charge = DeskAction.objects.get(kind=DeskAction.Kind.PLAN_CHARGE)
    desk.action_reverse(user=manager, action=charge, idempotency_key="void-it")
    assert _agree(session) == (3, 1, 0, 2, 2)  # the cash one paid, none on a plan
    assert Attendance.objects.filter(status="ATTENDED").count() == 2


@pytest.mark.django_db
def test_a_written_off_booking_is_not_unpaid_in_either_and_its_row_offers_no_payment():
    from bookings_app.models import WriteOff

    session = busy_class(at(7))
    owing = Booking.objects.filter(session=session, status="CONFIRMED", payment_status="NOT_PAID").first()
    WriteOff.objects.create(
        booking=owing, contact=owing.contact, reason="Hardship", idempotency_key="wo-1", amount=Decimal("12")
    )
    booked, paid, plan, unpaid, checked_in = _agree(session)
    assert (booked, unpaid) == (8, 3 - owing.total_participants)

    plain = selectors.session_get(ref=session.ref, numbers="none")
    [row] = roster_rows.row_list(session=plain, booking_ids=[owing.pk])
    assert row.written_off and row.payment_label == "Written off"
    assert row.amount_due is None and not row.offers_payment

    WriteOff.objects.update(reversed_at=NOW)  # taken back: unpaid again, in both
    assert _agree(session)[3] == 3


@pytest.mark.django_db
def test_an_empty_roster_counts_nothing():
    session = factories.SessionFactory(start=at(9))
    assert _agree(session) == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_the_roster_page_shows_the_header_numbers_the_header_fragment_shows(desk_client):
    """The page works the numbers out from its rows; the header refreshed after a desk action
    (``roster_header``) from SQL: the same figures, and a search keeps the whole roster's."""
    import re

    from django.urls import reverse

    session = busy_class(at(7))

    def stats(html: str) -> str:
        return re.search(r'<p class="stats">.*?</p>', html, re.S).group(0)

    page = desk_client.get(reverse("roster", args=[session.ref])).content.decode()
    header = desk_client.get(reverse("roster_header", args=[session.ref])).content.decode()
    searched = desk_client.get(reverse("roster", args=[session.ref]), {"q": "zzz-nobody"}).content.decode()
    assert stats(page) == stats(header) == stats(searched)
    assert '<span class="stat-label">Booked</span><span class="stat-value">8<small>/20</small>' in stats(page)
    assert "<strong>2</strong> of 8 in" in page
