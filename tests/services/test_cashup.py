"""Cash-up (``services.cashup``): the count (notes and coins, or totals) kept with the expected
figures of its moment and audited; counted again until a manager signs it off, then read-only;
the sign-off refused while the takings differ from what was counted."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import AuditEntry, CashUp, DeskAction
from bookings_app.services import cashup, desk
from tests import factories

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def swim(desk_user):
    """A session earlier today: £12 cash from Ann, £12 by card from Bob. An hour ago, or at
    midnight in the first hour of the day (a session's takings are those of its own day)."""
    start = max(timezone.now() - timedelta(hours=1), selectors.day_bounds(timezone.localdate())[0])
    session = factories.SessionFactory(start=start, service__price=D("12.00"))
    for first, method in (("Ann", "CASH"), ("Bob", "CARD")):
        booking = factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first))
        desk.payment_record(user=desk_user, booking=booking, method=method, amount=D("12"), idempotency_key=_key())
    return session


def _key() -> str:
    return uuid.uuid4().hex


def _scope(session) -> selectors.CashupScope:
    return selectors.CashupScope(CashUp.Scope.SESSION, timezone.localdate(session.start), session=session)


def test_a_count_in_notes_and_coins_is_kept_with_the_expected_figures_and_audited(swim, desk_user) -> None:
    count = cashup.Count(pieces={D("10"): 1, D("1"): 1, D("0.50"): 1}, card=D("12"), check=D("0"), note="till 1")

    saved = cashup.cashup_count(user=desk_user, scope=_scope(swim), count=count)

    assert (saved.counted_cash, saved.counted_card, saved.counted_check) == (D("11.50"), D("12"), D("0"))
    assert saved.denominations == {"10": 1, "1": 1, "0.50": 1}
    assert (saved.expected_cash, saved.expected_card, saved.expected_check) == (D("12.00"), D("12.00"), D("0"))
    assert saved.over_short == D("-0.50") and saved.counted_by == desk_user and saved.note == "till 1"
    assert len(saved.expected_actions) == 2
    entry = AuditEntry.objects.get(action="cashup.count")
    assert entry.before is None and entry.after["over_short"] == "-0.50"
    assert "short" in entry.summary


def test_counting_again_replaces_the_count_until_it_is_signed_off_then_it_is_read_only(
    swim, desk_user, manager_user
) -> None:
    scope = _scope(swim)
    first = cashup.cashup_count(user=desk_user, scope=scope, count=cashup.Count(cash=D("11.50"), card=D("12")))
    again = cashup.cashup_count(user=desk_user, scope=scope, count=cashup.Count(cash=D("12"), card=D("12")))

    assert again.pk == first.pk and CashUp.objects.count() == 1
    assert again.over_short == 0 and again.denominations == {}
    recount = AuditEntry.objects.filter(action="cashup.count").order_by("pk").last()
    assert recount.before["cash"] == "11.50" and recount.after["cash"] == "12"

    with pytest.raises(desk.BookingError) as excinfo:
        cashup.cashup_sign_off(user=desk_user, cashup=again, scope=scope)
    assert excinfo.value.code == "forbidden"
    signed = cashup.cashup_sign_off(user=manager_user, cashup=again, scope=scope)
    assert signed.is_signed_off and signed.signed_off_by == manager_user
    assert AuditEntry.objects.filter(action="cashup.sign_off", object_id=str(signed.pk)).count() == 1

    for attempt in (
        lambda: cashup.cashup_count(user=manager_user, scope=scope, count=cashup.Count(cash=D("1"))),
        lambda: cashup.cashup_sign_off(user=manager_user, cashup=signed, scope=scope),
    ):
        with pytest.raises(desk.BookingError) as excinfo:
            attempt()
        assert excinfo.value.code == "signed_off"
    assert CashUp.objects.get().counted_cash == D("12")


def test_the_sign_off_waits_for_a_count_of_the_takings_as_they_stand(swim, desk_user, manager_user) -> None:
    scope = _scope(swim)
    counted = cashup.cashup_count(user=desk_user, scope=scope, count=cashup.Count(cash=D("12"), card=D("12")))
    late = factories.BookingFactory(session=swim)
    taken = desk.payment_record(user=desk_user, booking=late, method="CASH", amount=D("12"), idempotency_key=_key())

    with pytest.raises(desk.BookingError) as excinfo:
        cashup.cashup_sign_off(user=manager_user, cashup=counted, scope=scope)
    assert excinfo.value.code == "cashup_changed"

    desk.action_undo(user=desk_user, action=taken)  # handed back: the takings are as counted again
    assert cashup.cashup_sign_off(user=manager_user, cashup=counted, scope=scope).is_signed_off


@pytest.mark.parametrize(
    "count",
    [
        cashup.Count(pieces={D("3"): 1}),  # no £3 note
        cashup.Count(pieces={D("10"): -1}),
        cashup.Count(cash=None),
        cashup.Count(cash=D("-1")),
        cashup.Count(cash=D("1.005")),
        cashup.Count(cash=D("12"), card=D("-5")),
        cashup.Count(cash=D("1e9")),
    ],
)
def test_a_count_that_cannot_be_right_is_refused_and_nothing_is_kept(count, swim, desk_user) -> None:
    with pytest.raises(desk.BookingError) as excinfo:
        cashup.cashup_count(user=desk_user, scope=_scope(swim), count=count)
    assert excinfo.value.code == "amount_invalid"
    assert not CashUp.objects.exists() and not AuditEntry.objects.filter(action="cashup.count").exists()


def test_a_currency_without_known_notes_is_counted_as_totals(desk_user) -> None:
    session = factories.SessionFactory(service__currency="CHF", service__price=D("20"))
    assert cashup.denominations("CHF") == [] and cashup.denominations("eur")[0] == D("200")
    with pytest.raises(desk.BookingError):
        cashup.cashup_count(user=desk_user, scope=_scope(session), count=cashup.Count(pieces={D("10"): 2}))
    saved = cashup.cashup_count(user=desk_user, scope=_scope(session), count=cashup.Count(cash=D("0")))
    assert saved.currency == "CHF" and saved.over_short == 0
    assert not DeskAction.objects.exists()
