"""Builders for sandbox entities, in the exact shapes the sandbox stores (the Wix REST shapes).

Use them to arrange a test; then act through the HTTP surface (``call``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from wix_sandbox import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.common import local_str, now_iso

STAFF_RESOURCE_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"


def call(sb: Sandbox, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> tuple[int, dict]:
    """One request through the sandbox as the app's API key would send it."""
    q = {k: (v if isinstance(v, list) else [str(v)]) for k, v in query.items()}
    resp = sb.handle(
        method,
        path,
        q,
        {"Authorization": sb.api_key, "wix-site-id": sb.site_id},
        json.dumps(body).encode() if body is not None else b"",
    )
    return resp.status, resp.body


def _put(sb: Sandbox, coll: str, entity: dict[str, Any]) -> dict[str, Any]:
    entity.setdefault("id", sb.state.new_id())
    entity.setdefault("createdDate", now_iso(sb))
    entity.setdefault("updatedDate", now_iso(sb))
    with sb.state.transaction():
        sb.state.put(coll, entity)
    return entity


def make_location(sb: Sandbox, name: str = "Lakeside Centre") -> dict[str, Any]:
    return _put(sb, "locations", {"name": name, "formattedAddress": "1 Lake Road, Windermere LA23 1AA, UK"})


def make_staff(sb: Sandbox, name: str = "Alex Coach") -> dict[str, Any]:
    resource = _put(
        sb,
        "resources",
        {"name": name, "typeId": STAFF_RESOURCE_TYPE_ID, "revision": "1", "eventsSchedule": {"id": sb.state.new_id()}},
    )
    return _put(
        sb,
        "staff_members",
        {
            "name": name,
            "email": name.lower().replace(" ", ".") + "@swimclub.example",
            "phone": "+44 7700 900000",
            "resourceId": resource["id"],
            "resource": {"id": resource["id"], "eventsSchedule": resource["eventsSchedule"]},
            "revision": "1",
        },
    )


def make_service(
    sb: Sandbox,
    *,
    type: str = "CLASS",  # noqa: A002 - Wix's field name
    name: str = "Open Water Swim",
    price: str = "12",
    capacity: int = 100,
    location: dict[str, Any] | None = None,
    staff: list[dict[str, Any]] | None = None,
    pricing_plan_ids: list[str] | None = None,
    duration_minutes: int = 60,
    require_manual_approval: bool = False,
) -> dict[str, Any]:
    location = location or make_location(sb)
    return _put(
        sb,
        "services",
        {
            "appId": BOOKINGS_APP_ID,
            "type": type,
            "name": name,
            "description": f"{name} at the lake",
            "defaultCapacity": capacity,
            "hidden": False,
            "category": {"id": "c0ffee00-0000-4000-8000-000000000001", "name": "Swimming"},
            "payment": {
                "rateType": "FIXED",
                "fixed": {"price": {"value": price, "currency": sb.currency}},
                "options": {"online": True, "inPerson": True, "deposit": False, "pricingPlan": bool(pricing_plan_ids)},
                "pricingPlanIds": pricing_plan_ids or [],
            },
            "onlineBooking": {
                "enabled": True,
                "requireManualApproval": require_manual_approval,
                "allowMultipleRequests": False,
            },
            "locations": [
                {
                    "id": location["id"],
                    "type": "BUSINESS",
                    "business": {
                        "id": location["id"],
                        "name": location["name"],
                        "address": {"formattedAddress": location["formattedAddress"]},
                    },
                }
            ],
            "schedule": {
                "id": sb.state.new_id(),
                "availabilityConstraints": {"sessionDurations": [duration_minutes], "timeBetweenSessions": 0},
            },
            "staffMemberIds": [s["id"] for s in (staff or [])],
            "revision": "1",
        },
    )


def make_event(
    sb: Sandbox,
    service: dict[str, Any],
    start: datetime,
    *,
    minutes: int = 60,
    capacity: int | None = None,
    staff: dict[str, Any] | None = None,
    event_type: str | None = None,
) -> dict[str, Any]:
    """A Calendar V3 session of a CLASS/COURSE service (``start`` is business-local, naive)."""
    loc = service["locations"][0]
    return _put(
        sb,
        "events",
        {
            "scheduleId": service["schedule"]["id"],
            "externalScheduleId": service["id"],
            "type": event_type or service["type"],
            "status": "CONFIRMED",
            "title": service["name"],
            "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
            "end": {"localDate": local_str(start + timedelta(minutes=minutes)), "timeZone": sb.business_timezone},
            "timeZone": sb.business_timezone,
            "resources": [{"id": staff["resourceId"], "name": staff["name"], "permissionRole": "WRITER"}]
            if staff
            else [],
            "totalCapacity": capacity if capacity is not None else service["defaultCapacity"],
            "location": {
                "id": loc["id"],
                "name": loc["business"]["name"],
                "formattedAddress": loc["business"]["address"]["formattedAddress"],
                "type": "BUSINESS",
            },
            "recurrenceType": "NONE",
            "appId": BOOKINGS_APP_ID,
            "revision": "1",
        },
    )


def make_working_hours(sb: Sandbox, staff: dict[str, Any], start: datetime, hours: int = 8) -> dict[str, Any]:
    """A WORKING_HOURS event on the staff member's own schedule (appointments are carved from it)."""
    return _put(
        sb,
        "events",
        {
            "scheduleId": staff["resource"]["eventsSchedule"]["id"],
            "type": "WORKING_HOURS",
            "status": "CONFIRMED",
            "title": "Working hours",
            "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
            "end": {"localDate": local_str(start + timedelta(hours=hours)), "timeZone": sb.business_timezone},
            "timeZone": sb.business_timezone,
            "resources": [{"id": staff["resourceId"], "name": staff["name"], "permissionRole": "WRITER"}],
            "recurrenceType": "NONE",
            "revision": "1",
        },
    )


def make_contact(
    sb: Sandbox, first: str = "Jo", last: str = "Swimmer", email: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    email = email or f"{first}.{last}@example.com".lower()
    info: dict[str, Any] = {
        "name": {"first": first, "last": last},
        "emails": {"items": [{"id": sb.state.new_id(), "tag": "MAIN", "email": email, "primary": True}]},
    }
    if phone:
        info["phones"] = {
            "items": [{"id": sb.state.new_id(), "tag": "MOBILE", "countryCode": "GB", "phone": phone, "primary": True}]
        }
    return _put(
        sb,
        "contacts",
        {
            "revision": 1,
            "source": {"sourceType": "ADMIN"},
            "info": info,
            "primaryInfo": {"email": email, **({"phone": phone} if phone else {})},
            "primaryEmail": {"email": email, "subscriptionStatus": "NOT_SET", "deliverabilityStatus": "NOT_SET"},
            **({"primaryPhone": {"countryCode": "GB", "phone": phone}} if phone else {}),
        },
    )


def make_member(sb: Sandbox, contact: dict[str, Any]) -> dict[str, Any]:
    return _put(
        sb,
        "members",
        {
            "loginEmail": contact["primaryInfo"]["email"],
            "status": "APPROVED",
            "contactId": contact["id"],
            "profile": {"nickname": contact["info"]["name"]["first"], "slug": contact["info"]["name"]["first"].lower()},
            "privacyStatus": "PRIVATE",
            "activityStatus": "ACTIVE",
        },
    )
