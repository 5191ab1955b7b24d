"""Multi-service time slots: back-to-back sequences of appointments at one location."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import local_str
from wix_sandbox.errors import SandboxError, ValidationFailed, violation
from wix_sandbox.handlers.availability.appointments import APPOINTMENT_LIMIT
from wix_sandbox.handlers.availability.slots import (
    POLICY_FLAGS,
    check_range,
    cursor_meta,
    get_service,
    page_limit,
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

MAX_MULTI_SERVICES = 8


@route("POST /_api/service-availability/v2/multi-service-time-slots")
def list_multi_service_time_slots(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Back-to-back sequences: each service starts when the previous one ends, same location."""
    body = req.body
    paging = body.get("cursorPaging") or {}
    limit = page_limit(paging, APPOINTMENT_LIMIT, APPOINTMENT_LIMIT)
    params, offset = resume_or_start(paging, lambda: _multi_params(sb, body))
    tz = ZoneInfo(params["tz"])
    location_ids = {params["location"]} if params["location"] else None
    offers = [
        make_offer(
            sb,
            get_service(sb, entry["serviceId"], "services.serviceId"),
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
    staffing = find_staffing(sb, list(everyone.values()), lower, upper + total)

    per_day: dict[str, int] = defaultdict(int)
    sequences = []
    first = offers[0]
    grid = (
        slot_grid(first, staffing, lower, upper, now)
        if all(o.service.get("type") == "APPOINTMENT" for o in offers)
        else {}
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
        "cursorPagingMetadata": cursor_meta(offset, limit, has_next, params),
    }


def _nested(offer: Offer, start: datetime, free: set[str], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    end = start + offer.duration
    violations = policy_violations(offer.service, start, end, now)
    return {
        "serviceId": offer.service["id"],
        "localStartDate": local_str(local_in(start, tz)),
        "localEndDate": local_str(local_in(end, tz)),
        "bookable": not violated(violations),
        "availableResources": available_resources(offer, free, None),
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
    # "You must specify one of: services.serviceId, fromLocalDate, toLocalDate, location, and
    # timeZone … or cursorPaging.cursor" (List Multi-Service Availability Time Slots reference).
    missing = [
        name for name in ("fromLocalDate", "toLocalDate", "location", "timeZone") if body.get(name) in (None, "", {})
    ]
    if missing:
        raise SandboxError(
            400, "MISSING_ARGUMENTS", f"{' and '.join(missing)} required unless cursorPaging.cursor is given"
        )
    local_datetime("fromLocalDate", body["fromLocalDate"])
    local_datetime("toLocalDate", body["toLocalDate"])
    tz_name, _ = request_zone(sb, body.get("timeZone"))
    location = body["location"]
    if not isinstance(location, dict):
        raise ValidationFailed([violation("location", "location must be an object", "VALIDATION")])
    if (location.get("locationType") or location.get("type") or "BUSINESS") == "BUSINESS" and not location.get("id"):
        # "If you filter by {"type": "BUSINESS"}, you must also specify a location ID."
        raise ValidationFailed([violation("location.id", "a BUSINESS location needs its id", "REQUIRED_FIELD")])
    entries = []
    for i, entry in enumerate(services):
        if not isinstance(entry, dict) or not entry.get("serviceId"):
            raise ValidationFailed([violation(f"services[{i}].serviceId", "serviceId is required", "REQUIRED_FIELD")])
        get_service(sb, entry["serviceId"], f"services[{i}].serviceId")
        entries.append({"serviceId": entry["serviceId"], "resourceIds": list(entry.get("resourceIds") or [])})
    bookable = body.get("bookable")
    params = {
        "services": entries,
        "from": body["fromLocalDate"],
        "to": body["toLocalDate"],
        "tz": tz_name,
        "location": location.get("id"),
        "bookable": bookable if isinstance(bookable, bool) else None,
        "timeSlotsPerDay": positive_int(body, "timeSlotsPerDay", 1000),
    }
    check_range(params)
    return params
