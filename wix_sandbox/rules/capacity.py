"""Bookings ↔ sessions, courses and staff time: how many places a booking takes, and where.

A booking holds a place in a class session (``bookedEntity.slot.eventId``), in every session of a
course (``bookedEntity.schedule.scheduleId``) or in a staff member's time (an appointment slot's
``resource``). Places are counted from bookings CONFIRMED or PENDING only: CREATED bookings "don't
affect the business calendar or resource availability" until they are confirmed (seed 002).

Who calls what:

- Bookings (``handlers/bookings/``) checks every create, confirm, reschedule and change of
  participants against :func:`session_taken`, :func:`schedule_taken`, :func:`resource_busy` and
  :func:`has_conflict`, with :class:`Holds` for the earlier items of the same bulk call.
- Time Slots (``handlers/availability/``) shows a session's remaining places through
  :func:`booked_participants`.
- The booking accessors (:func:`slot_of`, :func:`participants_of`, …) are shared by every rule and
  handler that reads a booking's place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import parse_local

Json = dict[str, Any]


ACTIVE_STATUSES = ("CONFIRMED", "PENDING")


# -- what a booking holds ----------------------------------------------------------------------------


def parse_utc(value: str) -> datetime:
    """A booking's ``startDate`` / ``endDate`` (ISO UTC) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def event_time(event: Json, which: str, business_tz: str) -> datetime:
    """The event's ``start`` or ``end`` as an aware datetime in its own time zone."""
    part = event.get(which) or {}
    tz = ZoneInfo(part.get("timeZone") or event.get("timeZone") or business_tz)
    return parse_local(part["localDate"]).replace(tzinfo=tz)


def event_live(event: Json | None) -> bool:
    return event is not None and event.get("status") not in ("CANCELLED", "CANCELED")


def participants_of(booking: Json) -> int:
    """The places a booking takes: ``totalParticipants`` or the sum of its service choices."""
    if booking.get("totalParticipants") is not None:
        return int(booking["totalParticipants"])
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    return sum(int(c.get("numberOfParticipants") or 0) for c in choices)


def slot_of(booking: Json) -> Json:
    return (booking.get("bookedEntity") or {}).get("slot") or {}


def schedule_of(booking: Json) -> Json:
    return (booking.get("bookedEntity") or {}).get("schedule") or {}


def service_id_of(booking: Json) -> str | None:
    """The booked service, from the slot or the course schedule."""
    return slot_of(booking).get("serviceId") or schedule_of(booking).get("serviceId")


def service_by_schedule(sb: Sandbox, schedule_id: str) -> Json | None:
    for service in sb.state.all("services"):
        if (service.get("schedule") or {}).get("id") == schedule_id:
            return service
    return None


# -- places taken -----------------------------------------------------------------------------------


@dataclass
class Holds:
    """Places taken by earlier items of the same bulk / multi-service call, whatever their status,
    that the stored bookings do not count already.

    An item is held here when it is not stored yet (multi-service stores its bookings at the end)
    or is stored with a status that holds no place (CREATED). A stored CONFIRMED or PENDING item
    is already in :func:`session_taken`: holding it here too counted it twice (40 + 30 + 10 in an
    empty 120-place class refused the third item as full).
    """

    events: dict[str, int] = field(default_factory=dict)
    schedules: dict[str, int] = field(default_factory=dict)
    resources: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def add(self, booking: Json, *, stored: bool) -> None:
        if stored and booking.get("status") in ACTIVE_STATUSES:
            return
        slot, schedule = slot_of(booking), schedule_of(booking)
        n = participants_of(booking)
        if slot.get("eventId"):
            self.events[slot["eventId"]] = self.events.get(slot["eventId"], 0) + n
        elif slot.get("resource", {}).get("id") and booking.get("startDate"):
            self.resources.append(
                (slot["resource"]["id"], parse_utc(booking["startDate"]), parse_utc(booking["endDate"]))
            )
        if schedule.get("scheduleId"):
            sid = schedule["scheduleId"]
            self.schedules[sid] = self.schedules.get(sid, 0) + n


def _booking_places(b: Json) -> list[str]:
    """Index keys of a booking: its session (``event:<id>``) and schedule (``schedule:<id>``)."""
    entity = b.get("bookedEntity") or {}
    keys = []
    if (slot := entity.get("slot")) and slot.get("eventId"):
        keys.append("event:" + slot["eventId"])
    if (schedule := entity.get("schedule")) and schedule.get("scheduleId"):
        keys.append("schedule:" + schedule["scheduleId"])
    if slot and (slot.get("resource") or {}).get("id") and not slot.get("eventId"):
        keys.append("resource:" + slot["resource"]["id"])
    return keys


