"""Background tasks: the self-rescheduling poll (one pending, never more), Sync now, webhooks,
and the desk push with its follow-up runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app import signals, tasks
from bookings_app.models import Booking, DeskAction, SyncState, WebhookEvent
from bookings_app.services import sync
from bookings_app.wix import WixConfigError
from tests.services.conftest import (  # noqa: F401 - fixtures
    SEEDED_AT,
    World,
    clock,
    demo,
    demo_template,
    immediate_tasks,
    sandbox_wix,
    walk_in_with_cash,
    wix,
    world,
)

pytestmark = pytest.mark.django_db

POLL = "bookings_app.tasks.sync_incremental_task"
FULL = "bookings_app.tasks.sync_full_task"


def pending(path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path, status="READY"))


def test_scheduling_the_poll_twice_leaves_one_pending(clock):  # noqa: F811
    assert tasks.sync_schedule_ensure() is True
    assert tasks.sync_schedule_ensure(delay=timedelta(seconds=60)) is False

    [poll] = pending(POLL)
    assert poll.queue_name == "sync" and poll.run_after == SEEDED_AT


def test_wix_answering_again_brings_the_pending_poll_forward_to_now(clock):  # noqa: F811
    tasks.sync_schedule_ensure(delay=tasks.poll_interval())

    signals.wix_answers_again.send(sender=None)

    [poll] = pending(POLL)  # the same one, not a second
    assert poll.run_after == SEEDED_AT


def test_wix_answering_again_with_no_poll_pending_queues_one_now(clock):  # noqa: F811
    signals.wix_answers_again.send(sender=None)

    [poll] = pending(POLL)
    assert poll.run_after == SEEDED_AT


def test_wix_answering_again_during_a_poll_queues_no_other(clock):  # noqa: F811
    sync.sync_states_ensure()
    SyncState.objects.filter(kind=SyncState.Kind.BOOKINGS).update(running=True, last_incremental_at=SEEDED_AT)

    signals.wix_answers_again.send(sender=None)

    assert pending(POLL) == []


def test_the_poll_syncs_then_queues_the_next_poll_a_minute_later(demo, sandbox_wix, clock):  # noqa: F811
    result = tasks.sync_incremental_task.call()

    assert result["mode"] == "full" and not result["error"]  # no cursor yet: the first poll is full
    assert Booking.objects.exists()
    [poll] = pending(POLL)
    assert poll.run_after == SEEDED_AT + tasks.poll_interval()

    clock(SEEDED_AT + timedelta(minutes=1))
    again = tasks.sync_incremental_task.call()
    assert again["mode"] == "incremental" and again["wix_calls"] <= 12
    assert len(pending(POLL)) == 1  # the next one was already queued: not a second chain


def test_a_poll_becomes_a_full_sync_when_the_last_is_hours_old(demo, sandbox_wix, clock):  # noqa: F811
    tasks.sync_incremental_task.call()
    clock(SEEDED_AT + timedelta(hours=7))

    assert tasks.sync_incremental_task.call()["mode"] == "full"


def test_a_failing_poll_still_queues_the_next_one(demo, sandbox_wix):  # noqa: F811
    demo.faults.error_5xx_rate = 1.0

    result = tasks.sync_incremental_task.call()

    assert result["error"].startswith("Wix is unreachable")
    assert len(pending(POLL)) == 1
    assert not SyncState.objects.filter(running=True).exists()


def test_a_misconfigured_wix_is_recorded_for_the_header(monkeypatch):
    def broken():
        raise WixConfigError("API-key mode needs WIX_API_KEY and WIX_SITE_ID.")

    monkeypatch.setattr(tasks, "get_wix_client", broken)

    assert "WIX_API_KEY" in tasks.sync_incremental_task.call()["error"]
    progress = sync.sync_progress_get()
    assert progress.failing and "not configured" in progress.last_error
    assert len(pending(POLL)) == 1


def test_the_poll_never_recurses_on_a_backend_that_cannot_defer(demo, sandbox_wix, immediate_tasks):  # noqa: F811
    result = tasks.sync_incremental_task.enqueue()

    assert result.status == "SUCCESSFUL" and Booking.objects.exists()
    assert tasks.sync_schedule_ensure() is False


def test_sync_now_queues_one_full_sync_however_often_it_is_pressed():
    assert tasks.sync_full_enqueue() is True
    assert tasks.sync_full_enqueue() is False

    assert len(pending(FULL)) == 1 and tasks.sync_full_queued()


def test_sync_now_is_not_queued_while_a_sync_runs():
    sync.sync_states_ensure()
    SyncState.objects.update(running=True, last_full_at=timezone.now())

    assert tasks.sync_full_enqueue() is False and not pending(FULL)


def test_the_full_sync_task_builds_the_mirror(demo, sandbox_wix):  # noqa: F811
    result = tasks.sync_full_task.call()

    assert result["mode"] == "full" and result["wix_calls"] > 0 and Booking.objects.count() > 500


def test_the_webhook_task_applies_a_stored_event(demo, sandbox_wix, wix):  # noqa: F811
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    newer = {**booking.raw, "status": "CANCELED", "revision": str(booking.revision + 1)}
    event = WebhookEvent.objects.create(
        event_id="evt-1",
        event_type="wix.bookings.v2.booking_canceled",
        entity_fqdn="wix.bookings.v2.booking",
        entity_id=booking.wix_id,
        sequence=1,
        payload={"id": "evt-1", "actionEvent": {"body": {"booking": newer}}},
    )

    assert tasks.process_webhook_event_task.call(event.pk) == "applied"

    booking.refresh_from_db()
    event.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED and event.processed_at is not None


def test_the_schedule_command_starts_the_chain_once(clock):  # noqa: F811
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("sync_wix", "--schedule", stdout=out)
    call_command("sync_wix", "--schedule", stdout=out)

    assert len(pending(POLL)) == 1
    assert out.getvalue().splitlines() == ["Queued the background sync poll.", "The background sync poll is queued."]


def test_the_poll_takes_up_webhook_events_whose_task_was_lost(demo, sandbox_wix, wix):  # noqa: F811
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    newer = {**booking.raw, "status": "CANCELED", "revision": str(booking.revision + 1)}
    event = WebhookEvent.objects.create(
        event_id="evt-lost",
        event_type="wix.bookings.v2.booking_updated",
        entity_fqdn="wix.bookings.v2.booking",
        entity_id=booking.wix_id,
        payload={"id": "evt-lost", "updatedEvent": {"currentEntity": newer}},
        received_at=SEEDED_AT - timedelta(minutes=5),
    )

    tasks.sync_incremental_task.call()

    event.refresh_from_db()
    booking.refresh_from_db()
    assert event.processed_at is not None and booking.status == Booking.Status.CANCELED


# --- the desk push --------------------------------------------------------------------------------


def test_after_a_run_the_next_one_is_queued_for_when_the_undo_window_ends(world: World, desk_user) -> None:  # noqa: F811
    walk_in_with_cash(world, desk_user)
    when = tasks.push_schedule_next()
    assert when is not None and when > timezone.now()
    queued = DBTaskResult.objects.filter(task_path="bookings_app.tasks.push_desk_actions")
    assert queued.count() == 1 and queued.get().run_after == when


def test_no_follow_up_is_queued_twice_nor_behind_an_action_that_needs_attention(world: World, desk_user) -> None:  # noqa: F811
    walk_in_with_cash(world, desk_user)
    first = tasks.push_schedule_next()
    again = tasks.push_schedule_next()
    assert first == again or again > first
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.push_desk_actions").count() == 1

    DBTaskResult.objects.all().delete()
    DeskAction.objects.filter(kind="WALK_IN").update(status=DeskAction.Status.NEEDS_ATTENTION)
    assert tasks.push_schedule_next() is None  # the payment waits for staff to decide about its walk-in
    assert not DBTaskResult.objects.exists()


def test_the_push_task_pushes_what_is_due_with_the_configured_client(world: World, desk_user, settings) -> None:  # noqa: F811
    settings.DESK_UNDO_SECONDS = 0
    booking = walk_in_with_cash(world, desk_user)
    result = tasks.push_desk_actions.call()
    assert result["synced"] == 2 and result["calls"] >= 4
    booking.refresh_from_db()
    assert not booking.pending_sync and world.wix_booking(booking)["paymentStatus"] == "PAID"
