"""Schedule maths: a term → every session it makes, the days it skips, and the Calendar V3 events
(and Bulk Create Event requests) that make exactly those sessions.

Pure: no database, no Wix. The preview shows this plan, the commit saves it, the worker sends it,
so the numbers the admin reads are the numbers Wix ends up with.

**Exclusions split the series.** Calendar V3 as documented (CONTRACT.md §9) has no way to say
"every Tuesday except 17 February": a recurrence rule has a frequency, an interval, one weekday and
an ``until``, and nothing else. Cancelling the excluded instances after creation would work, but
for a while (and for good after a crash in between) the excluded sessions would exist and could be
booked, and their cancelled events stay on the Wix calendar. So each weekday's dates are cut into
runs of consecutive weeks around the excluded days: a run of two or more weeks is one weekly series
(``until`` = its last day at 23:59:59, the recipe's form), a run of one week is a single event.
A 10-week Tuesday/Thursday term with one week off is four series and 18 sessions.

Times are local wall-clock times in the business's zone; Calendar keeps a weekly series at the same
local time across a daylight-saving change, and so does this plan (a 17:00 session stays 17:00).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookings_app.services.courses.term import Exclusion, Slot, Term
from bookings_app.wix import calendar

EVENTS_PER_REQUEST = calendar.BULK_CREATE_LIMIT  # 50
PERMISSION_ROLE = "WRITER"  # the instructor may edit their sessions (CONTRACT.md §9: WRITER | COMMENTER)
LOCAL = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class PlannedSession:
    day: date
    slot: Slot
    start: datetime  # aware, in the business's zone
    end: datetime
    clock_note: str = ""  # a local time the clocks skip or repeat that day

    @property
    def local_start(self) -> str:
        return datetime.combine(self.day, self.slot.start).strftime(LOCAL)


@dataclass(frozen=True)
class SkippedSession:
    day: date
    slot: Slot
    exclusion: Exclusion


@dataclass
class PlannedEvent:
    """One Calendar V3 event: a weekly series over ``days`` (two or more), or a single session."""

    slot: Slot
    days: list[date]
    payload: dict[str, Any]

    @property
    def recurring(self) -> bool:
        return len(self.days) > 1

    @property
    def sessions(self) -> list[str]:
        return [datetime.combine(d, self.slot.start).strftime(LOCAL) for d in self.days]

    @property
    def label(self) -> str:
        if self.recurring:
            return (
                f"Every {self.slot.label}, {self.days[0]:%-d %b} – {self.days[-1]:%-d %b %Y} ({len(self.days)} weeks)"
            )
        return f"{self.slot.label}, {self.days[0]:%a %-d %b %Y} (one session)"


@dataclass
class Plan:
    term: Term
    sessions: list[PlannedSession] = field(default_factory=list)
    skipped: list[SkippedSession] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)

    @property
    def requests(self) -> list[list[PlannedEvent]]:
        """The Bulk Create Event requests, in order (at most 50 events each)."""
        return [self.events[i : i + EVENTS_PER_REQUEST] for i in range(0, len(self.events), EVENTS_PER_REQUEST)]

    @property
    def series_count(self) -> int:
        return sum(1 for e in self.events if e.recurring)

    @property
    def single_count(self) -> int:
        return sum(1 for e in self.events if not e.recurring)

    @property
    def read_pages(self) -> int:
        return max(1, math.ceil(len(self.sessions) / 100))

    @property
    def digest(self) -> str:
        """A fingerprint of exactly what would be sent: the commit refuses a plan that changed
        since the admin previewed it."""
        text = json.dumps([e.payload for e in self.events], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def plan_term(term: Term, existing: Mapping[tuple[datetime, datetime], str] | None = None) -> Plan:
    """Every session of ``term``, the excluded ones, and the events that make the rest.
    ``existing``: (start, end) → why, the sessions the course has already (``existing.term_existing``);
    such a day is left out like an excluded one, with that reason, so a term committed twice
    creates nothing twice."""
    plan = Plan(term=term)
    tz = ZoneInfo(term.tz)
    existing = existing or {}
    for slot in term.slots:
        kept: list[date] = []
        day = term.first + timedelta(days=(slot.weekday - term.first.weekday()) % 7)
        while day <= term.last:
            exclusion = next((e for e in term.exclusions if e.covers(day)), None)
            session = planned_session(day, slot, tz)
            already = existing.get((session.start, session.end))
            if exclusion is None and already:
                exclusion = Exclusion(day, day, already)
            if exclusion is not None:
                plan.skipped.append(SkippedSession(day, slot, exclusion))
            else:
                kept.append(day)
                plan.sessions.append(session)
            day += timedelta(weeks=1)
        for run in _runs(kept):
            plan.events.append(PlannedEvent(slot, run, event_payload(term, slot, run)))
    plan.sessions.sort(key=lambda s: (s.start, s.slot.weekday))
    plan.skipped.sort(key=lambda s: (s.day, s.slot.start))
    plan.events.sort(key=lambda e: (e.days[0], e.slot.start))
    return plan


def event_payload(term: Term, slot: Slot, days: list[date]) -> dict[str, Any]:
    """The Calendar V3 event for ``days`` of ``slot`` (CONTRACT.md §9, seed 000 step 4)."""
    first = days[0]
    event: dict[str, Any] = {
        "type": "COURSE",
        "scheduleId": term.service.schedule_id,
        "externalScheduleId": term.service.wix_id,
        "start": {"localDate": datetime.combine(first, slot.start).strftime(LOCAL)},
        "end": {"localDate": datetime.combine(first, slot.end).strftime(LOCAL)},
        "resources": [{"id": term.instructor.resource_id, "permissionRole": PERMISSION_ROLE}],
        "totalCapacity": term.capacity,
    }
    if term.location:
        event["location"] = dict(term.location)
    if len(days) > 1:
        event["recurrenceRule"] = {
            "frequency": "WEEKLY",
            "interval": 1,
            "days": [slot.day_name],
            "until": {"localDate": datetime.combine(days[-1], time(23, 59, 59)).strftime(LOCAL)},
        }
    return event


def _runs(days: list[date]) -> list[list[date]]:
    """Consecutive weeks together: a week left out starts a new run."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(weeks=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def planned_session(day: date, slot: Slot, tz: ZoneInfo) -> PlannedSession:
    """The session of ``slot`` on ``day``, in the business zone (noting a clock change)."""
    start = datetime.combine(day, slot.start, tzinfo=tz)
    end = datetime.combine(day, slot.end, tzinfo=tz)
    return PlannedSession(day, slot, start, end, _clock_note(start, tz))


def _clock_note(moment: datetime, tz: ZoneInfo) -> str:
    """A wall-clock time that does not exist (clocks go forward) or happens twice (they go back)."""
    round_trip = moment.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return f"{moment:%H:%M} does not exist on {moment:%-d %b} (the clocks go forward)"
    if moment.replace(fold=1).utcoffset() != moment.replace(fold=0).utcoffset():
        return f"{moment:%H:%M} happens twice on {moment:%-d %b} (the clocks go back)"
    return ""
