"""Edit a running course: add one session, or move the last date later — each a term the builder's
own machinery previews, commits and sends (``plan_term``, ``course_preview``, ``course_build_commit``),
so it is never doubled (``existing``: a session the course has, or has on its way, is left out).

- **One session added** is a term of one day with one slot: ``plan_term`` makes it a single event.
- **The last date moved later** is a longer term from the course's timetable: its weekly slots,
  instructor, place and capacity (``course_timetable``: the newest weekly term built here, else
  what the course's sessions in Wix repeat week after week). The term starts the day after the
  course's last session, so the preview lists exactly the new weeks.
- **The last date moved earlier** cancels the sessions after it: ``cancel.course_shorten_plan``.

Every function raises ``TermInvalid`` (what is wrong, by field) or ``BookingError``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Q

from bookings_app.models import CourseBuild, CourseBuildEvent, CourseCancelSession, Service, Session, StaffMember
from bookings_app.services.courses.term import Exclusion, Slot, Term, TermInvalid, term_make
from bookings_app.services.errors import BookingError
from bookings_app.services.mirror import values

CANCELLED = ("CANCELLED", "CANCELED")
TIMETABLE_SOURCES = (CourseBuild.Source.WEEKLY, CourseBuild.Source.EXTENDED)
REPEAT_WINDOW = timedelta(weeks=4)  # the weeks before the last session a timetable is read from
# A session being cancelled, or cancelled: not part of the course's dates any more.
GONE_STATES = (
    CourseCancelSession.State.PLANNED,
    CourseCancelSession.State.SENT,
    CourseCancelSession.State.CANCELLED,
)


@dataclass(frozen=True)
class Timetable:
    """What a running course repeats each week, and where that was read."""

    slots: tuple[Slot, ...]
    instructor: StaffMember
    location: dict[str, Any] | None
    capacity: int
    exclusions: tuple[Exclusion, ...]
    source: str  # "the term built on 3 Mar 2027", "its sessions in Wix"

    @property
    def label(self) -> str:
        return ", ".join(s.label for s in sorted(self.slots, key=lambda s: (s.weekday, s.start)))


def course_timetable(*, service: Service) -> Timetable | None:
    """The newest weekly term built here for ``service`` that Wix did not refuse outright; else the
    weekly times its sessions repeat in their last four weeks (the mirror). None: nothing to go on."""
    builds = (
        CourseBuild.objects.filter(service=service, source__in=TIMETABLE_SOURCES)
        .annotate(kept=Count("events", filter=~Q(events__state=CourseBuildEvent.State.FAILED)))
        .filter(kept__gt=0)
        .select_related("instructor")
        .order_by("-created_at", "-pk")
    )
    for build in builds[:5]:
        if build.slots:
            return Timetable(
                slots=tuple(
                    Slot(s["weekday"], time.fromisoformat(s["start"]), time.fromisoformat(s["end"]))
                    for s in build.slots
                ),
                instructor=build.instructor,
                location=build.location or None,
                capacity=build.capacity,
                exclusions=tuple(
                    Exclusion(date.fromisoformat(e["first"]), date.fromisoformat(e["last"]), e["reason"])
                    for e in build.exclusions
                ),
                source=f"the term built on {build.created_at:%-d %b %Y}",
            )
    return _timetable_from_sessions(service)


def _timetable_from_sessions(service: Service) -> Timetable | None:
    sessions = list(
        Session.objects.filter(service=service, wix_id__isnull=False)
        .exclude(status__in=CANCELLED)
        .select_related("staff")
        .order_by("-start")[:60]
    )
    if not sessions:
        return None
    recent = [s for s in sessions if s.start > sessions[0].start - REPEAT_WINDOW]
    zone = values.zone(recent[0].timezone or settings.TIME_ZONE)
    seen: Counter[Slot] = Counter()
    for session in recent:
        start, end = session.start.astimezone(zone), session.end.astimezone(zone)
        if start.date() == end.date() and end > start:
            seen[
                Slot(start.weekday(), start.time().replace(second=0, microsecond=0), end.time().replace(second=0))
            ] += 1
    # What repeats, when anything does (a one-off session moved to another time is not the timetable);
    # of two that overlap on one day, the more frequent.
    repeated = [slot for slot, n in seen.most_common() if n > 1] or [slot for slot, _ in seen.most_common()]
    slots: list[Slot] = []
    for slot in repeated:
        if not any(o.weekday == slot.weekday and o.start < slot.end and slot.start < o.end for o in slots):
            slots.append(slot)
    staff = Counter(s.staff for s in recent if s.staff is not None and s.staff.resource_id)
    if not slots or not staff:
        return None
    capacity = Counter(s.capacity for s in recent if s.capacity).most_common(1)
    location = (recent[0].raw or {}).get("location") or {}
    return Timetable(
        slots=tuple(slots),
        instructor=staff.most_common(1)[0][0],
        location={k: location[k] for k in ("id", "type", "name", "formattedAddress") if k in location}
        if location.get("id")
        else None,
        capacity=capacity[0][0] if capacity else service.default_capacity or 1,
        exclusions=(),
        source="its sessions in Wix",
    )


def course_last_day(*, service: Service, tz: str) -> date | None:
    """The day of the course's last session: in the mirror (not cancelled, nor being cancelled here)
    or still on its way to Wix in a build. None: the course has no sessions."""
    zone = ZoneInfo(tz)
    live = (
        Session.objects.filter(service=service)
        .exclude(status__in=CANCELLED)
        .exclude(course_cancels__state__in=GONE_STATES)
        .aggregate(last=Max("start"))["last"]
    )
    days = [live.astimezone(zone).date()] if live else []
    on_the_way = CourseBuildEvent.objects.filter(build__service=service, session_wix_ids__isnull=True).exclude(
        state=CourseBuildEvent.State.FAILED
    )
    for sessions in on_the_way.values_list("sessions", flat=True):
        days += [datetime.fromisoformat(s).date() for s in sessions]
    return max(days) if days else None


def course_add_term(
    *,
    service: Service,
    day: date | None,
    start: time | None,
    end: time | None,
    instructor: StaffMember | None,
    location: dict[str, Any] | None,
    capacity: int | None,
    now: datetime,
    tz: str,
) -> Term:
    """One session of ``service`` on ``day`` from ``start`` to ``end``, as a term of one day.

    Raises ``TermInvalid`` (fields ``day``, ``start``, ``instructor``, ``capacity``): a day or time
    missing, the end before the start, a time that has passed, the builder's own rules."""
    bad = TermInvalid()
    if day is None:
        bad.add("day", "Give the date of the session.")
    if start is None or end is None:
        bad.add("start", "Give the start and end times, like 17:00 and 17:45.")
    elif day is not None and datetime.combine(day, start, tzinfo=ZoneInfo(tz)) <= now:
        bad.add("start", f"{day:%a %-d %b} {start:%H:%M} has passed: choose a time still to come.")
    if bad.problems:
        raise bad
    assert day is not None and start is not None and end is not None
    try:
        return term_make(
            service=service,
            instructor=instructor,
            location=location,
            capacity=capacity if capacity is not None else service.default_capacity,
            slots=[(0, Slot(day.weekday(), start, end))],
            first=day,
            last=day,
            weeks=None,
            exclusions=[],
            today=now.astimezone(ZoneInfo(tz)).date(),
            tz=tz,
        )
    except TermInvalid as invalid:
        raise _renamed(invalid, {"first_date": "day", "slot-0": "start", "slots": "start"}) from None


