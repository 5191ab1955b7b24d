"""The drift watchdog against Wix: each case planted in the sandbox (or in the mirror, where the
mirror is what went stale), synced the real way, found; and each one-click fix
(``services.drift``: retry, re-sync one booking, record the payment) tested to its end state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import tasks
from bookings_app.models import AuditEntry, BenefitBalance, Booking, DeskAction, Order
from bookings_app.selectors import drift, drift_cases
from bookings_app.services import desk, mirror
from bookings_app.services import drift as fixes
from bookings_app.services.errors import BookingError
from bookings_app.wix import attendance, benefit_programs, orders
from tests.services.conftest import World, another_session, key, tomorrow_at, walk_in_with_cash
from tests.services.push.conftest import Trouble, push_now, trouble_client
from wix_sandbox.common import touch

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


@pytest.fixture(autouse=True)
def _immediate(immediate_tasks):
    """Background tasks run at once (the re-sync is one)."""


def found(kind: str, *, now=None) -> list[drift.DriftCase]:
    (section,) = drift.drift_sections(kind=kind, now=now)
    return section.cases


def sandbox_edit(world: World, collection: str, entity_id: str, **fields) -> dict:
    """Change an entity the way Wix's dashboard would: new values, a new revision and updatedDate."""
    with world.sb.state.transaction():
        stored = world.sb.state.edit(collection, entity_id)
        stored.update(fields)
        touch(world.sb, stored)
        world.sb.state.put(collection, stored)
    return stored


# --- paid at the desk, unpaid in Wix ----------------------------------------------------------------


def test_a_desk_payment_whose_order_wix_turned_back_to_unpaid_is_found_after_the_sync(world: World, desk_user):
    booking = walk_in_with_cash(world, desk_user)
    world.push()
    booking.refresh_from_db()
    order = world.wix_order(booking)
    assert order["paymentStatus"] == "PAID"
    sandbox_edit(world, "orders", order["id"], paymentStatus="NOT_PAID")

    world.mirror()

    (case,) = found(drift.PAID_AT_DESK)
    assert case.booking == booking
    assert "£12.00 cash was taken at the desk" in case.what and "says not paid" in case.what
    # Re-reading changes nothing: Wix itself disagrees — the manager opens the order in Wix.
    fixes.booking_resync(wix=world.wix, booking_id=booking.pk)
    assert [c.booking for c in found(drift.PAID_AT_DESK)] == [booking]


def test_a_stale_order_in_the_mirror_is_mended_by_re_syncing_the_booking(world: World, desk_user, manager_user):
    booking = walk_in_with_cash(world, desk_user)
    world.push()
    booking.refresh_from_db()
    Order.objects.filter(line_items__booking=booking).update(payment_status="NOT_PAID", synced_at=timezone.now())
    assert [c.booking for c in found(drift.PAID_AT_DESK)] == [booking]

    tasks.booking_resync_request(user=manager_user, booking=booking)

    assert found(drift.PAID_AT_DESK) == []
    assert Order.objects.get(line_items__booking=booking).payment_status == "PAID"
    asked = AuditEntry.objects.get(action="drift.resync")
    assert (asked.user, asked.object_id) == (manager_user, str(booking.pk))


# --- paid in Wix, not on the booking ----------------------------------------------------------------


def test_an_order_paid_in_wix_whose_booking_wix_left_unpaid_is_found(world: World):
    ann = world.customer("Ann")
    made = world.online_booking(ann)
    world.mirror()
    order = world.wix_order(made["id"])
    sandbox_edit(world, "orders", order["id"], paymentStatus="PAID")  # the booking is left as it was

    world.mirror()

    (case,) = found(drift.PAID_IN_WIX)
    assert case.booking == world.booking(made)
    assert case.what.endswith("is paid, but the booking says “not paid”.")


def test_a_booking_the_mirror_missed_the_payment_of_is_mended_by_re_syncing(world: World, manager_user):
    ann = world.customer("Ann")
    made = world.online_booking(ann)
    world.mirror()
    order = orders.mark_order_as_paid(world.wix, order_id=world.wix_order(made["id"])["id"])["order"]
    assert world.wix_booking(made["id"])["paymentStatus"] == "PAID"  # Wix's booking follows its order
    mirror.mirror_orders(wix=world.wix, orders=[order], actor="test")  # ... but its webhook was lost
    booking = world.booking(made)
    assert [c.booking for c in found(drift.PAID_IN_WIX)] == [booking]

    tasks.booking_resync_request(user=manager_user, booking=booking)

    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
    assert found(drift.PAID_IN_WIX) == []
    changed = AuditEntry.objects.get(action="booking.changed_in_wix", actor="drift")
    assert changed.before == {"payment_status": "NOT_PAID"} and changed.after == {"payment_status": "PAID"}


