"""Course terms built here and sent to Wix as Calendar V3 events (``services.courses``).

A :class:`CourseBuild` is what an admin committed: the term as asked (service, instructor,
weekday slots, dates, exclusions), saved before anything is sent. Its :class:`CourseBuildEvent`
rows are the Calendar V3 events the commit creates — a weekly series (a MASTER with a
``recurrenceRule``) or a single event — each with the exact body sent, the sessions it must make,
and what Wix answered. The worker pushes it through a ``DeskAction`` of kind ``COURSE_BUILD``
(``services.push.course_builds``), like any desk action: leases, backoff, "needs attention".

A term read from a spreadsheet (irregular sessions) is the same thing with single events only,
``source = IMPORT``; its preview, commit and retry are the same code. One :class:`CourseImport`
(the file, who uploaded it, what it held) has one such build per course named in the file.

A running course is edited with the same pieces: one session added is a build of one single event
(``source = ADDED``), the last date moved later a build of the new weeks (``source = EXTENDED``).
Sessions cancelled (one, or those after an earlier last date) are a :class:`CourseCancel` with one
:class:`CourseCancelSession` per session, pushed by a ``DeskAction`` of kind ``COURSE_CANCEL``
(``services.push.course_cancels``): Calendar V3 Cancel Event, one call a session.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .catalogue import Service, Session, StaffMember
from .ledger import DeskAction


class CourseImport(models.Model):
    """A timetable file committed: one ``CourseBuild`` per course it names (``builds``)."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_kind = models.CharField(max_length=8)  # CSV | XLSX
    rows = models.PositiveIntegerField()
    sessions_new = models.PositiveIntegerField()  # sent to Wix by its builds
    sessions_existing = models.PositiveIntegerField()  # already there (an earlier import, a term, Wix): not sent
    plan_digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%d %b %Y %H:%M})"


class CourseBuild(models.Model):
    class Source(models.TextChoices):
        WEEKLY = "WEEKLY", "Weekly timetable"
        IMPORT = "IMPORT", "Imported sessions"
        ADDED = "ADDED", "One session added"  # to a running course (its page)
        EXTENDED = "EXTENDED", "Last date moved later"  # the new weeks of a running course

    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEEKLY)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="course_builds")
    instructor = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="course_builds")
    # What the events name, as sent: the instructor's calendar resource, the location, the capacity.
    resource_id = models.CharField(max_length=250)
    location = models.JSONField(default=dict, blank=True)
    capacity = models.PositiveIntegerField()
    timezone = models.CharField(max_length=64)
    first_date = models.DateField()
    last_date = models.DateField()
    # [{"weekday": 1, "start": "17:00", "end": "17:45"}] (weekday 0 = Monday)
    slots = models.JSONField(default=list, blank=True)
    # [{"first": "2027-02-15", "last": "2027-02-19", "reason": "Half-term"}]
    exclusions = models.JSONField(default=list, blank=True)
    sessions_planned = models.PositiveIntegerField()
    plan_digest = models.CharField(max_length=64)
    action = models.OneToOneField(
        DeskAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="course_build"
    )
    course_import = models.ForeignKey(
        CourseImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="builds"
    )
    # The worker's own notes: the events the schedule had before the first send ("baseline"),
    # the Wix calls made, when the sessions were read back.
    steps = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.service} {self.first_date:%d %b %Y}–{self.last_date:%d %b %Y}"

    def save_steps(self, **steps: object) -> None:
        self.steps = {**self.steps, **steps}
        CourseBuild.objects.filter(pk=self.pk).update(steps=self.steps)


class CourseBuildEvent(models.Model):
    """One Calendar V3 event of a build: a weekly series or a single session."""

    class State(models.TextChoices):
        PLANNED = "PLANNED", "Not sent yet"
        SENT = "SENT", "Sent, answer not saved"  # looked for in Wix before it is sent again
        CREATED = "CREATED", "In Wix"
        FAILED = "FAILED", "Refused by Wix"

    # The error code of a refused event whose sessions another build has made since (a file
    # uploaded again): it counts as in Wix, and Retry leaves it alone.
    MADE_ELSEWHERE = "MADE_ELSEWHERE"

    build = models.ForeignKey(CourseBuild, on_delete=models.CASCADE, related_name="events")
    position = models.PositiveIntegerField()
    # The event exactly as Bulk Create Event gets it (inside its {"event": …} wrapper).
    payload = models.JSONField()
    # The sessions it makes: local start date-times ("2027-01-05T17:00:00"), in order.
    sessions = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    wix_id = models.CharField("Wix event id", max_length=250, unique=True, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    # Read back from Wix after creation: the Wix ids of the sessions this event made.
    session_wix_ids = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["build", "position"]
        constraints = [models.UniqueConstraint(fields=["build", "position"], name="course_build_event_position")]

    def __str__(self) -> str:
        return f"{self.build_id}#{self.position} {self.state}"

    @property
    def recurring(self) -> bool:
        return bool(self.payload.get("recurrenceRule"))

    @property
    def sessions_found(self) -> int | None:
        return None if self.session_wix_ids is None else len(self.session_wix_ids)


class CourseCancel(models.Model):
    """Sessions of a running course cancelled in Wix, saved before anything is sent: one session,
    or every session after a new, earlier last date. The people booked on the course keep their
    bookings (a course booking books the course, not a session)."""

    class Reason(models.TextChoices):
        SESSION = "SESSION", "One session cancelled"
        LAST_DATE = "LAST_DATE", "Last date moved earlier"

    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="course_cancels")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    new_last_date = models.DateField(null=True, blank=True)  # LAST_DATE: the course's new last day
    affected = models.PositiveIntegerField(default=0)  # people booked on the course when it was saved
    plan_digest = models.CharField(max_length=64)
    action = models.OneToOneField(
        DeskAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="course_cancel"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.service} {self.get_reason_display()} ({self.created_at:%d %b %Y})"


class CourseCancelSession(models.Model):
    """One session to cancel: Cancel Event on its Wix event, and what Wix answered."""

    class State(models.TextChoices):
        PLANNED = "PLANNED", "Not sent yet"
        SENT = "SENT", "Sent, answer not saved"  # the event is read before it is sent again
        CANCELLED = "CANCELLED", "Cancelled in Wix"
        FAILED = "FAILED", "Refused by Wix"

    cancel = models.ForeignKey(CourseCancel, on_delete=models.CASCADE, related_name="sessions")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="course_cancels")
    event_id = models.CharField("Wix event id", max_length=250)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["cancel", "pk"]
        constraints = [models.UniqueConstraint(fields=["cancel", "session"], name="course_cancel_session_once")]

    def __str__(self) -> str:
        return f"{self.cancel_id}: {self.event_id} {self.state}"
