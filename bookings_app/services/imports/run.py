"""Step 4 of a participant import: the runner, in the background worker (``tasks.import_run_task``).

A committed import is released **batch by batch** (``BATCH`` rows: five Bulk Create Booking calls of
40, 25 Bulk Set Attendance calls of 8, one Bulk Confirm Or Decline), and each batch is pushed to Wix
by the worker's own push (``services.push``), which sends every desk action that is due — the
batch's, and any a desk made meanwhile, in the order they were made. The next batch goes out when
this one has reached Wix (or only waits on retries), so a big import never floods the queue in
front of the front desk's clicks, and **Cancel** stops cleanly: no new batch; the rows already out
are finished; the rest stay "not started" until **Resume**.

One runner per import at a time: it holds a lease (``lease_until``), renewed as it goes. A worker
that dies mid-batch leaves the lease to run out; the next run — the watchdog task queued at the
start of every run, or Resume — takes over: the rows written are found written (their desk
actions carry the row's keys), the push finds what Wix made before the crash (it reconciles a lost
answer before sending again), and nothing is made twice. A run works for ``SLICE`` at most, then
asks to be run again, so the worker's other tasks (the sync poll) get their turn.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings_app.models import DeskAction, ImportRow, ParticipantImport
from bookings_app.services import desk, push
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError
from bookings_app.services.imports import results
from bookings_app.services.imports.commit import batch_release, run_wanted
from bookings_app.wix import WixClient

logger = logging.getLogger("bookings_app.services.imports")

Status = ParticipantImport.Status
State = ImportRow.State
BATCH = 200
MAX_IN_FLIGHT = 2 * BATCH  # rows out at once while some wait on Wix retries
LEASE = timedelta(minutes=10)
SLICE_SECONDS = 50.0
IDLE_RECHECK = timedelta(seconds=30)


def imports_run_due(*, wix: WixClient, slice_seconds: float | None = None) -> datetime | None:
    """Run each import that is due (one slice each). Returns when the next one is due (None: none)."""
    now = timezone.now()
    due = ParticipantImport.objects.filter(status__in=ParticipantImport.ACTIVE_STATUSES, next_run_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    for imported in due.order_by("next_run_at", "pk"):
        import_run(wix=wix, imported=imported, slice_seconds=slice_seconds)
    return imports_next_due()


def imports_next_due() -> datetime | None:
    """When an import should next be run: its ``next_run_at``, or when a dead runner's lease ends."""
    moments = []
    for next_run_at, lease_until in ParticipantImport.objects.filter(
        status__in=ParticipantImport.ACTIVE_STATUSES
    ).values_list("next_run_at", "lease_until"):
        candidates = [m for m in (next_run_at, lease_until) if m is not None]
        if candidates:
            moments.append(max(candidates))
    if not moments:
        return None
    return max(min(moments), timezone.now())


def import_run(*, wix: WixClient, imported: ParticipantImport, slice_seconds: float | None = None) -> None:
    """Release and push this import's batches for up to ``slice_seconds`` (``SLICE_SECONDS``); finish it
    when every row has a result (or, cancelling, every row sent has one). Raises nothing from Wix."""
    slice_seconds = SLICE_SECONDS if slice_seconds is None else slice_seconds
    if not _claim(imported):
        return
    started = clock.monotonic()
    idle = False
    try:
        while True:
            imported.refresh_from_db()
            results.rows_refresh(imported)
            counts = results.counts_update(imported)
            if counts.waiting == 0 and (imported.status == Status.CANCELLING or counts.planned == 0):
                _finish(imported)
                break
            released = False
            may_release = imported.status == Status.RUNNING and counts.planned > 0
            if may_release and (counts.waiting == 0 or (idle and counts.waiting < MAX_IN_FLIGHT)):
                batch_release(imported=imported, limit=BATCH)
                released = True
            report = push.push_desk_actions_now(wix=wix)
            if report.claimed == 0 and not released:
                if idle:  # nothing to release, nothing due: rows wait on Wix retries
                    _again(imported, push.push_next_due() or timezone.now() + IDLE_RECHECK)
                    break
                idle = True
            else:
                idle = False
            if clock.monotonic() - started > slice_seconds:
                results.rows_refresh(imported)  # the progress bar shows this slice's work till the next
                results.counts_update(imported)
                _again(imported, timezone.now())
                break
            ParticipantImport.objects.filter(pk=imported.pk).update(lease_until=timezone.now() + LEASE)
    except Exception:
        # A bug or the database: try again in a while. (A worker killed outright leaves the lease
        # to run out instead: the watchdog run takes over then.)
        logger.exception("import %s: the run failed", imported.pk)
        _again(imported, timezone.now() + IDLE_RECHECK)
        ParticipantImport.objects.filter(pk=imported.pk).update(lease_until=None)
        raise
    ParticipantImport.objects.filter(pk=imported.pk).update(lease_until=None)


def _claim(imported: ParticipantImport) -> bool:
    now = timezone.now()
    return bool(
        ParticipantImport.objects.filter(pk=imported.pk, status__in=ParticipantImport.ACTIVE_STATUSES)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )


def _again(imported: ParticipantImport, when: datetime) -> None:
    with transaction.atomic():
        ParticipantImport.objects.filter(pk=imported.pk).update(next_run_at=when)
        run_wanted(run_after=when)


