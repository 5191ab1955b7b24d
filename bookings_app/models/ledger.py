"""Our own ledger: desk actions (what staff did, on its way to Wix), the audit trail, received
webhooks, the sync's state (and whether Wix answers), and the anchor of the role permissions.

Every state change of a desk action is one log line on ``bookings_app.desk_actions``
(:func:`log_state_change`, ``event: desk_action.state``): the model methods below write it, and
so do the few bulk updates elsewhere (a new action, the worker's claim, undo / remove).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from bookings_app import roles

from .bookings import Booking
from .catalogue import Session
from .people import Contact

state_log = logging.getLogger("bookings_app.desk_actions")


class AuditEntry(models.Model):
    """Who did what to which object, with the state before and after. Append-only."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.CharField(max_length=150, help_text="The username, or 'sync', 'worker', 'webhook'.")
    action = models.CharField(max_length=64, db_index=True)  # a stable code, e.g. "payment.cash"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=250, blank=True)
    summary = models.CharField(max_length=500)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}: {self.summary}"


class WebhookEvent(models.Model):
    """A received Wix webhook, kept for deduplication (event id) and ordering (sequence)."""

    event_id = models.CharField(max_length=250, unique=True)
    event_type = models.CharField(max_length=200)
    entity_id = models.CharField(max_length=250, blank=True, db_index=True)
    entity_fqdn = models.CharField(max_length=200, blank=True)
    sequence = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entity_id}"


