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
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, violation
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
# ListAvailabilityTimeSlotsRequest's fields [SDK:bookings_availability-time-slots]. The request
# has no query filter: these fields are its filters.
REQUEST_FIELDS = frozenset(
    {
        "serviceId",
        "fromLocalDate",
        "toLocalDate",
        "timeZone",
        "locations",
        "includeResourceTypeIds",
        "bookable",
        "bookingPolicyViolations",
        "timeSlotsPerDay",
        "cursorPaging",
        "customerChoices",
        "resourceTypes",
    }
)
API = "ListAvailabilityTimeSlots"


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


def _check_request_fields(body: dict[str, Any]) -> None:
    """Refuse what the request does not have, and filters sent beside a cursor.

    UNCONFIRMED: whether Wix answers an unknown field (``resourceIds`` belongs to Get
    Availability Time Slot, ``staffMemberIds`` to nothing here) with a 400 or ignores it, and
    whether it ignores or refuses filters sent with ``cursorPaging.cursor`` (the cursor carries
    the search it continues). The sandbox takes the stricter reading both times, so a filter the
    app believes it applied is never silently dropped.
    """
    unknown = sorted(name for name in body if name not in REQUEST_FIELDS)
    if unknown:
        raise invalid(
            "UNSUPPORTED_FILTER_FIELD",
            f"{API}: {', '.join(unknown)} is not a field of this request (fields: {', '.join(sorted(REQUEST_FIELDS))})",
            {"fields": unknown},
        )
    paging = body.get("cursorPaging")
    if paging is not None and not isinstance(paging, dict):
        raise ValidationFailed([violation("cursorPaging", "cursorPaging must be an object", "FORMAT")])
    if paging and paging.get("cursor"):
        beside = sorted(name for name in body if name != "cursorPaging" and body[name] not in (None, [], {}))
        if beside:
            raise invalid(
                "CURSOR_WITH_FILTERS",
                f"{API}: a cursor continues the search it was made for; send it without {', '.join(beside)}",
                {"fields": beside},
            )


def _string_list(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationFailed([violation(name, f"{name} must be a list of ids", "FORMAT")])
    return value


def _resource_types(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``resourceTypes[{resourceTypeId, resourceIds[]}]`` (≤ 8), each item checked.

    UNCONFIRMED: whether ``resourceTypeId`` may be left out; an item without it could not say
    which of the service's resource types its ids belong to, so the sandbox refuses it."""
    value = body.get("resourceTypes") or []
    if not isinstance(value, list) or len(value) > MAX_RESOURCE_TYPES:
        raise ValidationFailed([violation("resourceTypes", f"at most {MAX_RESOURCE_TYPES} resource types", "MAX_SIZE")])
    for index, item in enumerate(value):
        field = f"resourceTypes[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("resourceTypeId"), str) or not item["resourceTypeId"]:
            raise ValidationFailed(
                [violation(f"{field}.resourceTypeId", "resourceTypeId is required", "REQUIRED_FIELD")]
            )
        unknown = sorted(set(item) - {"resourceTypeId", "resourceIds"})
        if unknown:
            raise ValidationFailed([violation(f"{field}.{unknown[0]}", "not a field of ResourceType", "FORMAT")])
        _string_list(item, "resourceIds")
    return value


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
    if not all(isinstance(loc, dict) for loc in locations):
        raise ValidationFailed([violation("locations", "each location must be an object", "FORMAT")])
    resource_types = _resource_types(body)
    bookable = body.get("bookable")
    if bookable is not None and not isinstance(bookable, bool):
        raise ValidationFailed([violation("bookable", "bookable must be true or false", "FORMAT")])
    for name in ("bookingPolicyViolations", "customerChoices"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise ValidationFailed([violation(name, f"{name} must be an object", "FORMAT")])
    params = {
        "serviceId": service_id,
        "from": body["fromLocalDate"],
        "to": body["toLocalDate"],
        "tz": tz_name,
        "locations": [loc.get("id") for loc in locations if loc.get("id")],
        "resourceTypes": resource_types,
        "includeResourceTypeIds": _string_list(body, "includeResourceTypeIds"),
        "bookable": bookable,
        "timeSlotsPerDay": positive_int(body, "timeSlotsPerDay", 1000),
        "policy": body.get("bookingPolicyViolations") or None,
    }
    check_range(params)
    return params


@route("POST /_api/service-availability/v2/time-slots")
def list_availability_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    _check_request_fields(body)
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
    if params["bookable"] is None:
        # "If bookable filter isn't specified, bookable slots are returned first" [DOC:
        # list-availability-time-slots, Defaults]; each part stays in localStartDate order.
        slots.sort(key=lambda s: not s["bookable"])
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
