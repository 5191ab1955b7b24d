"""Exports too big to wait for: written by the background worker, with a progress bar, then
downloaded (issue 12, item 6 — "a progress indication for large exports").

Any screen's export can use it. An export is **registered** in :data:`EXPORTS` under a name: its
title, the permission it needs besides ``export_data``, and its *builder* — the dotted path of a
function that reads the screen's filters from a ``QueryDict`` (the export link's query string) and
returns an :class:`ExportSource` (the ``services.exports.Table`` and how many rows it will write),
or raises :class:`ExportParamsError` with a message for filters it cannot read. The builder is
named by path, not imported here, so this module depends on no screen; the worker imports it when
it runs the job.

``views.export_jobs.export_or_offer(request, name)`` is what an export view calls: up to
``EXPORT_BACKGROUND_ROWS`` rows download at once (streamed, as ``services.exports`` writes them);
above, the page offers to prepare the file in the background. :func:`export_job_create` stores the
request (who, which export, the filters, the format); the task ``tasks.export_job_task`` calls
:func:`export_job_run`, which writes the file (``exports.csv_chunks`` / ``exports.write_xlsx``, in
constant memory) into a spooled temporary file, counting rows into the job as it goes, then keeps
the file in the database for its owner to download, as ``ExportChunk`` rows of
``ExportChunk.CHUNK_SIZE`` bytes: stored one chunk per INSERT (:func:`_stored`) and read back one
chunk per query (:func:`export_file_chunks`), so the memory either side takes is a chunk or two,
whatever the file's size.

To register another export: add ``ExportSpec("owes", "Owes list", roles.VIEW_REPORTS,
"bookings_app.views.owes.owes_export_source", "owes")`` and write that builder; its export view is
``return export_or_offer(request, "owes")``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.module_loading import import_string

from bookings_app import roles
from bookings_app.models import ExportChunk, ExportJob
from bookings_app.services import exports
from bookings_app.services.errors import BookingError

logger = logging.getLogger("bookings_app.services.export_jobs")

PROGRESS_EVERY = 500  # rows between two progress writes
MAX_QUERY = 2000  # characters of filters a job keeps
SPOOL_MEMORY = 1024 * 1024  # bytes of a file kept in memory while written; beyond, the spool is on disk


class ExportParamsError(ValueError):
    """The export's filters cannot be read; the message says which and why (answered 400)."""


@dataclass(frozen=True)
class ExportSource:
    table: exports.Table
    rows: int  # how many rows ``table`` will give (the threshold and the progress bar use it)


@dataclass(frozen=True)
class ExportSpec:
    name: str
    title: str
    permission: str  # besides roles.EXPORT_DATA
    builder: str  # dotted path: (QueryDict) -> ExportSource, raising ExportParamsError
    page: str = ""  # the URL name of the screen it exports (the job's page links back to it)


EXPORTS: dict[str, ExportSpec] = {
    spec.name: spec
    for spec in (
        ExportSpec("audit", "Audit trail", roles.VIEW_AUDIT, "bookings_app.views.audit.audit_export_source", "audit"),
    )
}


def spec_get(name: str) -> ExportSpec:
    """The registered export ``name``. Raises ``ExportParamsError``."""
    spec = EXPORTS.get(name or "")
    if spec is None:
        raise ExportParamsError("There is no such export.")
    return spec


def may_export(user: Any, spec: ExportSpec) -> bool:
    return bool(user.has_perm(roles.EXPORT_DATA) and user.has_perm(spec.permission))


def export_source(spec: ExportSpec, query: QueryDict) -> ExportSource:
    """What ``spec``'s builder makes of ``query``. Raises ``ExportParamsError``."""
    builder: Callable[[QueryDict], ExportSource] = import_string(spec.builder)
    return builder(query)


def job_query(query: QueryDict) -> str:
    """The filters a job keeps: the query string without the format."""
    kept = query.copy()
    kept.pop("format", None)
    return kept.urlencode()


def export_job_create(*, user: Any, spec: ExportSpec, fmt: str, query: str) -> ExportJob:
    """Ask for ``spec``'s export in the background (the caller queues the task). The filters are
    read now, so a job is never stored for filters that cannot be read; finished jobs older than
    ``ExportJob.KEEP`` are deleted. Raises ``ExportParamsError``, ``BookingError`` ``forbidden``."""
    if not may_export(user, spec):
        raise BookingError("You may not export this.", code="forbidden")
    if len(query) > MAX_QUERY:
        raise ExportParamsError("These filters are too long to keep.")
    fmt = exports.parse_format(fmt)
    source = export_source(spec, QueryDict(query))
    ExportJob.objects.filter(created_at__lt=timezone.now() - ExportJob.KEEP).delete()
    return ExportJob.objects.create(name=spec.name, query=query, fmt=fmt, created_by=user, rows_total=source.rows)


