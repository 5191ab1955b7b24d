"""Which background workers are alive, and what a dead one left behind.

A worker (``manage.py db_worker``, this app's version of django-tasks-db's) writes a heartbeat
row every ``BEAT_SECONDS`` from a thread of its own, and deletes it when it stops cleanly. A
worker is *dead* when its heartbeat is older than ``DEAD_AFTER``, or — seen from the same host
and process namespace — when its pid no longer runs (a worker restarted after a SIGKILL knows at
once). django-tasks-db has no such notion: a killed worker's task stays RUNNING for ever.

:func:`workers_reap` takes up what dead workers left: their RUNNING task rows become FAILED
("worker lost"), and the desk actions they had claimed get their lease ended now, so the next
push takes them over and resumes from their saved steps instead of waiting out the lease. It
runs when a worker starts and from every poll (``tasks.worker_recover``), which also queues the
push and the poll that the dead worker would have queued.

The push records the claiming worker (:func:`current_worker_id`) on each desk action; outside a
worker (tests, a management command) it is "", and such claims end only with their lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from bookings_app.models import DeskAction, WorkerHeartbeat

logger = logging.getLogger("bookings_app.workers")

BEAT_SECONDS = 15.0
DEAD_AFTER = timedelta(minutes=2)  # eight missed beats: never a slow database, always a dead process
LOST = "bookings_app.workers.WorkerLost"

_current = {"worker_id": ""}


class WorkerLost(Exception):
    """What a reaped task row says it failed with: its worker died while running it."""


def current_worker_id() -> str:
    """The id of the worker this process is ("" when it is not one)."""
    return _current["worker_id"]


def process_place() -> str:
    """Where a pid means something: the host, and the pid namespace on Linux (two containers on
    one host may share a hostname, never a pid namespace)."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}:{namespace}"


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it runs, as another user
    return True


# --- the heartbeat -------------------------------------------------------------------------------


def heartbeat_beat(worker_id: str, *, now: datetime | None = None) -> None:
    """Say ``worker_id`` (this process) is alive."""
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"place": process_place(), "pid": os.getpid(), "seen_at": now},
            create_defaults={"place": process_place(), "pid": os.getpid(), "started_at": now, "seen_at": now},
        )


def heartbeat_forget(worker_id: str) -> None:
    """``worker_id`` stopped cleanly: nothing of it is left to take up."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


class Heartbeat(threading.Thread):
    """Beats every ``interval`` seconds until :meth:`stop`. A daemon: a worker that is killed
    takes it along, which is the point. Never raises: a missed beat is logged and retried."""

    def __init__(self, worker_id: str, *, interval: float = BEAT_SECONDS) -> None:
        super().__init__(name=f"heartbeat-{worker_id[:8]}", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    close_old_connections()
                    heartbeat_beat(self.worker_id)
                except Exception:  # noqa: BLE001 - the next beat tries again
                    logger.warning("worker %s: heartbeat failed", self.worker_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=self.interval + 5)


def worker_begin(worker_id: str) -> Heartbeat:
    """This process is worker ``worker_id`` from now on: first beat, then a thread that keeps
    beating. Returns the thread (``stop()`` it, then :func:`heartbeat_forget`)."""
    _current["worker_id"] = worker_id
    heartbeat_beat(worker_id)
    beat = Heartbeat(worker_id)
    beat.start()
    return beat


# --- what dead workers left ---------------------------------------------------------------------


@dataclass
class Reaped:
    """What :func:`workers_reap` took up."""

    workers: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)  # the task paths of the RUNNING rows failed
    actions: int = 0  # desk actions whose claim was ended

    def __bool__(self) -> bool:
        return bool(self.workers or self.tasks or self.actions)


def workers_dead(*, now: datetime | None = None, claimers: set[str] = frozenset()) -> set[str]:
    """The dead workers: those whose heartbeat is silent for ``DEAD_AFTER`` or whose pid, on this
    host and namespace, no longer runs — and those of ``claimers`` (workers that hold a task or a
    desk action) with no heartbeat at all. One query: the table has a row per worker."""
    now = now or timezone.now()
    here, me = process_place(), current_worker_id()
    dead, seen = set(), set()
    for row in WorkerHeartbeat.objects.all():
        seen.add(row.worker_id)
        if row.worker_id == me:
            continue
        gone = row.place == here and row.pid is not None and row.pid != os.getpid() and not _pid_runs(row.pid)
        if gone or row.seen_at < now - DEAD_AFTER:
            dead.add(row.worker_id)
    return dead | (set(claimers) - seen - {me, ""})


def workers_reap(*, now: datetime | None = None) -> Reaped:
    """Fail the RUNNING task rows of dead workers, end the claims they held on desk actions, and
    forget their heartbeats (see the module docstring). Only with the database task backend."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    running = [
        t
        for t in DBTaskResult.objects.filter(status="RUNNING").only("id", "task_path", "worker_ids", "started_at")
        if t.worker_ids
    ]
    # A worker with no heartbeat on record is taken for dead only once its task has run a while:
    # it may be one that beats from elsewhere (another version) and whose row is on its way.
    settled = {t.worker_ids[-1] for t in running if t.started_at is None or t.started_at < now - DEAD_AFTER}
    claimed_by = set(
        DeskAction.objects.filter(status=DeskAction.Status.RUNNING)
        .exclude(claimed_by="")
        .values_list("claimed_by", flat=True)
    )
    dead = workers_dead(now=now, claimers=settled | claimed_by)
    reaped = Reaped(workers=sorted(dead))
    if not dead:
        return reaped
    lost = [t for t in running if t.worker_ids[-1] in dead]
    with transaction.atomic():
        for task in lost:
            changed = DBTaskResult.objects.filter(pk=task.pk, status="RUNNING").update(
                status="FAILED",
                finished_at=now,
                exception_class_path=LOST,
                traceback=f"{LOST}: worker {task.worker_ids[-1]} died while running this task (no heartbeat).\n",
            )
            if changed:
                reaped.tasks.append(task.task_path)
        actions = list(DeskAction.objects.filter(status=DeskAction.Status.RUNNING, claimed_by__in=dead))
        DeskAction.objects.filter(pk__in=[a.pk for a in actions], status=DeskAction.Status.RUNNING).update(
            next_attempt_at=now, claimed_by="", updated_at=now
        )
        WorkerHeartbeat.objects.filter(worker_id__in=dead).delete()
    reaped.actions = len(actions)
    for action in actions:
        action.log_change(was=action.status, reason=f"worker {action.claimed_by} died: claim ended, to be taken over")
    if reaped.tasks or reaped.actions:
        logger.warning(
            "took up what %d dead worker(s) left: %d running task(s) failed, %d desk action(s) to be taken over",
            len(dead),
            len(reaped.tasks),
            reaped.actions,
            extra={
                "event": "workers.reaped",
                "workers": reaped.workers,
                "tasks": reaped.tasks,
                "actions": reaped.actions,
            },
        )
    return reaped


def workers_alive(*, now: datetime | None = None) -> list[WorkerHeartbeat]:
    """The workers whose heartbeat is fresh (for a health check)."""
    now = now or timezone.now()
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=now - DEAD_AFTER))
