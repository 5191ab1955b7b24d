"""Which workers are alive, and what a dead one left (``bookings_app/workers.py``): heartbeats,
dead by silence or by a pid that no longer runs, its RUNNING task rows failed and its desk-action
claims ended — never a live worker's."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app import workers
from bookings_app.models import DeskAction, WorkerHeartbeat
from tests import factories

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
PUSH = "bookings_app.tasks.push_desk_actions"


@pytest.fixture(autouse=True)
def not_a_worker(monkeypatch):
    """The test process is no worker (as outside ``db_worker``)."""
    monkeypatch.setitem(workers._current, "worker_id", "")


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _worker(worker_id: str, *, seen_ago: timedelta = timedelta(0), pid: int | None = None, place: str = "elsewhere"):
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, place=place, pid=pid, started_at=now - timedelta(hours=1), seen_at=now - seen_ago
    )


def _running_task(worker_id: str, *, started_ago: timedelta = timedelta(minutes=5)) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        task_path=PUSH,
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now() - started_ago,
        started_at=timezone.now() - started_ago,
        worker_ids=[worker_id],
    )


def _claimed(worker_id: str, *, lease_left: timedelta = timedelta(minutes=8)) -> DeskAction:
    return factories.DeskActionFactory(
        status=Status.RUNNING, claimed_by=worker_id, next_attempt_at=timezone.now() + lease_left
    )


def test_a_heartbeat_is_written_then_refreshed_and_forgotten():
    workers.heartbeat_beat("w-1")
    first = WorkerHeartbeat.objects.get(worker_id="w-1")
    assert first.pid is not None and first.place == workers.process_place()

    later = timezone.now() + timedelta(seconds=15)
    workers.heartbeat_beat("w-1", now=later)
    again = WorkerHeartbeat.objects.get(worker_id="w-1")
    assert again.seen_at == later and again.started_at == first.started_at

    workers.heartbeat_forget("w-1")
    assert not WorkerHeartbeat.objects.exists()


def test_a_worker_is_dead_when_silent_or_when_its_pid_here_no_longer_runs():
    _worker("fresh", seen_ago=timedelta(seconds=20))
    _worker("silent", seen_ago=workers.DEAD_AFTER + timedelta(seconds=1))
    _worker("killed-here", pid=_dead_pid(), place=workers.process_place())
    _worker("elsewhere-same-pid-number", pid=_dead_pid(), place="another-host:1")

    dead = workers.workers_dead(claimers={"fresh", "never-beat", ""})

    assert dead == {"silent", "killed-here", "never-beat"}


def test_reaping_fails_a_dead_workers_task_and_ends_its_claims_but_leaves_a_live_workers_alone():
    _worker("live", seen_ago=timedelta(seconds=10))
    _worker("dead", seen_ago=timedelta(minutes=5))
    live_task, dead_task = _running_task("live"), _running_task("dead")
    live_claim, dead_claim = _claimed("live"), _claimed("dead")
    unclaimed = _claimed("")  # claimed outside a worker: ends only with its lease

    reaped = workers.workers_reap()

    assert reaped.workers == ["dead"] and reaped.tasks == [PUSH] and reaped.actions == 1
    dead_task.refresh_from_db()
    assert dead_task.status == "FAILED" and dead_task.exception_class_path == workers.LOST
    assert "worker dead died" in dead_task.traceback and dead_task.finished_at is not None
    dead_claim.refresh_from_db()
    assert dead_claim.status == Status.RUNNING and dead_claim.next_attempt_at <= timezone.now()
    assert dead_claim.claimed_by == ""
    for row in (live_task, live_claim, unclaimed):
        before = row.next_attempt_at if isinstance(row, DeskAction) else row.status
        row.refresh_from_db()
        assert (row.next_attempt_at if isinstance(row, DeskAction) else row.status) == before
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"live"}

    assert not workers.workers_reap()  # nothing left to take up


def test_a_task_of_a_worker_with_no_heartbeat_is_orphaned_only_once_it_has_run_a_while():
    _running_task("unknown", started_ago=timedelta(seconds=20))
    assert workers.workers_reap().tasks == []
    assert DBTaskResult.objects.get().status == "RUNNING"

    DBTaskResult.objects.update(started_at=timezone.now() - workers.DEAD_AFTER - timedelta(seconds=1))
    assert workers.workers_reap().tasks == [PUSH]


def test_a_task_a_worker_killed_here_began_a_moment_ago_is_orphaned_at_once():
    _worker("killed", pid=_dead_pid(), place=workers.process_place())
    _running_task("killed", started_ago=timedelta(seconds=2))

    assert workers.workers_reap().tasks == [PUSH]


def test_a_worker_never_reaps_itself(monkeypatch):
    monkeypatch.setitem(workers._current, "worker_id", "me")
    _worker("me", seen_ago=timedelta(hours=1))  # its beats stalled, but it is the one asking
    _running_task("me")

    assert not workers.workers_reap()


def test_the_health_check_sees_the_fresh_workers_only():
    _worker("fresh", seen_ago=timedelta(seconds=5))
    _worker("stale", seen_ago=timedelta(minutes=30))

    assert [w.worker_id for w in workers.workers_alive()] == ["fresh"]
