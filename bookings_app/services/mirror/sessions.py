"""Sessions: Calendar V3 events -> ``Session`` rows, and the session an appointment is made of.

Class and course sessions are calendar events. An appointment has no event we can query, so its
session is made from its booking (``appointment_session_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q

from bookings_app.models import Booking, Service, Session, StaffMember
from bookings_app.services.mirror.run import URL_BATCH, MirrorRun, batches
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, booked_service_id, booked_slot, integer, text, zone
from bookings_app.wix import calendar
from bookings_app.wix.dates import wix_local_parse, wix_timestamp_parse

logger = logging.getLogger("bookings_app.mirror")

# Prefix of the Session.wix_id given to an appointment that Wix gave no event id.
APPOINTMENT_PREFIX = "appointment-"


def appointment_session_id(booking_id: str) -> str:
    """The ``Session.wix_id`` of an appointment that Wix gave no calendar event id: the session
    is the booking's own time slot. Not an event id — never send it to Calendar or Attendance."""
    return f"{APPOINTMENT_PREFIX}{booking_id}"


class _Refs:
    """Lookups from Wix ids to local rows, loaded once per page (one query per model)."""

    def __init__(self) -> None:
        self.services: dict[str, Service] = {}
        self.by_schedule: dict[str, Service] = {}
        self.staff_by_resource: dict[str, int] = {}

    @classmethod
    def load(cls, *, service_ids: Iterable[str] = (), schedule_ids: Iterable[str] = ()) -> _Refs:
        refs = cls()
        wanted, schedules = set(filter(None, service_ids)), set(filter(None, schedule_ids))
        if wanted or schedules:
            for service in Service.objects.filter(Q(wix_id__in=wanted) | Q(schedule_id__in=schedules)):
                refs.services[service.wix_id or ""] = service
                if service.schedule_id:
                    refs.by_schedule[service.schedule_id] = service
        refs.staff_by_resource = dict(StaffMember.objects.exclude(resource_id="").values_list("resource_id", "pk"))
        return refs

    def service_of_event(self, event: Json) -> Service | None:
        return self.services.get(event.get("externalScheduleId") or "") or self.by_schedule.get(
            event.get("scheduleId") or ""
        )

    def staff_of(self, resources: Iterable[Json]) -> int | None:
        for resource in resources:
            pk = self.staff_by_resource.get((resource or {}).get("id") or "")
            if pk:
                return pk
        return None


def events_write(
    run: MirrorRun, events: list[Json], *, service_hint: dict[str, Service] | None = None
) -> dict[str, Any]:
    refs = _Refs.load(
        service_ids=[e.get("externalScheduleId") for e in events], schedule_ids=[e.get("scheduleId") for e in events]
    )
    rows = []
    for event in events:
        service = refs.service_of_event(event) or (service_hint or {}).get(event["id"])
        if service is None:
            logger.info("wix sync: event %s belongs to no mirrored service; skipped", event.get("id"))
            continue
        tz_name = event.get("timeZone") or (event.get("start") or {}).get("timeZone") or settings.TIME_ZONE
        tz = zone(tz_name)
        start = wix_local_parse((event.get("start") or {}).get("localDate"), tz)
        end = wix_local_parse((event.get("end") or {}).get("localDate"), tz)
        if start is None or end is None:
            continue
        rows.append(
            Row(
                event["id"],
                event.get("revision"),
                wix_timestamp_parse(event.get("updatedDate")),
                {
                    "service_id": service.pk,
                    "title": text(event.get("title") or service.name, 400),
                    "start": start,
                    "end": end,
                    "timezone": text(tz_name, 64),
                    "capacity": integer(event.get("totalCapacity")),
                    "status": text(event.get("status") or "CONFIRMED", 32),
                    "staff_id": refs.staff_of(event.get("resources") or []),
                    "location_name": text((event.get("location") or {}).get("name"), 400),
                    "schedule_id": text(event.get("scheduleId"), 250),
                    "raw": event,
                },
            )
        )
    return upsert(run, Session, rows).objects


def events_fetch(run: MirrorRun, ids: set[str]) -> list[Json]:
    found: list[Json] = []
    for batch in batches(ids, URL_BATCH):
        found.extend(run.call(calendar.list_events, event_ids=batch).get("events") or [])
    return found


def event_service_hints(bookings: list[Json]) -> dict[str, Service]:
    """Event id -> the service its bookings name: for an event whose schedule is no service's
    (an appointment's event sits on the staff member's schedule)."""
    services = {s.wix_id: s for s in Service.objects.filter(wix_id__in={booked_service_id(b) for b in bookings})}
    hints: dict[str, Service] = {}
    for booking in bookings:
        event_id = booked_slot(booking).get("eventId")
        if event_id and booked_service_id(booking) in services:
            hints[event_id] = services[booked_service_id(booking)]
    return hints


def appointment_sessions_write(run: MirrorRun, bookings: list[Json], services: dict[str, Service]) -> dict[str, int]:
    staff = dict(StaffMember.objects.exclude(resource_id="").values_list("resource_id", "pk"))
    rows = []
    for booking in bookings:
        service = services.get(booked_service_id(booking))
        slot = booked_slot(booking)
        start = wix_timestamp_parse(booking.get("startDate")) or wix_timestamp_parse(slot.get("startDate"))
        end = wix_timestamp_parse(booking.get("endDate")) or wix_timestamp_parse(slot.get("endDate"))
        if service is None or start is None or end is None:
            continue
        cancelled = booking.get("status") in (Booking.Status.CANCELED, Booking.Status.DECLINED)
        rows.append(
            Row(
                appointment_session_id(booking["id"]),
                booking.get("revision"),
                wix_timestamp_parse(booking.get("updatedDate")),
                {
                    "service_id": service.pk,
                    "title": text((booking.get("bookedEntity") or {}).get("title") or service.name, 400),
                    "start": start,
                    "end": end,
                    "timezone": text(slot.get("timezone") or settings.TIME_ZONE, 64),
                    "capacity": service.default_capacity or 1,
                    "status": "CANCELLED" if cancelled else "CONFIRMED",
                    "staff_id": staff.get((slot.get("resource") or {}).get("id") or ""),
                    "location_name": text((slot.get("location") or {}).get("name"), 400),
                    "schedule_id": text(slot.get("scheduleId"), 250),
                    "raw": {"appointmentBookingId": booking["id"], "slot": slot},
                },
            )
        )
    return {wix_id: obj.pk for wix_id, obj in upsert(run, Session, rows).objects.items()}
