"""The import runner in the background worker (``tasks.import_run_task``): a commit queues it once, each run
queues a watchdog for when its lease would run out and the next run for when the import is due again, a
finished import leaves nothing queued — and a backend that cannot defer (the tests' immediate one) runs
it inline without recursing."""

from __future__ import annotations

import contextlib

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app import tasks
from bookings_app.models import ParticipantImport
from bookings_app.services.imports import run
from tests.services.imports.helpers import ImportWorld, checked, committed, csv_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "bookings_app.tasks.import_run_task"


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=PATH, status="READY").order_by("run_after"))


def test_a_commit_queues_the_runner_once_and_a_run_queues_its_watchdog_and_the_next(
    iw: ImportWorld, desk_user, booking_only, monkeypatch
) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(4)]
    w.mirror(*people)
    imported = checked(desk_user, csv_bytes([iw.row(p, paid="cash") for p in people]))
    with transaction.atomic():
        committed(desk_user, imported)
    tasks.import_schedule(run_after=timezone.now())  # asked twice: still one

    assert len(queued()) == 1
    monkeypatch.setattr(run, "BATCH", 2)
    monkeypatch.setattr(run, "SLICE_SECONDS", -1.0)  # one batch a run: the next run is queued at once
    monkeypatch.setattr(tasks, "get_wix_client", lambda: contextlib.nullcontext(w.wix))

    DBTaskResult.objects.all().delete()
    tasks.import_run_task.call()

    watchdog, following = sorted(queued(), key=lambda t: t.run_after, reverse=True)
    assert watchdog.run_after - timezone.now() > run.LEASE  # when this run's lease would have run out
    assert following.run_after <= timezone.now()  # the rest of the import: at once
    assert ParticipantImport.objects.get().rows_done == 2
    for _ in range(3):
        DBTaskResult.objects.all().delete()
        tasks.import_run_task.call()
    imported.refresh_from_db()
    assert imported.status == "DONE" and imported.rows_done == 4

    DBTaskResult.objects.all().delete()
    tasks.import_run_task.call()  # a watchdog after the end: nothing to do, nothing queued
    assert queued() == []


def test_a_backend_that_cannot_defer_runs_the_import_inline_once(
    iw: ImportWorld, desk_user, immediate_tasks, booking_only, monkeypatch
) -> None:
    w = iw.w
    amy = w.customer("Amy")
    w.mirror(amy)
    monkeypatch.setattr(tasks, "get_wix_client", lambda: contextlib.nullcontext(w.wix))
    imported = checked(desk_user, csv_bytes([iw.row(amy, paid="cash")]))

    with transaction.atomic():
        committed(desk_user, imported)  # the commit's signal runs the task at once

    imported.refresh_from_db()
    assert imported.status == "DONE" and imported.rows_done == 1
    assert not DBTaskResult.objects.exists()
