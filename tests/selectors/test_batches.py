"""Batches of desk actions read as one (``selectors.batches``): what a settle or a check in all
did, whether it can still be undone, what a manager could reverse."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import Attendance, DeskAction
from bookings_app.services import desk
from tests import factories

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


@pytest.fixture
def settled(desk_user):
    """A settle of five: cash, card, a plan, one who owes (a no-show), one who had paid."""
    session = factories.SessionFactory(service__price=Decimal("12.00"))
    cash, card, plan, owes, paid = factories.BookingFactory.create_batch(5, session=session)
    paid.payment_status = "PAID"
    paid.save()
    balance = factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=plan.contact),
        remaining_credits=Decimal("4"),
        covered_service_ids=[session.service.wix_id],
    )
    rows = [
        desk.SettleChoice(booking_id=cash.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=card.pk, resolution="card", check_in=True),
        desk.SettleChoice(booking_id=plan.pk, resolution="plan", balance_id=balance.pk, check_in=True),
        desk.SettleChoice(booking_id=owes.pk, resolution="owes", check_in=False),
        desk.SettleChoice(booking_id=paid.pk, resolution="skip", check_in=True),
    ]
    desk.settle_commit(user=desk_user, session=session, rows=rows, idempotency_key="the-settle")
    return session


def test_a_settle_reads_as_one_batch_with_its_totals(settled, django_assert_num_queries):
    with django_assert_num_queries(1):
        [batch] = selectors.session_batches(session=settled)

    totals = batch.totals
    assert (batch.batch_id, batch.created_by, batch.actions, batch.standing, batch.waiting) == (
        "the-settle",
        "desk-user",
        9,
        9,
        9,
    )
    assert (totals.cash, totals.cash_count, totals.card, totals.card_count) == (
        Decimal("12.00"),
        1,
        Decimal("12.00"),
        1,
    )
    assert (totals.plan_count, totals.owes, totals.owes_count, totals.check_ins, totals.no_shows) == (
        1,
        Decimal("12.00"),
        1,
        4,
        1,
    )
    assert batch.is_settle and batch.undoable() and 0 < batch.undo_seconds <= 8
    assert not batch.reversible.moves_money  # nothing in Wix yet
    assert selectors.session_batches(session=settled, batch_id="another") == []


def test_only_batches_in_their_window_are_undoable(settled, desk_user, time_machine, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert [b.batch_id for b in selectors.session_batches_undoable(session=settled)] == ["the-settle"]
    desk.attendance_mark_all(user=desk_user, session=settled, status="ATTENDED", idempotency_key="all-in")
    [newest, _] = selectors.session_batches_undoable(session=settled)
    assert newest.batch_id == "all-in" and not newest.is_settle and newest.totals.check_ins == 1

    time_machine.move_to(timezone.now() + timedelta(seconds=9))
    assert selectors.session_batches_undoable(session=settled) == []
    [later, first] = selectors.session_batches(session=settled)
    assert not later.undoable() and not first.undoable()


def test_what_a_manager_could_reverse_is_what_wix_has_and_was_not_reversed(settled, manager_user):
    DeskAction.objects.update(status=Status.SYNCED)
    charge = DeskAction.objects.get(kind="PLAN_CHARGE")
    desk.action_reverse(user=manager_user, action=charge, idempotency_key="void-one")

    [batch] = selectors.session_batches(session=settled)

    assert (batch.reversible.cash_count, batch.reversible.card_count, batch.reversible.plan_count) == (1, 1, 0)
    assert batch.reversed == 1 and batch.waiting == 0
    assert batch.totals.plan_count == 1  # what it did stays what it did
    assert Attendance.objects.filter(status="ATTENDED").count() == 4
