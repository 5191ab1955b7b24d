"""Who can give an appointment, and when: staff resources, their working hours and busy times.

Appointment slots are carved from the WORKING_HOURS events on each staff resource's events
schedule in steps of the service's session duration, minus what keeps that resource busy
(CONFIRMED/PENDING appointment bookings on it, sessions it teaches) and the past.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import parse_local
from wix_sandbox.handlers.availability.slots import STAFF_RESOURCE_TYPE_ID
from wix_sandbox.handlers.calendar.schedules import service_location
from wix_sandbox.handlers.calendar.times import event_span, to_utc

MAX_RESOURCES_PER_SLOT = 10
# A CREATED booking is not on the calendar yet; PENDING and CONFIRMED ones hold the slot.
BLOCKING_STATUSES = ("CONFIRMED", "PENDING")


def _service_locations(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Every location of the service as a calendar location ``{id, name, formattedAddress, type}``."""
    out = []
    for loc in service.get("locations") or []:
        one = service_location({"locations": [loc]})
        if one is not None:
            out.append(one)
    return out or [{"type": "BUSINESS"}]


def service_resources(sb: Sandbox, service: dict[str, Any]) -> list[dict[str, Any]]:
    """Staff resources that provide an appointment service: ``[{id, name, typeId, scheduleId}]``."""
    out: dict[str, dict[str, Any]] = {}
    for ref in service.get("staffMemberIds") or []:
        # UNCONFIRMED: Wix's skills say staffMemberIds holds the staff *resource* ids while older
        # material uses staff member ids; both are accepted.
        staff = sb.state.get("staff_members", ref)
        resource_id = staff["resourceId"] if staff else ref
        resource = sb.state.get("resources", resource_id)
        if resource is None:
            continue
        schedule_id = (resource.get("eventsSchedule") or {}).get("id") or (
            ((staff or {}).get("resource") or {}).get("eventsSchedule") or {}
        ).get("id")
        out[resource_id] = {
            "id": resource_id,
            "name": resource.get("name") or (staff or {}).get("name"),
            "typeId": resource.get("typeId") or STAFF_RESOURCE_TYPE_ID,
            "scheduleId": schedule_id,
        }
    return list(out.values())


def _session_length(service: dict[str, Any]) -> tuple[timedelta, timedelta]:
    constraints = (service.get("schedule") or {}).get("availabilityConstraints") or {}
    durations = constraints.get("sessionDurations") or [60]
    # A zero-length session would never advance through the working hours.
    minutes = max(int(durations[0] or 0), 1)
    return timedelta(minutes=minutes), timedelta(minutes=max(int(constraints.get("timeBetweenSessions") or 0), 0))


@dataclass
class Staffing:
    """When each resource works and when it is busy, within one request's window (UTC)."""

    working: dict[str, list[tuple[datetime, datetime, str | None]]] = field(default_factory=lambda: defaultdict(list))
    busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))

    def is_free(self, resource_id: str, start: datetime, end: datetime) -> bool:
        return not any(b_start < end and start < b_end for b_start, b_end in self.busy[resource_id])

    def works(self, resource_id: str, start: datetime, end: datetime) -> str | None | bool:
        """The working-hours location id covering ``[start, end]`` (None if unset), False if none does."""
        for w_start, w_end, location_id in self.working[resource_id]:
            if w_start <= start and end <= w_end:
                return location_id
        return False


