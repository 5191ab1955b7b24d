"""``manage.py db_worker``: django-tasks-db's worker, plus a heartbeat and recovery at start.

This command shadows django-tasks-db's own (``bookings_app`` comes before ``django_tasks_db`` in
``INSTALLED_APPS``, as ``django.contrib.staticfiles`` does to extend ``runserver``), so every way
of starting a worker — ``make run``, ``serve``, a process manager's ``db_worker`` line — gets
both, with the same options:

- a heartbeat (``bookings_app.workers``), so what this worker holds when it is killed is known
  to be orphaned and is taken up, not left RUNNING for ever;
- before the first task, ``tasks.worker_started``: take up what a killed worker left, restart the
  poll chain, queue the push of every desk action that waits — nobody has to click anything.
"""

from __future__ import annotations

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from bookings_app import tasks, workers


class Command(db_worker.Command):
    help = (
        "Run a database background worker (django-tasks-db's), with a heartbeat; on start it takes up "
        "what a killed worker left and queues the push of every waiting desk action."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload the first process only watches files and restarts a child that runs tasks.
        runs_tasks = not options.get("reload") or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if not runs_tasks:
            super().handle(*args, **options)
            return
        worker_id = options["worker_id"]
        beat = workers.worker_begin(worker_id)
        try:
            tasks.worker_started(worker_id)
            super().handle(*args, **options)
        finally:
            beat.stop()
            workers.heartbeat_forget(worker_id)
