"""Background tasks (django-tasks; the database backend by default, ``manage.py db_worker`` runs them).

Sync scheduling: the mirror must never be more than two minutes behind Wix, so an incremental
poll runs every ``WIX_SYNC_POLL_SECONDS`` (60) and, when it finishes, queues the next one
(``run_after``). :func:`sync_schedule_ensure` keeps exactly one poll pending: it is what the poll
calls to reschedule itself and what starts the chain (``manage.py sync_wix --schedule``, run by
``setup_demo`` and before the worker starts, and every "Sync now"). A poll turns into a full sync
when none has run for ``WIX_SYNC_FULL_EVERY_HOURS`` (6): webhooks and polls cover changes, the
full sync also covers what Wix changes without a trace (attendance set in the dashboard …).
When Wix answers again after an outage (``signals.wix_answers_again``), :func:`sync_poll_now`
brings the pending poll forward: the mirror is as old as the outage.

Desk actions: the desk services never import this module (it imports them). Once a transaction
that wrote desk actions commits, they send ``signals.desk_actions_queued``; the receiver here
queues one push for when the earliest of them is due (:func:`push_schedule`, which first asks
whether one is queued by then already), and every push run queues the next for when the next
waiting action becomes due (:func:`push_schedule_next`).

Nothing waits on the next click. A worker killed mid-task (SIGKILL, OOM, a host gone) queues no
follow-up and leaves its task RUNNING; so :func:`worker_recover` runs when a worker starts
(``manage.py db_worker``, this app's version) and after every poll: it takes up what dead workers
left (``workers.workers_reap``: their RUNNING task rows fail, their desk-action claims end), keeps
the poll chain alive, and queues a push for when the earliest waiting action is due — a QUEUED
one now, a RUNNING one whose worker is gone now, one a live worker holds when its lease ends.
An export whose worker died mid-file is queued again (:func:`exports_take_up`).
It also folds in the payment report's marks of what changed and works out the figures of this
month's and last month's sessions that have none (``selectors.reports_cache``).

Participant imports: a commit (and Cancel, Resume, Retry) sends ``signals.imports_queued``; the
receiver queues :func:`import_run_task`, which runs every import that is due for a slice and queues
the next run. Each run first queues a watchdog run for when its lease would run out, so an import
whose worker was killed mid-batch goes on by itself.

Backends that cannot defer (the immediate backend in tests) run tasks inline and never schedule.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from bookings_app import signals, workers
from bookings_app.models import Booking, SyncState
from bookings_app.selectors import reports_cache
from bookings_app.services import audit, drift, export_jobs, push, sync, webhooks
from bookings_app.services.imports import run as imports_run
from bookings_app.wix import WixConfigError, WixError, get_wix_client

logger = logging.getLogger("bookings_app.tasks")

SYNC_QUEUE = "sync"
SCHEDULE_CACHE_KEY = "bookings_app:sync-poll-pending"


def poll_interval() -> timedelta:
    return timedelta(seconds=getattr(settings, "WIX_SYNC_POLL_SECONDS", 60))


@task(queue_name=SYNC_QUEUE)
def sync_incremental_task() -> dict[str, Any]:
    """The poll: fetch what changed in Wix (a full sync when one is due), then queue the next poll."""
    try:
        with get_wix_client() as wix:
            webhooks.webhook_backlog_process(wix=wix)
            if sync.sync_needs_full():
                report = sync.sync_full(wix=wix)
            else:
                report = sync.sync_incremental(wix=wix)
        return report.as_dict()
    except WixConfigError as exc:
        sync.sync_record_error(message=f"Wix is not configured: {exc}")
        return {"error": str(exc)}
    finally:
        sync_schedule_ensure(delay=poll_interval())
        worker_recover()


@task(queue_name=SYNC_QUEUE)
def sync_full_task() -> dict[str, Any]:
    """A full sync ("Sync now", or the first sync of a new install)."""
    try:
        with get_wix_client() as wix:
            return sync.sync_full(wix=wix).as_dict()
    except WixConfigError as exc:
        sync.sync_record_error(message=f"Wix is not configured: {exc}")
        return {"error": str(exc)}
    finally:
        sync_schedule_ensure(delay=poll_interval())  # heals a poll chain a killed worker broke


@task()
def process_webhook_event_task(event_pk: int) -> str:
    """Apply one stored Wix webhook event to the mirror (see ``services.webhooks``)."""
    with get_wix_client() as wix:
        return webhooks.webhook_event_process(wix=wix, event_pk=event_pk)


# --- scheduling -----------------------------------------------------------------------------------


def _uses_database(backend: Any) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


def _queued(task_obj: Any, *, by: datetime | None = None) -> bool:
    """With the database backend: a run of ``task_obj`` is waiting (READY), and with ``by``, one
    that will run no later than ``by``. Other backends cannot tell (False)."""
    backend = task_obj.get_backend()
    if not _uses_database(backend):
        return False
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=task_obj.module_path, backend_name=backend.alias, status="READY")
    if by is not None:
        waiting = waiting.filter(Q(run_after__isnull=True) | Q(run_after__lte=by))
    return waiting.exists()


def sync_schedule_ensure(*, delay: timedelta | None = None) -> bool:
    """Queue the next incremental poll unless one is already pending. Returns True if it queued.

    With the database backend the check and the insert run in one transaction holding a row lock
    (a ``SyncState`` row; SQLite serialises the write transaction), so two processes starting the
    chain at once still leave a single pending poll. Other deferring backends use an atomic cache
    ``add`` instead (shared when the cache is, e.g. Redis).
    """
    backend = sync_incremental_task.get_backend()
    if not backend.supports_defer:
        return False
    run_after = timezone.now() + (delay if delay is not None else timedelta(0))
    if _uses_database(backend):
        sync.sync_states_ensure()  # the lock row must exist
        with transaction.atomic():
            SyncState.objects.select_for_update().filter(kind=SyncState.Kind.SERVICES).first()
            if _queued(sync_incremental_task):
                return False
            sync_incremental_task.using(run_after=run_after).enqueue()
        return True
    lifetime = int((delay or timedelta(0)).total_seconds() + poll_interval().total_seconds() * 2)
    if not cache.add(SCHEDULE_CACHE_KEY, "1", timeout=max(lifetime, 60)):
        return False
    sync_incremental_task.using(run_after=run_after).enqueue()
    return True


def sync_poll_now() -> None:
    """Run the poll now instead of at its time: the pending one is brought forward, or one is
    queued when none is pending and none is running (a running one is as good). Database backend
    only; never raises."""
    try:
        backend = sync_incremental_task.get_backend()
        if not _uses_database(backend):
            return
        from django_tasks_db.models import DBTaskResult

        pending = DBTaskResult.objects.filter(
            task_path=sync_incremental_task.module_path, backend_name=backend.alias, status="READY"
        )
        if not pending.update(run_after=timezone.now()) and not sync.sync_is_running():
            sync_schedule_ensure()
    except Exception:  # noqa: BLE001 - the minute's poll comes all the same
        logger.exception("could not bring the sync poll forward")


@receiver(signals.wix_answers_again)
def _wix_answers_again(sender: Any, **kwargs: Any) -> None:
    sync_poll_now()


def sync_full_enqueue() -> bool:
    """Queue a full sync unless one is running or already queued. Returns True if it queued.

    With the immediate backend (tests) the sync runs before this returns.
    """
    if sync.sync_is_running():
        return False
    backend = sync_full_task.get_backend()
    if _uses_database(backend):
        sync.sync_states_ensure()
        with transaction.atomic():
            SyncState.objects.select_for_update().filter(kind=SyncState.Kind.SERVICES).first()
            if _queued(sync_full_task):
                return False
            sync_full_task.enqueue()
        return True
    sync_full_task.enqueue()
    return True


def sync_request(*, user: Any) -> bool:
    """ "Sync now": queue a full sync (unless one is running or queued), keep the regular poll
    alive, and record who asked. Returns whether a sync was queued."""
    queued = sync_full_enqueue()
    sync_schedule_ensure(delay=poll_interval())
    audit.audit_record(
        user=user,
        action="sync.requested",
        obj_type="sync",
        obj_id="",
        summary="Started a full sync with Wix" if queued else "Asked for a sync with Wix (one was already running)",
    )
    return queued


def sync_full_queued() -> bool:
    """A full sync is waiting for the worker (database backend only; others cannot tell)."""
    return _queued(sync_full_task)


# --- desk actions ---------------------------------------------------------------------------------

DESK_PUSH_LIMIT = 2000  # actions per run; the follow-up run takes the rest


@task()
def push_desk_actions() -> dict[str, Any]:
    """Push the desk actions that are due to Wix (``services.push``), then queue the next run
    for when the earliest waiting one (undo window, retry backoff) becomes due."""
    try:
        with get_wix_client() as wix:
            report = push.push_desk_actions_now(wix=wix, limit=DESK_PUSH_LIMIT)
    except WixConfigError as exc:
        logger.error("desk push: Wix is not configured: %s", exc)
        return {"error": str(exc)}
    finally:
        if push_desk_actions.get_backend().supports_defer:
            push_schedule_next()
    return report.as_dict()


def push_schedule(*, run_after: datetime | None = None) -> None:
    """Queue the push (at ``run_after``) unless one is already waiting to run by then. Never
    raises: the actions are stored, and the next push (or the worker's own follow-up) picks them
    up. With the immediate backend (tests) the push runs before this returns."""
    try:
        task_obj = push_desk_actions
        now = timezone.now()
        if _queued(task_obj, by=run_after or now):
            return
        if run_after is not None and run_after > now:
            task_obj = task_obj.using(run_after=run_after)
        task_obj.enqueue()
    except Exception:  # noqa: BLE001 - a queue hiccup must never fail a desk click
        logger.exception("desk push: could not enqueue the push task")


def push_schedule_next() -> datetime | None:
    """After a run: queue the next one for when the earliest waiting action becomes due
    (``push.push_next_due``). Returns when, or None when nothing waits."""
    when = push.push_next_due()
    if when is not None:
        push_schedule(run_after=when)
    return when


@receiver(signals.desk_actions_queued)
def _desk_actions_queued(sender: Any, *, run_after: datetime, **kwargs: Any) -> None:
    push_schedule(run_after=run_after)


# --- after a crash --------------------------------------------------------------------------------


def worker_recover() -> workers.Reaped:
    """Take up what dead workers left, then queue the push for when the earliest waiting action
    is due (see the module docstring). Every poll runs it; it never raises (a hiccup here must
    not break the poll chain, and the next poll tries again)."""
    reaped = workers.Reaped()
    try:
        if _uses_database(push_desk_actions.get_backend()):
            reaped = workers.workers_reap()
        if push_desk_actions.get_backend().supports_defer:
            push_schedule_next()
        if _uses_database(export_job_task.get_backend()):
            exports_take_up()
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("worker recovery failed; the next poll tries again")
    try:
        reports_cache.marks_fold()  # keeps the payment report's log of changes short …
        reports_cache.figures_warm()  # … and its figures of this month and last worked out
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("folding the report's marks failed; the next poll tries again")
    return reaped


def worker_started(worker_id: str) -> workers.Reaped:
    """A worker process starts (``manage.py db_worker``): from now on it beats, and before it
    takes its first task it takes up what a killed worker left, restarts the poll chain if that
    died with it (a poll due now: the mirror may be minutes old) and queues the waiting push."""
    reaped = worker_recover()
    try:
        sync_schedule_ensure()
    except Exception:  # noqa: BLE001 - the worker must start all the same
        logger.exception("worker %s: could not queue the poll", worker_id)
    logger.info(
        "worker %s started: %s",
        worker_id,
        "nothing to take up" if not reaped else f"took up {len(reaped.tasks)} task(s), {reaped.actions} desk action(s)",
        extra={"event": "worker.started", "worker_id": worker_id},
    )
    return reaped


# --- the drift watchdog: one booking read from Wix again (issue 12) ---------------------------------


@task()
def booking_resync_task(booking_id: int) -> dict[str, Any]:
    """Read one booking (its order, payments, attendance, the member's plans) from Wix again
    (``services.drift.booking_resync``); a failure is recorded for the manager who asked."""
    try:
        with get_wix_client() as wix:
            return drift.booking_resync(wix=wix, booking_id=booking_id)
    except (WixConfigError, WixError) as exc:
        logger.warning("drift: re-reading booking %s from Wix failed: %s", booking_id, exc)
        audit.audit_record(
            user="worker",
            action="drift.resync_failed",
            obj_type="booking",
            obj_id=booking_id,
            summary=f"Could not read the booking from Wix: {exc}",
        )
        return {"error": str(exc)}


def booking_resync_request(*, user: Any, booking: Booking) -> None:
    """ "Re-sync this booking": record who asked, then queue the read (with the immediate backend,
    in tests, it runs before this returns). Raises ``BookingError`` ``not_in_wix``."""
    drift.booking_resync_requested(user=user, booking=booking)
    booking_resync_task.enqueue(booking.pk)


# --- exports written in the background, with a progress bar (issue 12) ------------------------------


@task()
def export_job_task(job_id: int) -> str:
    """Write one export's file (``services.export_jobs.export_job_run``)."""
    return export_jobs.export_job_run(job_id=job_id)


def exports_take_up() -> list[int]:
    """An export whose worker was killed mid-file says "Writing" for ever, and no task will
    finish it: queue it again (``worker_recover``, after the dead workers' tasks are failed). The
    jobs are read before the tasks, so a job whose task is waiting or running now is left alone;
    a job whose worker died but is not yet known dead is taken up by a later poll."""
    from django_tasks_db.models import DBTaskResult

    stranded = export_jobs.export_jobs_stranded()
    if not stranded:
        return []
    alive = set()
    for args_kwargs in DBTaskResult.objects.filter(
        task_path=export_job_task.module_path, status__in=("READY", "RUNNING")
    ).values_list("args_kwargs", flat=True):
        args = (args_kwargs or {}).get("args") or []
        if args:
            alive.add(args[0])
    requeued = export_jobs.export_jobs_requeue(job for job in stranded if job not in alive)
    for job_id in requeued:
        export_job_task.enqueue(job_id)
    return requeued


def export_job_enqueue(job: Any) -> None:
    """Queue the job's file for the worker (with the immediate backend, in tests, written before
    this returns)."""
    export_job_task.enqueue(job.pk)


# --- participant imports ----------------------------------------------------------------------------

_import_running = False  # an immediate backend runs the task inline: never queue it again from inside


@task()
def import_run_task() -> dict[str, Any]:
    """Run the participant imports that are due (``services.imports.run``), then queue the next run."""
    global _import_running
    defer = import_run_task.get_backend().supports_defer
    if defer and imports_run.imports_next_due() is not None:
        # The watchdog: a worker killed mid-run leaves the import's lease to run out; this run goes on then.
        import_schedule(run_after=timezone.now() + imports_run.LEASE + timedelta(seconds=5))
    _import_running = True
    try:
        with get_wix_client() as wix:
            when = imports_run.imports_run_due(wix=wix)
    except WixConfigError as exc:
        logger.error("imports: Wix is not configured: %s", exc)
        return {"error": str(exc)}
    finally:
        _import_running = False
        if defer:
            following = imports_run.imports_next_due()
            if following is not None:
                import_schedule(run_after=following)
    return {"next": when.isoformat() if when else None}


def import_schedule(*, run_after: datetime | None = None) -> None:
    """Queue the import runner (at ``run_after``) unless one is already waiting to run by then.
    Never raises: the import is stored, and its page can resume it."""
    try:
        task_obj = import_run_task
        if not task_obj.get_backend().supports_defer:
            if not _import_running:  # inline: never from inside the run itself
                task_obj.enqueue()
            return
        # Always a time: the database backend stores "now" as the year 9999, which ``_queued(by=…)``
        # would not count as waiting, and the runner would be queued twice.
        when = max(run_after or timezone.now(), timezone.now())
        if _queued(task_obj, by=when):
            return
        task_obj.using(run_after=when).enqueue()
    except Exception:  # noqa: BLE001 - a queue hiccup must never fail the commit
        logger.exception("imports: could not enqueue the import run")


@receiver(signals.imports_queued)
def _imports_queued(sender: Any, *, run_after: datetime, **kwargs: Any) -> None:
    import_schedule(run_after=run_after)
