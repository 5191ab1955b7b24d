"""One booking's change page (``/sessions/<ref>/bookings/<pk>/change/``): the booking, where it
can move — another session of its class with free places shown, or another free time of its
appointment (asked of Wix, a bounded wait) — and cancelling it with the service's policy and what
cancelling does to the money; a waiting-list booking is moved into a place from here too, as
from the roster's waiting list.

Each POST calls one desk service, which changes the mirror and returns at once (the worker tells
Wix after the undo window). Status codes: 422 when the form is wrong, 409 when a business rule
says no (the session is full, a course can't move), 403 when the user may not cancel this booking
— the page again, with the message where the button was; nothing has changed. Success redirects
(htmx: ``HX-Redirect``): after a move to the new session's roster, where the row shows its Undo;
after a cancel back to this page, which shows the cancel and its Undo; after a move off the
waiting list to the roster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from bookings_app import forms, roles, selectors, wix
from bookings_app.models import Booking, DeskAction, Service, Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, REFUSED, booking_or_404, roster_url, session_or_404, who
from bookings_app.wix.dates import wix_local_parse

FORBIDDEN = 403
Kind = DeskAction.Kind


@dataclass
class TimeChoice:
    """A free time the appointment may move to: the slot, signed for the form, and its start."""

    token: str
    start: datetime | None
    staff_name: str


def change_url(session: Session, booking_id: int) -> str:
    return reverse("booking_change", args=[session.ref, booking_id])


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def booking_change(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """The booking, its reschedule choices (``?day=`` for an appointment's free times) and its
    cancel block with the policy."""
    session = session_or_404(ref)
    booking = booking_or_404(session, booking_id)
    day_form = forms.AppointmentStepForm(request.GET)
    day = day_form.cleaned_data.get("day") if day_form.is_valid() else None
    status = 200 if day_form.is_valid() else INVALID
    return _page(request, session, booking, day=day, status=status)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def booking_reschedule(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Move the booking: ``session`` (a class session's pk) or ``slot`` (an appointment's signed
    free time)."""
    session = session_or_404(ref)
    form = forms.RescheduleForm(request.POST)
    done = _moved_by_this_form(form, booking_id)
    if done is not None:
        # The same form again (a double tap): the booking has moved already.
        return _go(request, roster_url(done.session, booking_id) if done.session else reverse("today"))
    booking = booking_or_404(session, booking_id)
    if not form.is_valid():
        return _page(request, session, booking, status=INVALID, reschedule_error=form.first_error())
    data = form.cleaned_data
    target: Session | None = None
    if data["session"] is not None:
        target = next(
            (s for s in selectors.reschedule_sessions(booking=booking, now=timezone.now()) if s.pk == data["session"]),
            None,
        )
        if target is None:
            error = "That session is not on offer any more: choose one from the list."
            return _page(request, session, booking, status=INVALID, reschedule_error=error)
    try:
        action = desk.booking_reschedule(
            user=request.user,
            booking=booking,
            session=target,
            slot=data["slot"] if target is None else None,
            idempotency_key=data["idempotency_key"],
        )
    except BookingError as exc:
        day = _slot_day(data["slot"])
        return _page(request, session, booking, day=day, status=REFUSED, reschedule_error=exc.message)
    moved_to = Session.objects.select_related("service").get(pk=action.session_id)
    start = timezone.localtime(moved_to.start)
    messages.success(
        request,
        f"Moved {who(booking)} to {start:%a} {start.day} {start:%b %H:%M} — waiting for Wix. Undo on their row.",
    )
    return _go(request, roster_url(moved_to, booking.pk))


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def booking_cancel(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Cancel the booking (a manager: ``refund`` — and reverse the desk's payments first)."""
    session = session_or_404(ref)
    booking = booking_or_404(session, booking_id)
    form = forms.CancelForm(request.POST)
    if not form.is_valid():
        return _page(request, session, booking, status=INVALID, cancel_error=form.first_error())
    data = form.cleaned_data
    try:
        desk.booking_cancel(
            user=request.user, booking=booking, refund=data["refund"], idempotency_key=data["idempotency_key"]
        )
    except BookingError as exc:
        status = FORBIDDEN if exc.code == "forbidden" else REFUSED
        return _page(request, session, booking, status=status, cancel_error=exc.message)
    refunded = " and refunded what the desk took" if data["refund"] else ""
    messages.success(request, f"Cancelled {who(booking)}'s booking{refunded}: the place is free — waiting for Wix.")
    return _go(request, change_url(session, booking.pk))


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def waitlist_promote(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Move someone from the waiting list into a free place (from the roster's waiting list, or
    this page)."""
    session = session_or_404(ref)
    booking = booking_or_404(session, booking_id)
    form = forms.DeskActionForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = form.first_error(), INVALID
    else:
        try:
            desk.waitlist_promote(
                user=request.user, booking=booking, idempotency_key=form.cleaned_data["idempotency_key"]
            )
        except BookingError as exc:
            error, status = exc.message, REFUSED
    if error:
        if request.htmx and request.POST.get("from") == "waiting-list":
            context = {"session": session, "waiting_list": selectors.waitlist_read(session=session), "error": error}
            return TemplateResponse(request, "includes/waiting_list.html", context, status=status)
        return _page(request, session, booking, status=status, promote_error=error)
    messages.success(request, f"Moved {who(booking)} from the waiting list into a place — waiting for Wix.")
    if request.htmx and request.POST.get("from") == "waiting-list":
        return HttpResponseClientRefresh()  # the roster again, the person among its rows
    return _go(request, roster_url(session, booking.pk))


# --- helpers ---------------------------------------------------------------------------------------


def _go(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _moved_by_this_form(form: forms.RescheduleForm, booking_id: int) -> DeskAction | None:
    """The reschedule this very form made already (its token, this booking, the same choice)."""
    key = str(form.data.get("idempotency_key", "")).strip()
    action = selectors.desk_action_by_key(key=key) if key else None
    if action is None or action.kind != Kind.RESCHEDULE or action.booking_id != booking_id:
        return None
    params = action.params
    if params.get("type") == "appointment":
        same = forms.slot_unsign(str(form.data.get("slot") or "")) == params.get("slot")
    else:
        same = str(params.get("to_session")) == str(form.data.get("session") or "").strip()
    return action if same else None


def _slot_day(slot: dict[str, Any] | None) -> date | None:
    try:
        return date.fromisoformat(str((slot or {}).get("start") or "")[:10])
    except ValueError:
        return None


def _page(
    request: HttpRequest,
    session: Session,
    booking: Booking,
    *,
    day: date | None = None,
    status: int = 200,
    **errors: str,
) -> HttpResponse:
    now = timezone.now()
    read = selectors.booking_change_read(booking=booking, now=now)
    refusal = desk.cancel_refusal(user=request.user, booking=booking, walk_in=read.walk_in)
    live_cancel = any(a.kind == Kind.CANCEL_BOOKING for a in read.changes)
    context: dict[str, Any] = {
        "session": session,
        "booking": booking,
        "read": read,
        "policy": read.policy,
        "money": read.money,
        "cancel_refusal": refusal,
        "can_refund": request.user.has_perm(roles.VOID_PAYMENTS) and bool(read.money.reversible),
        "cancellable": booking.status in Booking.ROSTER_STATUSES and not live_cancel,
        "cancel_late": read.policy.cancel_late(booking.session.start if booking.session else None, now),
        "undoable": [a for a in read.changes if a.can_undo(now=now)],
        "attention": [a for a in read.changes if a.status == DeskAction.Status.NEEDS_ATTENTION],
        "roster_url": roster_url(session, booking.pk),
        "page_url": change_url(session, booking.pk),
        **errors,
    }
    if read.is_appointment and booking.status in Booking.ACTIVE_STATUSES and booking.wix_id and not read.package:
        context.update(_appointment_times(booking, day or _booking_day(booking)))
    response = TemplateResponse(request, "desk/booking_change.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _booking_day(booking: Booking) -> date:
    today = timezone.localdate()
    if booking.session is None:
        return today
    return max(timezone.localdate(booking.session.start), today)


def _appointment_times(booking: Booking, day: date) -> dict[str, Any]:
    """The appointment's free times on ``day``, asked of Wix (an interactive client: a short
    timeout, no retries) — or why they can't be shown."""
    prev_day, next_day = forms.day_neighbours(day)
    out: dict[str, Any] = {
        "day": day,
        "prev_day": prev_day if prev_day and prev_day >= timezone.localdate() else None,
        "next_day": next_day,
        "slots": [],
        "slots_error": "",
    }
    service: Service = booking.service
    try:
        with wix.get_wix_client(interactive=True) as client:
            slots = desk.appointment_slots(wix=client, service=service, day=day)
        # What another desk booked a moment ago is not in Wix yet: never offer it.
        slots = selectors.appointment_slots_untaken(service=service, slots=slots)
    except BookingError as exc:
        out["slots_error"] = exc.message
        return out
    now = timezone.now()
    choices = [_time_choice(s) for s in slots]
    out["slots"] = [c for c in choices if c.start is not None and c.start > now]
    return out


def _time_choice(slot: dict[str, Any]) -> TimeChoice:
    try:
        zone = ZoneInfo(slot.get("timezone") or "") if slot.get("timezone") else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return TimeChoice(
        token=forms.slot_sign(slot),
        start=wix_local_parse(slot.get("start"), zone),
        staff_name=str(slot.get("staff_name") or ""),
    )
