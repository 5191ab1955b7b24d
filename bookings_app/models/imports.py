"""Participants imported from a spreadsheet: the import (who, when, which file, where it got to),
each row of the file with what the dry run planned and what became of it, and the column mapping
remembered for the next file with the same headers.

The rows hold the file's own cells (``values``), so the file itself is not kept: the dry run, the
commit and the failed-rows download all read the rows. What a committed row made are desk actions
(``actions``: their pks) — the worker pushes them to Wix like any desk click; a row's result is read
from them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .bookings import Booking
from .people import Contact


class ParticipantImport(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "UPLOADED", "Columns to check"  # read; the admin maps the columns next
        CHECKED = "CHECKED", "Dry run done"  # every row checked; nothing changed yet
        RUNNING = "RUNNING", "Importing"  # committed: rows are released batch by batch
        CANCELLING = "CANCELLING", "Stopping after this batch"
        CANCELLED = "CANCELLED", "Stopped"  # rows not started stay as they were; Resume goes on
        DONE = "DONE", "Finished"

    ACTIVE_STATUSES = (Status.RUNNING, Status.CANCELLING)

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_kind = models.CharField(max_length=8)  # CSV | XLSX
    headers = models.JSONField(default=list)  # the header row as written
    header_row = models.PositiveIntegerField(default=1)
    notes = models.JSONField(default=list, blank=True)  # "Only the first sheet was read …"
    rows_total = models.PositiveIntegerField(default=0)  # rows with something in them, the header not counted
    # field → column index (``services.imports.mapping.FIELDS``)
    mapping = models.JSONField(default=dict, blank=True)
    allow_new_contacts = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    # The dry run: what it counted (``services.imports.dry_run.Diff``) and a digest of every row's plan;
    # the commit form carries the digest, so a commit is of the dry run the admin read.
    checked_at = models.DateTimeField(null=True, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    plan_digest = models.CharField(max_length=64, blank=True)
    # The commit.
    idempotency_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    payment_mode = models.CharField(max_length=16, blank=True)  # ecom | booking_only, when committed
    # The run (``services.imports.run``): one runner at a time holds the lease; a runner that died
    # is taken over when it has expired. ``next_run_at``: when the runner should look again.
    lease_until = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    batches = models.PositiveIntegerField(default=0)
    # Row counts kept by the runner (the progress bar reads these, one query).
    rows_done = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    rows_waiting = models.PositiveIntegerField(default=0)
    rows_planned = models.PositiveIntegerField(default=0)  # to import, not started yet
    calls_left = models.PositiveIntegerField(default=0)  # Wix calls the rows not finished yet should cost

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_run_at"], name="participant_import_due")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def committed(self) -> bool:
        return self.committed_at is not None

    @property
    def rows_to_import(self) -> int:
        """The rows the commit took on: finished, on their way, or not started yet."""
        return self.rows_done + self.rows_failed + self.rows_waiting + self.rows_planned

    @property
    def rows_finished(self) -> int:
        return self.rows_done + self.rows_failed


class ImportRow(models.Model):
    """One row of the file: its cells, what the dry run found, what the commit made of it."""

    class State(models.TextChoices):
        NEW = "NEW", "Not checked"
        INVALID = "INVALID", "Error"  # the dry run (or the check at release) refused it: nothing written
        SKIP = "SKIP", "Already done"  # everything it asks for is there already
        PLANNED = "PLANNED", "To import"  # checked; not released yet
        WAITING = "WAITING", "Waiting for Wix"  # its desk actions are written, the worker sends them
        DONE = "DONE", "Done"  # every action of it is in Wix
        FAILED = "FAILED", "Refused by Wix"  # an action of it needs attention (or was removed)

    FINISHED = (State.SKIP, State.DONE)
    PROBLEM = (State.INVALID, State.FAILED)

    participant_import = models.ForeignKey(ParticipantImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the spreadsheet's row number
    values = models.JSONField(default=list)  # the row's cells as text, in the file's column order
    # The content identity (``services.imports.cells.row_key``): the same row in another file, or the
    # same file uploaded again, has the same key; the desk actions' idempotency keys derive from it.
    key = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.NEW)
    message = models.CharField(max_length=1000, blank=True)  # the error, in plain words
    column = models.CharField(max_length=200, blank=True)  # the column it is about: "C “Email”"
    plan = models.JSONField(default=dict, blank=True)  # the steps to make, as the dry run found them
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actions = models.JSONField(default=list, blank=True)  # desk action pks, in the order made
    batch = models.PositiveIntegerField(null=True, blank=True)  # the release batch it went out with

    class Meta:
        ordering = ["participant_import", "number"]
        constraints = [models.UniqueConstraint(fields=["participant_import", "number"], name="import_row_once")]
        indexes = [models.Index(fields=["participant_import", "state", "number"], name="import_row_state")]

    def __str__(self) -> str:
        return f"{self.participant_import_id} row {self.number}: {self.state}"


class ImportMapping(models.Model):
    """The columns an admin chose for a file with these headers, offered again for the next one."""

    signature = models.CharField(max_length=64, unique=True)  # of the headers (``mapping.headers_signature``)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return ", ".join(str(h) for h in self.headers)[:100]
