"""After a worker crash nothing waits on a click (``tasks.worker_recover``, ``tasks.worker_started``,
``manage.py db_worker``): the stranded state a SIGKILL leaves — a push task RUNNING for ever, desk
actions RUNNING under a dead claim, actions QUEUED with no push queued — is taken up by the
minute poll, and by a worker when it starts; every action reaches Wix once."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app import tasks, workers
from bookings_app.models import DeskAction, ExportJob, WorkerHeartbeat
from bookings_app.services import export_jobs
from tests.factories import AuditEntryFactory
from tests.services.conftest import World, walk_in_with_cash, world  # noqa: F401 - fixtures
from tests.services.push.conftest import Crash, Trouble, push_now, trouble_client

pytestmark = pytest.mark.django_db(transaction=True)

Status = DeskAction.Status
PUSH = "bookings_app.tasks.push_desk_actions"
POLL = "bookings_app.tasks.sync_incremental_task"


@pytest.fixture(autouse=True)
def no_undo_window(settings, monkeypatch):
    settings.DESK_UNDO_SECONDS = 0
    monkeypatch.setitem(workers._current, "worker_id", "")


def _strand(world: World, desk_user, *, claimed_by: str) -> None:  # noqa: F811
    """What a worker killed mid-push leaves: three walk-ins in Wix whose payments it had claimed
    (one half done: its cart made), then two more walk-ins queued after it died; its push task
    RUNNING, its heartbeat stopped, and no task waiting to push anything."""
    for _ in range(3):
        walk_in_with_cash(world, desk_user)
    with pytest.raises(Crash):
        push_now(trouble_client(world, Trouble(world, "/place-order", "crash")))
    DeskAction.objects.filter(status=Status.RUNNING).update(claimed_by=claimed_by)
    for _ in range(2):
        walk_in_with_cash(world, desk_user)
    DBTaskResult.objects.all().delete()  # no push was queued: the one that would have been, died
    WorkerHeartbeat.objects.create(
        worker_id="w-dead", place="other-host:1", pid=1, seen_at=timezone.now() - timedelta(minutes=5)
    )
    DBTaskResult.objects.create(
        status="RUNNING",
        task_path=PUSH,
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now() - timedelta(minutes=5),
        started_at=timezone.now() - timedelta(minutes=5),
        worker_ids=["w-dead"],
    )
    counts = Counter(DeskAction.objects.values_list("status", flat=True))
    assert counts == {Status.SYNCED: 3, Status.RUNNING: 3, Status.QUEUED: 4}, counts


def _run_the_worker(worker_id: str = "w-new") -> None:
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--worker-id", worker_id, stdout=io.StringIO()
    )


def _assert_every_action_in_wix_once(world: World) -> None:  # noqa: F811
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.SYNCED}
    assert len(world.sb.state.all("bookings")) == 5
    orders = world.sb.state.all("orders")
    assert len(orders) == 5 and all(o["paymentStatus"] == "PAID" for o in orders)
    payments = [p for o in orders for p in world.sb.state.get("order_transactions", o["id"])["payments"]]
    assert len(payments) == 5


def test_the_minute_poll_takes_up_a_dead_workers_push_with_no_click(world: World, desk_user) -> None:  # noqa: F811
    """Actions RUNNING with their lease run out and QUEUED with no push queued: the poll (which a
    live worker runs every minute) queues the push; the worker runs it; all five reach Wix once."""
    _strand(world, desk_user, claimed_by="")
    DeskAction.objects.filter(status=Status.RUNNING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    tasks.sync_incremental_task.call()

    dead = DBTaskResult.objects.get(task_path=PUSH, worker_ids=["w-dead"])
    assert dead.status == "FAILED" and dead.exception_class_path == workers.LOST
    assert DBTaskResult.objects.ready().filter(task_path=PUSH).count() == 1  # due now
    assert DBTaskResult.objects.filter(task_path=POLL, status="READY").count() == 1  # the chain goes on

    _run_the_worker()

    _assert_every_action_in_wix_once(world)


def test_a_lease_still_running_is_pushed_when_it_ends_without_a_click(world: World, desk_user) -> None:  # noqa: F811
    """Claimed outside a known worker: the poll queues the push for the moment the lease ends."""
    _strand(world, desk_user, claimed_by="")
    ends = timezone.now() + timedelta(minutes=4)
    DeskAction.objects.filter(status=Status.RUNNING).update(next_attempt_at=ends)
    DeskAction.objects.filter(status=Status.QUEUED).update(status=Status.SYNCED)  # only the claims wait

    tasks.worker_recover()

    [push] = DBTaskResult.objects.filter(task_path=PUSH, status="READY")
    assert push.run_after == ends


def test_a_worker_starting_after_a_crash_pushes_everything_the_dead_one_left(world: World, desk_user) -> None:  # noqa: F811
    """The dead worker's claims hold eight more minutes of lease, but it is known dead (no
    heartbeat): the new worker ends them at start, queues the push and the poll, and runs them."""
    _strand(world, desk_user, claimed_by="w-dead")

    _run_the_worker("w-new")

    _assert_every_action_in_wix_once(world)
    assert DBTaskResult.objects.get(worker_ids=["w-dead"]).status == "FAILED"
    assert not WorkerHeartbeat.objects.exists()  # the dead one forgotten, the new one gone cleanly
    assert DBTaskResult.objects.filter(task_path=POLL, status="READY").count() == 1


def test_the_worker_command_is_this_apps_and_beats_while_it_runs(monkeypatch) -> None:
    from django.core.management import get_commands

    assert get_commands()["db_worker"] == "bookings_app"
    seen: list[list[str]] = []
    real = tasks.worker_started
    monkeypatch.setattr(
        tasks,
        "worker_started",
        lambda worker_id: (
            seen.append(list(WorkerHeartbeat.objects.values_list("worker_id", flat=True))),
            real(worker_id),
        )[1],
    )

    _run_the_worker("w-beat")

    assert seen == [["w-beat"]] and not WorkerHeartbeat.objects.exists()


# --- an export whose worker was killed mid-file ------------------------------------------------------

EXPORT = "bookings_app.tasks.export_job_task"


def _export_stranded(manager_user, *, worker_seen_ago: timedelta) -> ExportJob:
    """What a worker killed while writing an export leaves: the job RUNNING part-way, its task
    RUNNING under that worker, and nothing queued to finish it."""
    AuditEntryFactory.create_batch(3)
    job = export_jobs.export_job_create(user=manager_user, spec=export_jobs.spec_get("audit"), fmt="csv", query="")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=2)
    DBTaskResult.objects.all().delete()
    started = timezone.now() - timedelta(minutes=5)
    WorkerHeartbeat.objects.create(
        worker_id="w-dead", place="other-host:1", pid=1, seen_at=timezone.now() - worker_seen_ago
    )
    DBTaskResult.objects.create(
        status="RUNNING",
        task_path=EXPORT,
        args_kwargs={"args": [job.pk], "kwargs": {}},
        backend_name="default",
        run_after=started,
        started_at=started,
        worker_ids=["w-dead"],
    )
    return job


def test_an_export_whose_worker_died_is_written_by_the_next_worker_without_a_click(manager_user) -> None:
    job = _export_stranded(manager_user, worker_seen_ago=timedelta(minutes=5))
    _run_the_worker()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.rows_done == job.rows_total == 3
    content = b"".join(export_jobs.export_file_chunks(job.pk))
    assert job.size == len(content) and content.count(b"\n") == 4  # the header and three entries, once


def test_an_export_still_being_written_is_left_to_its_worker(manager_user) -> None:
    job = _export_stranded(manager_user, worker_seen_ago=timedelta(seconds=5))
    tasks.worker_recover()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.rows_done == 2
    assert not DBTaskResult.objects.filter(task_path=EXPORT, status="READY").exists()


def test_a_job_no_longer_running_is_not_queued_again(manager_user) -> None:
    job = _export_stranded(manager_user, worker_seen_ago=timedelta(minutes=5))
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED)  # finished meanwhile
    assert export_jobs.export_jobs_requeue([job.pk]) == []
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.FAILED