def find_staffing(sb: Sandbox, resources: list[dict[str, Any]], lower: datetime, upper: datetime) -> Staffing:
    """One pass over events and bookings for every resource involved (no per-slot scans)."""
    staffing = Staffing()
    ids = {r["id"] for r in resources}
    by_schedule = {r["scheduleId"]: r["id"] for r in resources if r["scheduleId"]}
    for event in sb.state.all("events"):
        if event.get("status") != "CONFIRMED" or event.get("recurrenceType") == "MASTER":
            continue
        kind = event.get("type")
        if kind == "WORKING_HOURS":
            resource_id = by_schedule.get(event.get("scheduleId"))
            if resource_id is None:
                continue
            start, end = event_span(sb, event)
            if end > lower and start < upper:
                staffing.working[resource_id].append((start, end, (event.get("location") or {}).get("id")))
        # Appointments are counted from their bookings below (whose status is the truth); any
        # other busy event a resource takes part in (a class it teaches, a blocked time) counts.
        elif kind != "APPOINTMENT" and event.get("transparency", "BUSY") != "FREE":
            involved = [r.get("id") for r in event.get("resources") or [] if r.get("id") in ids]
            if involved:
                start, end = event_span(sb, event)
                if end > lower and start < upper:
                    for resource_id in involved:
                        staffing.busy[resource_id].append((start, end))
    for booking in sb.state.all("bookings"):
        if booking.get("status") not in BLOCKING_STATUSES:
            continue
        slot = (booking.get("bookedEntity") or {}).get("slot") or {}
        resource_id = (slot.get("resource") or {}).get("id")
        if resource_id not in ids or not slot.get("startDate") or not slot.get("endDate"):
            continue
        try:
            tz = ZoneInfo(slot.get("timezone") or sb.business_timezone)
        except (KeyError, ValueError):
            tz = ZoneInfo(sb.business_timezone)
        start = to_utc(parse_local(slot["startDate"]), tz)
        end = to_utc(parse_local(slot["endDate"]), tz)
        if end > lower and start < upper:
            staffing.busy[resource_id].append((start, end))
    return staffing


@dataclass
class Offer:
    """One appointment service as offered in a request: who can do it, how long it takes, where."""

    service: dict[str, Any]
    resources: list[dict[str, Any]]
    duration: timedelta
    gap: timedelta
    locations: list[dict[str, Any]]


def make_offer(
    sb: Sandbox,
    service: dict[str, Any],
    *,
    resource_ids: set[str] | None = None,
    resource_types: set[str] | None = None,
    location_ids: set[str] | None = None,
) -> Offer:
    resources = [
        r
        for r in service_resources(sb, service)
        if (resource_ids is None or r["id"] in resource_ids)
        and (resource_types is None or r["typeId"] in resource_types)
    ]
    locations = [loc for loc in _service_locations(service) if not location_ids or loc.get("id") in location_ids]
    duration, gap = _session_length(service)
    return Offer(service, resources, duration, gap, locations)


def slot_grid(
    offer: Offer, staffing: Staffing, lower: datetime, upper: datetime, now: datetime
) -> dict[tuple, set[str]]:
    """Free start times → resource ids, stepping through each resource's working hours.

    Keys are ``(start, location_id)``; a start in the past or outside ``[lower, upper)`` is dropped.
    """
    step = offer.duration + offer.gap
    location_ids = [loc.get("id") for loc in offer.locations]
    starts: dict[tuple, set[str]] = defaultdict(set)
    for resource in offer.resources:
        for w_start, w_end, w_location in staffing.working[resource["id"]]:
            current = w_start
            if current < lower:
                current += step * -((w_start - lower) // step)
            while current + offer.duration <= w_end and current < upper:
                if current >= now and staffing.is_free(resource["id"], current, current + offer.duration):
                    for location_id in location_ids:
                        if w_location is None or w_location == location_id:
                            starts[(current, location_id)].add(resource["id"])
                current += step
    return starts


def available_resources(offer: Offer, resource_ids: set[str], include_types: set[str] | None) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in sorted(offer.resources, key=lambda r: (r["name"] or "", r["id"])):
        if resource["id"] in resource_ids and (include_types is None or resource["typeId"] in include_types):
            groups[resource["typeId"]].append({"id": resource["id"], "name": resource["name"]})
    return [
        {
            "resourceTypeId": type_id,
            "resources": found[:MAX_RESOURCES_PER_SLOT],
            "hasMoreAvailableResources": len(found) > MAX_RESOURCES_PER_SLOT,
        }
        for type_id, found in groups.items()
    ]