def test_a_re_sync_leaves_a_booking_with_a_desk_change_on_its_way_to_the_worker(world: World, desk_user):
    booking = walk_in_with_cash(world, desk_user)
    world.push()
    booking.refresh_from_db()
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())
    booking.refresh_from_db()
    assert booking.pending_sync
    revision = booking.revision

    fixes.booking_resync(wix=world.wix, booking_id=booking.pk)

    booking.refresh_from_db()
    assert booking.revision == revision and booking.pending_sync


def test_a_booking_not_in_wix_yet_cannot_be_re_synced(world: World, desk_user, manager_user):
    booking = walk_in_with_cash(world, desk_user)  # not pushed: no Wix id

    with pytest.raises(BookingError) as excinfo:
        tasks.booking_resync_request(user=manager_user, booking=booking)

    assert excinfo.value.code == "not_in_wix"
    assert not AuditEntry.objects.filter(action="drift.resync").exists()


def test_a_re_sync_wix_does_not_answer_is_recorded_for_the_manager(world: World, desk_user, monkeypatch):
    booking = walk_in_with_cash(world, desk_user)
    world.push()
    failing = Trouble(world, "/extended-bookings", "503", times=99)
    monkeypatch.setattr(tasks, "get_wix_client", lambda: trouble_client(world, failing))

    result = tasks.booking_resync_task.enqueue(booking.pk).return_value

    assert "error" in result
    failed = AuditEntry.objects.get(action="drift.resync_failed")
    assert failed.actor == "worker" and failed.object_id == str(booking.pk)


# --- came but did not pay: the payment through the desk ---------------------------------------------


def test_someone_checked_in_who_did_not_pay_is_found_after_the_class_and_paid_through_the_desk(
    world: World, manager_user
):
    ann = world.customer("Ann")
    made = world.online_booking(ann)
    attendance.set_attendance(
        world.wix,
        attendance={"bookingId": made["id"], "eventId": world.event["id"], "status": "ATTENDED"},
    )
    world.mirror()
    assert found(drift.ATTENDED_UNPAID) == []  # the class has not happened yet
    after_class = timezone.make_aware(tomorrow_at(10))

    (case,) = found(drift.ATTENDED_UNPAID, now=after_class)
    assert case.booking == world.booking(made) and case.due == Decimal("12.00")

    action = fixes.attended_pay(user=manager_user, booking=case.booking, method="CARD", idempotency_key=key())

    assert (action.kind, action.params["method"], action.params["amount"]) == ("PAYMENT", "CARD", "12.00")
    assert found(drift.ATTENDED_UNPAID, now=after_class) == []
    world.push()
    assert world.wix_booking(made["id"])["paymentStatus"] == "PAID"
    world.mirror()
    assert found(drift.ATTENDED_UNPAID, now=after_class) == []
    paid = AuditEntry.objects.get(action="payment.card")
    assert paid.user == manager_user and paid.after["action"] == action.pk


def test_paying_someone_who_has_paid_meanwhile_is_refused(world: World, desk_user, manager_user):
    booking = walk_in_with_cash(world, desk_user)

    with pytest.raises(BookingError) as excinfo:
        fixes.attended_pay(user=manager_user, booking=booking, method="CASH", idempotency_key=key())

    assert excinfo.value.code == "already_paid"
    assert DeskAction.objects.filter(kind="PAYMENT").count() == 1


def test_a_payment_method_the_desk_does_not_take_is_refused(world: World, manager_user):
    ann = world.customer("Ann")
    made = world.online_booking(ann)
    world.mirror()

    with pytest.raises(BookingError) as excinfo:
        fixes.attended_pay(user=manager_user, booking=world.booking(made), method="BITCOIN", idempotency_key=key())

    assert excinfo.value.code == "method_invalid"


# --- plan credits ---------------------------------------------------------------------------------


def charged_pass(world: World, desk_user) -> tuple[dict, Booking]:
    ann = world.customer("Ann", credits=5)
    made = world.online_booking(ann, order=False)
    world.mirror(ann)
    booking = world.booking(made)
    desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(ann), idempotency_key=key())
    world.push()
    assert world.wix_credits(ann) == "4"
    return ann, booking


def test_a_plan_charge_whose_credit_came_back_in_wix_is_found_after_the_sync(world: World, desk_user):
    ann, booking = charged_pass(world, desk_user)
    pool = ann["sold"]["pool"]["id"]
    benefit_programs.change_balance(world.wix, pool_id=pool, idempotency_key="give-back", adjust_by="1")

    world.mirror(ann)

    (case,) = found(drift.PLAN_CREDITS)
    assert case.booking == booking
    assert case.what.endswith("with 5 credits left; the plan still shows 5.")


def test_stale_credits_in_the_mirror_are_mended_by_re_syncing(world: World, desk_user):
    ann, booking = charged_pass(world, desk_user)
    BenefitBalance.objects.filter(wix_id=ann["sold"]["pool"]["id"]).update(remaining_credits=Decimal("5"))
    assert [c.booking for c in found(drift.PLAN_CREDITS)] == [booking]

    fixes.booking_resync(wix=world.wix, booking_id=booking.pk)

    assert world.balance(ann).remaining_credits == Decimal("4")
    assert found(drift.PLAN_CREDITS) == []


