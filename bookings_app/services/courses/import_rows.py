"""The rows of a timetable file checked one by one: each names a course, a date, start and end times,
an instructor, and maybe a place and a capacity. Every problem is reported with its row number and
column, all at once, so the admin fixes the file in one go (``ImportRefused``).

Dates are ISO (2027-03-02) or UK (02/03/2027, 2/3/27, 02-03-2027, 02.03.2027): a date with slashes
is day first, always. Times are HH:MM (17:00, 9:30, 17:00:00; "5:00 PM" as Excel writes it in the
US). Names are matched without regard to case or spacing: the course among the COURSE services that
have a calendar, the instructor among the staff (by name or email), the place among the business
locations. A blank place is the course's own; a blank capacity is the course's default.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TypeVar

from bookings_app import selectors
from bookings_app.models import Service, StaffMember
from bookings_app.selectors.courses import Place
from bookings_app.services.courses.import_file import ImportRefused, Problem, Sheet, SheetRow
from bookings_app.services.courses.term import MAX_CAPACITY, MAX_YEARS_AHEAD
from bookings_app.services.imports.sheet import parse_date, parse_time

MAX_PROBLEMS = 60  # listed; the rest are counted
NAMES_LISTED = 15

T = TypeVar("T")


@dataclass(frozen=True)
class SessionRow:
    """One row of the file, checked."""

    number: int
    service: Service
    day: date
    start: time
    end: time
    instructor: StaffMember
    place: Place | None  # None: the course's own place
    capacity: int

    @property
    def key(self) -> tuple[int, date, time, time]:
        return (self.service.pk, self.day, self.start, self.end)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


class _Names:
    """Names in the file → the mirror's rows, with the words for an unknown one."""

    def __init__(self, things: Iterable[T], names: Iterable[tuple[str, T]]) -> None:
        self.by_name: dict[str, list[T]] = {}
        for name, thing in names:
            found = self.by_name.setdefault(_norm(name), [])
            if thing not in found:
                found.append(thing)
        self.things = list(things)

    def find(self, text: str) -> list[T]:
        return self.by_name.get(_norm(text), [])

    def close(self, text: str) -> list[str]:
        return difflib.get_close_matches(_norm(text), list(self.by_name), n=1, cutoff=0.75)


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_LISTED])
    return shown + (f" and {len(names) - NAMES_LISTED} more" if len(names) > NAMES_LISTED else "")


