"""The booking record every Bookings module shares: statuses, the revision rule, saving, bulk answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import touch
from wix_sandbox.errors import SandboxError, ValidationFailed, not_found, violation

BOOKING_STATUSES = ("CREATED", "CONFIRMED", "CANCELED", "PENDING", "DECLINED", "WAITING_LIST")
CONFIRMABLE_STATUSES = ("PENDING", "CREATED", "WAITING_LIST")
PAYMENT_STATUSES = ("UNDEFINED", "NOT_PAID", "PAID", "PARTIALLY_PAID", "REFUNDED", "EXEMPT", "FAILED")

Json = dict[str, Any]


def iso_utc(dt: datetime) -> str:
    """A booking's ``startDate`` / ``endDate``: UTC with milliseconds, ``2026-11-22T07:00:00.000Z``."""
    utc = dt.astimezone(ZoneInfo("UTC"))
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def requires_approval(service: Json | None) -> bool:
    return bool(((service or {}).get("onlineBooking") or {}).get("requireManualApproval"))


def get_booking(sb: Sandbox, booking_id: str) -> Json:
    """The booking, or 404 ``BOOKING_NOT_FOUND``."""
    booking = sb.state.get("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    return booking


def _require_revision(body: Json) -> str:
    revision = body.get("revision")
    if revision in (None, ""):
        raise ValidationFailed([violation("revision", "revision is required", "REQUIRED_FIELD")])
    return str(revision)


def _check_revision(booking: Json, revision: str) -> None:
    if str(booking.get("revision")) != revision:
        # UNCONFIRMED: the contract names 409 for revision races but no Bookings code; INVALID_REVISION.
        raise SandboxError(
            409,
            "INVALID_REVISION",
            f"Booking {booking['id']} is at revision {booking.get('revision')}, not {revision}",
            {"currentRevision": booking.get("revision")},
        )


def check_payment_status(value: Any, field_name: str = "paymentStatus") -> None:
    if value is not None and value not in PAYMENT_STATUSES:
        raise ValidationFailed([violation(field_name, f"{value!r} is not a PaymentStatus", "INVALID_ENUM_VALUE")])


def item_error(exc: SandboxError) -> Json:
    return {"code": exc.code, "description": exc.description, "data": exc.data}


def bulk_meta(results: list[Json]) -> Json:
    successes = sum(1 for r in results if r["itemMetadata"]["success"])
    return {"totalSuccesses": successes, "totalFailures": len(results) - successes, "undetailedFailures": 0}


def bulk_size(items: Any, name: str, maximum: int) -> list[Json]:
    if not isinstance(items, list) or not items:
        raise ValidationFailed([violation(name, f"{name} needs at least 1 item", "MIN_SIZE")])
    if len(items) > maximum:
        raise ValidationFailed([violation(name, f"{name} takes at most {maximum} items", "MAX_SIZE")])
    return items


def editable_booking(sb: Sandbox, booking_id: str, body: Json) -> Json:
    """The booking to change, after the revision rule: required (400), current (409)."""
    revision = _require_revision(body)
    booking = sb.state.edit("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    _check_revision(booking, revision)
    return booking


def save_booking(sb: Sandbox, booking: Json) -> Json:
    """Store a changed booking with its revision bumped."""
    touch(sb, booking)
    sb.state.put("bookings", booking)
    return booking


def apply_payment_flags(booking: Json, body: Json) -> None:
    if body.get("paymentStatus"):
        booking["paymentStatus"] = body["paymentStatus"]
    if body.get("doubleBooked") is not None:
        booking["doubleBooked"] = bool(body["doubleBooked"])
