"""The header's reads (``selectors/sync.py``): desk actions that wait too long for Wix — one
query, kept a few seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import DeskAction
from tests import factories

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


def test_late_actions_are_the_queued_and_running_ones_due_longer_than_the_warning_ago(settings):
    settings.DESK_BACKLOG_WARN_SECONDS = 300
    now = timezone.now()
    oldest = factories.DeskActionFactory(run_after=now - timedelta(minutes=20))
    factories.DeskActionFactory(run_after=now - timedelta(minutes=6), status=Status.RUNNING)
    factories.DeskActionFactory(run_after=now - timedelta(minutes=4))  # within the five minutes
    for status in (Status.SYNCED, Status.NEEDS_ATTENTION, Status.UNDONE, Status.REMOVED):
        factories.DeskActionFactory(run_after=now - timedelta(hours=1), status=status)
    refused = factories.DeskActionFactory(run_after=now - timedelta(hours=1), status=Status.NEEDS_ATTENTION)
    factories.DeskActionFactory(run_after=now - timedelta(hours=1), depends_on=refused)  # waits on staff

    with CaptureQueriesContext(connection) as queries:
        backlog = selectors.desk_backlog_get(now=now)

    assert len(queries) == 2  # the late actions; as some are late, whether a worker beats
    assert (backlog.count, backlog.oldest, backlog.minutes) == (2, oldest.run_after, 5) and backlog
    assert not backlog.worker_alive


def test_nothing_late_is_one_query():
    factories.WorkerHeartbeatFactory(seen_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        backlog = selectors.desk_backlog_get()
    assert len(queries) == 1 and not backlog and not backlog.worker_alive


@pytest.mark.parametrize(("beat_ago", "alive"), [(timedelta(seconds=20), True), (timedelta(minutes=3), False)])
def test_late_actions_say_whether_a_worker_is_sending_them(beat_ago, alive):
    now = timezone.now()
    factories.DeskActionFactory(run_after=now - timedelta(minutes=10))
    factories.WorkerHeartbeatFactory(seen_at=now - beat_ago)  # three minutes silent: dead

    assert selectors.desk_backlog_get(now=now).worker_alive is alive


def test_the_count_is_kept_a_few_seconds_then_asked_again(monkeypatch):
    from bookings_app.selectors import sync

    monkeypatch.setattr(sync, "DESK_BACKLOG_CACHE_SECONDS", 5)
    factories.DeskActionFactory(run_after=timezone.now() - timedelta(minutes=10))
    assert selectors.desk_backlog_get().count == 1

    DeskAction.objects.update(status=Status.SYNCED)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.desk_backlog_get().count == 1  # the kept answer
    assert len(queries) == 0

    assert not selectors.desk_backlog_get(fresh=True)
    selectors.desk_backlog_forget()
    assert selectors.desk_backlog_get().count == 0


@pytest.mark.django_db
def test_the_headers_sync_status_is_kept_a_few_seconds(django_assert_num_queries, monkeypatch):
    from django.core.cache import cache

    from bookings_app.selectors import sync

    monkeypatch.setattr(sync, "SYNC_STATUS_CACHE_SECONDS", 3)
    cache.delete(sync.SYNC_STATUS_CACHE_KEY)
    try:
        with django_assert_num_queries(1):
            first = sync.sync_status_header()
            assert sync.sync_status_header() == first
    finally:
        cache.delete(sync.SYNC_STATUS_CACHE_KEY)
