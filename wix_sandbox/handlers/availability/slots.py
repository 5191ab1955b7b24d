"""What every time slot shares: booking-policy violations, its location, paging, request checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import iso
from wix_sandbox.errors import ValidationFailed, not_found, violation
from wix_sandbox.handlers.calendar.times import zone
from wix_sandbox.query import encode_cursor

STAFF_RESOURCE_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"
POLICY_FLAGS = ("tooEarlyToBook", "tooLateToBook", "bookOnlineDisabled")
LOCATION_TYPES = {"BUSINESS": "BUSINESS", "OWNER_BUSINESS": "BUSINESS", "CUSTOM": "CUSTOM", "CUSTOMER": "CUSTOMER"}


def request_zone(sb: Sandbox, value: Any) -> tuple[str, ZoneInfo]:
    name = value or sb.business_timezone
    return name, zone(name, "timeZone")


def page_limit(paging: dict[str, Any], default: int, maximum: int, field: str = "cursorPaging.limit") -> int:
    limit = paging.get("limit") or default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationFailed([violation(field, f"limit must be between 1 and {maximum}", "MAX")])
    return limit


def positive_int(body: dict[str, Any], name: str, maximum: int) -> int | None:
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


def violated(violations: dict[str, Any]) -> bool:
    return any(violations.get(flag) for flag in POLICY_FLAGS)


def policy_filter_ok(slot_violations: dict[str, Any], wanted: dict[str, Any] | None) -> bool:
    """The request's ``bookingPolicyViolations``: each flag it names must match the slot's."""
    for flag in POLICY_FLAGS:
        if wanted and wanted.get(flag) is not None and bool(slot_violations.get(flag)) != bool(wanted[flag]):
            return False
    return True


def cursor_meta(offset: int, limit: int, has_next: bool, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "cursors": {
            "next": encode_cursor(offset + limit, {"p": params}) if has_next else None,
            "prev": encode_cursor(max(offset - limit, 0), {"p": params}) if offset else None,
        },
        "hasNext": has_next,
    }


def check_range(params: dict[str, Any]) -> None:
    if datetime.fromisoformat(params["to"]) <= datetime.fromisoformat(params["from"]):
        raise ValidationFailed([violation("toLocalDate", "toLocalDate must be after fromLocalDate", "VALIDATION")])


def get_service(sb: Sandbox, service_id: Any, field_name: str = "serviceId") -> dict[str, Any]:
    if not service_id:
        raise ValidationFailed([violation(field_name, f"{field_name} is required", "REQUIRED_FIELD")])
    service = sb.state.get("services", service_id)
    if service is None:
        raise not_found("SERVICE_NOT_FOUND", "Service", service_id)
    return service
