"""The roster's rows (``bookings_app.roster_rows``): built from the roster's reads, their desk
state, and the lighter reads a desk click's form uses instead of building the row twice."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings_app import roster_html, roster_list, roster_rows, selectors
from bookings_app.models import Booking, DeskAction, Payment, Session
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def session() -> Session:
    return factories.SessionFactory(service__price=Decimal("12.00"), service__currency="GBP")


def _booking(session: Session, first: str, **fields) -> Booking:
    return factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first), **fields)


def _every_kind_of_due(session: Session) -> list[Booking]:
    """Bookings whose amount due comes about every way a row works it out."""
    listed = _booking(session, "List", payment_status="NOT_PAID")
    two = _booking(session, "Two", payment_status="NOT_PAID", total_participants=2)
    paid = _booking(session, "Paid", payment_status="PAID")
    on_order = _booking(session, "Order")
    factories.OrderLineItemFactory(booking=on_order, order__balance=Decimal("9.50"), order__currency="EUR")
    part = _booking(session, "Part", payment_status="PARTIALLY_PAID")
    factories.DeskActionFactory(booking=part, status="SYNCED", params={"method": "CASH", "amount": "4.00"})
    factories.DeskActionFactory(booking=part, params={"method": "CARD", "amount": "3.00"})
    taken = _booking(session, "Taken", payment_status="NOT_PAID")
    factories.DeskActionFactory(booking=taken, params={"method": "CASH", "amount": "12.00"})
    plan = _booking(session, "Plan", payment_status="PAID")
    line = factories.OrderLineItemFactory(booking=plan, order__balance=Decimal("0"))
    factories.PaymentFactory(order=line.order, method=Payment.Method.PLAN, line_item_id=line.line_item_id)
    shared = _booking(session, "Shared", payment_status="NOT_PAID")
    factories.OrderLineItemFactory(booking=shared, order=factories.OrderLineItemFactory(booking=two).order)
    return [listed, two, paid, on_order, part, taken, plan, shared]


def _rows(session: Session) -> dict[int, roster_rows.RosterRow]:
    read = selectors.session_get(ref=session.ref)
    rows = roster_rows.row_list(session=read)
    roster_rows.desk_state_attach(rows=rows, session=read)
    return {row.booking.pk: row for row in rows}


def test_a_rows_amount_due_and_text_come_from_the_reads_and_the_desk(session):
    bookings = {b.contact.first_name: b.pk for b in _every_kind_of_due(session)}

    rows = _rows(session)

    due = {name: (rows[pk].amount_due, rows[pk].due_text) for name, pk in bookings.items()}
    assert due["List"] == (Decimal("12.00"), "£12.00")
    assert due["Paid"] == (None, "")
    assert due["Order"] == (Decimal("9.50"), "€9.50")  # the order's balance, in the order's currency
    assert due["Part"] == (Decimal("5.00"), "£5.00")  # the list price less both desk payments
    assert due["Taken"] == (None, "")
    assert due["Plan"] == (None, "") and rows[bookings["Plan"]].charged_to_plan


def test_payment_due_is_what_the_row_shows_without_building_the_row(session, django_assert_max_num_queries):
    bookings = _every_kind_of_due(session)
    rows = _rows(session)

    for booking in bookings:
        loaded = selectors.roster_booking_get(session=session, booking_id=booking.pk)
        with django_assert_max_num_queries(3):
            amount, currency = roster_rows.payment_due(booking=loaded)
        row = rows[booking.pk]
        assert (amount, currency) == (row.amount_due, row.currency), booking.contact.first_name


def test_plan_choices_are_the_plans_the_row_offers_in_one_query(session, django_assert_num_queries):
    booking = _booking(session, "Bo")
    member = factories.MemberFactory(contact=booking.contact)
    covers = factories.BenefitBalanceFactory(member=member, covered_service_ids=[session.service.wix_id])
    factories.BenefitBalanceFactory(member=member, covered_service_ids=["another-service"])
    factories.BenefitBalanceFactory(member=member, remaining_credits=Decimal("0"))
    factories.BenefitBalanceFactory(member=member, unlimited=True, remaining_credits=None)
    row = _rows(session)[booking.pk]
    loaded = selectors.roster_booking_get(session=session, booking_id=booking.pk)

    with django_assert_num_queries(1):
        choices = roster_rows.plan_choices(booking=loaded)

    assert [b.pk for b in choices] == [b.pk for b in row.desk.balances]
    assert covers in choices and len(choices) == 2


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("desk_pay", {"method": "CASH"}),
        ("desk_plan", {"balance": "0"}),
        ("desk_later", {}),
        ("desk_attendance", {"status": "ATTENDED"}),
    ],
)
def test_a_row_action_builds_its_row_once(desk_client, session, monkeypatch, action, data):
    booking = _booking(session, "Cy", payment_status="UNDEFINED")
    built = []
    row_list = roster_rows.row_list
    monkeypatch.setattr(roster_rows, "row_list", lambda **kw: built.append(kw) or row_list(**kw))

    response = desk_client.post(
        reverse(action, args=[session.ref, booking.pk]),
        {**data, "idempotency_key": "k" * 20},
        headers={"HX-Request": "true"},
    )

    assert response.status_code in (200, 422)
    assert len(built) == 1 and built[0]["booking_ids"] == [booking.pk]


def test_a_rows_urls_and_form_token_are_made_once_per_render(session):
    first, second = _booking(session, "Ann"), _booking(session, "Bo")
    rows = _rows(session)

    roster_rows.row_actions_attach(rows=list(rows.values()), session=session)

    assert rows[first.pk].urls["pay"] == reverse("desk_pay", args=[session.ref, first.pk])
    assert rows[second.pk].urls["row"] == reverse("roster_row", args=[session.ref, second.pk])
    assert rows[first.pk].key.rsplit("-", 1) == [rows[second.pk].key.rsplit("-", 1)[0], str(first.pk)]
    assert not DeskAction.objects.exists()


# --- versions and digests: what a page holds of each row (issue 10, items 1 and 16) ---------------


def _stamps(html: str) -> dict[int, tuple[int, str]]:
    """Booking pk → (data-version, data-digest) of every row in ``html``."""
    found = re.findall(r'<tbody id="roster-row-(\d+)" data-version="(\d+)" data-digest="([\w-]+)"', html)
    return {int(pk): (int(version), digest) for pk, version, digest in found}


def _render(rf, desk_user, session: Session) -> dict[int, tuple[int, str]]:
    request = rf.get("/")
    request.user = desk_user
    return _stamps(
        roster_rows.rows_context(request=request, session=selectors.session_get(ref=session.ref))["rows_html"]
    )


def test_every_row_carries_when_it_was_read_and_a_digest_of_what_it_shows(rf, desk_user, session):
    ann, bo = _booking(session, "Ann"), _booking(session, "Bo")

    first = _render(rf, desk_user, session)
    again = _render(rf, desk_user, session)  # another request: other form tokens, the same rows
    factories.AttendanceFactory(booking=bo, session=session)
    after = _render(rf, desk_user, session)

    assert set(first) == {ann.pk, bo.pk}
    assert len({version for version, _ in first.values()}) == 1  # one read, one version
    assert first[ann.pk][0] < again[ann.pk][0] < after[ann.pk][0]
    assert first[ann.pk][1] == again[ann.pk][1] == after[ann.pk][1]
    assert first[bo.pk][1] == again[bo.pk][1] != after[bo.pk][1]


def test_a_rows_version_is_taken_before_its_read(rf, desk_user, session, monkeypatch):
    """A refresh whose read raced a tap must never look newer than the tap's answer: the version
    is when the read began, not when the row was drawn."""
    _booking(session, "Ann")
    moments = []
    roster_read = selectors.roster_read

    def read(**kwargs):
        moments.append(time.time_ns() // 1000)
        return roster_read(**kwargs)

    monkeypatch.setattr(selectors, "roster_read", read)

    ((version, _),) = _render(rf, desk_user, session).values()

    assert version <= moments[0]


# --- the list: its order, its letters (``roster_list``; issue 10, item 11) ---------------------------


@pytest.mark.parametrize(
    ("value", "sort"),
    [
        ("surname", "surname"),
        ("arrival", "arrival"),
        ("status", "status"),
        (None, "surname"),
        ("", "surname"),
        ("Status", "surname"),
        ("status;drop", "surname"),
        ("x" * 1000, "surname"),
    ],
)
def test_a_sort_is_one_of_three_or_the_default(value, sort):
    assert roster_list.sort_parse(value) == sort


def test_a_sort_comes_from_the_query_or_from_a_post_that_carries_it(rf):
    assert roster_list.sort_from(rf.get("/", {"sort": "arrival"})) == "arrival"
    assert roster_list.sort_from(rf.post("/", {"sort": "status"})) == "status"
    assert roster_list.sort_from(rf.post("/", {"sort": "bogus"})) == "surname"
    assert roster_list.sort_from(rf.get("/")) == "surname"


@pytest.mark.parametrize(
    ("surname", "letter"),
    [
        ("Archer", "A"),
        ("de Vries", "D"),
        ("Ó'Brien", "O"),
        ("Zoë", "Z"),
        ("  Åberg", "A"),
        ("'t Hooft", "T"),
        ("9th", "#"),
        ("", "#"),
        ("Ølstad", "#"),
        ("Шевченко", "#"),
    ],
)
def test_a_surname_is_found_under_the_letter_it_sorts_by(surname, letter):
    assert roster_list.name_letter(surname) == letter


def test_what_needs_doing_first_ranks_refused_then_owing_then_done(session):
    people = {
        "refused": _booking(session, "Refused", payment_status="PAID"),
        "owes": _booking(session, "Owes", payment_status="NOT_PAID"),
        "owes_in": _booking(session, "OwesIn", payment_status="NOT_PAID"),
        "owes_gone": _booking(session, "OwesNoShow", payment_status="NOT_PAID"),
        "paid": _booking(session, "Paid", payment_status="PAID"),
        "done": _booking(session, "Done", payment_status="PAID"),
        "cancelled": _booking(session, "Cancelled", status="CANCELED"),
    }
    factories.DeskActionFactory(booking=people["refused"], kind="PLAN_CHARGE", status="NEEDS_ATTENTION", params={})
    factories.AttendanceFactory(booking=people["owes_in"], session=session)
    factories.AttendanceFactory(booking=people["owes_gone"], session=session, status="NOT_ATTENDED")
    factories.AttendanceFactory(booking=people["done"], session=session)
    rows = roster_rows.row_list(session=session, include_cancelled=True)
    roster_rows.desk_state_attach(rows=rows, session=session)
    ranks = {row.contact.first_name: roster_list.todo_rank(row) for row in rows}

    assert ranks == {"Refused": 0, "Owes": 1, "OwesIn": 2, "OwesNoShow": 2, "Paid": 3, "Done": 4, "Cancelled": 5}


def test_the_first_row_under_each_letter_is_its_anchor_in_the_lists_order(session):
    for first, last in (("Bo", "Baker"), ("Ann", "Archer"), ("Al", "Adams"), ("Ed", "")):
        factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first, last_name=last))
    rows = roster_rows.row_list(session=session)
    rows.reverse()  # any order: the first in it is the anchor

    strip = roster_list.letters_mark(rows)

    assert [(r.contact.first_name, r.letter, r.anchor) for r in rows] == [
        ("Bo", "B", True),
        ("Ann", "A", True),
        ("Al", "A", False),
        ("Ed", "#", True),
    ]
    assert [letter for letter, found in strip if found] == ["A", "B", "#"]
    assert [letter for letter, _ in strip] == [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "#"]
    assert roster_list.letters_mark([]) == [(letter, False) for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def test_a_rows_digest_is_the_same_drawn_alone_or_first_under_its_letter(rf, desk_user, session):
    """The letter's anchor says where a row sits in the list, not what it shows: a row answered
    alone after a click (no anchor) is not sent again by the next refresh for lacking it."""
    ann = _booking(session, "Ann")
    request = rf.get("/")
    request.user = desk_user
    listed = roster_rows.rows_context(request=request, session=selectors.session_get(ref=session.ref))
    alone = roster_rows.one_row(request, selectors.session_get(ref=session.ref), ann.pk)

    (in_list,) = listed["rendered"]
    (drawn_alone,) = roster_html.rows_rendered(request=request, session=session, rows=[alone])

    assert 'id="letter-' in in_list.html and 'id="letter-' not in drawn_alone.html
    assert in_list.digest == drawn_alone.digest


def test_a_row_in_its_undo_window_is_not_sent_again_for_its_seconds_ticking_down(rf, desk_user, session, time_machine):
    """The page counts the undo down itself; a refresh sends the row again only once the undo
    is gone (or something else on it changed)."""
    ann = _booking(session, "Ann")
    time_machine.move_to(timezone.now(), tick=False)
    factories.DeskActionFactory(booking=ann, run_after=timezone.now() + timedelta(seconds=8))

    with_8s = _render(rf, desk_user, session)[ann.pk][1]
    time_machine.shift(timedelta(seconds=5))
    with_3s = _render(rf, desk_user, session)[ann.pk][1]
    time_machine.shift(timedelta(seconds=5))
    undo_gone = _render(rf, desk_user, session)[ann.pk][1]

    assert with_8s == with_3s != undo_gone


def test_a_course_bookings_check_in_at_one_session_offers_no_undo_on_the_next(rf, desk_user):
    """Course bookings sit on every session of the course, but a check-in is one session's: its
    undo (and its "waiting for Wix") belong to that session's row only."""
    course = factories.ServiceFactory(type="COURSE")
    tuesday = factories.SessionFactory(service=course)
    thursday = factories.SessionFactory(service=course, start=tuesday.start + timedelta(days=2))
    enrolled = factories.BookingFactory(session=None, service=course)
    factories.DeskActionFactory(
        booking=enrolled,
        session=tuesday,
        kind=DeskAction.Kind.ATTENDANCE,
        params={"status": "ATTENDED"},
        run_after=timezone.now() + timedelta(seconds=8),
    )
    request = rf.get("/")
    request.user = desk_user

    def row(session: Session) -> roster_rows.RosterRow:
        return roster_rows.one_row(request, selectors.session_get(ref=session.ref), enrolled.pk)

    assert [a.kind for a in row(tuesday).desk.undoable] == [DeskAction.Kind.ATTENDANCE]
    assert row(thursday).desk.undoable == [] and not row(thursday).desk.waiting


