"""A timetable file's preview: every row as a session, the ones that already exist, the clashes, and
the Calendar V3 events and Wix calls the commit makes — per course, because the commit makes one
``CourseBuild`` per course named in the file.

**One build per course.** A build's worker steps read one course's calendar (its schedule) to set
the baseline, to recognise a lost answer and to read the sessions back; one build per course keeps
those steps, Retry and the build's page exactly as they are for a weekly term. The price is a few
calls: three or more per course instead of sharing Bulk Create requests between courses.

**Each row is a single event** (no recurrence rule), made by the weekly builder's own
``event_payload`` with the row's instructor (their calendar resource), place and capacity.

**Already there.** A row whose course already has a session at that very date, start and end is
not created again: either a build of ours made it or is making it (any term or import whose event
was not refused by Wix), or the mirror has it (made in Wix, or by us and synced). So the same file
uploaded again after its commit previews "already exists" for every row and the commit sends
nothing. Clashes (overlaps that are not the same session) are flagged, never dropped: the
instructor's other sessions and appointments, the course's other sessions, and other rows of the
file with the same instructor or course.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Q

from bookings_app.models import CourseImport, Service, Session
from bookings_app.services.courses.existing import Key, made_by_builds
from bookings_app.services.courses.import_file import Sheet
from bookings_app.services.courses.import_rows import SessionRow, rows_check
from bookings_app.services.courses.plan import Plan, PlannedEvent, PlannedSession, event_payload, planned_session
from bookings_app.services.courses.preview import CallLine, Preview
from bookings_app.services.courses.term import Slot, Term
from bookings_app.services.sync.window import sync_window

CANCELLED = ("CANCELLED", "CANCELED")


@dataclass
class ImportRow:
    row: SessionRow
    session: PlannedSession
    existing: str = ""  # why it is not created again ("Already in Wix"); "" = it will be
    existing_note: str = ""  # which build made it ("imported from spring.csv on 3 Mar 2027")
    clashes: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return not self.existing


@dataclass
class CoursePart:
    """One course's rows; its new ones become one build."""

    service: Service
    rows: list[ImportRow]
    term: Term | None = None  # None: nothing new for this course
    plan: Plan | None = None
    preview: Preview | None = None  # the Wix calls and request bodies of ``plan``

    @property
    def new_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.is_new]

    @property
    def instructors(self) -> list[str]:
        return sorted({r.row.instructor.name for r in self.rows})


@dataclass
class ImportPreview:
    sheet: Sheet
    parts: list[CoursePart]
    checked_until: datetime
    earlier: list[CourseImport]  # this very file, imported before

    @property
    def rows(self) -> list[ImportRow]:
        return sorted((r for p in self.parts for r in p.rows), key=lambda r: (r.session.start, r.row.number))

    @property
    def building(self) -> list[CoursePart]:
        return [p for p in self.parts if p.plan is not None]

    @property
    def new_count(self) -> int:
        return sum(len(p.new_rows) for p in self.parts)

    @property
    def existing_count(self) -> int:
        return sum(len(p.rows) - len(p.new_rows) for p in self.parts)

    @property
    def clash_count(self) -> int:
        return sum(1 for p in self.parts for r in p.rows if r.clashes)

    @property
    def event_count(self) -> int:
        return sum(len(p.plan.events) for p in self.building if p.plan)

    @property
    def calls(self) -> list[CallLine]:
        """The Wix calls of every build, added up line by line (each build reads its course's calendar
        before and after its Bulk Create Event requests)."""
        previews = [p.preview for p in self.building if p.preview is not None]
        if not previews:
            return []
        courses = len(previews)
        lines = [pr.calls for pr in previews]
        check, create, read = (sum(ls[i].count for ls in lines) for i in range(3))
        each = "each course's" if courses > 1 else "the course's"
        return [
            CallLine(
                "Query Events",
                check,
                f"what {each} calendar already holds in these dates, so a lost answer can be recognised later "
                "and nothing is created twice",
            ),
            CallLine(
                "Bulk Create Event",
                create,
                f"{self.event_count} single session{'s' if self.event_count != 1 else ''} for {courses} "
                f"course{'s' if courses != 1 else ''}, at most 50 a request, one course a request",
            ),
            CallLine("Query Events", read, "read the new sessions back into Front Desk (Today, rosters)"),
        ]

    @property
    def call_total(self) -> int:
        return sum(c.count for c in self.calls)

    @property
    def request_bodies(self) -> list[tuple[str, str]]:
        """(course, JSON body) of every Bulk Create Event request, exactly as the worker sends it."""
        return [(p.service.name, body) for p in self.building if p.preview for body in p.preview.request_bodies]

    @property
    def checked_all(self) -> bool:
        ends = [r.session.end for p in self.building for r in p.new_rows]
        return not ends or max(ends) <= self.checked_until

    @property
    def clock_notes(self) -> list[str]:
        return [r.session.clock_note for p in self.building for r in p.new_rows if r.session.clock_note]

    @property
    def digest(self) -> str:
        """What the commit must find unchanged: every build's exact events."""
        plans = [[p.service.wix_id, p.plan.digest] for p in self.building if p.plan]
        return hashlib.sha256(json.dumps(plans).encode()).hexdigest()[:32]


