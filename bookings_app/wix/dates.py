"""Wix's timestamps and local date-times, read and written the way Wix spells them."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any


def wix_timestamp_parse(value: Any) -> datetime | None:
    """A Wix timestamp (``2026-01-30T13:30:00.000Z`` or with an offset) as an aware datetime."""
    return wix_local_parse(value, UTC)


def wix_timestamp(moment: datetime) -> str:
    """The form Wix writes timestamps in; filters compare against it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def wix_local_parse(value: Any, tz: tzinfo) -> datetime | None:
    """A Wix local date-time (``2026-01-30T07:00:00``, in ``tz``) as an aware datetime; one that
    carries an offset keeps it."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)
