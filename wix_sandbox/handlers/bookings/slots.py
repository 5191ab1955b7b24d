"""What a booking books: the class session, appointment slot or course schedule, checked for open places.

Wix derives a booked slot's times, location and staff from the calendar; whatever the caller sent
for them is overridden. Places are counted by ``rules/capacity.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wix_sandbox.app import Sandbox
from wix_sandbox.common import parse_local
from wix_sandbox.errors import invalid, not_found, precondition
from wix_sandbox.handlers.bookings.records import Json
from wix_sandbox.handlers.calendar.schedules import schedule_owner
from wix_sandbox.rules.capacity import (
    Holds,
    event_capacity,
    event_live,
    event_time,
    resource_busy,
    schedule_taken,
    service_by_schedule,
    session_taken,
)

# Calendar / Services location types → the booking's LocationType.
LOCATION_TYPE_FROM_CALENDAR = {"BUSINESS": "OWNER_BUSINESS", "CUSTOM": "OWNER_CUSTOM", "CUSTOMER": "CUSTOM"}
NON_SESSION_EVENT_TYPES = ("WORKING_HOURS", "BLOCKED", "APPOINTMENT")


def _local_iso(dt: datetime) -> str:
    """A slot date the way Wix echoes it: local time with its offset, ``2026-11-21T07:00:00.000+00:00``."""
    offset = dt.strftime("%z")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}{offset[:3]}:{offset[3:]}"


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise invalid("INVALID_TIME_ZONE", f"Unknown time zone {name!r}", {"timezone": name}) from exc


def _parse_in_zone(value: Any, tz: ZoneInfo, field_name: str) -> datetime:
    try:
        parsed = parse_local(str(value))
    except (ValueError, TypeError) as exc:
        raise invalid("INVALID_DATE_FORMAT", f"{field_name} is not an ISO-8601 date: {value!r}") from exc
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def _is_session(event: Json) -> bool:
    """A bookable class/course session: live, and not a MASTER (its INSTANCEs are the sessions)."""
    return (
        event_live(event)
        and event.get("type") not in NON_SESSION_EVENT_TYPES
        and event.get("recurrenceType") != "MASTER"
    )


def _service_location(service: Json) -> Json | None:
    locations = service.get("locations") or []
    if not locations:
        return None
    loc = locations[0]
    detail = loc.get("business") or loc.get("custom") or {}
    out: Json = {"locationType": LOCATION_TYPE_FROM_CALENDAR.get(loc.get("type", "BUSINESS"), "OWNER_BUSINESS")}
    if loc.get("id") or detail.get("id"):
        out["id"] = loc.get("id") or detail.get("id")
    if detail.get("name"):
        out["name"] = detail["name"]
    address = (detail.get("address") or {}).get("formattedAddress")
    if address:
        out["formattedAddress"] = address
    return out


def _service_for(sb: Sandbox, service_id: str) -> Json:
    service = sb.state.get("services", service_id)
    if service is None:
        # UNCONFIRMED: Create Booking declares no SERVICE_NOT_FOUND; an unknown service is a validation failure.
        raise invalid("VALIDATION_FAILURE", f"Service {service_id} not found", {"serviceId": service_id})
    return service


def class_slot(
    sb: Sandbox, slot: Json, participants: int, holds: Holds, skip: bool, *, exclude: str | None = None
) -> tuple[Json, Json, datetime, datetime]:
    event_id = slot.get("eventId") or slot.get("sessionId")
    event = sb.state.get("events", event_id)
    if event is None or not _is_session(event):
        raise not_found("SESSION_NOT_FOUND", "Session", event_id)
    if slot.get("serviceId"):
        service = _service_for(sb, slot["serviceId"])
    else:
        # Only the event named: its service is the one whose schedule the event is on. UNCONFIRMED:
        # the reference lists the dates, time zone, resource and location as derived from the
        # event and does not name serviceId; the sandbox derives it the same way.
        owner = service_by_schedule(sb, event.get("scheduleId") or "")
        if owner is None:
            raise not_found("SESSION_NOT_FOUND", "Session", event_id)
        service = owner
    if (service.get("schedule") or {}).get("id") != event.get("scheduleId"):
        raise invalid("VALIDATION_FAILURE", f"Session {event_id} is not a session of service {service['id']}")
    if service.get("type") != "CLASS":
        raise invalid("VALIDATION_FAILURE", "Only class sessions are booked by eventId; book courses by schedule")
    start = event_time(event, "start", sb.business_timezone)
    end = event_time(event, "end", sb.business_timezone)
    if not skip:
        capacity = event_capacity(event, service)
        taken = session_taken(sb, event, exclude=exclude) + holds.events.get(event_id, 0)
        if taken + participants > capacity:
            raise precondition(
                "SESSION_CAPACITY_EXCEEDED",
                f"Session {event_id} has {max(capacity - taken, 0)} open spots, {participants} requested",
                {"eventId": event_id, "capacity": capacity, "openSpots": max(capacity - taken, 0)},
            )
    # Wix derives these from the event; whatever the caller sent for them is overridden.
    out: Json = {
        "serviceId": service["id"],
        "scheduleId": event.get("scheduleId"),
        "eventId": event_id,
        "startDate": _local_iso(start),
        "endDate": _local_iso(end),
        "timezone": str(start.tzinfo),
    }
    if slot.get("sessionId"):
        out["sessionId"] = slot["sessionId"]
    resources = event.get("resources") or []
    if resources:
        res = resources[0]
        resource: Json = {"id": res["id"], "name": res.get("name", "")}
        stored = sb.state.get("resources", res["id"])
        if stored and (stored.get("eventsSchedule") or {}).get("id"):
            resource["scheduleId"] = stored["eventsSchedule"]["id"]
        out["resource"] = resource
    loc = event.get("location")
    if loc:
        location: Json = {k: loc[k] for k in ("id", "name", "formattedAddress") if loc.get(k)}
        location["locationType"] = LOCATION_TYPE_FROM_CALENDAR.get(loc.get("type", "BUSINESS"), "OWNER_BUSINESS")
        out["location"] = location
    return out, service, start, end


def _resolve_resource(sb: Sandbox, resource_id: str) -> tuple[Json, Json | None]:
    """The booked resource and its staff member; a staff member id is accepted for its resource."""
    resource = sb.state.get("resources", resource_id)
    staff: Json | None = None
    if resource is None:
        # UNCONFIRMED: slots carry the resource id; a staff member id is taken to mean its resource.
        staff = sb.state.get("staff_members", resource_id)
        if staff is not None:
            resource = sb.state.get("resources", staff.get("resourceId"))
    else:
        staff = next((s for s in sb.state.all("staff_members") if s.get("resourceId") == resource_id), None)
    if resource is None:
        # UNCONFIRMED: RESOURCE_NOT_FOUND is declared for Bulk Create; used for single create too.
        raise not_found("RESOURCE_NOT_FOUND", "Resource", resource_id)
    out: Json = {"id": resource["id"], "name": resource.get("name", "")}
    if staff and staff.get("email"):
        out["email"] = staff["email"]
    if (resource.get("eventsSchedule") or {}).get("id"):
        out["scheduleId"] = resource["eventsSchedule"]["id"]
    return out, staff


def appointment_slot(
    sb: Sandbox, slot: Json, holds: Holds, skip: bool, *, multi: bool, exclude: str | None = None
) -> tuple[Json, Json, datetime, datetime]:
    if slot.get("serviceId"):
        service = _service_for(sb, slot["serviceId"])
        # The slot's scheduleId is the time slot's own (List Availability Time Slots
        # TimeSlot.scheduleId: "Same as the service's schedule ID"). UNCONFIRMED: what Wix does
        # with another site schedule (a staff member's, another service's); the sandbox refuses
        # it with a 400, and a schedule the site doesn't have with 404 SCHEDULE_NOT_FOUND.
        wanted = (service.get("schedule") or {}).get("id")
        if slot["scheduleId"] != wanted:
            if schedule_owner(sb, slot["scheduleId"]) == (None, None):
                raise not_found("SCHEDULE_NOT_FOUND", "Schedule", slot["scheduleId"])
            raise invalid(
                "VALIDATION_FAILURE",
                f"bookedEntity.slot.scheduleId {slot['scheduleId']} is not the time slot's schedule {wanted}",
                {"field": "bookedEntity.slot.scheduleId", "scheduleId": slot["scheduleId"], "expected": wanted},
            )
    else:  # multi-service bookings name the schedule only
        found = service_by_schedule(sb, slot["scheduleId"])
        if found is None:
            raise not_found("SCHEDULE_NOT_FOUND", "Schedule", slot["scheduleId"])
        service = found
    if service.get("type") != "APPOINTMENT":
        raise invalid(
            "VALIDATION_FAILURE", f"Service {service['id']} is a {service.get('type')}: book it by event or schedule"
        )
    tz = _zone(slot.get("timezone") or sb.business_timezone) if multi else _zone(slot["timezone"])
    start = _parse_in_zone(slot["startDate"], tz, "startDate")
    end = _parse_in_zone(slot["endDate"], tz, "endDate")
    if end <= start:
        raise invalid("VALIDATION_FAILURE", "endDate must be after startDate")
    out: Json = {
        "serviceId": service["id"],
        "scheduleId": slot["scheduleId"],
        "startDate": _local_iso(start),
        "endDate": _local_iso(end),
        "timezone": str(tz),
    }
    resource_id = (slot.get("resource") or {}).get("id")
    if resource_id:
        resource, staff = _resolve_resource(sb, resource_id)
        out["resource"] = resource
        if not skip:
            offered = service.get("staffMemberIds") or []
            busy = any(r == resource["id"] and s < end and start < e for r, s, e in holds.resources)
            if (
                (offered and staff is not None and staff["id"] not in offered)
                or busy
                or resource_busy(sb, resource["id"], start, end, exclude=exclude)
            ):
                raise precondition(
                    "SLOT_NOT_AVAILABLE",
                    f"{resource['name'] or resource['id']} is busy at {_local_iso(start)}",
                    {"resourceId": resource["id"]},
                )
    location = dict(slot.get("location") or {})
    known = sb.state.get("locations", location.get("id"))
    if known:
        location.setdefault("name", known.get("name"))
        if known.get("formattedAddress"):
            location.setdefault("formattedAddress", known["formattedAddress"])
    out["location"] = location
    if slot.get("resourceSelections"):
        out["resourceSelections"] = slot["resourceSelections"]
    return out, service, start, end


def course_schedule(
    sb: Sandbox, schedule: Json, participants: int, holds: Holds, skip: bool
) -> tuple[Json, Json, datetime | None, datetime | None]:
    schedule_id = schedule["scheduleId"]
    service = service_by_schedule(sb, schedule_id)
    if service is None:
        raise not_found("SCHEDULE_NOT_FOUND", "Schedule", schedule_id)
    if service.get("type") != "COURSE":
        raise invalid("VALIDATION_FAILURE", f"Service {service['id']} is a {service.get('type')}, not a course")
    if schedule.get("serviceId") and schedule["serviceId"] != service["id"]:
        raise invalid(
            "VALIDATION_FAILURE", f"Schedule {schedule_id} is not the schedule of service {schedule['serviceId']}"
        )
    if not skip:
        capacity = int(service.get("defaultCapacity") or 0)
        taken = schedule_taken(sb, schedule_id) + holds.schedules.get(schedule_id, 0)
        if taken + participants > capacity:
            raise precondition(
                "SCHEDULE_CAPACITY_EXCEEDED",
                f"Course {service['name']} has {max(capacity - taken, 0)} open spots, {participants} requested",
                {"scheduleId": schedule_id, "capacity": capacity, "openSpots": max(capacity - taken, 0)},
            )
    sessions = sorted(
        (
            (event_time(e, "start", sb.business_timezone), event_time(e, "end", sb.business_timezone))
            for e in sb.state.all("events")
            if e.get("scheduleId") == schedule_id and _is_session(e)
        ),
    )
    out: Json = {"scheduleId": schedule_id, "serviceId": service["id"]}
    location = _service_location(service)
    if location:
        out["location"] = location
    start = end = None
    if sessions:
        start, end = sessions[0][0], max(s[1] for s in sessions)
        out["timezone"] = str(start.tzinfo)
        out["firstSessionStart"] = _local_iso(start)
        out["lastSessionEnd"] = _local_iso(end)
    else:
        out["timezone"] = schedule.get("timezone") or sb.business_timezone
    return out, service, start, end
