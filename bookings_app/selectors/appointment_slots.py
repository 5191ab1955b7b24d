"""Wix's free appointment slots (List Availability Time Slots, CONTRACT.md §7.2) as the desk's
week grid and "next available" read them (``selectors.appointments`` lays the desk's own
bookings over them).

One call per range, then its next pages by cursor alone, on the interactive client (short
timeout, no retries) within ``FETCH_BUDGET_SECONDS``. A week's answer is kept for
``WIX_CACHE_SECONDS``: the grid's refresh every few seconds costs a database read, not Wix's rate
budget (200 calls a minute per site, CONTRACT.md §1.3, shared with the push worker).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache

from bookings_app.models import Service
from bookings_app.wix import WixClient, WixError, WixRateBudgetExhausted, WixUnavailable, time_slots
from bookings_app.wix.dates import wix_local_parse
from bookings_app.wix.ids import STAFF_RESOURCE_TYPE_ID

WIX_CACHE_SECONDS = 30  # Wix's answer for a week; the overlay is fresh on every render
WIX_DOWN_CACHE_SECONDS = 8  # a failed ask, so a refresh every few seconds does not queue on a dead Wix
FETCH_BUDGET_SECONDS = 6.0  # no page is asked for after this (each page has the client's own timeout)
WEEK_PAGES = 5  # ≤ 1000 slots a page: a week of 30-minute slots for one location is ~300
_GENERATION_KEY = "desk:appointment-availability:generation"


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local(moment: datetime) -> str:
    """A local date-time the way Wix takes it (``YYYY-MM-DDThh:mm:ss``)."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


@dataclass(frozen=True)
class FreeSlot:
    """One free slot with one staff member, in the shape ``services.desk.walk_in_create`` takes
    (``slot``: the same as ``services.desk.appointment_slots`` gives)."""

    slot: dict[str, Any]
    start: datetime  # business-local
    end: datetime

    @property
    def key(self) -> str:
        return self.slot.get("resource_id") or ""

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}"

    @property
    def dom_id(self) -> str:
        """A stable element id (the refresh keeps keyboard focus on a slot that is still free)."""
        what = f"{self.key}|{self.slot.get('location_id')}|{self.slot.get('start')}"
        return "slot-" + hashlib.sha1(what.encode(), usedforsecurity=False).hexdigest()[:12]


def slots_of_answer(answer: dict[str, Any], time_zone: str) -> tuple[list[dict[str, Any]], bool]:
    """A List Availability Time Slots answer as slots, one per time and free staff member, and
    whether Wix left free staff out (``hasMoreAvailableResources``: it lists ≤ 10 a slot)."""
    tz_name = answer.get("timeZone") or time_zone
    slots: list[dict[str, Any]] = []
    more = False
    for ts in answer.get("timeSlots") or []:
        location = ts.get("location") or {}
        groups = ts.get("availableResources") or []
        more = more or any(g.get("hasMoreAvailableResources") for g in groups)
        resources = [r for g in groups for r in g.get("resources") or []]
        for resource in resources or [{}]:
            slots.append(
                {
                    "start": ts.get("localStartDate"),
                    "end": ts.get("localEndDate"),
                    "resource_id": resource.get("id") or "",
                    "staff_name": resource.get("name") or "",
                    "location_id": location.get("id") or "",
                    "location_name": location.get("name") or "",
                    "location_type": location.get("locationType") or "BUSINESS",
                    "timezone": tz_name,
                    # Create Booking's bookedEntity.slot.scheduleId (TimeSlot.scheduleId).
                    "schedule_id": ts.get("scheduleId") or "",
                }
            )
    return slots, more


def free_slot(slot: dict[str, Any], zone: ZoneInfo | None = None) -> FreeSlot | None:
    """The slot with its times in the business's zone; None when Wix's times do not parse."""
    zone = zone or business_zone()
    try:
        slot_zone = ZoneInfo(slot.get("timezone") or zone.key)
    except (KeyError, ValueError):
        slot_zone = zone
    start, end = wix_local_parse(slot.get("start"), slot_zone), wix_local_parse(slot.get("end"), slot_zone)
    if start is None or end is None or end <= start:
        return None
    return FreeSlot(slot=slot, start=start.astimezone(zone), end=end.astimezone(zone))


