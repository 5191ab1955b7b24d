"""A background export's file kept in chunks (``services/export_jobs.py``, ``ExportChunk``): it comes
back byte for byte through the download, a job run again keeps one copy, the chunks go with their
job, and neither storing nor serving a file holds more than a few chunks in memory, whatever its
size (tracemalloc peaks, never timings)."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bookings_app.models import ExportChunk, ExportJob
from bookings_app.services import export_jobs
from tests.factories import AuditEntryFactory, ExportJobFactory

pytestmark = pytest.mark.django_db

SMALL_CHUNK = 1024


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ExportChunk, "CHUNK_SIZE", SMALL_CHUNK)


@pytest.fixture
def written(monkeypatch):
    """What the runner wrote into its spool, kept as it is handed to ``_stored``."""
    files: list[bytes] = []
    real = export_jobs._stored

    def keeping(job_id, fh, *, file_name):
        files.append(fh.read())
        fh.seek(0)
        return real(job_id, fh, file_name=file_name)

    monkeypatch.setattr(export_jobs, "_stored", keeping)
    return files


def run(user, fmt: str) -> ExportJob:
    job = export_jobs.export_job_create(user=user, spec=export_jobs.spec_get("audit"), fmt=fmt, query="")
    assert export_jobs.export_job_run(job_id=job.pk) == "DONE"
    return ExportJob.objects.get(pk=job.pk)


def download(client, job: ExportJob):
    response = client.get(reverse("export_job_download", args=[job.pk]))
    assert response.status_code == 200 and response.streaming
    return response, b"".join(response.streaming_content)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_of_many_chunks_comes_back_byte_for_byte(manager_client, manager_user, small_chunks, written, fmt):
    for i in range(300):
        AuditEntryFactory(summary=f"entry {i} " + "x" * (i % 40), action="payment.cash")

    job = run(manager_user, fmt)
    response, body = download(manager_client, job)

    chunks = list(ExportChunk.objects.filter(job=job).order_by("seq").values_list("seq", "data"))
    assert len(chunks) >= 5 and [seq for seq, _ in chunks] == list(range(len(chunks)))
    assert all(len(data) == SMALL_CHUNK for _, data in chunks[:-1]) and 0 < len(chunks[-1][1]) <= SMALL_CHUNK
    assert body == written[0] and job.size == len(body) == int(response["Content-Length"])
    assert response["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"
    if fmt == "csv":
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == 301
    else:
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert len(list(load_workbook(io.BytesIO(body), read_only=True).active.iter_rows())) == 301


def test_a_job_run_again_keeps_one_copy(manager_client, manager_user, small_chunks):
    for _ in range(100):
        AuditEntryFactory()
    job = run(manager_user, "csv")
    first = download(manager_client, job)[1]
    count = ExportChunk.objects.filter(job=job).count()

    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.QUEUED)  # as a retried task would
    assert export_jobs.export_job_run(job_id=job.pk) == "DONE"

    assert ExportChunk.objects.filter(job=job).count() == count > 1
    assert download(manager_client, job)[1] == first


def test_a_file_that_breaks_while_stored_leaves_no_chunks(manager_user, small_chunks, monkeypatch):
    for _ in range(100):
        AuditEntryFactory()
    real = ExportChunk.objects.create
    calls = []

    def breaking(**fields):
        calls.append(fields["seq"])
        if len(calls) == 3:
            raise OSError("the database went away")
        return real(**fields)

    monkeypatch.setattr(ExportChunk.objects, "create", breaking)
    job = export_jobs.export_job_create(user=manager_user, spec=export_jobs.spec_get("audit"), fmt="csv", query="")

    assert export_jobs.export_job_run(job_id=job.pk) == "FAILED"
    assert not ExportChunk.objects.exists()  # the two stored before the break went with it
    job.refresh_from_db()
    assert (job.status, job.size, job.error) == ("FAILED", 0, "the database went away")


def test_the_chunks_go_with_their_job_without_being_read(manager_user, small_chunks):
    for _ in range(100):
        AuditEntryFactory()
    old = run(manager_user, "csv")
    kept = run(manager_user, "csv")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - ExportJob.KEEP * 2)

    with CaptureQueriesContext(connection) as queries:
        export_jobs.export_job_create(user=manager_user, spec=export_jobs.spec_get("audit"), fmt="csv", query="")

    assert not ExportChunk.objects.filter(job_id=old.pk).exists()
    assert ExportChunk.objects.filter(job_id=kept.pk).count() > 1
    assert not [q for q in queries if '"data"' in q["sql"] and "DELETE" not in q["sql"]]  # deleted, never fetched
    kept.delete()
    assert not ExportChunk.objects.exists()


# --- memory: a bound that does not grow with the file -----------------------------------------------

CHUNKS = 24  # the file measured: this many full chunks (12 MB)
OVERHEAD = 1024 * 1024  # what a query costs whatever its size (the ORM, the driver, tracemalloc's own)
# A chunk costs about 2 of itself on SQLite; on PostgreSQL about 7 while it is inserted (Django's
# psycopg binds client-side: the bytea is hex-escaped into the SQL text, then encoded), 2 when read.
PER_CHUNK = 8


def bound() -> int:
    return PER_CHUNK * ExportChunk.CHUNK_SIZE + OVERHEAD


def test_the_bound_is_well_below_the_files_size():
    assert CHUNKS * ExportChunk.CHUNK_SIZE > 2 * bound()


def _big_file() -> bytes:
    line = b"0123456789abcdef,=SUM(A1),\xc3\xa9t\xc3\xa9\r\n"  # not all one byte: no accidental sharing
    return (line * (CHUNKS * ExportChunk.CHUNK_SIZE // len(line) + 1))[: CHUNKS * ExportChunk.CHUNK_SIZE]


def test_storing_a_file_takes_a_few_chunks_of_memory_whatever_its_size(manager_user):
    job = ExportJobFactory(created_by=manager_user, status=ExportJob.Status.RUNNING)
    fh = io.BytesIO(_big_file())

    tracemalloc.start()
    try:
        size = export_jobs._stored(job.pk, fh, file_name="audit.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert size == CHUNKS * ExportChunk.CHUNK_SIZE and ExportChunk.objects.filter(job=job).count() == CHUNKS
    assert peak < bound(), f"peak {peak / 2**20:.1f} MB for a {size / 2**20:.0f} MB file"


def test_serving_a_file_takes_a_few_chunks_of_memory_whatever_its_size(manager_client, manager_user):
    job = ExportJobFactory(created_by=manager_user, status=ExportJob.Status.RUNNING)
    content = _big_file()
    export_jobs._stored(job.pk, io.BytesIO(content), file_name="audit.csv")
    response = manager_client.get(reverse("export_job_download", args=[job.pk]))
    size = 0

    tracemalloc.start()
    try:
        for piece in response.streaming_content:
            assert piece == content[size : size + len(piece)]
            size += len(piece)
            del piece
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert size == len(content) == int(response["Content-Length"])
    assert peak < bound(), f"peak {peak / 2**20:.1f} MB for a {size / 2**20:.0f} MB file"
