"""The payment report's query: a range of days (the manager screens' presets, ``date_ranges``:
this week, last week, this month, last month, or from–to), the session filters (service, kind
of service, staff, one session) and the row filters (booking status, payment status, payment
method, attendance); the drill-down adds which number
(``show``) and the page. Everything arrives in the URL, so every figure's link is a plain GET
that can be bookmarked or shared; a value the form does not know is refused with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.utils import timezone

from bookings_app import converters
from bookings_app import forms as desk_forms
from bookings_app.date_ranges import PRESETS, preset_range
from bookings_app.models import Attendance, Booking, Payment, Service, Session, StaffMember
from bookings_app.selectors import day_bounds
from bookings_app.selectors.reports import MAX_DAYS, METRIC_BY_NAME, METRICS, Metric, RowFilters
from bookings_app.selectors.reports_facts import Scope

# The ranges every manager screen offers, worked out in one place (``date_ranges``).
RANGES = PRESETS
DEFAULT_RANGE = "this_month"
_BLANK = [("", "Any")]


@dataclass(frozen=True)
class ReportQuery:
    """A valid query: what to read, and the URL parameters that say it with explicit days."""

    scope: Scope
    filters: RowFilters
    preset: str
    first_day: date
    last_day: date
    session: Session | None
    params: dict[str, str]  # every filter set, the range as from/to days

    def query_string(self, *, drop: tuple[str, ...] = (), **extra: str) -> str:
        """The query's URL parameters (less ``drop``, plus ``extra``), encoded."""
        params = {k: v for k, v in self.params.items() if k not in drop}
        return urlencode({**params, **{k: v for k, v in extra.items() if v}})


class ReportForm(forms.Form):
    range = forms.ChoiceField(choices=RANGES, required=False)
    start = desk_forms.DayField(required=False, label="From")
    end = desk_forms.DayField(required=False, label="To")
    service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False)
    service_type = forms.ChoiceField(choices=_BLANK + list(Service.Type.choices), required=False, label="Kind")
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.all(), required=False)
    session = forms.CharField(required=False, max_length=250)
    status = forms.ChoiceField(choices=_BLANK + list(Booking.Status.choices), required=False, label="Booking")
    payment_status = forms.ChoiceField(
        choices=_BLANK + list(Booking.PaymentStatus.choices), required=False, label="Payment"
    )
    method = forms.ChoiceField(choices=_BLANK + list(Payment.Method.choices), required=False, label="Paid by")
    attendance = forms.ChoiceField(choices=_BLANK + list(Attendance.Status.choices), required=False)

    def clean_session(self) -> Session | None:
        ref = (self.cleaned_data.get("session") or "").strip()
        if not ref:
            return None
        match = Q(wix_id=ref)
        pk = converters.id_or_none(ref)  # ASCII digits only: "²" is a digit to isdigit(), not to int()
        if pk is not None:
            match |= Q(pk=pk)
        session = Session.objects.filter(match).only("pk", "wix_id", "title", "start").first()
        if session is None:
            raise forms.ValidationError("There is no such session.", code="session_unknown")
        return session

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        session = data.get("session")
        if session is not None and not (data.get("range") or self.data.get("start") or self.data.get("end")):
            # One session and no range: the session's day (the report's per-session links say no more).
            day = timezone.localdate(session.start)
            data.update(range="custom", start=day, end=day)
        preset = data.get("range") or ("custom" if data.get("start") or data.get("end") else DEFAULT_RANGE)
        data["range"] = preset
        if preset != "custom":
            days = preset_range(preset, timezone.localdate())
            data["start"], data["end"] = days.first, days.last
            return data
        start, end = data.get("start"), data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        if start is None or end is None:
            self.add_error("start" if start is None else "end", "Choose both days of the range.")
        elif end < start:
            self.add_error("end", "The last day is before the first.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("end", f"Choose at most {MAX_DAYS} days: the report adds up a quarter at a time.")
        return data

    def query(self) -> ReportQuery:
        """The valid query (call after ``is_valid()``)."""
        data = self.cleaned_data
        first, last = data["start"], data["end"]
        session: Session | None = data.get("session")
        start, _ = day_bounds(first)
        _, end = day_bounds(last)
        scope = Scope(
            start=start,
            end=end,
            service_id=data["service"].pk if data.get("service") else None,
            service_type=data.get("service_type") or None,
            staff_id=data["staff"].pk if data.get("staff") else None,
            session_id=session.pk if session else None,
        )
        filters = RowFilters(
            status=data.get("status") or "",
            payment_status=data.get("payment_status") or "",
            attendance=data.get("attendance") or "",
            method=data.get("method") or "",
        )
        params = {"start": first.isoformat(), "end": last.isoformat()}
        for name in ("service", "staff"):
            if data.get(name):
                params[name] = str(data[name].pk)
        if session is not None:
            params["session"] = session.wix_id or str(session.pk)
        for name in ("service_type", "status", "payment_status", "method", "attendance"):
            if data.get(name):
                params[name] = data[name]
        return ReportQuery(
            scope=scope,
            filters=filters,
            preset=data["range"],
            first_day=first,
            last_day=last,
            session=session,
            params=params,
        )

    def messages(self) -> list[str]:
        """Every problem, labelled with its field."""
        out = [str(e) for e in self.non_field_errors()]
        for name, field in self.fields.items():
            out += [f"{field.label or name.replace('_', ' ').capitalize()}: {e}" for e in self.errors.get(name, [])]
        return out


class DrillForm(ReportForm):
    """The drill-down: the report's query, which number, and the page."""

    show = forms.ChoiceField(choices=[(m.name, m.label) for m in METRICS], label="Number")
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)

    def metric(self) -> Metric:
        return METRIC_BY_NAME[self.cleaned_data["show"]]
