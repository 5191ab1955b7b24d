"""A course term as the admin asks for it, and the rules it must meet before anything is planned.

``term_make`` takes what the builder's form parsed (shapes are the form's job) and returns a
:class:`Term`, or raises :class:`TermInvalid` with one message per field — the builder shows them
next to the fields (422) and nothing is saved or sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from bookings_app.models import Service, StaffMember

WEEKDAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_TERM_WEEKS = 52  # a longer timetable is several terms: each is previewed and checked on its own
MAX_SLOTS = 7
MAX_EXCLUSIONS = 20
MAX_CAPACITY = 1000
MAX_YEARS_AHEAD = 2  # how far ahead a term may start


@dataclass(frozen=True)
class Slot:
    """A weekly session time: ``weekday`` 0 = Monday, local start and end."""

    weekday: int
    start: time
    end: time

    @property
    def day_name(self) -> str:
        return WEEKDAY_NAMES[self.weekday]

    @property
    def label(self) -> str:
        return f"{WEEKDAY_LABELS[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"

    def as_json(self) -> dict[str, Any]:
        return {"weekday": self.weekday, "start": f"{self.start:%H:%M}", "end": f"{self.end:%H:%M}"}


@dataclass(frozen=True)
class Exclusion:
    """Days without sessions (``first``..``last`` inclusive) and why: a bank holiday, half-term."""

    first: date
    last: date
    reason: str

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%a %-d %b %Y}"
        return f"{self.first:%a %-d %b} – {self.last:%a %-d %b %Y}"

    def as_json(self) -> dict[str, Any]:
        return {"first": self.first.isoformat(), "last": self.last.isoformat(), "reason": self.reason}


@dataclass(frozen=True)
class Term:
    service: Service
    instructor: StaffMember
    location: dict[str, Any] | None  # the Calendar event's location, or None for the service's own
    capacity: int
    tz: str
    slots: tuple[Slot, ...]
    first: date
    last: date
    exclusions: tuple[Exclusion, ...] = ()

    @property
    def weeks(self) -> int:
        return (self.last - self.first).days // 7 + 1


@dataclass
class TermInvalid(Exception):
    """What is wrong, by form field (``slot-0``, ``exclusion-2`` … for a row)."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.problems.setdefault(name, []).append(message)

    def __str__(self) -> str:
        return "; ".join(m for ms in self.problems.values() for m in ms)


def term_make(
    *,
    service: Service | None,
    instructor: StaffMember | None,
    location: dict[str, Any] | None,
    capacity: int | None,
    slots: list[tuple[int, Slot]],
    first: date | None,
    last: date | None,
    weeks: int | None,
    exclusions: list[tuple[int, Exclusion]],
    today: date,
    tz: str,
) -> Term:
    """The term, checked. ``slots`` and ``exclusions`` carry their form row numbers.

    Raises ``TermInvalid``: not a course, an instructor without a calendar resource, a first date
    in the past, a last date before the first, both or neither of a last date and a number of
    weeks, 0 weeks, a term longer than ``MAX_TERM_WEEKS``, no weekday, a session ending before it
    starts, two slots that overlap, an exclusion backwards, outside the term or without a reason.
    """
    bad = TermInvalid()
    if service is None:
        bad.add("service", "Choose the course.")
    elif service.type != Service.Type.COURSE or not service.schedule_id:
        bad.add("service", f"{service.name} is not a course with a calendar in Wix.")
    if instructor is None:
        bad.add("instructor", "Choose the instructor.")
    elif not instructor.resource_id:
        bad.add(
            "instructor",
            f"{instructor.name} has no calendar resource in Wix, so Wix can't put them on a session. "
            "Sync again, or choose someone else.",
        )
    if capacity is None:
        bad.add("capacity", "Say how many people each session takes.")
    elif not 1 <= capacity <= MAX_CAPACITY:
        bad.add("capacity", f"Capacity is 1 to {MAX_CAPACITY} people.")
    _check_slots(bad, slots)
    last = _check_dates(bad, first, last, weeks, today)
    if first is not None and last is not None:
        _check_exclusions(bad, exclusions, first, last)
    if bad.problems:
        raise bad
    assert service is not None and instructor is not None and capacity is not None
    assert first is not None and last is not None
    return Term(
        service=service,
        instructor=instructor,
        location=location,
        capacity=capacity,
        tz=tz,
        slots=tuple(slot for _, slot in slots),
        first=first,
        last=last,
        exclusions=tuple(sorted((e for _, e in exclusions), key=lambda e: (e.first, e.last))),
    )