def course_extend_term(*, service: Service, new_last: date, first: date | None, today: date, tz: str) -> Term:
    """The new weeks of ``service`` up to ``new_last``, from its timetable: from ``first`` (what the
    preview used, sent back with the commit) or the day after its last session (today at the
    earliest). Raises ``BookingError`` ``no_timetable``; ``TermInvalid`` (``new_last_date``)."""
    timetable = course_timetable(service=service)
    if timetable is None:
        raise BookingError(
            f"{service.name} has no weekly timetable to repeat (no term built here, and no weekly sessions in "
            "Wix with an instructor): build the new weeks in the course builder.",
            code="no_timetable",
        )
    if first is None:
        last = course_last_day(service=service, tz=tz)
        first = max(today, last + timedelta(days=1)) if last else today
    if new_last < first:
        bad = TermInvalid()
        bad.add("new_last_date", f"The course already runs to {first - timedelta(days=1):%a %-d %b %Y}.")
        raise bad
    exclusions = [
        Exclusion(max(e.first, first), min(e.last, new_last), e.reason)
        for e in timetable.exclusions
        if e.last >= first and e.first <= new_last
    ]
    try:
        return term_make(
            service=service,
            instructor=timetable.instructor,
            location=timetable.location,
            capacity=timetable.capacity,
            slots=list(enumerate(timetable.slots)),
            first=first,
            last=new_last,
            weeks=None,
            exclusions=list(enumerate(exclusions)),
            today=today,
            tz=tz,
        )
    except TermInvalid as invalid:
        raise _renamed(invalid, {}, default="new_last_date") from None


def _renamed(invalid: TermInvalid, names: dict[str, str], default: str | None = None) -> TermInvalid:
    """The builder's field names as this page's: ``names`` maps them, the rest go to ``default``."""
    out = TermInvalid()
    for name, messages in invalid.problems.items():
        for message in messages:
            out.add(names.get(name, default or name), message)
    return out