def course_import_preview(*, sheet: Sheet, today: date, tz: str) -> ImportPreview:
    """The file's sessions as they would be created. Raises ``ImportRefused`` (a row is wrong)."""
    zone = ZoneInfo(tz)
    rows = [
        ImportRow(r, planned_session(r.day, Slot(r.day.weekday(), r.start, r.end), zone))
        for r in rows_check(sheet=sheet, today=today)
    ]
    services = {r.row.service.pk: r.row.service for r in rows}
    if rows:
        first, last = min(r.row.day for r in rows), max(r.row.day for r in rows)
        start, end = min(r.session.start for r in rows), max(r.session.end for r in rows)
        made = made_by_builds(services.values(), first, last)
        nearby = _nearby(services.values(), {r.row.instructor.pk for r in rows}, start, end)
    else:
        made, nearby = {}, []
    in_mirror = {(s.service_id, s.start, s.end): s for s in nearby}
    for r in rows:
        key = (r.row.service.pk, r.session.start, r.session.end)
        if key in made:
            r.existing, r.existing_note = made[key]
        elif key in in_mirror:
            r.existing = "Already in Wix"
    pending = [key for key in made if key not in in_mirror]  # ours, not read back (or synced) yet
    _clashes([r for r in rows if r.is_new], nearby, pending, zone)
    by_course: dict[int, list[ImportRow]] = defaultdict(list)
    for r in rows:
        by_course[r.row.service.pk].append(r)
    window_end = sync_window().end
    parts = []
    for pk, course_rows in by_course.items():
        course_rows.sort(key=lambda r: (r.session.start, r.row.number))
        part = CoursePart(service=services[pk], rows=course_rows)
        _plan_part(part, tz, nearby, window_end)
        parts.append(part)
    parts.sort(key=lambda p: (p.service.name.casefold(), p.service.pk))
    earlier = list(CourseImport.objects.filter(file_sha256=sheet.sha256).select_related("created_by")[:5])
    return ImportPreview(sheet=sheet, parts=parts, checked_until=window_end, earlier=earlier)


def _nearby(services: Iterable[Service], staff: set[int], start: datetime, end: datetime) -> list[Session]:
    """The mirror's live sessions of these courses or taught by these instructors, in the file's span."""
    return list(
        Session.objects.filter(Q(service__in=list(services)) | Q(staff__in=staff), start__lt=end, end__gt=start)
        .exclude(status__in=CANCELLED)
        .select_related("service", "staff")
        .order_by("start", "pk")
    )


