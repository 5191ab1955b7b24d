"""The course builder's form: the shape of what the admin typed (dates, times, whole numbers, rows of
weekday slots and exclusions). The rules of a term (no past dates, a last date after the first, at
most 52 weeks …) are ``services.courses.term_make``'s; its messages land next to the same fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django import forms

from bookings_app import selectors
from bookings_app.forms import KEY_RE
from bookings_app.models import Service, StaffMember
from bookings_app.services.courses import WEEKDAY_LABELS, Exclusion, Slot, TermInvalid
from bookings_app.services.courses.term import MAX_SLOTS

SLOT_ROWS = 3  # rows shown at least; one more appears when they are all used (up to MAX_SLOT_ROWS)
MAX_SLOT_ROWS = MAX_SLOTS
EXCLUSION_ROWS = 2
MAX_EXCLUSION_ROWS = 12
DATE_FORMATS = ["%Y-%m-%d"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
WEEKDAY_CHOICES = list(enumerate(WEEKDAY_LABELS))  # 0 = Monday, as the service's Slot counts


@dataclass
class SlotRow:
    index: int
    weekday: str
    start: str
    end: str
    errors: list[str] = field(default_factory=list)


@dataclass
class ExclusionRow:
    index: int
    first: str
    last: str
    reason: str
    errors: list[str] = field(default_factory=list)


def _rows(data: Any, prefix: str, parts: tuple[str, ...], least: int, most: int) -> int:
    """How many rows to show: those with anything typed, one empty one more, at least ``least``."""
    used = [i for i in range(most) if any((data.get(f"{prefix}-{i}-{p}") or "").strip() for p in parts)]
    return min(max(least, (max(used) + 2) if used else least), most)


class CourseTermForm(forms.Form):
    service = forms.TypedChoiceField(coerce=int, error_messages={"required": "Choose the course."})
    instructor = forms.TypedChoiceField(coerce=int, error_messages={"required": "Choose the instructor."})
    location = forms.ChoiceField(required=False)
    capacity = forms.IntegerField(required=False, error_messages={"invalid": "Capacity is a whole number of people."})
    first_date = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={"required": "Give the date of the first week.", "invalid": "Enter a date as YYYY-MM-DD."},
    )
    last_date = forms.DateField(
        required=False, input_formats=DATE_FORMATS, error_messages={"invalid": "Enter a date as YYYY-MM-DD."}
    )
    weeks = forms.IntegerField(required=False, error_messages={"invalid": "Weeks is a whole number, like 10."})

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.services = selectors.course_services()
        self.instructors = selectors.course_instructors()
        self.places = selectors.course_places()
        self.fields["service"].choices = [("", "Choose…"), *((s.pk, s.name) for s in self.services)]
        self.fields["instructor"].choices = [("", "Choose…"), *((m.pk, m.name) for m in self.instructors)]
        self.fields["location"].choices = [("", "The course's own place"), *((p.id, p.name) for p in self.places)]
        source = data or {}
        self.slot_count = _rows(source, "slot", ("weekday", "start", "end"), SLOT_ROWS, MAX_SLOT_ROWS)
        self.exclusion_count = _rows(
            source, "exclusion", ("first", "last", "reason"), EXCLUSION_ROWS, MAX_EXCLUSION_ROWS
        )
        self.row_errors: dict[str, list[str]] = {}
        self.slots: list[tuple[int, Slot]] = []
        self.exclusions: list[tuple[int, Exclusion]] = []

    # -- rows --------------------------------------------------------------------------------------

    def _value(self, name: str) -> str:
        return (self.data.get(name) or "").strip() if self.is_bound else ""

    def slot_rows(self) -> list[SlotRow]:
        return [
            SlotRow(
                i,
                self._value(f"slot-{i}-weekday"),
                self._value(f"slot-{i}-start"),
                self._value(f"slot-{i}-end"),
                self.row_errors.get(f"slot-{i}", []),
            )
            for i in range(self.slot_count)
        ]

    def exclusion_rows(self) -> list[ExclusionRow]:
        return [
            ExclusionRow(
                i,
                self._value(f"exclusion-{i}-first"),
                self._value(f"exclusion-{i}-last"),
                self._value(f"exclusion-{i}-reason"),
                self.row_errors.get(f"exclusion-{i}", []),
            )
            for i in range(self.exclusion_count)
        ]

    def row_error(self, name: str, message: str) -> None:
        self.row_errors.setdefault(name, []).append(message)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for row in self.slot_rows():
            slot = self._slot(row)
            if slot is not None:
                self.slots.append((row.index, slot))
        for row in self.exclusion_rows():
            excl = self._exclusion(row)
            if excl is not None:
                self.exclusions.append((row.index, excl))
        if self.row_errors:
            raise forms.ValidationError("Check the rows marked below.", code="rows")
        return data

    def _slot(self, row: SlotRow) -> Slot | None:
        if not (row.weekday or row.start or row.end):
            return None
        name = f"slot-{row.index}"
        weekday = int(row.weekday) if row.weekday in ("0", "1", "2", "3", "4", "5", "6") else None
        if weekday is None:
            self.row_error(name, "Choose the weekday.")
        start, end = _time(row.start), _time(row.end)
        if start is None or end is None:
            self.row_error(name, "Give the start and end times, like 17:00 and 17:45.")
        if weekday is None or start is None or end is None:
            return None
        return Slot(weekday, start, end)

    def _exclusion(self, row: ExclusionRow) -> Exclusion | None:
        if not (row.first or row.last or row.reason):
            return None
        name = f"exclusion-{row.index}"
        first = _date(row.first)
        last = _date(row.last) if row.last else first
        if first is None or last is None:
            self.row_error(name, "Give the first day off (and the last, for a range) as dates.")
            return None
        return Exclusion(first, last, row.reason[:100])

    # -- what the service needs ----------------------------------------------------------------------

    def chosen_service(self) -> Service | None:
        pk = self.cleaned_data.get("service")
        return next((s for s in self.services if s.pk == pk), None)

    def chosen_instructor(self) -> StaffMember | None:
        pk = self.cleaned_data.get("instructor")
        return next((m for m in self.instructors if m.pk == pk), None)

    def chosen_location(self) -> dict[str, Any] | None:
        place_id = self.cleaned_data.get("location") or ""
        place = next((p for p in self.places if p.id == place_id), None)
        return place.as_event_location() if place else None

    def capacity_or_default(self, service: Service | None) -> int | None:
        capacity = self.cleaned_data.get("capacity")
        if capacity is None and service is not None:
            return service.default_capacity
        return capacity

    def add_term_problems(self, invalid: TermInvalid) -> None:
        """The service's messages next to their fields (rows by ``slot-N`` / ``exclusion-N``)."""
        for name, messages in invalid.problems.items():
            for message in messages:
                if name in self.fields:
                    self.add_error(name, message)
                else:  # a row (slot-0, exclusion-2) or the rows as a whole (slots, exclusions)
                    self.row_error(name, message)

    def messages(self) -> list[str]:
        """Every problem, in the order of the page (the summary at the top)."""
        out = [str(e) for name in self.fields for e in self.errors.get(name, [])]
        out += [m for ms in self.row_errors.values() for m in ms]
        return out


def _time(value: str) -> time | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).time()
        except ValueError:
            continue
    return None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def valid_key(value: str) -> bool:
    return bool(KEY_RE.match(value or ""))
