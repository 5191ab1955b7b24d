"""What the worker reads from Calendar V3 about a build's course schedule: the events already there
(before the first send, and to recognise a lost answer), and the sessions made (to check and mirror).

Query Events (CONTRACT.md §9) by ``scheduleId`` in the term's local dates, 100 a page; the cursor
carries the filter and the window, so later pages send only the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from bookings_app.models import CourseBuild, CourseBuildEvent
from bookings_app.wix import calendar

Json = dict[str, Any]
Call = Callable[..., Any]
PAGE = 100
MASTERS_AND_SINGLES = ["MASTER", "NONE"]
SESSIONS = ["NONE", "INSTANCE", "EXCEPTION"]


def schedule_events(call: Call, build: CourseBuild, *, recurrence_type: list[str]) -> list[Json]:
    """Every event of the build's schedule that starts in the term's dates."""
    start = datetime.combine(build.first_date, datetime.min.time())
    end = datetime.combine(build.last_date + timedelta(days=1), datetime.min.time())
    found: list[Json] = []
    query: Json = {"filter": {"scheduleId": build.service.schedule_id}, "cursorPaging": {"limit": PAGE}}
    window: Json = {
        "from_local_date": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "to_local_date": end.strftime("%Y-%m-%dT%H:%M:%S"),
        "recurrence_type": recurrence_type,
        "time_zone": build.timezone,
    }
    while True:
        answer = call(calendar.query_events, query=query, **window)
        page = answer.get("events") or []
        found.extend(page)
        cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
        if not cursor or not page:
            return found
        query, window = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}, {}


def _local(value: Any) -> str:
    """A local date-time as ``YYYY-MM-DDThh:mm`` (Wix may add seconds or milliseconds)."""
    try:
        return datetime.fromisoformat(str(value)[:19]).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return str(value)


def event_key(event: Json) -> tuple[Any, ...]:
    """What makes one of our events recognisable among the schedule's: type, local start and end,
    weekday and last day of its rule, and its resources.

    UNCONFIRMED: how Wix echoes ``until`` (a date, the time sent, the end of the day) — only its
    date is compared.
    """
    rule = event.get("recurrenceRule") or {}
    until = str((rule.get("until") or {}).get("localDate") or "")[:10]
    return (
        event.get("type"),
        _local((event.get("start") or {}).get("localDate")),
        _local((event.get("end") or {}).get("localDate")),
        tuple(rule.get("days") or ()),
        until,
        tuple(sorted(str((r or {}).get("id")) for r in event.get("resources") or [])),
    )


def adopt_lost(call: Call, build: CourseBuild, sent: list[CourseBuildEvent]) -> list[CourseBuildEvent]:
    """Events sent whose answer was never saved: the ones Wix made are adopted (their ids saved),
    and the rest are returned — they were never made and may be sent again.

    A candidate is an event of the schedule, in the term's dates, not cancelled, exactly like the
    one sent (``event_key``), that was not there before the first send (the build's baseline) and
    that no build has adopted already.
    """
    baseline = set(build.steps.get("baseline") or [])
    taken = set(CourseBuildEvent.objects.exclude(wix_id=None).values_list("wix_id", flat=True))
    candidates = [
        e
        for e in schedule_events(call, build, recurrence_type=MASTERS_AND_SINGLES)
        if e.get("id") not in baseline and e.get("id") not in taken and e.get("status") not in ("CANCELLED", "CANCELED")
    ]
    missing = []
    for event in sent:
        wanted = event_key(event.payload)
        match = next((c for c in candidates if event_key(c) == wanted), None)
        if match is None:
            missing.append(event)
            continue
        candidates.remove(match)
        event.state, event.wix_id, event.error_code, event.message = CourseBuildEvent.State.CREATED, match["id"], "", ""
        event.save(update_fields=["state", "wix_id", "error_code", "message"])
    return missing


def sessions_by_event(found: Iterable[Json], events: list[CourseBuildEvent]) -> dict[int, list[Json]]:
    """The sessions each created event made: a series' instances (``recurringEventId``, UNCONFIRMED
    as Wix's name for the link; the sandbox's), a single event itself."""
    owner = {e.wix_id: e.pk for e in events if e.wix_id}
    out: dict[int, list[Json]] = {e.pk: [] for e in events if e.wix_id}
    for session in found:
        parent = session.get("recurringEventId") if session.get("recurrenceType") != "NONE" else session.get("id")
        if parent in owner:
            out[owner[parent]].append(session)
    return out