class RowChecker:
    """Checks rows against the mirror (loaded once for the whole file)."""

    def __init__(self, *, sheet: Sheet, today: date) -> None:
        self.sheet, self.today = sheet, today
        self.courses = selectors.course_services()
        self.all_services = {_norm(s.name): s for s in Service.objects.all()}
        staff = selectors.course_instructors()
        self.staff = _Names(staff, [(m.name, m) for m in staff] + [(m.email, m) for m in staff if m.email])
        self.course_names = _Names(self.courses, [(s.name, s) for s in self.courses])
        self.places = selectors.course_places()
        self.place_names = _Names(
            self.places,
            [(p.name, p) for p in self.places if p.name] + [(p.address, p) for p in self.places if p.address],
        )
        self.problems: list[Problem] = []
        self.problem_count = 0

    def problem(self, row: SheetRow, column: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(message, row=row.number, column=self.sheet.column(column)))

    def check(self) -> list[SessionRow]:
        """Raises ``ImportRefused`` with every problem (the first ``MAX_PROBLEMS``, then a count)."""
        out: list[SessionRow] = []
        seen: dict[tuple[int, date, time, time], int] = {}
        for row in self.sheet.rows:
            checked = self._row(row)
            if checked is None:
                continue
            earlier = seen.get(checked.key)
            if earlier is not None:
                self.problem(
                    row,
                    "",
                    f"it repeats row {earlier} (the same course, date and times). Delete one of the two rows.",
                )
                continue
            seen[checked.key] = row.number
            out.append(checked)
        if self.problem_count:
            problems = list(self.problems)
            if self.problem_count > len(problems):
                problems.append(Problem(f"… and {self.problem_count - len(problems)} more problems like these."))
            raise ImportRefused(problems)
        return out

    def _row(self, row: SheetRow) -> SessionRow | None:
        before = self.problem_count
        cells = row.cells
        service = self._course(row, cells["service"])
        day = self._date(row, cells["date"])
        start = self._time(row, "start", cells["start"])
        end = self._time(row, "end", cells["end"])
        instructor = self._instructor(row, cells["instructor"])
        place = self._place(row, cells.get("location", ""))
        capacity = self._capacity(row, cells.get("capacity", ""), service)
        if start is not None and end is not None and end <= start:
            self.problem(
                row,
                "end",
                f"the session ends ({end:%H:%M}) before it starts ({start:%H:%M}). A session starts and ends on the "
                "same day.",
            )
        if self.problem_count > before:
            return None
        assert service is not None and day is not None and start is not None and end is not None
        assert instructor is not None and capacity is not None
        return SessionRow(row.number, service, day, start, end, instructor, place, capacity)

    # --- one cell each -------------------------------------------------------------------------

    def _course(self, row: SheetRow, text: str) -> Service | None:
        if not text:
            self.problem(row, "service", "the course is missing.")
            return None
        found = self.course_names.find(text)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            self.problem(row, "service", f"{len(found)} courses are called “{text}”: rename one of them in Wix first.")
            return None
        names = [s.name for s in self.courses]
        other = self.all_services.get(_norm(text))
        if other is not None and other.type == Service.Type.COURSE:
            message = f"“{other.name}” has no calendar (schedule) in Wix yet: sync again."
        elif other is not None:
            kind = other.get_type_display().lower()
            message = f"“{other.name}” is {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not a course."
        else:
            message = f"there is no course called “{text}”."
            guess = self.course_names.close(text)
            if guess:
                message += f" Did you mean “{self.course_names.find(guess[0])[0].name}”?"
        if names:
            message += f" The courses are: {_listing(names)}."
        else:
            message += " Front Desk knows no course with a calendar in Wix yet: sync, or create the course in Wix."
        self.problem(row, "service", message)
        return None

    def _date(self, row: SheetRow, text: str) -> date | None:
        if not text:
            self.problem(row, "date", "the date is missing.")
            return None
        day = parse_date(text)
        if day is None:
            self.problem(row, "date", f"“{text}” is not a date. Write it as 31/01/2027 (day first) or 2027-01-31.")
            return None
        if day < self.today:
            self.problem(row, "date", f"{day:%a %-d %b %Y} is in the past (today is {self.today:%-d %b %Y}).")
            return None
        if day > self.today + timedelta(days=365 * MAX_YEARS_AHEAD):
            self.problem(row, "date", f"{day:%-d %b %Y} is more than {MAX_YEARS_AHEAD} years ahead.")
            return None
        return day

    def _time(self, row: SheetRow, column: str, text: str) -> time | None:
        what = "start" if column == "start" else "end"
        if not text:
            self.problem(row, column, f"the {what} time is missing.")
            return None
        moment = parse_time(text)
        if moment is None:
            self.problem(row, column, f"“{text}” is not a time. Write it as 17:00 (24-hour clock, HH:MM).")
        return moment

    def _instructor(self, row: SheetRow, text: str) -> StaffMember | None:
        if not text:
            self.problem(row, "instructor", "the instructor is missing.")
            return None
        found = self.staff.find(text)
        if len(found) > 1:
            self.problem(row, "instructor", f"{len(found)} staff members are called “{text}”: use their email instead.")
            return None
        if not found:
            message = f"there is no instructor called “{text}”."
            guess = self.staff.close(text)
            if guess:
                message += f" Did you mean “{self.staff.find(guess[0])[0].name}”?"
            names = [m.name for m in self.staff.things]
            self.problem(row, "instructor", message + (f" The staff are: {_listing(names)}." if names else ""))
            return None
        member = found[0]
        if not member.resource_id:
            self.problem(
                row,
                "instructor",
                f"{member.name} has no calendar resource in Wix, so Wix can't put them on a session. Sync again, or "
                "choose someone else.",
            )
            return None
        return member

    def _place(self, row: SheetRow, text: str) -> Place | None:
        if not text:
            return None
        found = self.place_names.find(text)
        if len(found) == 1:
            return found[0]
        names = sorted({p.name for p in self.places if p.name})
        message = f"there is no place called “{text}”."
        if len(found) > 1:
            message = f"{len(found)} places are called “{text}”: write the address instead."
        self.problem(
            row,
            "location",
            message
            + (f" The places are: {_listing(names)}." if names else "")
            + " Leave it empty for the course's own place.",
        )
        return None

    def _capacity(self, row: SheetRow, text: str, service: Service | None) -> int | None:
        if not text:
            default = service.default_capacity if service is not None else None
            if service is not None and not default:
                self.problem(row, "capacity", f"{service.name} has no default capacity: give the number of places.")
            return default or (1 if service is None else None)
        try:
            value = int(text.replace(",", "").strip())
        except ValueError:
            self.problem(row, "capacity", f"“{text}” is not a number of places (like 12).")
            return None
        if not 1 <= value <= MAX_CAPACITY:
            self.problem(row, "capacity", f"the capacity is 1 to {MAX_CAPACITY} places, not {value}.")
            return None
        return value


def rows_check(*, sheet: Sheet, today: date) -> list[SessionRow]:
    """Every row of ``sheet`` checked. Raises ``ImportRefused`` with each problem's row and column:
    a course that doesn't exist (the courses that do are named), an instructor or place that
    doesn't exist, a date that isn't one, in the past or more than two years ahead, a time that
    isn't one, an end before the start, a capacity out of range, a row that repeats another."""
    return RowChecker(sheet=sheet, today=today).check()