def _finish(imported: ParticipantImport) -> None:
    status = Status.CANCELLED if imported.status == Status.CANCELLING else Status.DONE
    now = timezone.now()
    ParticipantImport.objects.filter(pk=imported.pk).update(status=status, finished_at=now, next_run_at=None)
    imported.status, imported.finished_at = status, now
    verb = "Stopped" if status == Status.CANCELLED else "Finished"
    audit_record(
        user="worker",
        action="import.cancelled" if status == Status.CANCELLED else "import.done",
        obj_type="participant_import",
        obj_id=imported.pk,
        summary=(
            f"{verb} importing {imported.file_name}: {imported.rows_done} rows done, {imported.rows_failed} "
            f"failed, {imported.rows_planned} not started"
        ),
        after={"done": imported.rows_done, "failed": imported.rows_failed, "not_started": imported.rows_planned},
    )


# --- what the admin can do while it runs -------------------------------------------------------------


def import_cancel(*, user: Any, imported: ParticipantImport) -> ParticipantImport:
    """Stop after the batch on its way: no new batch is released. Raises ``BookingError``
    ``not_running``."""
    with transaction.atomic():
        imp = ParticipantImport.objects.select_for_update().get(pk=imported.pk)
        if imp.status != Status.RUNNING:
            raise BookingError("This import isn't running, so there is nothing to stop.", code="not_running")
        imp.status, imp.next_run_at = Status.CANCELLING, timezone.now()
        imp.save(update_fields=["status", "next_run_at"])
        _audit(user, imp, "import.cancel", f"Asked to stop importing {imp.file_name} after the current batch")
        run_wanted(run_after=imp.next_run_at)
    return imp


def import_resume(*, user: Any, imported: ParticipantImport) -> ParticipantImport:
    """Go on with a stopped import (the rows not started), or restart one whose runner died.
    Raises ``BookingError`` ``not_resumable``."""
    with transaction.atomic():
        imp = ParticipantImport.objects.select_for_update().get(pk=imported.pk)
        stalled = imp.status == Status.RUNNING and import_stalled(imp)
        if imp.status not in (Status.CANCELLED, Status.CANCELLING) and not stalled:
            raise BookingError("This import is not stopped.", code="not_resumable")
        now = timezone.now()
        imp.status, imp.next_run_at, imp.finished_at = Status.RUNNING, now, None
        if stalled:
            imp.lease_until = None
        imp.save(update_fields=["status", "next_run_at", "finished_at", "lease_until"])
        _audit(user, imp, "import.resume", f"Resumed importing {imp.file_name}")
        run_wanted(run_after=now)
    return imp


def import_retry(*, user: Any, imported: ParticipantImport) -> int:
    """Send again what Wix refused, row by row (each refused desk action is retried as the roster's
    Retry does). Returns the rows retried. Raises ``BookingError`` ``not_retryable``."""
    results.rows_refresh(imported, states=(State.WAITING, State.FAILED))
    rows = list(imported.rows.filter(state=State.FAILED))
    ids = {pk for r in rows for pk in r.actions}
    refused = {
        a.pk: a
        for a in DeskAction.objects.filter(pk__in=ids, status=DeskAction.Status.NEEDS_ATTENTION).select_related(
            "booking__contact", "contact"
        )
    }
    retried = 0
    for row in rows:
        mine = [refused[pk] for pk in row.actions if pk in refused]
        if not mine:
            continue
        for action in mine:
            try:
                desk.action_resolve(user=user, action=action, choice="retry")
            except BookingError as exc:
                if exc.code != "not_needing_attention":  # retried from the roster meanwhile: fine
                    raise
        ImportRow.objects.filter(pk=row.pk).update(state=State.WAITING, message="")
        retried += 1
    if not retried:
        raise BookingError("No row of this import is waiting for a retry.", code="not_retryable")
    with transaction.atomic():
        imp = ParticipantImport.objects.select_for_update().get(pk=imported.pk)
        now = timezone.now()
        if imp.status == Status.DONE:
            imp.status, imp.finished_at = Status.RUNNING, None
        elif imp.status == Status.CANCELLED:
            imp.status, imp.finished_at = Status.CANCELLING, None  # only the retried rows; the rest stay stopped
        imp.next_run_at = now
        imp.save(update_fields=["status", "finished_at", "next_run_at"])
        _audit(user, imp, "import.retry", f"Retrying {retried} rows of {imp.file_name} that Wix refused")
        run_wanted(run_after=now)
    return retried


def import_stalled(imported: ParticipantImport) -> bool:
    """Running, but no runner is on it and none is due: the worker stopped (Resume restarts it)."""
    if imported.status not in ParticipantImport.ACTIVE_STATUSES:
        return False
    now = timezone.now()
    if imported.lease_until is not None:
        return imported.lease_until < now
    return imported.next_run_at is None or imported.next_run_at < now - LEASE


def _audit(user: Any, imported: ParticipantImport, action: str, summary: str) -> None:
    audit_record(
        user=user,
        action=action,
        obj_type="participant_import",
        obj_id=imported.pk,
        summary=summary,
        after={"status": imported.status},
    )
