"""What the business sells and who runs it: services, staff, and their sessions (calendar events)."""

from __future__ import annotations

from django.db import models

from .mirror import MONEY, WixMirror


class Service(WixMirror):
    class Type(models.TextChoices):
        CLASS = "CLASS", "Class"
        APPOINTMENT = "APPOINTMENT", "Appointment"
        COURSE = "COURSE", "Course"

    type = models.CharField(max_length=16, choices=Type.choices)
    name = models.CharField(max_length=400)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    default_capacity = models.PositiveIntegerField(null=True, blank=True)
    # service.schedule.id: class and course sessions are calendar events on this schedule,
    # and a course booking books the schedule itself.
    schedule_id = models.CharField(max_length=250, blank=True, db_index=True)
    pricing_plan_enabled = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffMember(WixMirror):
    name = models.CharField(max_length=400)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # Booking slots and calendar events name the staff member's resource, not the member.
    resource_id = models.CharField(max_length=250, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Session(WixMirror):
    """A calendar event: a class session, a course session or an appointment."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="sessions")
    title = models.CharField(max_length=400, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(max_length=64, blank=True)  # the event's IANA zone, as Wix sent it
    capacity = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32, default="CONFIRMED")  # event status enum UNCONFIRMED in the contract
    staff = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    location_name = models.CharField(max_length=400, blank=True)
    schedule_id = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["start", "pk"]
        indexes = [
            models.Index(fields=["start"], name="session_start"),
            models.Index(fields=["service", "start"], name="session_service_start"),
            models.Index(fields=["staff", "start"], name="session_staff_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.service_id} @ {self.start:%Y-%m-%d %H:%M}"

    @property
    def ref(self) -> str:
        """What the roster URL uses: the Wix event id, or our pk for a not-yet-synced event."""
        return self.wix_id or str(self.pk)

    @property
    def is_cancelled(self) -> bool:
        return self.status.upper() in ("CANCELLED", "CANCELED")
