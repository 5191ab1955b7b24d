"""The appointment week grid: one appointment service's week (Monday to Sunday) per staff member,
the free times to book and the ones already taken, refreshed every few seconds (204 while
nothing changed); and "next available", the earliest free time from now, opened in the book
step (``views.appointment``, customer → pay)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms as django_forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from bookings_app import forms, roles, selectors, wix
from bookings_app.models import Service, StaffMember
from bookings_app.views.common import INVALID

GRID_ID = "appt-week-grid"
TEMPLATE = "desk/appointment_week.html"
REFRESH_SECONDS = 4
_WEEK_RANGE = "Choose a week between 8 January 0001 and 20 December 9999."


class WeekForm(django_forms.Form):
    """Which grid: ?service=&week=&staff= (``week``: any day of it)."""

    service = django_forms.ModelChoiceField(
        queryset=Service.objects.filter(type=Service.Type.APPOINTMENT, hidden=False),
        required=False,
        error_messages={"invalid_choice": "That service is not an appointment."},
    )
    week = forms.DayField(required=False)
    staff = django_forms.ModelChoiceField(
        queryset=StaffMember.objects.exclude(resource_id=""),
        required=False,
        error_messages={"invalid_choice": "That staff member is not on this desk."},
    )

    def clean_week(self) -> selectors.Week | None:
        day = self.cleaned_data.get("week")
        if day is None:
            return None
        try:
            return selectors.Week.of(day)
        except ValueError:
            raise django_forms.ValidationError(_WEEK_RANGE, code="week_range") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        service, staff = cleaned.get("service"), cleaned.get("staff")
        if service is not None and staff is not None and staff not in selectors.appointment_staff_list(service=service):
            self.add_error("staff", f"{staff.name} does not give {service.name}.")
        return cleaned


def book_url(*, service: Service, slot: dict[str, Any], day: date) -> str:
    """The book step (customer → pay) with ``slot`` chosen."""
    query = urlencode({"service": service.pk, "day": day.isoformat(), "slot": forms.slot_sign(slot)})
    return f"{reverse('desk_appointment')}?{query}"


def week_url(*, service: Service, week: selectors.Week, staff: StaffMember | None = None, **extra: str) -> str:
    query: dict[str, Any] = {"service": service.pk, "week": week.start.isoformat()}
    if staff is not None:
        query["staff"] = staff.pk
    return f"{reverse('desk_appointment_week')}?{urlencode({**query, **extra})}"


def _grid(*, service: Service, week: selectors.Week, staff: StaffMember | None) -> selectors.AppointmentWeek:
    with wix.get_wix_client(interactive=True) as client:
        return selectors.appointment_week_read(wix=client, service=service, week=week, staff=staff)


def _page(
    request: HttpRequest,
    *,
    form: WeekForm,
    grid: selectors.AppointmentWeek | None = None,
    message: str = "",
    status: int = 200,
) -> TemplateResponse:
    context: dict[str, Any] = {
        "form": form,
        "services": selectors.appointment_service_list(),
        "grid": grid,
        "message": message,
        "refresh_seconds": REFRESH_SECONDS,
    }
    if grid is not None:
        context["service"] = grid.service
        context["staff"] = grid.staff
        context["refresh_url"] = week_url(service=grid.service, week=grid.week, staff=grid.staff, v=grid.digest)
        context["this_week"] = selectors.Week.of(timezone.localdate())
    partial = request.htmx and request.htmx.target == GRID_ID and not request.htmx.history_restore_request
    response = TemplateResponse(request, f"{TEMPLATE}#{GRID_ID}" if partial else TEMPLATE, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def appointment_week(request: HttpRequest) -> HttpResponse:
    """One service's week: ?service= (else the services to choose from), ?week= (any day of it;
    this week by default), ?staff= (one person; everyone by default). The grid's refresh sends
    ?v=, the digest of what it shows, and gets a 204 while that is still what it would show."""
    form = WeekForm(request.GET)
    if not form.is_valid():
        return _page(request, form=form, status=INVALID)
    service = form.cleaned_data["service"]
    if service is None:
        return _page(request, form=form)
    week = form.cleaned_data["week"] or selectors.Week.of(timezone.localdate())
    grid = _grid(service=service, week=week, staff=form.cleaned_data["staff"])
    if request.htmx and request.htmx.target == GRID_ID and request.GET.get("v") == grid.digest:
        response = HttpResponse(status=204)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response
    return _page(request, form=form, grid=grid)


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def appointment_next(request: HttpRequest) -> HttpResponse:
    """The earliest free time of ?service= (with ?staff=, or anyone) from now, opened in the book
    step; when there is none in the next weeks (or Wix can't say), this week's grid says so."""
    form = WeekForm(request.GET)
    if form.is_valid() and form.cleaned_data["service"] is None:
        form.add_error("service", "Choose a service.")
    if not form.is_valid():
        return _page(request, form=form, status=INVALID)
    service, staff = form.cleaned_data["service"], form.cleaned_data["staff"]
    with wix.get_wix_client(interactive=True) as client:
        found = selectors.appointment_next_free(wix=client, service=service, staff=staff)
    if found.slot is not None and found.start is not None:
        return redirect(book_url(service=service, slot=found.slot, day=found.start.date()))
    grid = _grid(service=service, week=selectors.Week.of(timezone.localdate()), staff=staff)
    who = f" with {staff.name}" if staff is not None else ""
    message = found.error or f"No free time{who} in the next {found.weeks} weeks."
    if found.partial and not found.error:
        message = f"No free time{who} found: Wix listed only part of the next {found.weeks} weeks in time. Try again."
    return _page(request, form=form, grid=grid, message=message)


def slot_taken_response(request: HttpRequest, *, service: Service, slot: dict[str, Any], reason: str) -> HttpResponse:
    """The book step's POST for a time another desk (or Wix) holds: the week's grid again, as it
    is now, with why (409). Nothing was booked."""
    found = selectors.free_slot(slot)
    day = found.start.date() if found is not None else timezone.localdate()
    try:
        week = selectors.Week.of(day)
    except ValueError:
        week = selectors.Week.of(timezone.localdate())
    form = WeekForm({"service": service.pk, "week": week.start.isoformat()})
    form.is_valid()
    grid = _grid(service=service, week=week, staff=None)
    message = f"Just booked at another desk — pick another time. {reason}"
    return _page(request, form=form, grid=grid, message=message, status=409)
