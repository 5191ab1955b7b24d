"""The preview: the plan, each session's clashes, the excluded days, and the Wix calls a commit makes.

Clashes come from the mirror: the instructor's other sessions and appointments, and sessions this
course already has, that overlap a planned session. They are flagged, never dropped — the admin
decides. The mirror holds the sync window (a week back to two months ahead), so a term that runs
further says how far the check reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bookings_app import selectors
from bookings_app.models import Session
from bookings_app.services.courses.existing import term_existing
from bookings_app.services.courses.plan import Plan, PlannedSession, SkippedSession, plan_term
from bookings_app.services.courses.term import Term
from bookings_app.services.sync.window import sync_window


@dataclass(frozen=True)
class Clash:
    session: Session
    why: str


@dataclass
class PreviewRow:
    """One line of the preview, in date order: a session to create, or an excluded one."""

    session: PlannedSession | None = None
    skipped: SkippedSession | None = None
    clashes: list[Clash] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple[str, str]:
        found = self.session or self.skipped
        assert found is not None
        day, slot = found.day, found.slot
        return (day.isoformat(), f"{slot.start:%H:%M}")


@dataclass(frozen=True)
class CallLine:
    what: str
    count: int
    detail: str


@dataclass
class Preview:
    plan: Plan
    rows: list[PreviewRow]
    checked_until: datetime  # the mirror's calendar reaches this far
    existing_sessions: int  # this course's sessions already in the term's dates (mirror)

    @property
    def term(self) -> Term:
        return self.plan.term

    @property
    def clash_count(self) -> int:
        return sum(1 for r in self.rows if r.clashes)

    @property
    def checked_all(self) -> bool:
        return not self.plan.sessions or self.plan.sessions[-1].end <= self.checked_until

    @property
    def clock_notes(self) -> list[str]:
        return [s.clock_note for s in self.plan.sessions if s.clock_note]

    @property
    def calls(self) -> list[CallLine]:
        """The Wix calls the commit makes, in order (the reads are one page each per 100 found)."""
        plan = self.plan
        kinds = []
        if plan.series_count:
            kinds.append(f"{plan.series_count} weekly series")
        if plan.single_count:
            kinds.append(f"{plan.single_count} single session{'s' if plan.single_count != 1 else ''}")
        requests = len(plan.requests)
        return [
            CallLine(
                "Query Events",
                1,
                "what this course's calendar already holds in these dates, so a lost answer can be "
                "recognised later and nothing is created twice",
            ),
            CallLine(
                "Bulk Create Event",
                requests,
                f"{len(plan.events)} event{'s' if len(plan.events) != 1 else ''} ({', '.join(kinds)}) making "
                f"{len(plan.sessions)} session{'s' if len(plan.sessions) != 1 else ''}, at most 50 events a request",
            ),
            CallLine(
                "Query Events",
                max(1, -(-(len(plan.sessions) + self.existing_sessions) // 100)),
                "read the new sessions back into Front Desk (Today, rosters) and check Wix has them all",
            ),
        ]

    @property
    def request_bodies(self) -> list[str]:
        """Each Bulk Create Event request's JSON body, exactly as the worker sends it."""
        return [
            json.dumps({"events": [{"event": e.payload} for e in chunk]}, indent=2, ensure_ascii=False)
            for chunk in self.plan.requests
        ]

    @property
    def call_total(self) -> int:
        return sum(c.count for c in self.calls)


def course_preview(*, term: Term, plan: Plan | None = None) -> Preview:
    """The plan of ``term`` (or ``plan``, made by the caller: imported sessions) with its clashes
    (one query)."""
    plan = plan or plan_term(term, term_existing(service=term.service, first=term.first, last=term.last, tz=term.tz))
    rows = [PreviewRow(session=s) for s in plan.sessions]
    if plan.sessions:
        nearby = selectors.course_clash_sessions(
            service=term.service,
            staff=term.instructor,
            start=plan.sessions[0].start,
            end=max(s.end for s in plan.sessions),
        )
    else:
        nearby = []
    for row in rows:
        assert row.session is not None
        row.clashes = [
            Clash(s, _why(s, term)) for s in nearby if s.start < row.session.end and row.session.start < s.end
        ]
    rows += [PreviewRow(skipped=skipped) for skipped in plan.skipped]
    rows.sort(key=lambda r: r.sort_key)
    existing = sum(1 for s in nearby if s.service_id == term.service.pk)
    return Preview(plan=plan, rows=rows, checked_until=sync_window().end, existing_sessions=existing)


def _why(session: Session, term: Term) -> str:
    tz = ZoneInfo(term.tz)
    when = f"{session.start.astimezone(tz):%a %-d %b %H:%M}–{session.end.astimezone(tz):%H:%M}"
    what = session.title or session.service.name
    if session.service_id == term.service.pk:
        return f"{term.service.name} already has a session {when}"
    return f"{term.instructor.name} teaches {what} {when}"
