"""Book an appointment: service → day → a free time (asked of Wix) → customer → pay, one step
per screen state, then one POST that books it and takes the payment (``desk.walk_in_book``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from bookings_app import forms, roles, selectors, wix
from bookings_app.models import Service
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views import appointment_week
from bookings_app.views.common import (
    INVALID,
    REFUSED,
    already_done,
    book,
    booked_message,
    customer_hits,
    hit_choices,
    roster_url,
)
from bookings_app.wix.dates import wix_local_parse


@dataclass
class SlotChoice:
    slot: dict[str, Any]
    token: str
    start: datetime | None
    end: datetime | None

    @property
    def label(self) -> str:
        return timezone.localtime(self.start).strftime("%H:%M") if self.start else self.slot.get("start", "")


def _slot_time(value: str | None, tz_name: str | None) -> datetime | None:
    try:
        zone = ZoneInfo(tz_name) if tz_name else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return wix_local_parse(value, zone)


def _slot_choice(slot: dict[str, Any]) -> SlotChoice:
    tz_name = slot.get("timezone")
    return SlotChoice(
        slot=slot,
        token=forms.slot_sign(slot),
        start=_slot_time(slot.get("start"), tz_name),
        end=_slot_time(slot.get("end"), tz_name),
    )


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def appointment(request: HttpRequest) -> HttpResponse:
    """Book an appointment: service → day → a free time → customer → pay, one step per screen
    state (?service=&day=&slot=&q=), then one POST that books it and takes the payment."""
    source = request.POST if request.method == "POST" else request.GET
    steps = forms.AppointmentStepForm(source)
    status = 200
    if not steps.is_valid():
        status = INVALID
    data = steps.cleaned_data if steps.is_valid() else {}
    service: Service | None = data.get("service")
    day: date = data.get("day") or timezone.localdate()
    slot: dict[str, Any] | None = data.get("slot")
    q = (data.get("q") or "").strip()
    prev_day, next_day = forms.day_neighbours(day)
    context: dict[str, Any] = {
        "steps": steps,
        "services": selectors.appointment_service_list(),
        "service": service,
        "day": day,
        "prev_day": prev_day,
        "next_day": next_day,
        "is_today": day == timezone.localdate(),
        "slot": _slot_choice(slot) if slot else None,
        "q": q,
        "price": service.price if service else None,
        "currency": service.currency if service else "",
    }

    if request.method == "POST" and service and slot:
        result = _appointment_book(request, service=service, slot=slot, context=context)
        if isinstance(result, HttpResponse):
            return result
        status = result
    elif request.method == "POST":
        status = INVALID

    if service and not slot:
        try:
            with wix.get_wix_client(interactive=True) as client:
                slots = desk.appointment_slots(wix=client, service=service, day=day)
            # What another desk booked a moment ago is not in Wix yet: never offer it.
            slots = selectors.appointment_slots_untaken(service=service, slots=slots)
        except BookingError as exc:
            context["slots_error"] = exc.message
            slots = []
        context["slots"] = [_slot_choice(s) for s in slots]
    if service and slot:
        hits, unreachable = customer_hits(q, ask_wix=request.method == "GET")
        context.setdefault("hits", hit_choices(hits, service))
        context["wix_unreachable"] = unreachable
    template = "desk/appointment.html"
    if request.htmx and request.method == "GET" and request.htmx.target == "appointment-customers":
        template = "desk/appointment.html#appointment-customers"
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _appointment_book(
    request: HttpRequest, *, service: Service, slot: dict[str, Any], context: dict[str, Any]
) -> HttpResponse | int:
    """Book the slot for an existing (``contact``) or new customer; a response, or the error status."""
    is_new = "first_name" in request.POST
    form: forms.WalkInForm | forms.NewCustomerWalkInForm
    form = forms.NewCustomerWalkInForm(request.POST) if is_new else forms.WalkInForm(request.POST)
    if is_new:
        context["customer_form"] = form
    if already_done(request, "-contact" if is_new else ""):
        messages.info(request, "That appointment was already booked.")
        return redirect("today")
    if not form.is_valid():
        if not is_new:
            context["book_error"] = form.first_error()
        return INVALID
    data = form.cleaned_data
    if data["override_capacity"] and not request.user.has_perm(roles.OVERRIDE_CAPACITY):
        raise PermissionDenied("Only a manager can book into a full session.")
    try:
        booking = book(request, data, service=service, slot=slot, new=is_new)
    except BookingError as exc:
        if exc.code == "slot_taken":
            # Another desk (or Wix) holds the time now: show the week as it is, to pick again.
            return appointment_week.slot_taken_response(request, service=service, slot=slot, reason=exc.message)
        if is_new:
            form.add_error("email" if exc.code == "contact_duplicate" else None, exc.message)
        else:
            context["book_error"] = exc.message
        return REFUSED
    messages.success(request, f"{booked_message(booking, data)[:-1]} — {service.name}, {context['slot'].label}.")
    if booking.session_id:
        return redirect(roster_url(booking.session, booking.pk))
    start = context["slot"].start
    day = timezone.localdate(start) if start else timezone.localdate()
    return redirect(f"{reverse('today')}?date={day:%Y-%m-%d}")
