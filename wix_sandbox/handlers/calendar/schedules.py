"""Calendar schedules (CONTRACT.md §9), which the sandbox does not store.

A service's ``schedule.id`` and a resource's ``eventsSchedule.id`` are the schedules, and
:func:`schedule_owner` finds which one an id belongs to.
"""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.handlers.calendar.query import QUERY_DEFAULT_LIMIT, QUERY_MAX_LIMIT
from wix_sandbox.query import run_query
from wix_sandbox.routing import route


def schedule_owner(sb: Sandbox, schedule_id: str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(service, None)`` for a service's schedule, ``(None, resource)`` for a resource's events schedule."""
    if not schedule_id:
        return None, None
    for service in sb.state.all("services"):
        if (service.get("schedule") or {}).get("id") == schedule_id:
            return service, None
    for resource in sb.state.all("resources"):
        if (resource.get("eventsSchedule") or {}).get("id") == schedule_id:
            return None, resource
    return None, None


def service_location(service: dict[str, Any]) -> dict[str, Any] | None:
    """The service's first location in the Calendar event shape ``{id, name, formattedAddress, type}``."""
    for loc in service.get("locations") or []:
        business = loc.get("business") or {}
        return {
            "id": loc.get("id") or business.get("id"),
            "name": business.get("name") or (loc.get("custom") or {}).get("name"),
            "formattedAddress": (business.get("address") or loc.get("calculatedAddress") or {}).get("formattedAddress"),
            "type": loc.get("type") or "BUSINESS",
        }
    return None


def all_schedules(sb: Sandbox) -> list[dict[str, Any]]:
    """Every schedule the site has: one per service, one per resource's events schedule."""
    schedules = []
    for service in sb.state.all("services"):
        schedule = service.get("schedule") or {}
        if not schedule.get("id"):
            continue
        schedules.append(
            {
                "id": schedule["id"],
                "externalId": service["id"],
                "name": service.get("name"),
                "timeZone": sb.business_timezone,
                "status": "ACTIVE",
                "defaultCapacity": service.get("defaultCapacity"),
                **({"defaultLocation": service_location(service)} if service_location(service) else {}),
                "appId": BOOKINGS_APP_ID,
                "revision": "1",
                "createdDate": service.get("createdDate"),
                "updatedDate": service.get("updatedDate"),
            }
        )
    for resource in sb.state.all("resources"):
        schedule_id = (resource.get("eventsSchedule") or {}).get("id")
        if not schedule_id:
            continue
        schedules.append(
            {
                "id": schedule_id,
                "externalId": resource["id"],
                "name": resource.get("name"),
                "timeZone": sb.business_timezone,
                "status": "ACTIVE",
                "appId": BOOKINGS_APP_ID,
                "revision": "1",
                "createdDate": resource.get("createdDate"),
                "updatedDate": resource.get("updatedDate"),
            }
        )
    return schedules


@route("POST /calendar/v3/schedules/query")
def query_schedules(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    schedules, meta = run_query(
        all_schedules(sb), req.body.get("query"), default_limit=QUERY_DEFAULT_LIMIT, max_limit=QUERY_MAX_LIMIT
    )
    return {"schedules": schedules, "pagingMetadata": meta}
