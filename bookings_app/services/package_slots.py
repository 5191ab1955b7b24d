"""What Wix offers a package: List Multi-Service Availability Time Slots asked, and its answer read.

Shared by the desk (``services.desk.packages``: the start times it proposes, and the check made
when the desk books one) and the worker (``services.push.packages``: the check made right before
Create Multi-Service Booking, as the SDK reference asks — "Verify availability first with List
Multi Service Availability Time Slots"). Neither imports the other, so both import this.

A **chain** is one proposal, plain JSON (signed into the page, kept in the action's params)::

    {"location": {"id", "name", "type"},           # the one location of every booking
     "timezone": "Europe/London",
     "items": [{"service": <Service pk>, "service_id": <Wix id>, "schedule_id",
                "start": "2026-11-23T10:00:00", "end": …,  # business-local wall clock
                "resource_id", "staff_name", "location_id"}, …]}

Request shape (CONTRACT.md §19; the reference's "Required filters": ``services.serviceId``,
``fromLocalDate``, ``toLocalDate``, ``location`` and ``timeZone``): ``services[{serviceId,
resourceIds?}]`` (≤8), the location as ``{id, locationType: BUSINESS}`` ("If you filter by
{"type": "BUSINESS"}, you must also specify a location ID"). Each answered time slot spans the
sequence; its ``nestedTimeSlots`` are the services in order, each with its own
``availableResources``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bookings_app.models import Service
from bookings_app.wix import WixClient, time_slots

Json = dict[str, Any]

MAX_CHAIN = 8  # "You can pass up to 8 services"


def local_str(value: Any) -> str:
    """A local ``YYYY-MM-DDThh:mm:ss`` as Wix wants it (an echo may carry milliseconds or an offset)."""
    return str(value or "")[:19]


def service_locations(service: Service) -> list[Json]:
    """The service's locations as the mirror holds them (``raw.locations``): ``[{id, name, type}]``."""
    out: list[Json] = []
    for loc in (service.raw or {}).get("locations") or []:
        detail = loc.get("business") or loc.get("custom") or {}
        location_id = loc.get("id") or detail.get("id")
        if not location_id:
            continue
        out.append({"id": location_id, "name": detail.get("name") or "", "type": loc.get("type") or "BUSINESS"})
    return out


def common_locations(services: list[Service]) -> list[Json]:
    """The locations every one of ``services`` is given at (Wix books a package at one place), in
    the first service's order."""
    if not services:
        return []
    shared = [loc for loc in service_locations(services[0])]
    for service in services[1:]:
        ids = {loc["id"] for loc in service_locations(service)}
        shared = [loc for loc in shared if loc["id"] in ids]
    return shared


def session_minutes(service: Service) -> int | None:
    """The service's session length, when the mirror knows it (``schedule.availabilityConstraints``)."""
    constraints = ((service.raw or {}).get("schedule") or {}).get("availabilityConstraints") or {}
    lengths = constraints.get("sessionDurations") or []
    try:
        return int(lengths[0]) if lengths else None
    except (TypeError, ValueError):
        return None


def ask(
    wix: WixClient,
    *,
    service_ids: list[str],
    location: Json,
    timezone: str,
    from_local: str,
    to_local: str,
    resource_ids: list[str] | None = None,
) -> Json:
    """One List Multi-Service Availability Time Slots call: bookable sequences starting in
    ``[from_local, to_local)`` at ``location``. Raises ``WixError``."""
    services: list[Json] = []
    for i, service_id in enumerate(service_ids):
        entry: Json = {"serviceId": service_id}
        if resource_ids and resource_ids[i]:
            entry["resourceIds"] = [resource_ids[i]]
        services.append(entry)
    return time_slots.list_multi_service_availability_time_slots(
        wix,
        services=services,
        from_local_date=from_local,
        to_local_date=to_local,
        time_zone=timezone,
        location={"id": location["id"], "locationType": location.get("type") or "BUSINESS"},
        bookable=True,
    )


def _first_resource(nested: Json) -> Json:
    resources = [r for group in nested.get("availableResources") or [] for r in group.get("resources") or []]
    return resources[0] if resources else {}


def chains_from(answer: Json, *, services: list[Service], location: Json, timezone: str) -> list[Json]:
    """The answer's bookable sequences as chains: one per start time, each service with the first
    staff member Wix lists as free for it. Sequences that don't list ``services`` in order, or
    name no staff for one of them, are left out."""
    chains: list[Json] = []
    seen: set[str] = set()
    for slot in answer.get("timeSlots") or []:
        nested = slot.get("nestedTimeSlots") or []
        if slot.get("bookable") is False or len(nested) != len(services):
            continue
        if [n.get("serviceId") for n in nested] != [s.wix_id for s in services]:
            continue
        items = []
        for service, part in zip(services, nested, strict=True):
            resource = _first_resource(part)
            if not resource.get("id"):
                break
            items.append(
                {
                    "service": service.pk,
                    "service_id": service.wix_id,
                    "schedule_id": part.get("scheduleId") or service.schedule_id,
                    "start": local_str(part.get("localStartDate")),
                    "end": local_str(part.get("localEndDate")),
                    "resource_id": resource["id"],
                    "staff_name": resource.get("name") or "",
                    "location_id": location["id"],
                }
            )
        else:
            start = items[0]["start"]
            if start in seen:
                continue
            seen.add(start)
            chains.append({"location": dict(location), "timezone": answer.get("timeZone") or timezone, "items": items})
    return chains


def chain_offered(answer: Json, chain: Json) -> bool:
    """Whether Wix's answer still offers exactly ``chain``: a bookable sequence with the same
    services at the same times, each with the chain's staff member among the free ones."""
    items = chain.get("items") or []
    for slot in answer.get("timeSlots") or []:
        nested = slot.get("nestedTimeSlots") or []
        if slot.get("bookable") is False or len(nested) != len(items):
            continue
        if all(
            part.get("serviceId") == item.get("service_id")
            and local_str(part.get("localStartDate"))[:16] == local_str(item.get("start"))[:16]
            and local_str(part.get("localEndDate"))[:16] == local_str(item.get("end"))[:16]
            and any(
                r.get("id") == item.get("resource_id")
                for group in part.get("availableResources") or []
                for r in group.get("resources") or []
            )
            for part, item in zip(nested, items, strict=True)
        ):
            return True
    return False


def chain_slots(wix: WixClient, *, chain: Json) -> Json:
    """Ask Wix about exactly ``chain``: its services with its staff, starting at its first minute."""
    items = chain["items"]
    start = datetime.fromisoformat(local_str(items[0]["start"]))
    return ask(
        wix,
        service_ids=[item["service_id"] for item in items],
        location=chain["location"],
        timezone=chain["timezone"],
        from_local=start.isoformat(timespec="seconds"),
        to_local=(start + timedelta(minutes=1)).isoformat(timespec="seconds"),
        resource_ids=[item.get("resource_id") or "" for item in items],
    )
