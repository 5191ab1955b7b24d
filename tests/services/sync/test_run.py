"""A sync run: failures recorded and the lock always let go, one run at a time, the command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from bookings_app.models import Booking, SyncState
from bookings_app.services import sync
from tests.services.conftest import SEEDED_AT
from wix_sandbox import Faults


@pytest.mark.django_db
def test_wix_down_is_recorded_and_never_leaves_the_sync_running(demo, wix):
    demo.faults = Faults(error_5xx_rate=1.0, seed=1)

    report = sync.sync_full(wix=wix)

    assert report.error.startswith("Wix is unreachable")
    assert not SyncState.objects.filter(running=True).exists()
    progress = sync.sync_progress_get()
    assert progress.failing and "unreachable" in progress.last_error and not progress.running


@pytest.mark.django_db
def test_a_second_sync_waits_while_one_runs_but_a_dead_run_is_taken_over(demo, wix, clock):
    sync.sync_states_ensure()
    SyncState.objects.update(running=True, last_incremental_at=SEEDED_AT - timedelta(minutes=1))

    assert sync.sync_full(wix=wix).skipped
    assert not Booking.objects.exists() and len(demo.call_log) == 0

    clock(SEEDED_AT + sync.STALE_RUN + timedelta(minutes=2))  # the process holding it died
    report = sync.sync_full(wix=wix)
    assert report.ok and Booking.objects.exists()


@pytest.mark.django_db
def test_sync_wix_command_prints_counts_and_time(demo, sandbox_wix):
    out = io.StringIO()

    call_command("sync_wix", "--full", stdout=out)

    text = out.getvalue()
    assert text.startswith("Full sync: ") and "Wix calls in" in text and "Booking " in text
