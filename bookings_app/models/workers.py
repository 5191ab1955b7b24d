"""The background workers' heartbeats: which ``manage.py db_worker`` processes are alive.

django-tasks-db records which worker claimed a task (``DBTaskResult.worker_ids``) but not whether
that worker still lives: a SIGKILLed worker leaves its task RUNNING for ever. So every worker
writes its row here every few seconds (``bookings_app.workers``); a RUNNING task — or a desk
action claimed — by a worker whose heartbeat stopped belonged to a dead process and is taken up.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """One running worker process. Deleted when it stops cleanly; a stale row is a dead worker."""

    worker_id = models.CharField(max_length=64, unique=True)
    # Which host and process namespace the pid belongs to: a worker on the same one can tell at
    # once whether the pid still runs (see ``workers.process_place``).
    place = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} (pid {self.pid}, seen {self.seen_at:%H:%M:%S})"
