"""The forms of a running course's page: the shape of what the admin typed (a date, times, a whole
number, a choice). The rules (no time that has passed, the end after the start, the course's
timetable …) are ``services.courses``'s; their messages land next to the same fields."""

from __future__ import annotations

from typing import Any

from django import forms

from bookings_app import selectors
from bookings_app.forms import day_in_range
from bookings_app.models import Service, StaffMember
from bookings_app.services.courses import TermInvalid, Timetable
from bookings_app.views.course_form import DATE_FORMATS, TIME_FORMATS

DATE_ERRORS = {"invalid": "Enter a date as YYYY-MM-DD."}
TIME_ERRORS = {"invalid": "Enter a time like 17:00."}


class _ProblemsForm(forms.Form):
    def add_problems(self, invalid: TermInvalid) -> None:
        """The service's messages next to their fields (any other name: at the top)."""
        for name, messages in invalid.problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

    def messages(self) -> list[str]:
        """Every problem, in the order of the form."""
        out = [str(e) for e in self.non_field_errors()]
        return out + [str(e) for name in self.fields for e in self.errors.get(name, [])]


class AddSessionForm(_ProblemsForm):
    """One session: a date, a start and an end; the instructor, place and capacity default to the course's."""

    day = forms.DateField(
        input_formats=DATE_FORMATS, error_messages={"required": "Give the date of the session.", **DATE_ERRORS}
    )
    start = forms.TimeField(
        input_formats=TIME_FORMATS, error_messages={"required": "Give the start time, like 17:00.", **TIME_ERRORS}
    )
    end = forms.TimeField(
        input_formats=TIME_FORMATS, error_messages={"required": "Give the end time, like 17:45.", **TIME_ERRORS}
    )
    instructor = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    location = forms.ChoiceField(required=False)
    capacity = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Capacity is a whole number of people."}
    )

    def __init__(self, data: Any = None, *, service: Service, timetable: Timetable | None, **kwargs: Any) -> None:
        initial = kwargs.pop("initial", {}) or {}
        if timetable is not None and data is None:
            initial.setdefault("instructor", timetable.instructor.pk)
            initial.setdefault("location", (timetable.location or {}).get("id", ""))
            first = sorted(timetable.slots, key=lambda s: (s.weekday, s.start))[0]
            initial.setdefault("start", f"{first.start:%H:%M}")
            initial.setdefault("end", f"{first.end:%H:%M}")
        super().__init__(data, initial=initial, **kwargs)
        self.service = service
        self.timetable = timetable
        self.instructors = selectors.course_instructors()
        self.places = selectors.course_places()
        usual = f"The course's ({timetable.instructor.name})" if timetable is not None else "Choose…"
        self.fields["instructor"].choices = [("", usual), *((m.pk, m.name) for m in self.instructors)]
        self.fields["location"].choices = [("", "The course's own place"), *((p.id, p.name) for p in self.places)]

    def chosen_instructor(self) -> StaffMember | None:
        """The one chosen; none chosen: the course's usual instructor (None without a timetable)."""
        pk = self.cleaned_data.get("instructor")
        if pk is None:
            return self.timetable.instructor if self.timetable is not None else None
        return next((m for m in self.instructors if m.pk == pk), None)

    def chosen_location(self) -> dict[str, Any] | None:
        place_id = self.cleaned_data.get("location") or ""
        place = next((p for p in self.places if p.id == place_id), None)
        return place.as_event_location() if place else None


class LastDateForm(_ProblemsForm):
    """The course's new last date; ``first``: where the previewed new weeks began (sent back with
    the commit, so it creates exactly what was previewed)."""

    new_last_date = forms.DateField(
        input_formats=DATE_FORMATS,
        validators=[day_in_range],
        error_messages={"required": "Give the course's new last date.", **DATE_ERRORS},
    )
    first = forms.DateField(
        required=False, input_formats=DATE_FORMATS, validators=[day_in_range], widget=forms.HiddenInput
    )
