"""Time Slots V2 (CONTRACT.md §7): class sessions, appointment slots, multi-service sequences.

- Event time slots: one slot per confirmed CLASS/COURSE session in the calendar; capacity comes
  from the event, places taken from :func:`~wix_sandbox.rules.capacity.booked_participants`.
- Availability time slots (appointments): carved from the WORKING_HOURS events on each staff
  resource's events schedule in steps of the service's session duration, minus what keeps that
  resource busy (CONFIRMED/PENDING appointment bookings on it, sessions it teaches) and the past.

Dates in requests and slots are LOCAL_DATE_TIME strings in the request's ``timeZone`` (default:
the business time zone). Cursors carry the whole request, so a next page needs only the cursor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import iso, local_str, parse_local
from wix_sandbox.errors import SandboxError, ValidationFailed, not_found, violation
from wix_sandbox.handlers.calendar.query import filter_view
from wix_sandbox.handlers.calendar.schedules import service_location
from wix_sandbox.handlers.calendar.times import event_span, local_datetime, local_in, to_utc, zone
from wix_sandbox.query import encode_cursor, match_filter, resume_or_start
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import booked_participants

STAFF_RESOURCE_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"
# UNCONFIRMED: the docs point course availability elsewhere, but course sessions are calendar
# events like class sessions, so they are listed too (their places are counted per event).
EVENT_SLOT_TYPES = ("CLASS", "COURSE")
EVENT_DEFAULT_LIMIT = 50
EVENT_MAX_LIMIT = 1000
MAX_SERVICE_IDS = 100
APPOINTMENT_LIMIT = 1000
MAX_LOCATIONS = 5
MAX_RESOURCE_TYPES = 8
MAX_RESOURCES_PER_SLOT = 10
MAX_MULTI_SERVICES = 8
# A CREATED booking is not on the calendar yet; PENDING and CONFIRMED ones hold the slot.
BLOCKING_STATUSES = ("CONFIRMED", "PENDING")
POLICY_FLAGS = ("tooEarlyToBook", "tooLateToBook", "bookOnlineDisabled")
LOCATION_TYPES = {"BUSINESS": "BUSINESS", "OWNER_BUSINESS": "BUSINESS", "CUSTOM": "CUSTOM", "CUSTOMER": "CUSTOMER"}


# -- shared pieces ----------------------------------------------------------------------------


def _request_zone(sb: Sandbox, value: Any) -> tuple[str, ZoneInfo]:
    name = value or sb.business_timezone
    return name, zone(name, "timeZone")


def _limit(paging: dict[str, Any], default: int, maximum: int, field: str = "cursorPaging.limit") -> int:
    limit = paging.get("limit") or default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationFailed([violation(field, f"limit must be between 1 and {maximum}", "MAX")])
    return limit


def _positive(body: dict[str, Any], name: str, maximum: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationFailed([violation(name, f"{name} must be between 1 and {maximum}", "MAX")])
    return value


def slot_location(location: dict[str, Any] | None) -> dict[str, Any]:
    """A calendar/service location in the time-slot shape; ``locationType`` is BUSINESS|CUSTOM|CUSTOMER."""
    location = location or {}
    out = {"locationType": LOCATION_TYPES.get(location.get("type") or "BUSINESS", location.get("type"))}
    for key in ("id", "name", "formattedAddress"):
        if location.get(key) is not None:
            out[key] = location[key]
    return out


def _service_locations(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Every location of the service as a calendar location ``{id, name, formattedAddress, type}``."""
    out = []
    for loc in service.get("locations") or []:
        one = service_location({"locations": [loc]})
        if one is not None:
            out.append(one)
    return out or [{"type": "BUSINESS"}]


