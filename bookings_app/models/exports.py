"""Exports prepared in the background (``services.export_jobs``): one row per file asked for, with
its progress, and the file itself once written, in chunks.

The file is kept in the database rather than on a disk: the worker that writes it and the web
process that serves it may run on different machines, and both already share the database. It is
kept as :class:`ExportChunk` rows of ``CHUNK_SIZE`` bytes, not as one value in the job's row, so
that neither writing it nor serving it ever holds the whole file in memory: a 50,000-row CSV is
13 MB, and PostgreSQL's client-side binding hex-escapes a bytea parameter into the SQL text, so
one value would cost several copies of the file at once. Files are private to the person who
asked for them and deleted after ``KEEP`` (their chunks with them: ``on_delete=CASCADE``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Waiting for the worker"
        RUNNING = "RUNNING", "Writing"
        DONE = "DONE", "Ready"
        FAILED = "FAILED", "Failed"

    KEEP = timedelta(hours=24)  # a finished file is deleted this long after it was asked for

    name = models.CharField(max_length=64)  # the registered export (``services.export_jobs.EXPORTS``)
    query = models.TextField(blank=True)  # its filters, as the export page's query string
    fmt = models.CharField(max_length=4)  # csv | xlsx
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.fmt} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class ExportChunk(models.Model):
    """One piece of a written export's file: the file is its job's chunks in ``seq`` order."""

    CHUNK_SIZE = 512 * 1024  # bytes; the last chunk of a file may be shorter

    # No index of its own: the unique (job, seq) index starts with it.
    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunks", db_index=False)
    seq = models.PositiveIntegerField()  # 0, 1, 2 … in the order of the file
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="export_chunk_job_seq")]

    def __str__(self) -> str:
        return f"chunk {self.seq} of export #{self.job_id}"
