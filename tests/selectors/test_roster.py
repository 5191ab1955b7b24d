"""The roster's reads. Selectors that answer one question in two places must agree: the roster
works out "charged to a plan" in Python from the rows it loads (``selectors.roster.on_plan``),
Today and the session header count it in SQL (``selectors.queries.charged_to_plan_q``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app import selectors
from bookings_app.models import Booking, Payment, Session
from bookings_app.selectors import queries
from tests import factories

pytestmark = pytest.mark.django_db

PLAN = Payment.Method.PLAN


def _line(booking: Booking, order=None, **order_fields):
    if order is None:
        return factories.OrderLineItemFactory(booking=booking, order__contact=booking.contact, **order_fields)
    return factories.OrderLineItemFactory(booking=booking, order=order)


def _pay(line, method=PLAN, *, for_line: str | None = None, status=Payment.Status.APPROVED):
    factories.PaymentFactory(
        order=line.order,
        method=method,
        status=status,
        line_item_id=line.line_item_id if for_line is None else for_line,
    )


def test_charged_to_plan_is_the_same_on_the_roster_and_in_the_counts():
    session = factories.SessionFactory()

    def booking(**fields) -> Booking:
        return factories.BookingFactory(session=session, **fields)

    on_plan: dict[str, Booking] = {}
    not_on_plan: dict[str, Booking] = {}
    # no order mirrored: the booking's own word, if it is settled
    on_plan["no order, plan, paid"] = booking(selected_payment_option="MEMBERSHIP", payment_status="PAID")
    on_plan["no order, offline plan, free"] = booking(
        selected_payment_option="MEMBERSHIP_OFFLINE", payment_status="EXEMPT"
    )
    not_on_plan["no order, plan, unpaid"] = booking(selected_payment_option="MEMBERSHIP", payment_status="NOT_PAID")
    not_on_plan["no order, offline, paid"] = booking(selected_payment_option="OFFLINE", payment_status="PAID")
    # an order: only a counted plan payment for its line (or for no line in particular)
    own = booking(payment_status="PAID")
    _pay(_line(own))
    on_plan["plan payment for its line"] = own
    blank = booking(payment_status="PAID")
    _pay(_line(blank), for_line="")
    on_plan["plan payment for no line"] = blank
    refunded = booking(payment_status="PAID")
    _pay(_line(refunded), status=Payment.Status.REFUNDED)
    not_on_plan["plan payment refunded"] = refunded
    cash = booking(selected_payment_option="MEMBERSHIP", payment_status="PAID")
    _pay(_line(cash), Payment.Method.CASH)
    not_on_plan["an order paid in cash, though it chose a plan"] = cash
    unpaid_order = booking(selected_payment_option="MEMBERSHIP", payment_status="PAID")
    _line(unpaid_order, order__balance=Decimal("12.00"))
    not_on_plan["an order with no payment, though it chose a plan and says paid"] = unpaid_order
    # one order for two bookings: the plan paid for one line only
    first, second = booking(payment_status="PAID"), booking(payment_status="NOT_PAID")
    first_line = _line(first)
    _line(second, order=first_line.order)
    _pay(first_line)
    on_plan["shared order, its line paid by plan"] = first
    not_on_plan["shared order, the other line paid by plan"] = second
    # two orders, one of them paid by plan
    two = booking(payment_status="PAID")
    _line(two)
    _pay(_line(two))
    on_plan["two orders, one paid by plan"] = two

    read = selectors.roster_read(session=session)
    rows = {booking.pk: read.charged_to_plan(booking) for booking in read.bookings}
    in_sql = set(Booking.objects.filter(queries.charged_to_plan_q()).values_list("pk", flat=True))

    for case, b in on_plan.items():
        assert rows[b.pk] and b.pk in in_sql, case
    for case, b in not_on_plan.items():
        assert not rows[b.pk] and b.pk not in in_sql, case
    assert {pk for pk, charged_to_plan in rows.items() if charged_to_plan} == in_sql & rows.keys()


def test_the_roster_is_by_surname_whatever_the_case_and_accents():
    session = factories.SessionFactory()
    for first, last in [("Zoë", "ZEDD"), ("Ann", "de Vries"), ("Bo", "Ó'Brien"), ("Al", "Oakes"), ("Cy", "Adams")]:
        factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first, last_name=last))

    bookings = selectors.roster_read(session=session).bookings

    assert [booking.contact.last_name for booking in bookings] == ["Adams", "de Vries", "Oakes", "Ó'Brien", "ZEDD"]


@pytest.mark.parametrize("kind", ["CLASS", "COURSE"])
def test_the_roster_reads_the_same_bookings_precompiled_or_built_as_usual(kind):
    """A session loaded with its service reads its roster through a query compiled once per
    shape (``selectors.roster._roster_bookings``); one without it builds the query every time.
    Both find the same bookings, for a class and a course, with and without the cancelled, all
    or only some of them."""
    service = factories.ServiceFactory(type=kind)
    session = factories.SessionFactory(service=service)
    other = factories.SessionFactory(service=service)
    on_it = [factories.BookingFactory(session=session, service=service, status=s) for s in Booking.ROSTER_STATUSES]
    gone = factories.BookingFactory(session=session, service=service, status=Booking.Status.CANCELED)
    enrolled = factories.BookingFactory(session=None, service=service)  # on every session of a course
    factories.BookingFactory(session=other, service=service)
    factories.BookingFactory(session=None)  # another service's booking without a session
    factories.WriteOffFactory(booking=on_it[0])

    loaded = selectors.session_get(ref=session.ref)  # with its service: precompiled
    bare = Session.objects.get(pk=session.pk)  # without: built as usual
    service_field = Session._meta.get_field("service")
    assert service_field.is_cached(loaded) and not service_field.is_cached(bare)
    expected = {b.pk for b in on_it} | ({enrolled.pk} if kind == "COURSE" else set())
    for options, want in (
        ({}, expected),
        ({"include_cancelled": True}, expected | {gone.pk}),
        ({"booking_ids": [on_it[1].pk, gone.pk, enrolled.pk]}, expected & {on_it[1].pk, enrolled.pk}),
        ({"booking_ids": [gone.pk], "include_cancelled": True}, {gone.pk}),
        ({"booking_ids": []}, set()),
    ):
        for one in (loaded, bare, loaded):  # the second precompiled read reuses the compiled SQL
            read = selectors.roster_read(session=one, **options)
            assert {b.pk for b in read.bookings} == want, (kind, options, one is loaded)
            assert {b.pk for b in read.bookings if b.written_off} == want & {on_it[0].pk}
            assert all(b.service.pk == service.pk and b.contact.last_name for b in read.bookings)
