"""What the desk took, to count against (``selectors.cashup``): per session on its day, per staff
member, per day — from the desk's actions, what an undo or a refund means for the till, each
figure traced to its actions, in a fixed number of queries."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import CashUp, DeskAction
from bookings_app.services import desk
from tests import factories

pytestmark = pytest.mark.django_db

Kind = DeskAction.Kind
Status = DeskAction.Status
Scope = CashUp.Scope
D = Decimal


def _key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def day_of_takings(desk_user, manager_user):
    """Today's 7:00 swim (£12): Ann cash, Bob card, Cy cheque (taken by "other"), Di's cash undone,
    Ed's cash refunded by a manager, Gus on his plan, a plan sold for £90 cash; Flo's cash at the
    18:00 class; a £45 package by card; a cash payment for the swim recorded yesterday."""
    today = timezone.localdate()
    morning = factories.SessionFactory(
        start=datetime.combine(today, time(7), tzinfo=timezone.get_default_timezone()),
        title="Open water",
        service__price=D("12.00"),
    )
    evening = factories.SessionFactory(start=morning.start + timedelta(hours=11), service=morning.service)
    other = factories.UserFactory(username="other-desk")

    def pay(first: str, method: str, *, session=morning, user=desk_user) -> DeskAction:
        booking = factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first))
        return desk.payment_record(user=user, booking=booking, method=method, amount=D("12"), idempotency_key=_key())

    made = {
        "ann": pay("Ann", "CASH"),
        "bob": pay("Bob", "CARD"),
        "cy": pay("Cy", "CHECK", user=other),
        "di": pay("Di", "CASH"),
        "ed": pay("Ed", "CASH"),
        "flo": pay("Flo", "CASH", session=evening),
    }
    desk.action_undo(user=desk_user, action=made["di"])
    DeskAction.objects.filter(pk=made["ed"].pk).update(status=Status.SYNCED)
    made["ed_refund"] = desk.action_reverse(
        user=manager_user, action=DeskAction.objects.get(pk=made["ed"].pk), idempotency_key=_key()
    )
    gus = factories.BookingFactory(session=morning)
    factories.DeskActionFactory(booking=gus, kind=Kind.PLAN_CHARGE, created_by=desk_user, params={"balance_id": 1})
    made["plan_sale"] = factories.DeskActionFactory(
        booking=None,
        session=morning,
        contact=factories.ContactFactory(first_name="Hal"),
        kind=Kind.PLAN_SALE,
        created_by=desk_user,
        params={"method": "CASH", "price": "90.00", "currency": "GBP", "plan_name": "10-swim pass"},
    )
    made["package"] = factories.DeskActionFactory(
        booking=None,
        session=None,
        contact=factories.ContactFactory(first_name="Ivy"),
        kind=Kind.PACKAGE,
        created_by=desk_user,
        params={"pay": "CARD", "amount": "45.00"},
    )
    made["yesterday"] = factories.DeskActionFactory(
        booking__session=morning,
        created_by=desk_user,
        created_at=timezone.now() - timedelta(days=1),
        params={"method": "CASH", "amount": "12.00"},
    )
    return {"morning": morning, "evening": evening, "other": other, "day": today, **made}


def _figures(takings: selectors.Takings) -> tuple[Decimal, Decimal, Decimal]:
    return takings.cash, takings.card, takings.check


def test_a_sessions_takings_count_what_stands_and_list_what_was_taken_back(day_of_takings) -> None:
    d = day_of_takings
    scope = selectors.CashupScope(Scope.SESSION, d["day"], session=d["morning"])

    takings = selectors.cashup_takings(scope=scope)

    # Ann 12 + Ed 12 − Ed's refund 12 + the plan sold 90 in cash; Bob's card; Cy's cheque.
    assert _figures(takings) == (D("102.00"), D("12.00"), D("12.00"))
    lines = {line.action.pk: line for line in takings.lines}
    assert set(lines) == {d[k].pk for k in ("ann", "bob", "cy", "di", "ed", "ed_refund", "plan_sale")}
    assert not lines[d["di"].pk].counted and lines[d["di"].pk].note == "undone: not counted"
    assert lines[d["ed_refund"].pk].amount == D("-12.00") and lines[d["ed_refund"].pk].what == "Refund"
    assert "refunded since" in lines[d["ed"].pk].note and lines[d["ed"].pk].counted
    assert lines[d["plan_sale"].pk].what == "Plan sold: 10-swim pass"
    assert takings.currency == "GBP" and takings.total == D("126.00")
    assert takings.snapshot() == {
        str(d[k].pk): v
        for k, v in {
            "ann": "CASH:12.00",
            "bob": "CARD:12.00",
            "cy": "CHECK:12.00",
            "ed": "CASH:12.00",
            "ed_refund": "CASH:-12.00",
            "plan_sale": "CASH:90.00",
        }.items()
    }


def test_a_staff_members_takings_are_what_they_recorded_that_day(day_of_takings, desk_user, manager_user) -> None:
    d = day_of_takings

    def staff(user):
        return _figures(selectors.cashup_takings(scope=selectors.CashupScope(Scope.STAFF, d["day"], staff=user)))

    # Ann, Ed, Flo and the plan sold in cash; Bob and the package by card.
    assert staff(desk_user) == (D("126.00"), D("57.00"), D("0"))
    assert staff(manager_user) == (D("-12.00"), D("0"), D("0"))  # the refund they gave
    assert staff(d["other"]) == (D("0"), D("0"), D("12.00"))


def test_the_days_takings_are_everything_recorded_that_day(day_of_takings) -> None:
    d = day_of_takings
    takings = selectors.cashup_takings(scope=selectors.CashupScope(Scope.DAY, d["day"]))
    assert _figures(takings) == (D("114.00"), D("57.00"), D("12.00"))
    assert d["yesterday"].pk not in {line.action.pk for line in takings.lines}
    yesterday = selectors.cashup_takings(scope=selectors.CashupScope(Scope.DAY, d["day"] - timedelta(days=1)))
    assert _figures(yesterday) == (D("12.00"), D("0"), D("0"))


def test_the_days_list_splits_the_takings_by_session_and_by_staff_with_their_counts(
    day_of_takings, desk_user, manager_user
) -> None:
    d = day_of_takings
    factories.CashUpFactory(session=d["morning"], counted_cash=D("100"), expected_cash=D("102"))

    read = selectors.cashup_day_read(day=d["day"])

    assert (read.whole_day.cash, read.whole_day.card, read.whole_day.check) == (D("114.00"), D("57.00"), D("12.00"))
    assert [(e.scope.session, e.cash, e.card, e.check) for e in read.sessions] == [
        (d["morning"], D("102.00"), D("12.00"), D("12.00")),
        (d["evening"], D("12.00"), D("0"), D("0")),
    ]
    assert read.sessions[0].cashup.over_short == D("-2")
    assert {e.scope.staff.username: e.total for e in read.staff} == {
        desk_user.username: D("183.00"),
        manager_user.username: D("-12.00"),
        "other-desk": D("12.00"),
    }


def test_a_cash_up_costs_the_same_queries_for_few_or_many_actions(desk_user) -> None:
    session = factories.SessionFactory(start=timezone.now(), service__price=D("12.00"))
    scope = selectors.CashupScope(Scope.SESSION, timezone.localdate(session.start), session=session)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            takings = selectors.cashup_takings(scope=scope)
            assert all(line.who and line.action.created_by for line in takings.lines)
        return len(ctx.captured_queries)

    for n in (3, 30):
        for _ in range(n - len(DeskAction.objects.all())):
            booking = factories.BookingFactory(session=session)
            desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=D("12"), idempotency_key=_key())
        if n == 3:
            few = count()
    assert count() == few