def bookings_at(sb: Sandbox, key: str) -> list[Json]:
    """Bookings of ``event:<id>``, ``schedule:<id>`` (courses) or ``resource:<id>`` (appointments)."""
    return sb.state.lookup("bookings", "place", _booking_places, key)


def session_taken(sb: Sandbox, event: Json, *, exclude: str | None = None) -> int:
    """Participants holding a place in a session: its class bookings plus its course's bookings."""
    event_id, schedule_id = event["id"], event.get("scheduleId")
    taken = 0
    candidates = bookings_at(sb, "event:" + event_id)
    if schedule_id:
        candidates += bookings_at(sb, "schedule:" + schedule_id)
    for b in candidates:
        if b.get("status") not in ACTIVE_STATUSES or b["id"] == exclude:
            continue
        entity = b.get("bookedEntity") or {}
        slot, schedule = entity.get("slot"), entity.get("schedule")
        if (slot and slot.get("eventId") == event_id) or (
            schedule and schedule_id and schedule.get("scheduleId") == schedule_id
        ):
            taken += participants_of(b)
    return taken


def schedule_taken(sb: Sandbox, schedule_id: str, *, exclude: str | None = None) -> int:
    return sum(
        participants_of(b)
        for b in bookings_at(sb, "schedule:" + schedule_id)
        if b.get("status") in ACTIVE_STATUSES and b["id"] != exclude and schedule_of(b).get("scheduleId") == schedule_id
    )


def resource_busy(sb: Sandbox, resource_id: str, start: datetime, end: datetime, *, exclude: str | None = None) -> bool:
    """Booked for an overlapping appointment, or busy in the calendar (a class it teaches, blocked time).

    The same rule Time Slots uses, so a slot it offers can be booked and one it hides can't.
    """
    for e in sb.state.all("events"):
        if (
            not event_live(e)
            or e.get("type") in ("WORKING_HOURS", "APPOINTMENT")
            or e.get("recurrenceType") == "MASTER"
            or e.get("transparency", "BUSY") == "FREE"
            or not any(r.get("id") == resource_id for r in e.get("resources") or [])
        ):
            continue
        tz_name = (e.get("start") or {}).get("timeZone") or e.get("timeZone") or sb.business_timezone
        if event_time(e, "start", tz_name) < end and start < event_time(e, "end", tz_name):
            return True
    for b in bookings_at(sb, "resource:" + resource_id):
        if b.get("status") not in ACTIVE_STATUSES or b["id"] == exclude or not b.get("startDate"):
            continue
        slot = slot_of(b)
        if slot.get("eventId") or (slot.get("resource") or {}).get("id") != resource_id:
            continue
        if parse_utc(b["startDate"]) < end and start < parse_utc(b["endDate"]):
            return True
    return False


def event_capacity(event: Json, service: Json | None) -> int:
    if event.get("totalCapacity") is not None:
        return int(event["totalCapacity"])
    return int((service or {}).get("defaultCapacity") or 0)


def has_conflict(sb: Sandbox, booking: Json) -> bool:
    """Would this booking overbook its session, course or staff member if it held its place?"""
    slot, schedule = slot_of(booking), schedule_of(booking)
    n = participants_of(booking)
    if slot.get("eventId"):
        event = sb.state.get("events", slot["eventId"])
        if event is None:
            return False
        service = sb.state.get("services", slot.get("serviceId"))
        return session_taken(sb, event, exclude=booking["id"]) + n > event_capacity(event, service)
    if schedule.get("scheduleId"):
        service = service_by_schedule(sb, schedule["scheduleId"])
        capacity = int((service or {}).get("defaultCapacity") or 0)
        return schedule_taken(sb, schedule["scheduleId"], exclude=booking["id"]) + n > capacity
    resource_id = (slot.get("resource") or {}).get("id")
    if resource_id and booking.get("startDate"):
        start, end = parse_utc(booking["startDate"]), parse_utc(booking["endDate"])
        return resource_busy(sb, resource_id, start, end, exclude=booking["id"])
    return False


def booked_participants(sb: Sandbox, *, event_id: str) -> int:
    """Participants holding a place in a session: bookings CONFIRMED or PENDING on ``event_id``."""
    event = sb.state.get("events", event_id) or {"id": event_id}
    return session_taken(sb, event)