def _when(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    return f"{start.astimezone(zone):%a %-d %b %H:%M}–{end.astimezone(zone):%H:%M}"


def _clashes(rows: list[ImportRow], nearby: list[Session], pending: list[Key], zone: ZoneInfo) -> None:
    """Overlaps that are not the same session: flagged on the row, nothing dropped."""
    by_day: dict[date, list[Session]] = defaultdict(list)
    for s in nearby:
        by_day[s.start.astimezone(zone).date()].append(s)
    pending_by_day: dict[date, list[Key]] = defaultdict(list)
    for key in pending:
        pending_by_day[key[1].astimezone(zone).date()].append(key)
    for r in rows:
        me, course, who = r.session, r.row.service, r.row.instructor
        for s in by_day.get(r.row.day, []):
            if not (s.start < me.end and me.start < s.end):
                continue
            if s.service_id == course.pk:
                r.clashes.append(f"{course.name} already has a session {_when(s.start, s.end, zone)}")
            elif s.staff_id == who.pk:
                what = s.title or s.service.name
                r.clashes.append(f"{who.name} teaches {what} {_when(s.start, s.end, zone)}")
        for service_id, start, end in pending_by_day.get(r.row.day, []):
            if service_id == course.pk and start < me.end and me.start < end:
                r.clashes.append(f"{course.name} already has a session {_when(start, end, zone)}")
    groups: dict[tuple[str, int, date], list[ImportRow]] = defaultdict(list)
    for r in rows:
        groups[("staff", r.row.instructor.pk, r.row.day)].append(r)
        groups[("course", r.row.service.pk, r.row.day)].append(r)
    for (kind, _, _), group in groups.items():
        for i, r in enumerate(group):
            for other in group[:i] + group[i + 1 :]:
                if not (other.session.start < r.session.end and r.session.start < other.session.end):
                    continue
                span = f"{other.row.start:%H:%M}–{other.row.end:%H:%M}"
                if kind == "staff":
                    r.clashes.append(
                        f"{r.row.instructor.name} also teaches row {other.row.number} ({other.row.service.name} {span})"
                    )
                elif other.row.instructor.pk != r.row.instructor.pk:  # the same teacher: said above
                    r.clashes.append(f"row {other.row.number} is {other.row.service.name} too, {span}")


def _most(values: Iterable[object]) -> object:
    return Counter(values).most_common(1)[0][0]


def _plan_part(part: CoursePart, tz: str, nearby: list[Session], window_end: datetime) -> None:
    new = part.new_rows
    if not new:
        return
    service = part.service
    places = {json.dumps(r.row.place.as_event_location() if r.row.place else None, sort_keys=True) for r in new}
    term = Term(
        service=service,
        instructor=_most(r.row.instructor for r in new),  # type: ignore[arg-type]
        location=json.loads(places.pop()) if len(places) == 1 else None,
        capacity=_most(r.row.capacity for r in new),  # type: ignore[arg-type]
        tz=tz,
        slots=(),
        first=min(r.row.day for r in new),
        last=max(r.row.day for r in new),
    )
    plan = Plan(term=term)
    for r in new:
        row = r.row
        slot = r.session.slot
        own = Term(
            service=service,
            instructor=row.instructor,
            location=row.place.as_event_location() if row.place else None,
            capacity=row.capacity,
            tz=tz,
            slots=(slot,),
            first=row.day,
            last=row.day,
        )
        plan.sessions.append(r.session)
        plan.events.append(PlannedEvent(slot, [row.day], event_payload(own, slot, [row.day])))
    plan.events.sort(key=lambda e: (e.days[0], e.slot.start))
    first_start = min(r.session.start for r in new)
    last_end = max(r.session.end for r in new)
    existing = sum(1 for s in nearby if s.service_id == service.pk and s.start < last_end and first_start < s.end)
    part.term, part.plan = term, plan
    part.preview = Preview(plan=plan, rows=[], checked_until=window_end, existing_sessions=existing)
