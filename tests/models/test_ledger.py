"""A desk action's state changes (``models/ledger.py``): what the worker's outcomes and staff's
retry do to the row and to its booking's ``pending_sync``."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings_app.models import Booking, DeskAction
from tests import factories

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


def _failed(**fields) -> DeskAction:
    return factories.DeskActionFactory(
        status=Status.NEEDS_ATTENTION,
        error_code="NOT_ENOUGH_BALANCE",
        message="No credits left",
        last_error="409",
        **fields,
    )


def test_mark_synced_keeps_the_steps_clears_the_error_and_the_booking_is_no_longer_pending():
    action = _failed(steps={"order_id": "o-1"})

    action.mark_synced(payment_ids=["p-1"])

    action.refresh_from_db()
    assert action.status == Status.SYNCED and action.next_attempt_at is None
    assert action.steps == {"order_id": "o-1", "payment_ids": ["p-1"]}
    assert (action.error_code, action.message, action.last_error) == ("", "", "")
    assert Booking.objects.get(pk=action.booking_id).pending_sync is False


def test_mark_synced_leaves_the_booking_pending_while_another_action_of_it_is_on_the_way():
    first = factories.DeskActionFactory(status=Status.RUNNING)
    factories.DeskActionFactory(booking=first.booking, kind=DeskAction.Kind.ATTENDANCE)

    first.mark_synced()

    assert Booking.objects.get(pk=first.booking_id).pending_sync is True


def test_mark_needs_attention_keeps_the_code_the_message_and_the_detail():
    action = factories.DeskActionFactory(status=Status.RUNNING, next_attempt_at=timezone.now())

    action.mark_needs_attention(code="SESSION_CAPACITY_EXCEEDED", message="The class filled up online", detail="428")

    action.refresh_from_db()
    assert action.status == Status.NEEDS_ATTENTION and action.next_attempt_at is None
    assert (action.error_code, action.message, action.last_error) == (
        "SESSION_CAPACITY_EXCEEDED",
        "The class filled up online",
        "428",
    )
    assert Booking.objects.get(pk=action.booking_id).pending_sync is True  # staff decide first


@time_machine.travel("2026-11-21 09:00:00+00:00", tick=False)
def test_retry_later_backs_off_exponentially_up_to_the_cap():
    action = factories.DeskActionFactory(status=Status.RUNNING, attempts=2)

    action.retry_later(detail="503 from Wix")

    action.refresh_from_db()
    wait = (action.next_attempt_at - timezone.now()).total_seconds()
    assert action.status == Status.QUEUED and action.attempts == 3 and action.last_error == "503 from Wix"
    assert 8 <= wait < 9  # 2^3 seconds plus under a second of jitter

    action.attempts = 20
    action.retry_later(detail="503 again")
    assert action.next_attempt_at - timezone.now() == timedelta(seconds=DeskAction.MAX_BACKOFF_SECONDS)


@time_machine.travel("2026-11-21 09:00:00+00:00", tick=False)
def test_retry_later_without_counting_goes_again_at_once():
    action = factories.DeskActionFactory(status=Status.RUNNING, attempts=4)

    action.retry_later(detail="another payment of this booking went first", count=False)

    action.refresh_from_db()
    assert action.status == Status.QUEUED and action.attempts == 4 and action.next_attempt_at == timezone.now()


@time_machine.travel("2026-11-21 09:00:00+00:00", tick=False)
def test_requeue_makes_a_refused_action_due_now_and_saves_changed_params():
    action = _failed(run_after=timezone.now() + timedelta(seconds=8), next_attempt_at=timezone.now())
    action.params = {**action.params, "override_capacity": True}

    action.requeue()

    action.refresh_from_db()
    assert action.status == Status.QUEUED and action.next_attempt_at is None
    assert action.run_after == timezone.now()
    assert (action.error_code, action.message) == ("", "")
    assert action.params["override_capacity"] is True


def test_refresh_pending_follows_the_live_actions_of_the_booking():
    action = factories.DeskActionFactory(status=Status.SYNCED)
    booking = Booking.objects.get(pk=action.booking_id)
    assert booking.pending_sync is True  # the factory's booking starts pending

    DeskAction.refresh_pending(booking.pk)
    assert Booking.objects.get(pk=booking.pk).pending_sync is False

    factories.DeskActionFactory(booking=booking, status=Status.QUEUED)
    DeskAction.refresh_pending(booking.pk)
    assert Booking.objects.get(pk=booking.pk).pending_sync is True


def test_each_state_change_is_logged_with_its_codes_but_never_its_params(caplog):
    import logging

    action = _failed(params={"note": "card ending 4242"})
    with caplog.at_level(logging.INFO, logger="bookings_app.desk_actions"):
        action.requeue()
        action.retry_later(detail="UNAVAILABLE: Wix is down (HTTP 503)")
        action.mark_needs_attention(code="SESSION_FULL", message="The class is full.")
        action.mark_synced()

    lines = [r for r in caplog.records if getattr(r, "event", None) == "desk_action.state"]
    assert [(r.status_from, r.status_to) for r in lines] == [
        ("NEEDS_ATTENTION", "QUEUED"),
        ("QUEUED", "QUEUED"),
        ("QUEUED", "NEEDS_ATTENTION"),
        ("NEEDS_ATTENTION", "SYNCED"),
    ]
    assert lines[1].reason.startswith("retry in ") and "HTTP 503" in lines[1].reason and lines[1].attempts == 1
    assert lines[2].error_code == "SESSION_FULL"
    assert all(r.action_id == action.pk and r.kind == action.kind for r in lines)
    assert "4242" not in caplog.text
