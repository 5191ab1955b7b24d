"""The window the sync mirrors: the sessions from 7 days back to 60 days ahead, in business time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from bookings_app.services.mirror.values import Json, business_zone
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse

WINDOW_DAYS_BACK = 7
WINDOW_DAYS_AHEAD = 60


@dataclass(frozen=True)
class Window:
    start: datetime  # aware, local midnight 7 days back
    end: datetime  # aware, local midnight after the 60th day ahead
    tz: ZoneInfo

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M:%S")


def sync_window(*, now: datetime | None = None) -> Window:
    tz = business_zone()
    today = (now or timezone.now()).astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=WINDOW_DAYS_BACK), time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=WINDOW_DAYS_AHEAD + 1), time.min, tzinfo=tz)
    return Window(start, end, tz)


def overlapping(start: datetime, end: datetime) -> Json:
    """Bookings whose time overlaps [start, end): a course booking spans all its sessions."""
    return {"startDate": {"$lt": wix_timestamp(end)}, "endDate": {"$gt": wix_timestamp(start)}}


def in_window_q(window: Window) -> Q:
    return Q(session__start__gte=window.start, session__start__lt=window.end) | Q(session__isnull=True)


def booking_in_window(booking: Json, window: Window) -> bool:
    start, end = wix_timestamp_parse(booking.get("startDate")), wix_timestamp_parse(booking.get("endDate"))
    if start is None:
        return True  # a course with no sessions yet: small, keep it
    return start < window.end and (end or start) > window.start