def policy_violations(service: dict[str, Any], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """``bookingPolicyViolations`` of a slot under the service's booking policy (UTC datetimes)."""
    policy = service.get("bookingPolicy") or {}
    early = policy.get("limitEarlyBookingPolicy") or {}
    late = policy.get("limitLateBookingPolicy") or {}
    book_after_start = bool((policy.get("bookAfterStartPolicy") or {}).get("enabled"))
    too_late = now >= end if book_after_start else now >= start
    if not too_late and late.get("enabled"):
        too_late = start - now < timedelta(minutes=int(late.get("latestBookingInMinutes") or 0))
    out: dict[str, Any] = {
        "tooEarlyToBook": False,
        "tooLateToBook": too_late,
        "bookOnlineDisabled": not (service.get("onlineBooking") or {}).get("enabled", True),
    }
    if early.get("enabled"):
        earliest = start - timedelta(minutes=int(early.get("earliestBookingInMinutes") or 0))
        if now < earliest:
            out["tooEarlyToBook"] = True
            out["earliestBookingDate"] = iso(earliest)
    return out


def _violated(violations: dict[str, Any]) -> bool:
    return any(violations.get(flag) for flag in POLICY_FLAGS)


def _policy_filter_ok(slot_violations: dict[str, Any], wanted: dict[str, Any] | None) -> bool:
    """The request's ``bookingPolicyViolations``: each flag it names must match the slot's."""
    for flag in POLICY_FLAGS:
        if wanted and wanted.get(flag) is not None and bool(slot_violations.get(flag)) != bool(wanted[flag]):
            return False
    return True


def _cursor_meta(offset: int, limit: int, has_next: bool, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "cursors": {
            "next": encode_cursor(offset + limit, {"p": params}) if has_next else None,
            "prev": encode_cursor(max(offset - limit, 0), {"p": params}) if offset else None,
        },
        "hasNext": has_next,
    }


def _check_range(params: dict[str, Any]) -> None:
    if datetime.fromisoformat(params["to"]) <= datetime.fromisoformat(params["from"]):
        raise ValidationFailed([violation("toLocalDate", "toLocalDate must be after fromLocalDate", "VALIDATION")])


# -- event time slots (classes) ---------------------------------------------------------------


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
        "bookable": bookable_capacity > 0 and not _violated(violations),
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
    tz_name, _ = _request_zone(sb, body.get("timeZone"))
    service_ids = body.get("serviceIds") or []
    if not isinstance(service_ids, list) or len(service_ids) > MAX_SERVICE_IDS:
        raise ValidationFailed([violation("serviceIds", f"at most {MAX_SERVICE_IDS} serviceIds", "MAX_SIZE")])
    per_day = _positive(body, "maxSlotsPerDay", 1000)
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
    _check_range(params)
    return params


@route("POST /_api/service-availability/v2/time-slots/event")
def list_event_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = _limit(paging, EVENT_DEFAULT_LIMIT, EVENT_MAX_LIMIT)
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
        if not _policy_filter_ok(slot["bookingPolicyViolations"], params["policy"]):
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
        "pagingMetadata": _cursor_meta(offset, limit, has_next, params),
    }


