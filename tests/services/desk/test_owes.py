"""Settling from the owes list (``services.desk.owes``): bookings of several sessions in one
commit of the roster's Settle — pushed to Wix by the worker, undone as one batch — and what it
refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings_app.models import AuditEntry, BenefitBalance, Booking, DeskAction
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World, another_session, key
from tests.services.desk.helpers import assert_all_synced

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def _owing(world: World, first: str, event=None, **kwargs) -> tuple[dict, Booking]:
    person = world.customer(first, **kwargs)
    made = world.online_booking(person, event=event)
    return person, made


def test_settle_two_people_of_two_sessions_in_one_commit_pushed_to_wix(world: World, manager_user) -> None:
    later = another_session(world, days=2)
    _, ann_wix = _owing(world, "Ann")
    _, bob_wix = _owing(world, "Bob", event=later)
    _, carl_wix = _owing(world, "Carl", event=later)  # not ticked
    world.mirror()
    ann_booking, bob_booking = world.booking(ann_wix), world.booking(bob_wix)

    k = key("owes")
    actions = desk.owes_settle(
        user=manager_user, booking_ids=[ann_booking.pk, bob_booking.pk], method="cash", idempotency_key=k
    )

    assert sorted((a.kind, a.booking_id, a.params["amount"]) for a in actions) == sorted(
        [(Kind.PAYMENT, ann_booking.pk, "12.00"), (Kind.PAYMENT, bob_booking.pk, "12.00")]
    )
    assert {a.batch_id for a in actions} == {k}
    assert {a.session_id for a in actions} == {ann_booking.session_id, bob_booking.session_id}
    assert len({a.session_id for a in actions}) == 2
    assert AuditEntry.objects.filter(action="settle.commit", object_type="batch", object_id=k).count() == 1
    assert (
        desk.owes_settle(
            user=manager_user, booking_ids=[ann_booking.pk, bob_booking.pk], method="cash", idempotency_key=k
        )
        == actions
    )  # the same form sent again acts once
    assert Booking.objects.get(pk=ann_booking.pk).payment_status == "PAID"

    world.push()

    assert_all_synced()
    assert world.wix_order(ann_booking)["paymentStatus"] == "PAID"
    assert world.wix_order(bob_booking)["paymentStatus"] == "PAID"
    assert world.wix_order(world.booking(carl_wix))["paymentStatus"] == "NOT_PAID"


def test_settle_on_their_plans_takes_one_credit_each_and_refuses_a_booking_with_no_plan(
    world: World, manager_user
) -> None:
    later = another_session(world, days=2)
    pat = world.customer("Pat", credits=3)
    first = world.online_booking(pat)
    second = world.online_booking(pat, event=later)
    _, cas_wix = _owing(world, "Cas")
    world.mirror(pat)
    pks = [world.booking(first).pk, world.booking(second).pk]

    with pytest.raises(desk.BookingError) as excinfo:
        desk.owes_settle(
            user=manager_user, booking_ids=[*pks, world.booking(cas_wix).pk], method="plan", idempotency_key=key()
        )
    assert excinfo.value.code == "settle_invalid"
    assert list(excinfo.value.row_errors) == [world.booking(cas_wix).pk]
    assert not DeskAction.objects.exists()

    preview = desk.owes_settle_check(booking_ids=pks, method="plan")
    assert [r.balance for r in preview.rows] == [world.balance(pat)] * 2 and preview.people == 1
    actions = desk.owes_settle(user=manager_user, booking_ids=pks, method="plan", idempotency_key=key())
    assert [a.kind for a in actions] == [Kind.PLAN_CHARGE] * 2
    assert BenefitBalance.objects.get(pk=world.balance(pat).pk).remaining_credits == Decimal("1")

    world.push()

    assert_all_synced()
    assert world.wix_credits(pat) == "1"


def test_the_whole_settle_is_undone_as_one_while_its_window_lasts(world: World, manager_user, desk_user) -> None:
    later = another_session(world, days=2)
    _, a_wix = _owing(world, "Ann")
    _, b_wix = _owing(world, "Bob", event=later)
    world.mirror()
    pks = [world.booking(a_wix).pk, world.booking(b_wix).pk]
    before = list(Booking.objects.filter(pk__in=pks).order_by("pk").values_list("payment_status", "pending_sync"))
    k = key("owes")
    desk.owes_settle(user=manager_user, booking_ids=pks, method="card", idempotency_key=k)

    undone = desk.batch_undo(user=desk_user, session=None, batch_id=k)

    assert len(undone) == 2
    assert set(DeskAction.objects.filter(batch_id=k).values_list("status", flat=True)) == {Status.UNDONE}
    assert list(Booking.objects.filter(pk__in=pks).order_by("pk").values_list("payment_status", "pending_sync")) == (
        before
    )
    entry = AuditEntry.objects.get(action="desk.undo_batch")
    assert (entry.object_type, entry.object_id) == ("batch", k)
    world.push()
    assert world.wix_order(world.booking(a_wix))["paymentStatus"] == "NOT_PAID"
    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_undo(user=desk_user, session=None, batch_id="no-such-batch")
    assert excinfo.value.code == "batch_not_found"


def test_too_late_to_undo_once_the_worker_has_it(world: World, manager_user) -> None:
    _, a_wix = _owing(world, "Ann")
    world.mirror()
    k = key("owes")
    desk.owes_settle(user=manager_user, booking_ids=[world.booking(a_wix).pk], method="cash", idempotency_key=k)
    world.push()

    with pytest.raises(desk.BookingError) as excinfo:
        desk.batch_undo(user=manager_user, session=None, batch_id=k)

    assert excinfo.value.code == "too_late_to_undo"


@pytest.mark.parametrize(
    ("method", "code"),
    [("owes", "method_invalid"), ("skip", "method_invalid"), ("", "method_invalid"), ("bitcoin", "method_invalid")],
)
def test_only_cash_card_cheque_or_a_plan_can_be_taken(method: str, code: str, manager_user) -> None:
    booking = factories.BookingFactory()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.owes_settle(user=manager_user, booking_ids=[booking.pk], method=method, idempotency_key=key())
    assert excinfo.value.code == code
    assert not DeskAction.objects.exists()


def test_paid_cancelled_or_unknown_bookings_refuse_the_whole_commit(manager_user) -> None:
    owing = factories.BookingFactory()
    paid = factories.BookingFactory(payment_status="PAID")
    cancelled = factories.BookingFactory(status=Booking.Status.CANCELED)

    with pytest.raises(desk.BookingError) as excinfo:
        desk.owes_settle(
            user=manager_user,
            booking_ids=[owing.pk, paid.pk, cancelled.pk, 999_999],
            method="cash",
            idempotency_key=key(),
        )

    assert excinfo.value.code == "settle_invalid"
    assert set(excinfo.value.row_errors) == {paid.pk, cancelled.pk, 999_999}
    assert "nothing is due" in excinfo.value.row_errors[paid.pk]
    assert not DeskAction.objects.exists()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.owes_settle(user=manager_user, booking_ids=[], method="cash", idempotency_key=key())
    assert excinfo.value.code == "settle_invalid"


def test_the_same_form_with_other_bookings_is_refused(manager_user) -> None:
    first, second = factories.BookingFactory(), factories.BookingFactory()
    k = key()
    desk.owes_settle(user=manager_user, booking_ids=[first.pk], method="cash", idempotency_key=k)

    with pytest.raises(desk.BookingError) as excinfo:
        desk.owes_settle(user=manager_user, booking_ids=[second.pk], method="cash", idempotency_key=k)

    assert excinfo.value.code == "key_reused"
    assert DeskAction.objects.count() == 1


def test_a_commit_costs_the_same_queries_for_4_or_40_bookings_of_many_sessions(manager_user) -> None:
    def bookings(n: int) -> list[int]:
        return [factories.BookingFactory(session=factories.SessionFactory()).pk for _ in range(n)]

    counts = []
    for n in (4, 40):
        pks = bookings(n)
        with CaptureQueriesContext(connection) as ctx:
            actions = desk.owes_settle(user=manager_user, booking_ids=pks, method="check", idempotency_key=key())
        assert len(actions) == n
        counts.append(len(ctx.captured_queries))
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 4), counts
