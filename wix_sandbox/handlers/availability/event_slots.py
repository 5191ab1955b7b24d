"""Event time slots (CONTRACT.md §7.1): one slot per confirmed class or course session in the calendar.

Capacity comes from the event, places taken from :func:`~wix_sandbox.rules.capacity.booked_participants`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import local_str
from wix_sandbox.errors import ValidationFailed, not_found, violation
from wix_sandbox.handlers.availability.slots import (
    STAFF_RESOURCE_TYPE_ID,
    check_range,
    cursor_meta,
    page_limit,
    policy_filter_ok,
    policy_violations,
    positive_int,
    request_zone,
    slot_location,
    violated,
)
from wix_sandbox.handlers.calendar.query import filter_view
from wix_sandbox.handlers.calendar.times import event_span, local_datetime, local_in, to_utc
from wix_sandbox.query import match_filter, resume_or_start
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import booked_participants

# UNCONFIRMED: the docs point course availability elsewhere, but course sessions are calendar
# events like class sessions, so they are listed too (their places are counted per event).
EVENT_SLOT_TYPES = ("CLASS", "COURSE")
EVENT_DEFAULT_LIMIT = 50
EVENT_MAX_LIMIT = 1000
MAX_SERVICE_IDS = 100


def _services_by_schedule(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {s["schedule"]["id"]: s for s in sb.state.all("services") if (s.get("schedule") or {}).get("id")}


def _event_service(sb: Sandbox, event: dict[str, Any], by_schedule: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    return by_schedule.get(event.get("scheduleId")) or sb.state.get("services", event.get("externalScheduleId"))


def _is_session(event: dict[str, Any]) -> bool:
    return (
        event.get("type") in EVENT_SLOT_TYPES
        and event.get("status") == "CONFIRMED"
        and event.get("recurrenceType", "NONE") != "MASTER"
    )


@dataclass
class _WaitlistCounts:
    """WAITING_LIST bookings per event, counted once per request and only if a service has a waitlist."""

    counts: dict[str, int] | None = None

    def of(self, sb: Sandbox, event_id: str) -> int:
        if self.counts is None:
            self.counts = defaultdict(int)
            for booking in sb.state.all("bookings"):
                if booking.get("status") == "WAITING_LIST":
                    slot = (booking.get("bookedEntity") or {}).get("slot") or {}
                    if slot.get("eventId"):
                        self.counts[slot["eventId"]] += int(booking.get("totalParticipants") or 1)
        return self.counts.get(event_id, 0)


def _event_resources(sb: Sandbox, event: dict[str, Any]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for res in event.get("resources") or []:
        entity = sb.state.get("resources", res.get("id")) or {}
        groups[entity.get("typeId") or STAFF_RESOURCE_TYPE_ID].append(
            {"id": res.get("id"), "name": res.get("name") or entity.get("name")}
        )
    return [{"resourceTypeId": type_id, "resources": resources} for type_id, resources in groups.items()]


def event_slot(
    sb: Sandbox,
    event: dict[str, Any],
    service: dict[str, Any],
    tz: ZoneInfo,
    waitlists: _WaitlistCounts | None = None,
) -> dict[str, Any]:
    """The time slot of one class/course session."""
    start, end = event_span(sb, event)
    capacity = event.get("totalCapacity")
    total = int(capacity if capacity is not None else service.get("defaultCapacity") or 0)
    remaining = max(total - booked_participants(sb, event_id=event["id"]), 0)
    violations = policy_violations(service, start, end, sb.state.now())
    info: dict[str, Any] = {"eventId": event["id"], "eventTitle": event.get("title") or service.get("name")}
    bookable_capacity = remaining
    waitlist = (service.get("bookingPolicy") or {}).get("waitlistPolicy") or {}
    if waitlist.get("enabled"):
        waiting = (waitlists or _WaitlistCounts()).of(sb, event["id"])
        spots = int(waitlist.get("capacity") or 0)
        info["waitingList"] = {"totalCapacity": spots, "remainingCapacity": max(spots - waiting, 0)}
        # Places that free up are held for the people already waiting.
        bookable_capacity = max(remaining - waiting, 0)
    return {
        "serviceId": service["id"],
        "localStartDate": local_str(local_in(start, tz)),
        "localEndDate": local_str(local_in(end, tz)),
        "bookable": bookable_capacity > 0 and not violated(violations),
        "location": slot_location(event.get("location")),
        "eventInfo": info,
        "totalCapacity": total,
        "remainingCapacity": remaining,
        "bookableCapacity": bookable_capacity,
        "bookingPolicyViolations": violations,
        "availableResources": _event_resources(sb, event),
        "scheduleId": event.get("scheduleId"),
        "allDay": bool(event.get("allDay", False)),
    }


def _event_params(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    problems = []
    for name in ("fromLocalDate", "toLocalDate"):
        if body.get(name) in (None, ""):
            problems.append(
                violation(name, f"{name} is required unless cursorPaging.cursor is given", "REQUIRED_FIELD")
            )
    if problems:
        raise ValidationFailed(problems)
    start = local_datetime("fromLocalDate", body["fromLocalDate"])
    end = local_datetime("toLocalDate", body["toLocalDate"])
    tz_name, _ = request_zone(sb, body.get("timeZone"))
    service_ids = body.get("serviceIds") or []
    if not isinstance(service_ids, list) or len(service_ids) > MAX_SERVICE_IDS:
        raise ValidationFailed([violation("serviceIds", f"at most {MAX_SERVICE_IDS} serviceIds", "MAX_SIZE")])
    per_day = positive_int(body, "maxSlotsPerDay", 1000)
    if per_day is not None and end > start + timedelta(days=31):
        raise ValidationFailed(
            [violation("maxSlotsPerDay", "maxSlotsPerDay needs a range of at most one month", "VALIDATION")]
        )
    min_capacity = body.get("minBookableCapacity")
    if min_capacity is not None and (isinstance(min_capacity, bool) or not isinstance(min_capacity, int)):
        raise ValidationFailed([violation("minBookableCapacity", "must be a whole number", "VALIDATION")])
    params = {
        "from": body["fromLocalDate"],
        "to": body["toLocalDate"],
        "tz": tz_name,
        "serviceIds": service_ids,
        "includeNonBookable": body.get("includeNonBookable", True) is not False,
        "minBookableCapacity": min_capacity,
        "eventFilter": body.get("eventFilter") or None,
        "maxSlotsPerDay": per_day,
        "policy": body.get("bookingPolicyViolations") or None,
    }
    check_range(params)
    return params


@route("POST /_api/service-availability/v2/time-slots/event")
def list_event_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = page_limit(paging, EVENT_DEFAULT_LIMIT, EVENT_MAX_LIMIT)
    params, offset = resume_or_start(paging, lambda: _event_params(sb, body))
    tz = ZoneInfo(params["tz"])
    lower = to_utc(datetime.fromisoformat(params["from"]), tz)
    upper = to_utc(datetime.fromisoformat(params["to"]), tz)
    wanted_services = set(params["serviceIds"])

    by_schedule = _services_by_schedule(sb)
    candidates = []
    for event in sb.state.all("events"):
        if not _is_session(event):
            continue
        service = _event_service(sb, event, by_schedule)
        if service is None or (wanted_services and service["id"] not in wanted_services):
            continue
        if params["eventFilter"] and not match_filter(filter_view(event), params["eventFilter"]):
            continue
        start, _ = event_span(sb, event)
        if lower <= start < upper:
            candidates.append((start, event["id"], event, service))
    candidates.sort(key=lambda c: (c[0], c[1]))

    # Slots are built lazily in order and only until one past the requested page: capacity
    # lookups are the expensive part, and later slots can't change this page.
    waitlists = _WaitlistCounts()
    per_day: dict[str, int] = defaultdict(int)
    matches: list[dict[str, Any]] = []
    for _, _, event, service in candidates:
        slot = event_slot(sb, event, service, tz, waitlists)
        if not params["includeNonBookable"] and not slot["bookable"]:
            continue
        if params["minBookableCapacity"] is not None and slot["bookableCapacity"] < params["minBookableCapacity"]:
            continue
        if not policy_filter_ok(slot["bookingPolicyViolations"], params["policy"]):
            continue
        day = slot["localStartDate"][:10]
        if params["maxSlotsPerDay"] is not None and per_day[day] >= params["maxSlotsPerDay"]:
            continue
        per_day[day] += 1
        matches.append(slot)
        if len(matches) > offset + limit:
            break
    page = matches[offset : offset + limit]
    has_next = len(matches) > offset + limit
    return {
        "timeSlots": page,
        "timeZone": params["tz"],
        "pagingMetadata": cursor_meta(offset, limit, has_next, params),
    }


@route("GET /_api/service-availability/v2/time-slots/event/{eventId}")
def get_event_time_slot(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    event_id = req.path_params["eventId"]
    tz_name, tz = request_zone(sb, req.param("timeZone"))
    event = sb.state.get("events", event_id)
    service = _event_service(sb, event, _services_by_schedule(sb)) if event else None
    # UNCONFIRMED: a cancelled or non-session event has no time slot (404, code name is ours).
    if event is None or service is None or not _is_session(event):
        raise not_found("EVENT_NOT_FOUND", "Event", event_id)
    return {"timeSlot": event_slot(sb, event, service, tz), "timeZone": tz_name}
