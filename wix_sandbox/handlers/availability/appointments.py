"""Availability time slots (CONTRACT.md §7.2): the free appointment slots of a service, listed or got one by one.

Who is free when is worked out in ``staffing.py``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import local_str
from wix_sandbox.errors import SandboxError, ValidationFailed, violation
from wix_sandbox.handlers.availability.slots import (
    check_range,
    cursor_meta,
    get_service,
    page_limit,
    policy_filter_ok,
    policy_violations,
    positive_int,
    request_zone,
    slot_location,
    violated,
)
from wix_sandbox.handlers.availability.staffing import Offer, available_resources, find_staffing, make_offer, slot_grid
from wix_sandbox.handlers.calendar.times import local_datetime, local_in, to_utc
from wix_sandbox.query import resume_or_start
from wix_sandbox.routing import route

APPOINTMENT_LIMIT = 1000
MAX_LOCATIONS = 5
MAX_RESOURCE_TYPES = 8


def _appointment_slot(
    offer: Offer,
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
        "bookable": not violated(violations),
        "location": slot_location(location),
        "availableResources": available_resources(offer, resource_ids, include_types) if show_resources else [],
        "totalCapacity": 1,
        "remainingCapacity": 1,
        "bookableCapacity": 1,
        "bookingPolicyViolations": violations,
        "scheduleId": (offer.service.get("schedule") or {}).get("id"),
    }


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
    tz_name, _ = request_zone(sb, body.get("timeZone"))
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
        "timeSlotsPerDay": positive_int(body, "timeSlotsPerDay", 1000),
        "policy": body.get("bookingPolicyViolations") or None,
    }
    check_range(params)
    return params


@route("POST /_api/service-availability/v2/time-slots")
def list_availability_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = page_limit(paging, APPOINTMENT_LIMIT, APPOINTMENT_LIMIT)
    params, offset = resume_or_start(paging, lambda: _appointment_params(sb, body))
    service = get_service(sb, params["serviceId"])
    tz = ZoneInfo(params["tz"])
    empty = {"timeSlots": [], "timeZone": params["tz"], "cursorPagingMetadata": cursor_meta(0, limit, False, params)}
    if service.get("type") != "APPOINTMENT":
        # UNCONFIRMED: non-appointment services have no appointment slots (classes use event slots).
        return empty

    ids, types = _resource_filter(params["resourceTypes"])
    offer = make_offer(sb, service, resource_ids=ids, resource_types=types, location_ids=set(params["locations"]))
    # Resources are listed on a slot only when asked for, as on Wix (includeResourceTypeIds or
    # resourceTypes); the slot itself exists either way.
    include = set(params["includeResourceTypeIds"]) | (types or set())
    include_types = include or None
    lower = to_utc(datetime.fromisoformat(params["from"]), tz)
    upper = to_utc(datetime.fromisoformat(params["to"]), tz)
    now = sb.state.now()
    staffing = find_staffing(sb, offer.resources, lower, upper + offer.duration)
    grid = slot_grid(offer, staffing, lower, upper, now)

    per_day: dict[str, int] = defaultdict(int)
    slots = []
    for start, location_id in sorted(grid, key=lambda k: (k[0], str(k[1]))):
        free = grid[(start, location_id)]
        slot = _appointment_slot(offer, start, location_id, free, tz, now, include_types, show_resources=bool(include))
        if params["bookable"] is not None and slot["bookable"] != params["bookable"]:
            continue
        if not policy_filter_ok(slot["bookingPolicyViolations"], params["policy"]):
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
        "cursorPagingMetadata": cursor_meta(offset, limit, has_next, params),
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
    tz_name, tz = request_zone(sb, body["timeZone"])
    service = get_service(sb, body["serviceId"])
    location_id = (body.get("location") or {}).get("id")
    resource_ids = set(body.get("resourceIds") or []) or None
    include_types = set(body.get("includeResourceTypeIds") or []) or None
    slot_not_found = SandboxError(404, "SLOT_NOT_FOUND", "No available time slot matches the request")
    if service.get("type") != "APPOINTMENT":
        raise slot_not_found
    offer = make_offer(sb, service, resource_ids=resource_ids, location_ids={location_id} if location_id else None)
    start, end = to_utc(start_local, tz), to_utc(end_local, tz)
    if end - start != offer.duration or not offer.locations:
        raise slot_not_found
    now = sb.state.now()
    grid = slot_grid(
        offer, find_staffing(sb, offer.resources, start, end), start, start + timedelta(microseconds=1), now
    )
    for (slot_start, slot_location_id), free in sorted(grid.items(), key=lambda kv: str(kv[0][1])):
        if slot_start == start:
            slot = _appointment_slot(offer, start, slot_location_id, free, tz, now, include_types)
            if slot["availableResources"]:
                return {"timeSlot": slot, "timeZone": tz_name}
    raise slot_not_found