# --- stuck desk actions: retry --------------------------------------------------------------------


def test_a_payment_wix_kept_failing_is_found_stuck_and_sent_again_at_once(world: World, desk_user, manager_user):
    booking = walk_in_with_cash(world, desk_user)
    failing = trouble_client(world, Trouble(world, "/add-payment", "503", times=3))
    push_now(failing)
    payment = DeskAction.objects.get(kind="PAYMENT")
    assert payment.status == Status.QUEUED and payment.attempts == 1 and payment.next_attempt_at > timezone.now()
    later = timezone.now() + timedelta(minutes=30)

    (case,) = found(drift.STUCK_WAITING, now=later)
    assert case.action == payment and "has not reached Wix (1 try; last answer:" in case.what

    fixes.drift_retry(user=manager_user, action=payment)

    payment.refresh_from_db()
    assert payment.status == Status.QUEUED and payment.next_attempt_at is None
    push_now(world.wix)  # the push the retry asked for: due now, no backoff
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Status.SYNCED
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert found(drift.STUCK_WAITING, now=later) == []
    retried = AuditEntry.objects.get(action="drift.retry")
    assert retried.user == manager_user and retried.summary.endswith("(1 try so far)")
    assert retried.before["next_try"] != "now" and retried.after["next_try"] == "now"


def test_a_walk_in_wix_refused_is_found_stuck_and_retried_as_the_roster_does(world: World, desk_user, manager_user):
    ann = world.customer("Ann")
    world.mirror(ann)
    session = world.session()
    desk.walk_in_create(user=desk_user, contact=world.contact(ann), session=session, idempotency_key=key())
    sandbox_edit(world, "events", world.event["id"], status="CANCELLED")  # Wix will refuse the booking
    world.push()
    walk_in = DeskAction.objects.get(kind="WALK_IN")
    assert walk_in.status == Status.NEEDS_ATTENTION, walk_in.last_error
    later = timezone.now() + timedelta(minutes=30)

    (case,) = found(drift.STUCK_ATTENTION, now=later)
    assert case.action == walk_in and case.what.startswith(f"Walk-in for {world.contact(ann)}: Wix refused it — ")

    fixes.drift_retry(user=manager_user, action=walk_in)

    walk_in.refresh_from_db()
    assert walk_in.status == Status.QUEUED
    assert AuditEntry.objects.filter(action="desk.retry", user=manager_user).exists()


def test_an_action_a_worker_holds_or_that_reached_wix_is_not_retried(world: World, desk_user, manager_user):
    walk_in_with_cash(world, desk_user)
    payment = DeskAction.objects.get(kind="PAYMENT")
    DeskAction.objects.filter(pk=payment.pk).update(
        status=Status.RUNNING, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    with pytest.raises(BookingError) as held:
        fixes.drift_retry(user=manager_user, action=DeskAction.objects.get(pk=payment.pk))
    DeskAction.objects.filter(pk=payment.pk).update(status=Status.SYNCED)
    with pytest.raises(BookingError) as done:
        fixes.drift_retry(user=manager_user, action=DeskAction.objects.get(pk=payment.pk))

    assert (held.value.code, done.value.code) == ("being_sent", "not_stuck")
    assert not AuditEntry.objects.filter(action="drift.retry").exists()


def test_a_running_action_whose_worker_died_is_sent_again(world: World, desk_user, manager_user):
    walk_in_with_cash(world, desk_user)
    payment = DeskAction.objects.get(kind="PAYMENT")
    DeskAction.objects.filter(pk=payment.pk).update(
        status=Status.RUNNING, next_attempt_at=timezone.now() - timedelta(minutes=1)
    )

    fixes.drift_retry(user=manager_user, action=DeskAction.objects.get(pk=payment.pk))

    payment.refresh_from_db()
    assert payment.status == Status.QUEUED


# --- over capacity --------------------------------------------------------------------------------


def test_a_class_a_manager_overbooked_is_found_over_capacity_after_the_sync(world: World, manager_user):
    small = another_session(world, days=2, capacity=1)
    ann, bo = world.customer("Ann"), world.customer("Bo")
    world.online_booking(ann, event=small)
    world.mirror(bo)
    session = world.session(small)
    assert session.capacity == 1 and found(drift.OVER_CAPACITY) == []
    booking = desk.walk_in_create(
        user=manager_user, contact=world.contact(bo), session=session, override_capacity=True, idempotency_key=key()
    )
    world.push()
    world.mirror()

    (case,) = found(drift.OVER_CAPACITY)

    booking.refresh_from_db()
    assert case.session == session and case.since == session.start
    assert ": 2 booked for 1 place (the last booked " in case.what
    assert case.what.endswith(f"{drift_cases._when(booking.wix_created_at)}).")