@route("GET /_api/service-availability/v2/time-slots/event/{eventId}")
def get_event_time_slot(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    event_id = req.path_params["eventId"]
    tz_name, tz = _request_zone(sb, req.param("timeZone"))
    event = sb.state.get("events", event_id)
    service = _event_service(sb, event, _services_by_schedule(sb)) if event else None
    # UNCONFIRMED: a cancelled or non-session event has no time slot (404, code name is ours).
    if event is None or service is None or not _is_session(event):
        raise not_found("EVENT_NOT_FOUND", "Event", event_id)
    return {"timeSlot": event_slot(sb, event, service, tz), "timeZone": tz_name}


# -- appointment availability ---------------------------------------------------------------------


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
class _Staffing:
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


def _staffing(sb: Sandbox, resources: list[dict[str, Any]], lower: datetime, upper: datetime) -> _Staffing:
    """One pass over events and bookings for every resource involved (no per-slot scans)."""
    staffing = _Staffing()
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
class _Offer:
    """One appointment service as offered in a request: who can do it, how long it takes, where."""

    service: dict[str, Any]
    resources: list[dict[str, Any]]
    duration: timedelta
    gap: timedelta
    locations: list[dict[str, Any]]


def _offer(
    sb: Sandbox,
    service: dict[str, Any],
    *,
    resource_ids: set[str] | None = None,
    resource_types: set[str] | None = None,
    location_ids: set[str] | None = None,
) -> _Offer:
    resources = [
        r
        for r in service_resources(sb, service)
        if (resource_ids is None or r["id"] in resource_ids)
        and (resource_types is None or r["typeId"] in resource_types)
    ]
    locations = [loc for loc in _service_locations(service) if not location_ids or loc.get("id") in location_ids]
    duration, gap = _session_length(service)
    return _Offer(service, resources, duration, gap, locations)


def _grid(offer: _Offer, staffing: _Staffing, lower: datetime, upper: datetime, now: datetime) -> dict[tuple, set[str]]:
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


def _available_resources(offer: _Offer, resource_ids: set[str], include_types: set[str] | None) -> list[dict[str, Any]]:
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


def _appointment_slot(
    offer: _Offer,
    start: datetime,
    location_id: str | None,
    resource_ids: set[str],
    tz: ZoneInfo,
    now: datetime,
    include_types: set[str] | None,
    *,
    show_resources: bool = True,
) -> dict[str, Any]:
    end = start + offer.duration
    violations = policy_violations(offer.service, start, end, now)
    location = next((loc for loc in offer.locations if loc.get("id") == location_id), offer.locations[0])
    return {
        "serviceId": offer.service["id"],
        "localStartDate": local_str(local_in(start, tz)),
        "localEndDate": local_str(local_in(end, tz)),
        "bookable": not _violated(violations),
        "location": slot_location(location),
        "availableResources": _available_resources(offer, resource_ids, include_types) if show_resources else [],
        "totalCapacity": 1,
        "remainingCapacity": 1,
        "bookableCapacity": 1,
        "bookingPolicyViolations": violations,
        "scheduleId": (offer.service.get("schedule") or {}).get("id"),
    }


def _get_service(sb: Sandbox, service_id: Any, field_name: str = "serviceId") -> dict[str, Any]:
    if not service_id:
        raise ValidationFailed([violation(field_name, f"{field_name} is required", "REQUIRED_FIELD")])
    service = sb.state.get("services", service_id)
    if service is None:
        raise not_found("SERVICE_NOT_FOUND", "Service", service_id)
    return service


def _resource_filter(resource_types: list[dict[str, Any]]) -> tuple[set[str] | None, set[str] | None]:
    """``resourceTypes[{resourceTypeId, resourceIds}]`` → (allowed resource ids, allowed type ids)."""
    if not resource_types:
        return None, None
    types = {rt.get("resourceTypeId") for rt in resource_types if rt.get("resourceTypeId")}
    ids = {rid for rt in resource_types for rid in rt.get("resourceIds") or []}
    return (ids or None), (types or None)


def _appointment_params(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    service_id = body.get("serviceId")
    if not service_id:
        raise ValidationFailed([violation("serviceId", "serviceId is required", "REQUIRED_FIELD")])
    missing = [name for name in ("fromLocalDate", "toLocalDate") if body.get(name) in (None, "")]
    if missing:
        raise SandboxError(
            400, "MISSING_ARGUMENTS", f"{' and '.join(missing)} required unless cursorPaging.cursor is given"
        )
    local_datetime("fromLocalDate", body["fromLocalDate"])
    local_datetime("toLocalDate", body["toLocalDate"])
    tz_name, _ = _request_zone(sb, body.get("timeZone"))
    locations = body.get("locations") or []
    if not isinstance(locations, list) or len(locations) > MAX_LOCATIONS:
        raise ValidationFailed([violation("locations", f"at most {MAX_LOCATIONS} locations", "MAX_SIZE")])
    resource_types = body.get("resourceTypes") or []
    if not isinstance(resource_types, list) or len(resource_types) > MAX_RESOURCE_TYPES:
        raise ValidationFailed([violation("resourceTypes", f"at most {MAX_RESOURCE_TYPES} resource types", "MAX_SIZE")])
    bookable = body.get("bookable")
    params = {
        "serviceId": service_id,
        "from": body["fromLocalDate"],
        "to": body["toLocalDate"],
        "tz": tz_name,
        "locations": [loc.get("id") for loc in locations if isinstance(loc, dict) and loc.get("id")],
        "resourceTypes": resource_types,
        "includeResourceTypeIds": body.get("includeResourceTypeIds") or [],
        "bookable": bookable if isinstance(bookable, bool) else None,
        "timeSlotsPerDay": _positive(body, "timeSlotsPerDay", 1000),
        "policy": body.get("bookingPolicyViolations") or None,
    }
    _check_range(params)
    return params


@route("POST /_api/service-availability/v2/time-slots")
def list_availability_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = _limit(paging, APPOINTMENT_LIMIT, APPOINTMENT_LIMIT)
    params, offset = resume_or_start(paging, lambda: _appointment_params(sb, body))
    service = _get_service(sb, params["serviceId"])
    tz = ZoneInfo(params["tz"])
    empty = {"timeSlots": [], "timeZone": params["tz"], "cursorPagingMetadata": _cursor_meta(0, limit, False, params)}
    if service.get("type") != "APPOINTMENT":
        # UNCONFIRMED: non-appointment services have no appointment slots (classes use event slots).
        return empty

    ids, types = _resource_filter(params["resourceTypes"])
    offer = _offer(sb, service, resource_ids=ids, resource_types=types, location_ids=set(params["locations"]))
    # Resources are listed on a slot only when asked for, as on Wix (includeResourceTypeIds or
    # resourceTypes); the slot itself exists either way.
    include = set(params["includeResourceTypeIds"]) | (types or set())
    include_types = include or None
    lower = to_utc(datetime.fromisoformat(params["from"]), tz)
    upper = to_utc(datetime.fromisoformat(params["to"]), tz)
    now = sb.state.now()
    staffing = _staffing(sb, offer.resources, lower, upper + offer.duration)
    grid = _grid(offer, staffing, lower, upper, now)

    per_day: dict[str, int] = defaultdict(int)
    slots = []
    for start, location_id in sorted(grid, key=lambda k: (k[0], str(k[1]))):
        free = grid[(start, location_id)]
        slot = _appointment_slot(offer, start, location_id, free, tz, now, include_types, show_resources=bool(include))
        if params["bookable"] is not None and slot["bookable"] != params["bookable"]:
            continue
        if not _policy_filter_ok(slot["bookingPolicyViolations"], params["policy"]):
            continue
        day = slot["localStartDate"][:10]
        if params["timeSlotsPerDay"] is not None and per_day[day] >= params["timeSlotsPerDay"]:
            continue
        per_day[day] += 1
        slots.append(slot)
    page = slots[offset : offset + limit]
    has_next = len(slots) > offset + limit
    return {
        "timeSlots": page,
        "timeZone": params["tz"],
        "cursorPagingMetadata": _cursor_meta(offset, limit, has_next, params),
    }


@route("POST /_api/service-availability/v2/time-slots/get")
def get_availability_time_slot(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    missing = [
        violation(name, f"{name} is required", "REQUIRED_FIELD")
        for name in ("serviceId", "localStartDate", "localEndDate", "timeZone", "location")
        if body.get(name) in (None, "", {})
    ]
    if missing:
        raise ValidationFailed(missing)
    start_local = local_datetime("localStartDate", body["localStartDate"])
    end_local = local_datetime("localEndDate", body["localEndDate"])
    tz_name, tz = _request_zone(sb, body["timeZone"])
    service = _get_service(sb, body["serviceId"])
    location_id = (body.get("location") or {}).get("id")
    resource_ids = set(body.get("resourceIds") or []) or None
    include_types = set(body.get("includeResourceTypeIds") or []) or None
    slot_not_found = SandboxError(404, "SLOT_NOT_FOUND", "No available time slot matches the request")
    if service.get("type") != "APPOINTMENT":
        raise slot_not_found
    offer = _offer(sb, service, resource_ids=resource_ids, location_ids={location_id} if location_id else None)
    start, end = to_utc(start_local, tz), to_utc(end_local, tz)
    if end - start != offer.duration or not offer.locations:
        raise slot_not_found
    now = sb.state.now()
    grid = _grid(offer, _staffing(sb, offer.resources, start, end), start, start + timedelta(microseconds=1), now)
    for (slot_start, slot_location_id), free in sorted(grid.items(), key=lambda kv: str(kv[0][1])):
        if slot_start == start:
            slot = _appointment_slot(offer, start, slot_location_id, free, tz, now, include_types)
            if slot["availableResources"]:
                return {"timeSlot": slot, "timeZone": tz_name}
    raise slot_not_found


# -- multi-service sequences ------------------------------------------------------------------


@route("POST /_api/service-availability/v2/multi-service-time-slots")
def list_multi_service_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Back-to-back sequences: each service starts when the previous one ends, same location."""
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = _limit(paging, APPOINTMENT_LIMIT, APPOINTMENT_LIMIT)
    params, offset = resume_or_start(paging, lambda: _multi_params(sb, body))
    tz = ZoneInfo(params["tz"])
    location_ids = {params["location"]} if params["location"] else None
    offers = [
        _offer(
            sb,
            _get_service(sb, entry["serviceId"], "services.serviceId"),
            resource_ids=set(entry["resourceIds"]) or None,
            location_ids=location_ids,
        )
        for entry in params["services"]
    ]
    lower = to_utc(datetime.fromisoformat(params["from"]), tz)
    upper = to_utc(datetime.fromisoformat(params["to"]), tz)
    now = sb.state.now()
    total = sum((offer.duration for offer in offers), timedelta())
    everyone = {r["id"]: r for offer in offers for r in offer.resources}
    staffing = _staffing(sb, list(everyone.values()), lower, upper + total)

    per_day: dict[str, int] = defaultdict(int)
    sequences = []
    first = offers[0]
    grid = (
        _grid(first, staffing, lower, upper, now) if all(o.service.get("type") == "APPOINTMENT" for o in offers) else {}
    )
    for start, location_id in sorted(grid, key=lambda k: (k[0], str(k[1]))):
        nested = [_nested(first, start, grid[(start, location_id)], tz, now)]
        cursor = start + first.duration
        for offer in offers[1:]:
            if location_id not in [loc.get("id") for loc in offer.locations]:
                break
            free = {
                r["id"]
                for r in offer.resources
                if staffing.works(r["id"], cursor, cursor + offer.duration) in (None, location_id)
                and staffing.is_free(r["id"], cursor, cursor + offer.duration)
            }
            if not free:
                break
            nested.append(_nested(offer, cursor, free, tz, now))
            cursor += offer.duration
        else:
            location = next(loc for loc in first.locations if loc.get("id") == location_id)
            violations = {flag: any(n["bookingPolicyViolations"][flag] for n in nested) for flag in POLICY_FLAGS}
            sequence = {
                "localStartDate": nested[0]["localStartDate"],
                "localEndDate": nested[-1]["localEndDate"],
                "bookable": all(n["bookable"] for n in nested),
                "location": slot_location(location),
                "totalCapacity": 1,
                "remainingCapacity": 1,
                "bookableCapacity": 1,
                "bookingPolicyViolations": violations,
                "nestedTimeSlots": nested,
            }
            if params["bookable"] is not None and sequence["bookable"] != params["bookable"]:
                continue
            day = sequence["localStartDate"][:10]
            if params["timeSlotsPerDay"] is not None and per_day[day] >= params["timeSlotsPerDay"]:
                continue
            per_day[day] += 1
            sequences.append(sequence)
    page = sequences[offset : offset + limit]
    has_next = len(sequences) > offset + limit
    return {
        "timeSlots": page,
        "timeZone": params["tz"],
        "cursorPagingMetadata": _cursor_meta(offset, limit, has_next, params),
    }


def _nested(offer: _Offer, start: datetime, free: set[str], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    end = start + offer.duration
    violations = policy_violations(offer.service, start, end, now)
    return {
        "serviceId": offer.service["id"],
        "localStartDate": local_str(local_in(start, tz)),
        "localEndDate": local_str(local_in(end, tz)),
        "bookable": not _violated(violations),
        "availableResources": _available_resources(offer, free, None),
        "bookingPolicyViolations": violations,
        "scheduleId": (offer.service.get("schedule") or {}).get("id"),
    }


def _multi_params(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    services = body.get("services")
    # UNCONFIRMED: up to 8 services per sequence, as for multi-service bookings.
    if not isinstance(services, list) or not services:
        raise ValidationFailed([violation("services", "services is required", "REQUIRED_FIELD")])
    if len(services) > MAX_MULTI_SERVICES:
        raise ValidationFailed([violation("services", f"at most {MAX_MULTI_SERVICES} services", "MAX_SIZE")])
    missing = [name for name in ("fromLocalDate", "toLocalDate") if body.get(name) in (None, "")]
    if missing:
        raise SandboxError(
            400, "MISSING_ARGUMENTS", f"{' and '.join(missing)} required unless cursorPaging.cursor is given"
        )
    local_datetime("fromLocalDate", body["fromLocalDate"])
    local_datetime("toLocalDate", body["toLocalDate"])
    tz_name, _ = _request_zone(sb, body.get("timeZone"))
    entries = []
    for i, entry in enumerate(services):
        if not isinstance(entry, dict) or not entry.get("serviceId"):
            raise ValidationFailed([violation(f"services[{i}].serviceId", "serviceId is required", "REQUIRED_FIELD")])
        _get_service(sb, entry["serviceId"], f"services[{i}].serviceId")
        entries.append({"serviceId": entry["serviceId"], "resourceIds": list(entry.get("resourceIds") or [])})
    bookable = body.get("bookable")
    params = {
        "services": entries,
        "from": body["fromLocalDate"],
        "to": body["toLocalDate"],
        "tz": tz_name,
        "location": (body.get("location") or {}).get("id"),
        "bookable": bookable if isinstance(bookable, bool) else None,
        "timeSlotsPerDay": _positive(body, "timeSlotsPerDay", 1000),
    }
    _check_range(params)
    return params