def _check_slots(bad: TermInvalid, slots: list[tuple[int, Slot]]) -> None:
    if not slots:
        bad.add("slots", "Add at least one weekday with a start and end time.")
        return
    if len(slots) > MAX_SLOTS:
        bad.add("slots", f"At most {MAX_SLOTS} weekly sessions in one term.")
    for i, (row, slot) in enumerate(slots):
        if slot.end <= slot.start:
            bad.add(f"slot-{row}", f"{WEEKDAY_LABELS[slot.weekday]}: the session ends before it starts.")
            continue
        for other_row, other in slots[:i]:
            if other.weekday == slot.weekday and other.start < slot.end and slot.start < other.end:
                bad.add(f"slot-{row}", f"{slot.label} overlaps {other.label} (row {other_row + 1}).")


def _check_dates(
    bad: TermInvalid, first: date | None, last: date | None, weeks: int | None, today: date
) -> date | None:
    if first is None:
        bad.add("first_date", "Give the date of the first week.")
        return None
    if first < today:
        bad.add("first_date", f"The first date is in the past: the term can start today ({today:%-d %b %Y}) or later.")
    elif first > today + timedelta(days=365 * MAX_YEARS_AHEAD):
        bad.add("first_date", f"A term can start at most {MAX_YEARS_AHEAD} years ahead.")
        return None
    if last is not None and weeks is not None:
        bad.add("weeks", "Give a last date or a number of weeks, not both.")
        return None
    if last is None and weeks is None:
        bad.add("last_date", "Give the last date, or the number of weeks.")
        return None
    if weeks is not None:
        if weeks < 1:
            bad.add("weeks", "A term is at least 1 week.")
            return None
        if weeks > MAX_TERM_WEEKS:
            bad.add("weeks", _too_long(weeks))
            return None
        return first + timedelta(weeks=weeks, days=-1)
    assert last is not None
    if last < first:
        bad.add("last_date", f"The last date ({last:%-d %b %Y}) is before the first ({first:%-d %b %Y}).")
        return None
    span = (last - first).days // 7 + 1
    if span > MAX_TERM_WEEKS:
        bad.add("last_date", _too_long(span))
        return None
    return last


def _too_long(weeks: int) -> str:
    return (
        f"That term is {weeks} weeks long; a term can be at most {MAX_TERM_WEEKS} weeks. "
        "Build a longer timetable as several terms."
    )


def _check_exclusions(bad: TermInvalid, exclusions: list[tuple[int, Exclusion]], first: date, last: date) -> None:
    if len(exclusions) > MAX_EXCLUSIONS:
        bad.add("exclusions", f"At most {MAX_EXCLUSIONS} exclusions in one term.")
    for row, excl in exclusions:
        name = f"exclusion-{row}"
        if excl.last < excl.first:
            bad.add(name, f"{excl.reason or 'This exclusion'}: the end ({excl.last:%-d %b}) is before the start.")
        elif excl.last < first or excl.first > last:
            bad.add(
                name,
                f"{excl.label} is outside the term ({first:%-d %b %Y} – {last:%-d %b %Y}): check the dates.",
            )
        if not excl.reason.strip():
            bad.add(name, "Say why there are no sessions then (e.g. Bank holiday, Half-term).")