@dataclass
class WixSlots:
    """What Wix said about free slots: the slots, or why there are none to show."""

    slots: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # Wix could not be asked, or refused: the desk says so
    partial: bool = False  # the pages ran out of time: later slots of the range are missing
    more_staff: bool = False  # some slot had more than ten free staff


def _wix_problem(exc: WixError) -> str:
    if isinstance(exc, WixRateBudgetExhausted):
        return (
            "Wix is busy right now (this minute's calls are used up), so it can't list free times. "
            "Try again in a minute."
        )
    if isinstance(exc, WixUnavailable) or exc.status in (None, 429):
        return f"Wix can't be reached to list free times right now ({exc.code}). Try again in a moment."
    return f"Wix did not list the free times ({exc.code}: {exc.message})."


def availability_list(
    *,
    wix: WixClient,
    service: Service,
    start: datetime,
    end: datetime,
    resource_id: str | None,
    page_size: int | None = None,
    pages: int = WEEK_PAGES,
    stop: Any = None,
) -> WixSlots:
    """Wix's bookable slots of ``service`` from ``start`` to ``end`` (aware; asked in the
    business's zone), of one staff member (``resource_id``) or all: one List Availability Time
    Slots call, then its next pages by cursor alone, at most ``pages`` and only within
    ``FETCH_BUDGET_SECONDS``. ``stop(slots)``: True ends the paging early (a slot was found).
    Raises nothing: a Wix failure is ``error``."""
    zone = business_zone()
    request: dict[str, Any] = {
        "service_id": service.wix_id,
        "from_local_date": _local(start.astimezone(zone)),
        "to_local_date": _local(end.astimezone(zone)),
        "time_zone": zone.key,
        "include_resource_type_ids": [STAFF_RESOURCE_TYPE_ID],
        "bookable": True,
    }
    if resource_id:
        request["resource_types"] = [{"resourceTypeId": STAFF_RESOURCE_TYPE_ID, "resourceIds": [resource_id]}]
    if page_size:
        request["cursor_paging"] = {"limit": page_size}
    deadline = time.monotonic() + FETCH_BUDGET_SECONDS
    found = WixSlots()
    try:
        answer = time_slots.list_availability_time_slots(wix, **request)
        for page in range(1, pages + 1):
            slots, more = slots_of_answer(answer, zone.key)
            found.slots.extend(slots)
            found.more_staff = found.more_staff or more
            meta = answer.get("cursorPagingMetadata") or {}
            cursor = (meta.get("cursors") or {}).get("next")
            done = stop is not None and stop(slots)
            if done or not (meta.get("hasNext") and cursor):
                return found
            if page == pages or time.monotonic() > deadline:
                found.partial = True
                return found
            paging: dict[str, Any] = {"cursor": cursor, **({"limit": page_size} if page_size else {})}
            answer = time_slots.list_availability_time_slots(wix, cursor_paging=paging)
    except WixError as exc:
        found.error = _wix_problem(exc)
    return found


def appointment_availability_forget() -> None:
    """Forget every kept Wix answer: the next grid asks Wix (tests call it between cases)."""
    cache.delete(_GENERATION_KEY)


def week_slots(
    *, wix: WixClient, service: Service, week_start: date, resource_id: str | None, start: datetime, end: datetime
) -> WixSlots:
    """:func:`availability_list` for the week of ``week_start`` (from ``start``: now, in this
    week), kept for ``WIX_CACHE_SECONDS`` (a failure for
    ``WIX_DOWN_CACHE_SECONDS``)."""
    generation = cache.get_or_set(_GENERATION_KEY, lambda: uuid.uuid4().hex, None)
    what = f"{service.wix_id}|{week_start}|{resource_id or '*'}|{settings.TIME_ZONE}"
    key = f"desk:appointment-week:{generation}:{hashlib.sha1(what.encode(), usedforsecurity=False).hexdigest()}"
    kept = cache.get(key)
    if isinstance(kept, WixSlots):
        return kept
    found = availability_list(wix=wix, service=service, start=start, end=end, resource_id=resource_id)
    cache.set(key, found, WIX_DOWN_CACHE_SECONDS if found.error else WIX_CACHE_SECONDS)
    return found