def export_jobs_stranded() -> list[int]:
    """The jobs a file is being written for (RUNNING): the worker's recovery asks which of them
    still have a task that will finish them (:func:`export_jobs_requeue`)."""
    return list(ExportJob.objects.filter(status=ExportJob.Status.RUNNING).values_list("pk", flat=True))


def export_jobs_requeue(job_ids: Iterable[int]) -> list[int]:
    """``job_ids`` — jobs that were RUNNING with no task left to finish them (their worker was
    killed mid-file) — back to QUEUED, from the first row; returns those still RUNNING until now,
    for the caller to queue again. Their file is written afresh: ``_stored`` replaces a job's
    chunks whole, so a run that somehow goes on as well still leaves one copy."""
    ids = sorted(set(job_ids))
    if not ids:
        return []
    with transaction.atomic():
        taken = list(
            ExportJob.objects.select_for_update()
            .filter(pk__in=ids, status=ExportJob.Status.RUNNING)
            .values_list("pk", flat=True)
        )
        ExportJob.objects.filter(pk__in=taken).update(status=ExportJob.Status.QUEUED, rows_done=0)
    for job_id in taken:
        logger.warning("export job %s: its worker died while writing it; written again from the start", job_id)
    return taken


def export_job_run(*, job_id: int) -> str:
    """Write the job's file: its rows counted into ``rows_done`` every ``PROGRESS_EVERY``, the file
    kept in chunks. Returns the job's status. A job already taken (or gone) is left alone."""
    taken = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, rows_done=0
    )
    if not taken:
        return "skipped"
    job = ExportJob.objects.get(pk=job_id)
    try:
        source = export_source(spec_get(job.name), QueryDict(job.query))
        ExportJob.objects.filter(pk=job.pk).update(rows_total=source.rows)
        table = exports.Table(
            name=source.table.name,
            headers=source.table.headers,
            rows=_counted(job.pk, source.table.rows),
            sheet_title=source.table.sheet_title,
        )
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
            _write(table, job.fmt, spool)
            spool.seek(0)
            _stored(job.pk, spool, file_name=exports.file_name(table, job.fmt))
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job says so and the worker goes on
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:1000] or exc.__class__.__name__, finished_at=timezone.now()
        )
        return ExportJob.Status.FAILED
    return ExportJob.Status.DONE


def _counted(job_id: int, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job_id).update(rows_done=done)
    ExportJob.objects.filter(pk=job_id).update(rows_done=done)


def _write(table: exports.Table, fmt: str, fh: IO[bytes]) -> None:
    """The file, written into ``fh`` (a spooled temporary file: in memory up to ``SPOOL_MEMORY``, then on
    disk)."""
    if fmt == "csv":
        for chunk in exports.csv_chunks(table):
            fh.write(chunk)
    else:
        exports.write_xlsx(table, fh)


def _stored(job_id: int, fh: IO[bytes], *, file_name: str) -> int:
    """Keep the file read from ``fh`` as the job's chunks, one INSERT each (one chunk in memory at
    a time), and mark the job DONE. All in one transaction, which first deletes any chunks the job
    already has: a job run again (or a run that broke half-way) never leaves two copies, or half a
    file behind a DONE. Returns the file's size."""
    size = 0
    with transaction.atomic():
        ExportChunk.objects.filter(job_id=job_id).delete()
        for seq, data in enumerate(iter(lambda: fh.read(ExportChunk.CHUNK_SIZE), b"")):
            ExportChunk.objects.create(job_id=job_id, seq=seq, data=data)
            size += len(data)
            del data  # the next chunk is read before this one would go otherwise
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.DONE, size=size, file_name=file_name, finished_at=timezone.now()
        )
    return size


def export_file_chunks(job_id: int) -> Iterator[bytes]:
    """The job's file, one chunk per query (for a streamed download: a chunk in memory at a time).
    Ends early if the job is deleted on the way (the download then falls short of its length)."""
    pks = list(ExportChunk.objects.filter(job_id=job_id).order_by("seq").values_list("pk", flat=True))
    for pk in pks:
        data = ExportChunk.objects.filter(pk=pk).values_list("data", flat=True).first()
        if data is None:
            return
        yield bytes(data)


def export_job_get(*, user: Any, job_id: int) -> ExportJob | None:
    """The job, if it is ``user``'s (a file is private to who asked for it)."""
    if not 0 < job_id < 2**63:
        return None
    return ExportJob.objects.filter(pk=job_id, created_by=user).first()