def test_a_plan_charge_on_its_way_leaves_nothing_due_on_a_booking_with_an_unpaid_order(session, desk_client):
    """Booked online to pay in person (an order, unpaid), then charged to their plan at the desk:
    until Wix has the charge, the order's balance still says 12.00 — the row must not offer Cash,
    Card or Plan again (a tap would only be refused: "has just paid")."""
    booking = _booking(session, "Online", payment_status="NOT_PAID")
    factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("12.00"), order__currency="GBP")
    member = factories.MemberFactory(contact=booking.contact)
    balance = factories.BenefitBalanceFactory(member=member, remaining_credits=5)
    rows = _rows(session)
    assert rows[booking.pk].amount_due == Decimal("12.00") and rows[booking.pk].desk.balances == [balance]

    charged = desk_client.post(
        reverse("desk_plan", args=[session.ref, booking.pk]),
        {"balance": balance.pk, "idempotency_key": "k-plan-1"},
        headers={"HX-Request": "true"},
    )

    assert charged.status_code == 200
    row = _rows(session)[booking.pk]
    assert row.amount_due is None and not row.offers_payment
    assert roster_rows.payment_due(booking=Booking.objects.select_related("service").get(pk=booking.pk))[0] is None
    html = charged.content.decode()
    assert 'formaction="' + reverse("desk_plan", args=[session.ref, booking.pk]) not in html
    assert 'value="CASH"' not in html
    page = desk_client.get(reverse("roster", args=[session.ref])).content.decode()
    assert 'formaction="' + reverse("desk_plan", args=[session.ref, booking.pk]) not in page
