"""Reading values out of Wix JSON: the small conversions every mirror writer (and the push) shares."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

Json = dict[str, Any]


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return business_zone()


def money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def decimal_or_zero(value: Any) -> Decimal:
    """A Wix amount as it came (not rounded to cents), zero when missing or unreadable."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except (InvalidOperation, ValueError):
        return Decimal("0")


def integer(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def text(value: Any, limit: int) -> str:
    return str(value or "")[:limit]


def first_item(container: Any, key: str) -> str:
    items = (container or {}).get("items") if isinstance(container, dict) else None
    for item in items or []:
        if item.get(key):
            return item[key]
    return ""


# --- what a booking payload names -----------------------------------------------------------------


def booked_slot(booking: Json) -> Json:
    return (booking.get("bookedEntity") or {}).get("slot") or {}


def booked_service_id(booking: Json) -> str:
    entity = booking.get("bookedEntity") or {}
    return (entity.get("slot") or {}).get("serviceId") or (entity.get("schedule") or {}).get("serviceId") or ""


def booking_contact_id(booking: Json) -> str:
    return (booking.get("contactDetails") or {}).get("contactId") or ""


def booking_participants(booking: Json) -> int:
    if booking.get("totalParticipants") is not None:
        return max(int(booking["totalParticipants"]), 0)
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    return sum(int(c.get("numberOfParticipants") or 0) for c in choices) or 1
