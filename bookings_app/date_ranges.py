"""The date ranges the manager screens share: this week, last week, this month, last month, or a
custom pair of days (both included), in the business's time zone. Weeks start on Monday.

``DateRangeForm`` reads ``?range=&start=&end=`` (the form leaves a range it cannot read as it
was and says why; the screen then shows the default); ``DateRange`` is what a selector takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from bookings_app.forms import DayField

PRESETS = [
    ("this_week", "This week"),
    ("last_week", "Last week"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom"),
]
MAX_DAYS = 400  # a custom range longer than a year and a bit is a typo


@dataclass(frozen=True)
class DateRange:
    preset: str
    first: date
    last: date  # included

    def bounds(self) -> tuple[datetime, datetime]:
        """From the first day's midnight to the midnight after the last day, as aware datetimes."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.first, time.min, tzinfo=tz),
            datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=tz),
        )

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%a} {self.first.day} {self.first:%b %Y}"
        same_year = self.first.year == self.last.year
        first = f"{self.first.day} {self.first:%b}" + ("" if same_year else f" {self.first:%Y}")
        return f"{first} – {self.last.day} {self.last:%b %Y}"

    def query(self) -> dict[str, str]:
        """The query parameters that ask for this range again."""
        if self.preset == "custom":
            return {"range": "custom", "start": self.first.isoformat(), "end": self.last.isoformat()}
        return {"range": self.preset}


def preset_range(preset: str, today: date) -> DateRange:
    monday = today - timedelta(days=today.weekday())
    if preset == "this_week":
        return DateRange(preset, monday, monday + timedelta(days=6))
    if preset == "last_week":
        return DateRange(preset, monday - timedelta(days=7), monday - timedelta(days=1))
    first = today.replace(day=1)
    if preset == "last_month":
        last = first - timedelta(days=1)
        return DateRange(preset, last.replace(day=1), last)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return DateRange("this_month", first, next_month - timedelta(days=1))


class DateRangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=PRESETS, required=False, error_messages={"invalid_choice": "Choose a range from the list."}
    )
    start = DayField(required=False)
    end = DayField(required=False)

    def __init__(self, *args: Any, default: str = "this_month", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        custom = data.get("range") == "custom" or (not data.get("range") and (start or end))
        if custom and not self.errors:
            if start is None or end is None:
                raise forms.ValidationError("Give both days of a custom range.", code="range_incomplete")
            if end < start:
                raise forms.ValidationError("The range ends before it starts.", code="range_backwards")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.", code="range_too_long")
            data["range"] = "custom"
        return data

    def date_range(self, today: date | None = None) -> DateRange:
        """The range asked for, or the default one when the form is unbound or wrong."""
        today = today or timezone.localdate()
        if self.is_bound and self.is_valid():
            if self.cleaned_data.get("range") == "custom":
                return DateRange("custom", self.cleaned_data["start"], self.cleaned_data["end"])
            return preset_range(self.cleaned_data.get("range") or self.default, today)
        return preset_range(self.default, today)

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return ""
