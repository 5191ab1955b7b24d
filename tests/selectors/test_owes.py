"""The owes list (``selectors.owes``): who owes for the sessions of a range, by person, the person
owing longest first, each booking's amount as the roster shows it; left out: paid, free, future,
cancelled, written off; an order for several bookings owed once; a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings_app import selectors
from bookings_app.models import Booking, DeskAction, Service
from bookings_app.selectors import owes_sql
from tests import factories
from tests.selectors.helpers import NOW, at

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of this week
END = datetime(2026, 11, 23, tzinfo=UTC)
PS = Booking.PaymentStatus


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _class(day: int, hour: int = 7, price: str = "12.00", **kwargs) -> factories.SessionFactory:
    return factories.SessionFactory(
        start=at(hour, day=NOW.date().replace(day=day)), service__price=Decimal(price), **kwargs
    )


def _person(first: str, last: str = "Swimmer") -> factories.ContactFactory:
    return factories.ContactFactory(first_name=first, last_name=last)


def _read(**kwargs) -> selectors.OwesRead:
    return selectors.owes_read(start=START, end=END, **kwargs)


def test_one_line_per_person_the_one_owing_longest_first_with_their_bookings_oldest_first():
    monday, tuesday, thursday = _class(16), _class(17), _class(19, price="8.00")
    ann, bob = _person("Ann"), _person("Bob")
    later = factories.BookingFactory(session=thursday, contact=ann)
    first = factories.BookingFactory(session=tuesday, contact=ann)
    factories.BookingFactory(session=monday, contact=bob, total_participants=2)

    read = _read()

    assert [p.contact.first_name for p in read.people] == ["Bob", "Ann"]
    bob_line, ann_line = read.people
    assert bob_line.total == Decimal("24.00")
    assert [item.booking.pk for item in ann_line.bookings] == [first.pk, later.pk]
    assert [item.due for item in ann_line.bookings] == [Decimal("12.00"), Decimal("8.00")]
    assert ann_line.total == Decimal("20.00") and ann_line.oldest == tuesday.start
    assert (read.people_total, read.bookings_total, read.total, read.currency) == (2, 3, Decimal("44.00"), "GBP")


def test_paid_free_cancelled_future_elsewhere_and_written_off_bookings_owe_nothing_here():
    session, cancelled_session = _class(18), _class(18, hour=9, status="CANCELLED")
    owes = factories.BookingFactory(session=session, contact=_person("Owes"))
    factories.BookingFactory(session=session, payment_status=PS.PAID)
    factories.BookingFactory(session=session, payment_status=PS.EXEMPT)
    factories.BookingFactory(session=session, status=Booking.Status.CANCELED)
    factories.BookingFactory(session=session, status=Booking.Status.WAITING_LIST)
    factories.BookingFactory(session=cancelled_session)
    factories.BookingFactory(session=_class(21, hour=18))  # tonight: not begun yet
    factories.BookingFactory(session=_class(12))  # last week
    written_off = factories.BookingFactory(session=session)
    factories.WriteOffFactory(booking=written_off)
    taken_back = factories.BookingFactory(session=session, contact=_person("Back"))
    factories.WriteOffFactory(booking=taken_back, reversed_at=NOW)

    read = _read()

    assert sorted(item.booking.pk for p in read.people for item in p.bookings) == sorted([owes.pk, taken_back.pk])


def test_the_amount_is_the_rosters_the_order_balance_or_the_price_less_the_desks_money():
    session = _class(18)
    on_order = factories.BookingFactory(session=session, contact=_person("Order"))
    factories.OrderLineItemFactory(booking=on_order, order__balance=Decimal("5.50"))
    part = factories.BookingFactory(session=session, contact=_person("Part"), payment_status=PS.PARTIALLY_PAID)
    factories.DeskActionFactory(
        booking=part, status=DeskAction.Status.SYNCED, params={"method": "CASH", "amount": "4.00", "full": False}
    )
    paying = factories.BookingFactory(session=session, contact=_person("Paying"))  # cash on its way: nothing owed
    factories.DeskActionFactory(booking=paying, params={"method": "CASH", "amount": "12.00", "full": True})
    refunded = factories.BookingFactory(session=session, payment_status=PS.REFUNDED)
    factories.OrderLineItemFactory(booking=refunded, order__status="CANCELED", order__balance=Decimal("0"))

    owed = {item.booking.contact.first_name: item.due for p in _read().people for item in p.bookings}

    assert owed == {"Order": Decimal("5.50"), "Part": Decimal("8.00")}


def test_an_order_paying_for_several_bookings_is_owed_once_by_the_oldest():
    early, late = _class(17), _class(18)
    parent, child = _person("Pat"), _person("Kid")
    first = factories.BookingFactory(session=early, contact=parent)
    second = factories.BookingFactory(session=late, contact=child)
    order = factories.OrderFactory(contact=parent, balance=Decimal("24.00"), total=Decimal("24.00"))
    factories.OrderLineItemFactory(order=order, booking=first)
    factories.OrderLineItemFactory(order=order, booking=second)

    read = _read()

    [line] = read.people
    assert line.contact == parent and [i.booking for i in line.bookings] == [first]
    assert line.bookings[0].due == Decimal("24.00") and line.bookings[0].shares_order
    assert read.total == Decimal("24.00")


def test_a_course_booking_owes_once_its_course_has_begun_in_the_range():
    course = factories.ServiceFactory(type=Service.Type.COURSE, price=Decimal("90.00"))
    first = factories.SessionFactory(service=course, start=at(18, day=NOW.date().replace(day=17)))
    factories.SessionFactory(service=course, start=first.start + timedelta(days=7))
    enrolled = factories.BookingFactory(session=None, service=course, contact=_person("Cora"))
    not_begun = factories.ServiceFactory(type=Service.Type.COURSE, price=Decimal("90.00"))
    factories.SessionFactory(service=not_begun, start=NOW + timedelta(days=2))
    factories.BookingFactory(session=None, service=not_begun)

    [line] = _read().people

    assert [(i.booking.pk, i.due, i.when) for i in line.bookings] == [(enrolled.pk, Decimal("90.00"), first.start)]


def test_search_and_pages_of_people():
    session = _class(18)
    for i in range(selectors_per_page() + 3):
        factories.BookingFactory(session=session, contact=_person(f"P{i:03d}", "Many"))
    factories.BookingFactory(session=session, contact=_person("Zed", "Unique"))

    found = _read(search="unique")
    first, last, beyond = _read(page=1), _read(page=2), _read(page=99)

    assert [p.contact.last_name for p in found.people] == ["Unique"]
    assert (first.page, first.pages, len(first.people)) == (1, 2, selectors_per_page())
    assert len(last.people) == 4 and beyond.page == 2
    assert first.people_total == last.people_total == selectors_per_page() + 4
    assert len(_read(page=None).people) == selectors_per_page() + 4


def selectors_per_page() -> int:
    from bookings_app.selectors.owes import PER_PAGE

    return PER_PAGE


def test_a_plan_with_credit_is_offered_and_its_credits_counted_across_their_bookings():
    tuesday, thursday = _class(17), _class(19)
    ann = _person("Ann")
    older = factories.BookingFactory(session=tuesday, contact=ann)
    newer = factories.BookingFactory(session=thursday, contact=ann)
    factories.BookingFactory(session=thursday, service=thursday.service)
    member = factories.MemberFactory(contact=ann)
    balance = factories.BenefitBalanceFactory(
        member=member,
        remaining_credits=Decimal("1"),
        covered_service_ids=[tuesday.service.wix_id, thursday.service.wix_id],
    )

    items = {i.booking.pk: i for p in _read().people for i in p.bookings}

    assert items[older.pk].plan == balance
    assert items[newer.pk].plan is None


def test_marks_attendance_and_pays_later_come_with_each_booking():
    session = _class(18)
    booking = factories.BookingFactory(session=session, contact=_person("Nia"))
    factories.AttendanceFactory(booking=booking, session=session, status="NOT_ATTENDED")
    factories.DeskActionFactory(booking=booking, kind=DeskAction.Kind.PAY_LATER, status=DeskAction.Status.SYNCED)

    [item] = _read().people[0].bookings

    assert item.attendance == "NOT_ATTENDED" and item.attendance_label == "No-show"
    assert item.marked_later


def test_a_range_that_has_not_begun_owes_nothing_and_costs_no_query(django_assert_num_queries):
    factories.BookingFactory(session=_class(21, hour=18))
    with django_assert_num_queries(0):
        read = selectors.owes_read(start=NOW + timedelta(hours=1), end=END)
    assert read.people == [] and read.total == 0


def test_the_list_costs_the_same_queries_for_3_or_30_people():
    def make(n: int, day: int) -> None:
        session = _class(day)
        for i in range(n):
            contact = _person(f"Q{day}{i:02d}")
            booking = factories.BookingFactory(session=session, contact=contact)
            if i % 2:
                factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("12.00"))
            if i % 3 == 0:
                factories.BenefitBalanceFactory(
                    member=factories.MemberFactory(contact=contact),
                    covered_service_ids=[session.service.wix_id],
                    remaining_credits=Decimal("3"),
                )
            factories.AttendanceFactory(booking=booking, session=session)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            read = _read(page=None)
            assert all(p.contact.first_name for p in read.people)
            assert all(i.booking.session.title for p in read.people for i in p.bookings)
        return len(ctx.captured_queries)

    make(3, 17)
    few = count()
    make(27, 18)
    assert count() == few


def test_the_fast_amount_is_the_rosters_rule_for_every_kind_of_booking():
    """``selectors.owes`` answers most bookings from SQL values (``_plain_due``); what it says each
    owes must be what ``money.due_from_roster`` says, as Settle reads it."""
    from bookings_app import money

    session = _class(18, price="9.50")
    cases = [
        {},  # no order: the list price
        {"total_participants": 3},
        {"payment_status": PS.UNDEFINED},
        {"payment_status": PS.FAILED},
        {"payment_status": PS.REFUNDED},
    ]
    made = [factories.BookingFactory(session=session, **fields) for fields in cases]
    for balance, status in (("9.50", "APPROVED"), ("0", "APPROVED"), ("4.25", "CANCELED"), ("-2", "APPROVED")):
        booking = factories.BookingFactory(session=session)
        factories.OrderLineItemFactory(booking=booking, order__balance=Decimal(balance), order__status=status)
        made.append(booking)
    two_orders = factories.BookingFactory(session=session, payment_status=PS.PARTIALLY_PAID)
    factories.OrderLineItemFactory(booking=two_orders, order__balance=Decimal("3.00"))
    order = factories.OrderLineItemFactory(booking=two_orders, order__balance=Decimal("2.00")).order
    factories.OrderLineItemFactory(booking=two_orders, order=order)  # twice on one order: counted once
    made.append(two_orders)
    free = factories.BookingFactory(session=factories.SessionFactory(start=session.start, service__price=None))
    made.append(free)

    owed = {i.booking_id: i.due for p in _read(page=None).people for i in p.bookings}

    read = selectors.bookings_orders_read(bookings=made)
    for booking in made:
        balances = read.order_balances(booking.pk)
        expected = money.due_from_roster(
            booking,
            roster_amount=money.roster_due(booking=booking, order_balances=balances, settled=False),
            due_from_order=bool(balances),
            charged_to_plan=read.charged_to_plan(booking),
            inflight=[],
        )
        assert owed.get(booking.pk, Decimal("0")) == max(expected, Decimal("0")), booking
    assert owed[two_orders.pk] == Decimal("5.00") and free.pk not in owed


def test_the_screens_rows_say_what_the_export_says_and_a_search_for_everyone_finds_the_same():
    """The screen reads each row's attendance and "pays later" with the booking (one query), the
    export by their own queries; the list without a search is a query compiled once, with one
    the usual queryset: all four must agree."""
    monday, tuesday = _class(16), _class(17)
    course = factories.ServiceFactory(type=Service.Type.COURSE, price=Decimal("90.00"))
    factories.SessionFactory(service=course, start=at(18, day=NOW.date().replace(day=17)))
    ann, bob, cy = _person("Ann"), _person("Bob"), _person("Cy")
    came = factories.BookingFactory(session=monday, contact=ann)
    factories.AttendanceFactory(booking=came, session=monday, status="ATTENDED")
    factories.AttendanceFactory(booking=came, session=tuesday, status="NOT_ATTENDED")  # another session's
    later = factories.BookingFactory(session=tuesday, contact=ann)
    factories.DeskActionFactory(booking=later, kind=DeskAction.Kind.PAY_LATER, status=DeskAction.Status.QUEUED)
    undone = factories.BookingFactory(session=tuesday, contact=bob)
    factories.DeskActionFactory(booking=undone, kind=DeskAction.Kind.PAY_LATER, status=DeskAction.Status.UNDONE)
    factories.BookingFactory(session=None, service=course, contact=cy)
    shared = factories.OrderFactory(balance=Decimal("20.00"))
    factories.OrderLineItemFactory(order=shared, booking=factories.BookingFactory(session=monday, contact=bob))
    factories.OrderLineItemFactory(order=shared, booking=factories.BookingFactory(session=tuesday, contact=cy))

    def rows(read: selectors.OwesRead) -> list[tuple]:
        return [
            (p.contact_id, p.total, i.booking_id, i.due, i.when, i.shares_order, i.attendance, i.marked_later)
            for p in read.people
            for i in p.bookings
        ]

    screen = rows(_read(page=None))
    assert screen == rows(_read(page=None, detail=selectors.owes.EXPORT))
    assert screen == rows(_read(page=None, search="swimmer"))  # everyone's surname
    assert [(r[2], r[6], r[7]) for r in screen if r[2] in (came.pk, later.pk, undone.pk)] == [
        (came.pk, "ATTENDED", False),
        (later.pk, "NOT_SET", True),
        (undone.pk, "NOT_SET", False),
    ]
    assert len(screen) == 5 and sum(r[5] for r in screen) == 1  # the shared order owed once
    assert selectors.owes.OwedContact._fields == owes_sql.CONTACT_TUPLE  # what the export's contacts read


def test_a_course_counts_from_its_first_session_not_cancelled():
    """A course's bookings without a session are owed from its first session that is not
    cancelled, when that is in the range and has begun (the sessions' read marks it)."""
    week = NOW.date().replace(day=16)

    def course(*starts: tuple[int, str]) -> Booking:
        service = factories.ServiceFactory(type=Service.Type.COURSE, price=Decimal("50.00"))
        for day, status in starts:
            factories.SessionFactory(service=service, start=at(9, day=week.replace(day=day)), status=status)
        return factories.BookingFactory(session=None, service=service)

    in_range = course((17, "CONFIRMED"), (19, "CONFIRMED"))
    began_before = course((9, "CONFIRMED"), (17, "CONFIRMED"))
    first_cancelled = course((9, "CANCELLED"), (18, "CONFIRMED"), (20, "CONFIRMED"))
    twice_first = course((18, "CONFIRMED"), (18, "CONFIRMED"))
    not_begun = course((23, "CONFIRMED"))

    when = {i.booking_id: i.when for p in _read(page=None).people for i in p.bookings}

    assert when == {
        in_range.pk: at(9, day=week.replace(day=17)),
        first_cancelled.pk: at(9, day=week.replace(day=18)),
        twice_first.pk: at(9, day=week.replace(day=18)),
    }
    assert began_before.pk not in when and not_begun.pk not in when
