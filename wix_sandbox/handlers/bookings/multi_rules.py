"""What Create Multi-Service Booking checks before it books anything (CONTRACT.md §3.10).

The SDK reference (bookings_bookings ``createMultiServiceBooking``): "2-8 appointment-based
single-service bookings only … All single-service bookings must be at the same location with
sequential scheduling and no gaps between appointments … Wix Bookings validates sequential timing
but doesn't auto-calculate it", and "Verify availability first with List Multi Service
Availability Time Slots". So the sandbox refuses, in this order and before any booking is built:

* two locations, or a gap or an overlap between one booking's end and the next one's start
  (VALIDATION_FAILURE, 400);
* a slot that is not one the service offers: another length than the service's session
  duration, or a location the service isn't given at (VALIDATION_FAILURE, 400; UNCONFIRMED —
  the documents only say the slots must come from availability);
* a staff member who doesn't work then (no working hours covering the slot, or working at
  another location) or is busy then (SLOT_NOT_AVAILABLE, 428). UNCONFIRMED: single Create
  Booking is checked against busy time only; a package is held to the rule Time Slots uses, so a
  sequence it offers can be booked and one it hides can't.

A booking that names no ``resource`` gets one (UNCONFIRMED: Wix assigns an available staff
member, ``SelectionMethod`` ANY_RESOURCE): the first free one by name, else SLOT_NOT_AVAILABLE.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wix_sandbox.app import Sandbox
from wix_sandbox.common import parse_local
from wix_sandbox.errors import invalid, precondition
from wix_sandbox.handlers.availability.staffing import find_staffing, service_resources
from wix_sandbox.handlers.bookings.records import Json
from wix_sandbox.rules.capacity import Holds, service_by_schedule


def _when(sb: Sandbox, slot: Json) -> tuple[datetime, datetime] | None:
    """The slot's start and end, aware; None when they don't parse (Create Booking says why later)."""
    try:
        tz = ZoneInfo(str(slot.get("timezone") or sb.business_timezone))
        start, end = parse_local(str(slot["startDate"])), parse_local(str(slot["endDate"]))
    except (ZoneInfoNotFoundError, ValueError, TypeError, KeyError):
        return None
    start = start.replace(tzinfo=tz) if start.tzinfo is None else start
    end = end.replace(tzinfo=tz) if end.tzinfo is None else end
    return start, end


def _place(slot: Json) -> tuple[Any, Any]:
    location = slot.get("location") or {}
    return location.get("id"), location.get("locationType")


def check_sequence(sb: Sandbox, items: list[Json]) -> None:
    """One location, and each booking starting when the one before it ends."""
    slots = [item["bookedEntity"]["slot"] for item in items]
    if len({_place(slot) for slot in slots}) > 1:
        raise invalid(
            "VALIDATION_FAILURE",
            "All services of a multi-service booking must be at the same location",
            {"locations": [_place(slot)[0] for slot in slots]},
        )
    times = [_when(sb, slot) for slot in slots]
    for i, (first, second) in enumerate(zip(times, times[1:], strict=False)):
        if first is None or second is None:
            continue
        if first[1] != second[0]:
            what = "gap" if first[1] < second[0] else "overlap"
            raise invalid(
                "VALIDATION_FAILURE",
                f"Sequential bookings must follow each other with no gap or overlap: bookings[{i + 1}] starts "
                f"at {second[0]:%H:%M}, bookings[{i}] ends at {first[1]:%H:%M} (a {what})",
                {"index": i + 1},
            )


def _service(sb: Sandbox, slot: Json) -> Json | None:
    if slot.get("serviceId"):
        return sb.state.get("services", slot["serviceId"])
    return service_by_schedule(sb, str(slot.get("scheduleId") or ""))


def fit_staff(sb: Sandbox, items: list[Json], holds: Holds) -> list[Json]:
    """The bookings with a staff member each who works and is free at its time (one named, or one
    assigned). Raises VALIDATION_FAILURE for a slot the service doesn't offer, SLOT_NOT_AVAILABLE
    for staff who can't take it. Leaves the request untouched (returns copies)."""
    out: list[Json] = []
    taken: list[tuple[str, datetime, datetime]] = list(holds.resources)
    for i, item in enumerate(items):
        slot = item["bookedEntity"]["slot"]
        service, when = _service(sb, slot), _when(sb, slot)
        if service is None or when is None or service.get("type") != "APPOINTMENT":
            out.append(item)  # Create Booking refuses it with its own code
            continue
        start, end = when
        constraints = (service.get("schedule") or {}).get("availabilityConstraints") or {}
        lengths = [int(m) for m in constraints.get("sessionDurations") or [60] if m]
        if lengths and end - start not in [timedelta(minutes=m) for m in lengths]:
            raise invalid(
                "VALIDATION_FAILURE",
                f"bookings[{i}] lasts {int((end - start).total_seconds() // 60)} minutes; "
                f"{service.get('name')} is a {lengths[0]}-minute session",
                {"index": i},
            )
        location_id = (slot.get("location") or {}).get("id")
        offered = [loc.get("id") or (loc.get("business") or {}).get("id") for loc in service.get("locations") or []]
        if location_id and offered and location_id not in offered:
            raise invalid(
                "VALIDATION_FAILURE", f"{service.get('name')} is not given at location {location_id}", {"index": i}
            )
        staff = sorted(service_resources(sb, service), key=lambda r: (r["name"] or "", r["id"]))
        named = (slot.get("resource") or {}).get("id")
        if named:
            # A staff member id stands for their resource (as Create Booking takes it).
            member = sb.state.get("staff_members", named)
            named = member["resourceId"] if member else named
            candidates = [r for r in staff if r["id"] == named] or [{"id": named, "name": named, "scheduleId": None}]
        else:
            candidates = staff
        staffing = find_staffing(sb, candidates, start, end)
        fits = [
            r
            for r in candidates
            if staffing.works(r["id"], start, end) in (None, location_id)
            and staffing.is_free(r["id"], start, end)
            and not any(rid == r["id"] and s < end and start < e for rid, s, e in taken)
        ]
        if not fits:
            who = candidates[0]["name"] if named and candidates else "No staff member"
            raise precondition(
                "SLOT_NOT_AVAILABLE",
                f"{who} can't take bookings[{i}] at {start:%Y-%m-%dT%H:%M}: not working then, or busy",
                {"index": i, "resourceId": named},
            )
        taken.append((fits[0]["id"], start, end))
        if named:
            out.append(item)
        else:
            copy = {
                **item,
                "bookedEntity": {**item["bookedEntity"], "slot": {**slot, "resource": {"id": fits[0]["id"]}}},
            }
            out.append(copy)
    return out
