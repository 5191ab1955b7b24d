"""Exports in the background (``views/export_jobs.py``, ``services/export_jobs.py``): starting one,
its progress polled by htmx, its download; private to whoever asked; bad input 4xx, nothing made."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from bookings_app.models import ExportChunk, ExportJob
from bookings_app.selectors import audit as audit_read
from bookings_app.services import export_jobs
from tests.factories import AuditEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

START = "/exports/"


@pytest.fixture
def immediate(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "sync"]}
    }


def start(client, **fields):
    data = {"export": "audit", "format": "csv", "query": "kind=payments", **fields}
    return client.post(START, data)


def test_a_background_export_is_written_and_downloaded_by_whoever_asked(manager_client, manager_user, immediate):
    for i in range(3):
        AuditEntryFactory(summary=f"=cmd {i}", action="payment.cash")
    AuditEntryFactory(summary="not a payment", action="attendance.mark")

    response = start(manager_client)

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("export_job", args=[job.pk])
    assert (job.created_by, job.status, job.rows_total, job.rows_done) == (manager_user, "DONE", 3, 3)
    page = manager_client.get(response.url).content.decode()
    assert "Ready" in page and f'href="/exports/{job.pk}/download/"' in page and "hx-trigger" not in page
    download = manager_client.get(reverse("export_job_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="audit-')
    body = b"".join(download.streaming_content)
    assert download["Content-Length"] == str(len(body)) and download["Cache-Control"] == "no-store"
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header == list(audit_read.EXPORT_HEADERS) and len(rows) == 3
    assert {r[4] for r in rows} == {"'=cmd 0", "'=cmd 1", "'=cmd 2"}


def test_an_xlsx_job_twice_in_a_row(manager_client, immediate):
    AuditEntryFactory()

    for _ in range(2):
        assert start(manager_client, format="xlsx", query="").status_code == 302

    assert [j.status for j in ExportJob.objects.all()] == ["DONE", "DONE"]
    assert all(j.file_name.endswith(".xlsx") and j.size > 0 for j in ExportJob.objects.all())


def test_while_it_is_written_the_page_shows_its_progress_and_polls(manager_client, manager_user):
    job = ExportJob.objects.create(
        name="audit", fmt="csv", created_by=manager_user, status="RUNNING", rows_total=200, rows_done=50
    )
    url = reverse("export_job", args=[job.pk])

    page = manager_client.get(url).content.decode()
    fragment = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert "50 of 200 rows written (25%)" in page and '<progress max="100" value="25"' in page
    assert f'hx-get="{url}" hx-trigger="every 1s"' in page
    assert fragment.lstrip().startswith('<section id="export-job"') and "<html" not in fragment
    early = manager_client.get(reverse("export_job_download", args=[job.pk]))
    assert early.status_code == 409 and "still being written" in early.content.decode()


def test_the_runner_counts_rows_as_it_writes(manager_user, monkeypatch):
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 2)
    for _ in range(5):
        AuditEntryFactory()
    job = export_jobs.export_job_create(user=manager_user, spec=export_jobs.spec_get("audit"), fmt="csv", query="")
    seen: list[int] = []
    real = export_jobs._counted

    def watching(job_id, rows):
        for row in real(job_id, rows):
            seen.append(ExportJob.objects.get(pk=job_id).rows_done)
            yield row

    monkeypatch.setattr(export_jobs, "_counted", watching)

    assert export_jobs.export_job_run(job_id=job.pk) == "DONE"
    assert seen == [0, 0, 2, 2, 4]  # progress written every two rows, read as the file is written
    assert ExportJob.objects.get(pk=job.pk).rows_done == 5
    assert export_jobs.export_job_run(job_id=job.pk) == "skipped"  # taken once only


def test_a_job_whose_export_breaks_says_so(manager_client, manager_user, monkeypatch):
    job = ExportJob.objects.create(name="audit", fmt="csv", created_by=manager_user, query="")

    def broken(query):
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(
        export_jobs.EXPORTS, "audit", export_jobs.ExportSpec("audit", "Audit trail", "bookings_app.view_audit", "x.y")
    )
    monkeypatch.setattr(export_jobs, "export_source", lambda spec, query: broken(query))

    assert export_jobs.export_job_run(job_id=job.pk) == "FAILED"
    page = manager_client.get(reverse("export_job", args=[job.pk])).content.decode()
    assert "Failed" in page and "the disk is full" in page and "Try again" in page


def test_someone_elses_job_is_not_found(client, manager_user, staff_roles):
    job = ExportJob.objects.create(name="audit", fmt="csv", created_by=manager_user, status="DONE", size=1)
    ExportChunk.objects.create(job=job, seq=0, data=b"x")
    other = UserFactory(username="other-manager", roles=["Manager"])
    client.force_login(other)

    assert client.get(reverse("export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("export_job_download", args=[job.pk])).status_code == 404


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"export": "everything"}, "no such export"),
        ({"format": "pdf"}, "CSV or XLSX"),
        ({"query": "date_from=yesterday"}, "From: Enter a valid date"),
        ({"query": "q=" + "x" * 2100}, "too long"),
    ],
)
def test_bad_input_is_a_400_and_makes_no_job(manager_client, immediate, fields, says):
    response = start(manager_client, **fields)

    assert response.status_code == 400 and says in response.content.decode()
    assert not ExportJob.objects.exists()


def test_front_desk_may_not_start_an_export(desk_client):
    assert start(desk_client).status_code == 403
    assert not ExportJob.objects.exists()


def test_starting_is_a_post(manager_client):
    assert manager_client.get(START).status_code == 405