class SyncState(models.Model):
    """Progress and health of syncing one kind of entity from Wix.

    One more row, ``WIX_CALLS``, is no sync: whether the latest Wix call of any process got an
    answer (``last_success_at``) or none (``last_error_at``, ``last_error``), written by
    ``services.wix_reachability``. Being a row here, the header's one query about the sync sees it.
    """

    class Kind(models.TextChoices):
        SERVICES = "services"
        STAFF = "staff"
        SESSIONS = "sessions"
        BOOKINGS = "bookings"
        CONTACTS = "contacts"
        MEMBERS = "members"
        ORDERS = "orders"
        PLAN_ORDERS = "plan_orders"
        BALANCES = "balances"
        WIX_CALLS = "wix_calls", "Wix calls"  # not synced: whether Wix answers at all

    kind = models.CharField(max_length=32, unique=True, choices=Kind.choices)
    cursor = models.TextField(blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_incremental_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    running = models.BooleanField(default=False)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.kind


class StaffPermissions(models.Model):
    """No table: the anchor for the role permissions in ``roles.PERMISSIONS``."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = roles.PERMISSIONS

    def __str__(self) -> str:
        return "staff permissions"


class DeskAction(models.Model):
    """One front-desk click, stored before anything is sent to Wix (DESIGN.md §4).

    The desk services write the row and change the mirror optimistically; the worker
    (``services.push``) pushes it to Wix step by step, saving each step's result in
    ``steps`` before the next one, so a crash or a retry resumes where it stopped.
    """

    class Kind(models.TextChoices):
        CONTACT_CREATE = "CONTACT_CREATE", "New customer"
        WALK_IN = "WALK_IN", "Walk-in"
        PAYMENT = "PAYMENT", "Payment"  # cash / card / check, params.method
        PLAN_CHARGE = "PLAN_CHARGE", "Charge to plan"
        PAY_LATER = "PAY_LATER", "Pay later"
        ATTENDANCE = "ATTENDANCE", "Attendance"
        CANCEL_BOOKING = "CANCEL_BOOKING", "Cancel booking"
        VOID_PLAN_CHARGE = "VOID_PLAN_CHARGE", "Void plan charge"
        REFUND = "REFUND", "Refund"
        PLAN_SALE = "PLAN_SALE", "Plan sold"  # a pricing plan sold offline at the desk (no booking)
        RESCHEDULE = "RESCHEDULE", "Reschedule"  # to another session / appointment slot of the service
        WAITLIST_PROMOTE = "WAITLIST_PROMOTE", "Move from waiting list"  # confirmed into a freed place
        COURSE_BUILD = "COURSE_BUILD", "Course sessions"  # a course term's Calendar V3 events (CourseBuild)
        PACKAGE = "PACKAGE", "Package"  # a multi-service package: its bookings and its one payment (Package)
        PACKAGE_CANCEL = "PACKAGE_CANCEL", "Cancel package"  # Cancel Multi-Service Booking (Package)
        COURSE_CANCEL = "COURSE_CANCEL", "Course sessions cancelled"  # Cancel Event per session (CourseCancel)

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Waiting for Wix"  # in the undo window, or waiting for its turn / a retry
        RUNNING = "RUNNING", "Sending to Wix"
        SYNCED = "SYNCED", "In Wix"
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "Needs attention"  # Wix said no; staff choose what next
        UNDONE = "UNDONE", "Undone"
        REMOVED = "REMOVED", "Removed"

    MAX_BACKOFF_SECONDS = 300  # the longest wait between two tries of a transient failure
    # Still to reach Wix (or to be decided by staff): the booking shows "waiting for Wix".
    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.NEEDS_ATTENTION)
    MONEY_KINDS = (Kind.PAYMENT, Kind.PLAN_CHARGE, Kind.PAY_LATER)
    # What takes back an action Wix already has (a new action that names the one it reverses).
    REVERSAL_KINDS = (Kind.CANCEL_BOOKING, Kind.VOID_PLAN_CHARGE, Kind.REFUND)
    # Changes of where (or whether) a booking holds its place, made on the booking change page.
    CHANGE_KINDS = (Kind.RESCHEDULE, Kind.WAITLIST_PROMOTE, Kind.CANCEL_BOOKING)

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The end of the undo window: nothing is pushed before it.
    run_after = models.DateTimeField()
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    # Pushed only once this one is SYNCED (a payment on a walk-in waits for the walk-in's booking id).
    depends_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="dependents")
    batch_id = models.CharField(max_length=200, blank=True, db_index=True)  # settle-roster commits share one
    params = models.JSONField(default=dict, blank=True)
    steps = models.JSONField(default=dict, blank=True)
    # The mirror fields this action changed, as they were: what undo / remove put back.
    before = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # QUEUED: not before this (backoff). RUNNING: the worker's lease; past it, the claim is dead.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # RUNNING: the worker process that claimed it ("" outside a worker), so its claims can be
    # taken over as soon as that worker is known dead, not only when the lease runs out.
    claimed_by = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)  # the plain-language "needs attention" text

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["status", "kind", "run_after"], name="deskaction_due"),
            models.Index(fields=["booking", "status"], name="deskaction_booking_status"),
            # The drift watchdog's actions of the last days by state ("paid at the desk", "plan
            # charged", "needs attention"): not every synced action of the season.
            models.Index(fields=["status", "updated_at"], name="deskaction_status_since"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    def can_undo(self, *, now: datetime | None = None) -> bool:
        return self.status == self.Status.QUEUED and (now or timezone.now()) < self.run_after

    # --- state changes (the worker's outcomes, staff's retry) ---------------------------------

    def mark_synced(self, **steps: Any) -> None:
        """Wix has it: keep the last step results, clear any error, and the booking's
        ``pending_sync`` once nothing else of it is on the way."""
        was = self.status
        self.steps = {**self.steps, **steps}
        self.status = self.Status.SYNCED
        self.next_attempt_at = None
        self.message = self.error_code = self.last_error = ""
        self.save(
            update_fields=["steps", "status", "next_attempt_at", "message", "error_code", "last_error", "updated_at"]
        )
        log_state_change(self, was=was)
        if self.booking_id:
            DeskAction.refresh_pending(self.booking_id)

    def mark_needs_attention(self, *, code: str, message: str, detail: str = "") -> None:
        """Wix said no for a business reason: staff decide (``message`` is what the roster shows)."""
        was = self.status
        self.status = self.Status.NEEDS_ATTENTION
        self.next_attempt_at = None
        self.error_code = code[:64]
        self.message = message[:500]
        self.last_error = detail or message
        self.save(
            update_fields=["steps", "status", "next_attempt_at", "message", "error_code", "last_error", "updated_at"]
        )
        log_state_change(self, was=was, reason=code)

    def retry_later(self, *, detail: str, count: bool = True) -> None:
        """Back in the queue after a backoff: 2^n seconds plus jitter, capped at
        ``MAX_BACKOFF_SECONDS``; at once when the attempt is not ``count``ed."""
        if count:
            self.attempts += 1
        was = self.status
        delay = min(2 ** min(self.attempts, 12) + random.random(), self.MAX_BACKOFF_SECONDS) if count else 0
        self.status = self.Status.QUEUED
        self.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        self.last_error = detail[:2000]
        self.save(update_fields=["steps", "status", "attempts", "next_attempt_at", "last_error", "updated_at"])
        log_state_change(self, was=was, reason=f"retry in {delay:.0f} s: {detail[:200]}")

    @classmethod
    def backoffs_end(cls, *, now: datetime | None = None) -> int:
        """Wix answers again after an outage: every action waiting out a retry delay is due now
        (the delays grew while Wix did not answer, up to ``MAX_BACKOFF_SECONDS``; waiting them
        out would keep the desk's work from Wix minutes after it is back). Their ``attempts``
        stay. Returns how many. One query."""
        now = now or timezone.now()
        return cls.objects.filter(status=cls.Status.QUEUED, next_attempt_at__gt=now).update(
            next_attempt_at=now, updated_at=now
        )

    def requeue(self) -> None:
        """Staff chose to send it again (retry, override): due now, the refusal forgotten.
        ``params`` is saved too, for a choice that changed them."""
        was = self.status
        self.status = self.Status.QUEUED
        self.next_attempt_at = None
        self.run_after = min(self.run_after, timezone.now())
        self.message = self.error_code = ""
        self.save(
            update_fields=["status", "next_attempt_at", "run_after", "message", "error_code", "params", "updated_at"]
        )
        log_state_change(self, was=was, reason="sent again by staff")

    def log_change(self, *, was: str | None, reason: str = "") -> None:
        """The log line of a state change made outside these methods (a bulk update)."""
        log_state_change(self, was=was, reason=reason)

    @staticmethod
    def refresh_pending(booking_id: int) -> None:
        """``Booking.pending_sync`` = some desk action of the booking has not reached Wix yet."""
        live = DeskAction.objects.filter(booking_id=booking_id, status__in=DeskAction.LIVE_STATUSES).exists()
        Booking.objects.filter(pk=booking_id).exclude(pending_sync=live).update(pending_sync=live)

    @staticmethod
    def refresh_pending_all(booking_ids: set[int]) -> None:
        """:meth:`refresh_pending` for many bookings: three queries however many."""
        if not booking_ids:
            return
        live = set(
            DeskAction.objects.filter(booking_id__in=booking_ids, status__in=DeskAction.LIVE_STATUSES).values_list(
                "booking_id", flat=True
            )
        )
        Booking.objects.filter(pk__in=live, pending_sync=False).update(pending_sync=True)
        Booking.objects.filter(pk__in=booking_ids - live, pending_sync=True).update(pending_sync=False)


def log_state_change(action: DeskAction, *, was: str | None, reason: str = "") -> None:
    """One log line for ``action`` having moved from ``was`` (None: just made) to its status now,
    with structured fields for a JSON log (ids, kind and codes only: never params or a customer's
    details)."""
    state_log.info(
        "desk action %s (%s) %s -> %s%s",
        action.pk,
        action.kind,
        was or "new",
        action.status,
        f": {reason}" if reason else "",
        extra={
            "event": "desk_action.state",
            "action_id": action.pk,
            "kind": str(action.kind),
            "status_from": str(was) if was else None,
            "status_to": str(action.status),
            "attempts": action.attempts,
            "error_code": action.error_code or None,
            "booking_id": action.booking_id,
            "batch_id": action.batch_id or None,
            "reason": reason or None,
        },
    )
