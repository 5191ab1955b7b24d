"""Calendar times: IANA zones, LOCAL_DATE_TIME request fields, an event's span in UTC (shared with Time Slots)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wix_sandbox.app import Sandbox
from wix_sandbox.common import parse_local
from wix_sandbox.errors import ValidationFailed, violation

# ``YYYY-MM-DDThh:mm[:ss[.fff]]`` with no ``Z`` and no offset: Wix's LOCAL_DATE_TIME.
LOCAL_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


def zone(name: Any, field: str) -> ZoneInfo:
    """The IANA zone ``name``, or a 400 validationError on ``field``."""
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed([violation(field, f"{name!r} is not an IANA time zone", "FORMAT")]) from exc


def local_datetime(field: str, value: Any) -> datetime:
    """A required LOCAL_DATE_TIME request field, naive; plain dates and ``Z``/offsets are 400."""
    if value in (None, ""):
        raise ValidationFailed([violation(field, f"{field} is required", "REQUIRED_FIELD")])
    problem = local_problem(field, value)
    if problem:
        raise ValidationFailed([problem])
    return datetime.fromisoformat(value)


def local_problem(field: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or not LOCAL_DATE_TIME.match(value):
        return violation(field, f"{field} must be a local date-time YYYY-MM-DDThh:mm:ss without Z or offset", "FORMAT")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return violation(field, f"{field} is not a valid date-time", "FORMAT")
    return None


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz`` as an aware UTC datetime (aware input is just converted)."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=tz).astimezone(UTC)


def local_in(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime as naive wall-clock time in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None)


def event_zone(sb: Sandbox, event: dict[str, Any]) -> str:
    return event.get("timeZone") or (event.get("start") or {}).get("timeZone") or sb.business_timezone


def event_span(sb: Sandbox, event: dict[str, Any]) -> tuple[datetime, datetime]:
    """The event's start and end as aware UTC datetimes."""
    tz = ZoneInfo(event_zone(sb, event))
    return (
        to_utc(parse_local(event["start"]["localDate"]), tz),
        to_utc(parse_local(event["end"]["localDate"]), tz),
    )
