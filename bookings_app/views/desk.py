"""The front desk on a roster: take a payment, charge a plan, pay later, check in or mark a
no-show, add a walk-in (or enrol in a course), check everyone in, undo, resolve what needs
attention, reverse what Wix already has; and the "Book appointment" screen.

Every click calls one desk service, which writes locally and returns at once (the worker pushes
to Wix later), and answers with the updated roster row plus an ``HX-Trigger: rosterChanged``
for the head count. Status codes: 422 when the form is wrong (the message sits next to the
field), 409 when a business rule says no (``BookingError``: already paid, class full, too late
to undo …); nothing has changed in either case. Without JavaScript every form is a plain POST
that redirects back to the roster with the outcome as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from bookings_app import forms, roles, selectors, wix
from bookings_app.models import Attendance, BenefitBalance, Booking, Contact, DeskAction, Service, Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views.roster import _session_or_404, one_row, roster_rows_context, rows_html

INVALID = 422  # the form is wrong: fix the field
REFUSED = 409  # a business rule said no (BookingError): the message says why
ROSTER_CHANGED = "rosterChanged"
WALK_IN_ADDED = "walkInAdded"


# --- shared plumbing ----------------------------------------------------------------------------


def _booking_or_404(session: Session, booking_id: int) -> Booking:
    booking = selectors.roster_booking_get(session=session, booking_id=booking_id)
    if booking is None:
        raise Http404("No such booking on this roster.")
    return booking


def _action_or_404(session: Session, action_id: int) -> DeskAction:
    action = selectors.desk_action_get(session=session, action_id=action_id)
    if action is None or action.booking_id is None:
        raise Http404("No such desk action on this roster.")
    return action


def _roster_url(session: Session, booking_id: int | None = None) -> str:
    url = reverse("roster", args=[session.ref])
    return f"{url}#booking-{booking_id}" if booking_id else url


def _row_response(
    request: HttpRequest,
    session: Session,
    booking_id: int,
    *,
    status: int = 200,
    error: str = "",
    part_form: forms.PaymentForm | None = None,
) -> HttpResponse:
    """The row partial (``<tbody id="roster-row-N">``); empty when the booking is gone (an undone
    walk-in), which removes the row."""
    row = one_row(request, session, booking_id)
    if row is None:
        response: HttpResponse = HttpResponse("", status=status)
    else:
        if error or part_form is not None:
            row.desk.quiet = False  # the message needs the actions line
        html = rows_html(request=request, session=session, rows=[row], row_error=error, part_form=part_form)
        response = HttpResponse(html, status=status)
    if status < 300:
        trigger_client_event(response, ROSTER_CHANGED)
    return response


def _row_action(
    request: HttpRequest,
    session: Session,
    booking_id: int,
    *,
    form: forms.DeskActionForm,
    act: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Validate, act once, answer with the row (htmx) or a redirect with a message (no JS)."""
    if not form.is_valid():
        part = form if isinstance(form, forms.PaymentForm) and form.has_error("amount") else None
        return _refused(request, session, booking_id, message=form.first_error(), status=INVALID, part_form=part)
    try:
        act(form.cleaned_data)
    except BookingError as exc:
        return _refused(request, session, booking_id, message=exc.message, status=REFUSED)
    if request.htmx:
        return _row_response(request, session, booking_id)
    messages.success(request, done)
    return redirect(_roster_url(session, booking_id))


def _refused(
    request: HttpRequest,
    session: Session,
    booking_id: int,
    *,
    message: str,
    status: int,
    part_form: forms.PaymentForm | None = None,
) -> HttpResponse:
    if request.htmx:
        # A part-payment error goes next to the amount field; any other into the row.
        error = "" if part_form is not None else message
        return _row_response(request, session, booking_id, status=status, error=error, part_form=part_form)
    messages.error(request, message)
    return redirect(_roster_url(session, booking_id))


def _already_done(request: HttpRequest, key_suffix: str = "") -> bool:
    """A re-sent form (double tap, a retried POST): its token already made an action."""
    key = request.POST.get("idempotency_key", "").strip()
    return bool(key) and selectors.desk_action_key_used(key=key + key_suffix)


def _back_to_row(request: HttpRequest, session: Session, booking_id: int) -> HttpResponse:
    """The answer to a re-sent form: the row as it is now (htmx), or back to it on the roster."""
    return _row_response(request, session, booking_id) if request.htmx else redirect(_roster_url(session, booking_id))


def _who(booking: Booking | Contact) -> str:
    contact = booking.contact if isinstance(booking, Booking) else booking
    return contact.full_name or contact.email or contact.phone or "the customer"


# --- per-row actions ----------------------------------------------------------------------------


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def pay(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Cash, card or cheque: all that is due (the button), or a part of it (the amount prompt)."""
    session = _session_or_404(ref)
    booking = _booking_or_404(session, booking_id)
    if _already_done(request):
        return _back_to_row(request, session, booking.pk)
    row = one_row(request, session, booking.pk)
    form = forms.PaymentForm(request.POST, amount_due=row.amount_due if row else None)

    def act(data: dict[str, Any]) -> None:
        desk.payment_record(
            user=request.user,
            booking=booking,
            method=data["method"],
            amount=data["amount"],
            idempotency_key=data["idempotency_key"],
        )

    method = dict(forms.PaymentForm.METHODS).get(request.POST.get("method", ""), "payment").lower()
    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{_who(booking)}: {method} taken.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def plan_charge(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Charge one of the member's plans (the roster offers only plans that cover the service)."""
    session = _session_or_404(ref)
    booking = _booking_or_404(session, booking_id)
    if _already_done(request):
        return _back_to_row(request, session, booking.pk)
    row = one_row(request, session, booking.pk)
    form = forms.PlanChargeForm(request.POST, balances=row.desk.balances if row and row.desk else [])

    def act(data: dict[str, Any]) -> None:
        desk.plan_charge(
            user=request.user, booking=booking, balance=data["balance"], idempotency_key=data["idempotency_key"]
        )

    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{_who(booking)}: charged to plan.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def pay_later(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Not paying today: the booking goes on the owes list."""
    session = _session_or_404(ref)
    booking = _booking_or_404(session, booking_id)
    form = forms.DeskActionForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        desk.pay_later(user=request.user, booking=booking, idempotency_key=data["idempotency_key"])

    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{_who(booking)} will pay later.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def attendance(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Check in, or mark a no-show."""
    session = _session_or_404(ref)
    booking = _booking_or_404(session, booking_id)
    form = forms.AttendanceForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        desk.attendance_mark(
            user=request.user,
            booking=booking,
            session=session,  # a course booking is on every session of the course: this one
            status=data["status"],
            idempotency_key=data["idempotency_key"],
        )

    checked_in = request.POST.get("status") == Attendance.Status.ATTENDED
    done = f"{_who(booking)} {'checked in' if checked_in else 'marked as a no-show'}."
    return _row_action(request, session, booking.pk, form=form, act=act, done=done)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def check_in_all(request: HttpRequest, ref: str) -> HttpResponse:
    """Check in everyone on the roster not yet checked in (one bulk action for the worker)."""
    session = _session_or_404(ref)
    form = forms.DeskActionForm(request.POST)
    error, status = "", 200
    actions: list[DeskAction] = []
    if not form.is_valid():
        error, status = form.first_error(), INVALID
    else:
        try:
            actions = desk.attendance_mark_all(
                user=request.user,
                session=session,
                status=Attendance.Status.ATTENDED,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BookingError as exc:
            error, status = exc.message, REFUSED
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Checked in {_people(len(actions))}.")
        return redirect(_roster_url(session))
    session = _session_or_404(ref)  # the head count after the change
    search = request.POST.get("q", "").strip()[:100]
    context = roster_rows_context(
        request=request, session=session, search=search, include_cancelled=request.POST.get("cancelled") == "1"
    )
    context["rows_error"] = error
    response = TemplateResponse(request, "roster/roster.html#roster-rows", context, status=status)
    if status == 200:
        trigger_client_event(response, ROSTER_CHANGED)
    return response


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


# --- undo, needs attention, reverse -------------------------------------------------------------


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def action_undo(request: HttpRequest, ref: str, action_id: int) -> HttpResponse:
    """Take back a click while it is still in the undo window (before the worker sends it)."""
    session = _session_or_404(ref)
    action = _action_or_404(session, action_id)
    booking_id = action.booking_id
    try:
        desk.action_undo(user=request.user, action=action)
    except BookingError as exc:
        return _refused(request, session, booking_id, message=exc.message, status=REFUSED)
    if request.htmx:
        return _row_response(request, session, booking_id)
    messages.success(request, f"Undone: {action.get_kind_display().lower()}.")
    return redirect(_roster_url(session, booking_id))


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def action_resolve(request: HttpRequest, ref: str, action_id: int) -> HttpResponse:
    """Staff's answer to "needs attention": retry, take cash instead, override (manager), remove."""
    session = _session_or_404(ref)
    action = _action_or_404(session, action_id)
    booking_id = action.booking_id
    form = forms.ResolveForm(request.POST)
    if (
        form.is_valid()
        and form.cleaned_data["choice"] == "override"
        and not request.user.has_perm(roles.OVERRIDE_CAPACITY)
    ):
        raise PermissionDenied("Only a manager can book into a full session.")
    labels = {
        "retry": "Trying again.",
        "cash_instead": "Cash instead of the plan.",
        "override": "Booked in over capacity.",
        "remove": "Removed.",
    }

    def act(data: dict[str, Any]) -> None:
        desk.action_resolve(user=request.user, action=action, choice=data["choice"])

    done = labels.get(request.POST.get("choice", ""), "Done.")
    return _row_action(request, session, booking_id, form=form, act=act, done=done)


@roles.require(roles.VOID_PAYMENTS)
@require_POST
def action_reverse(request: HttpRequest, ref: str, action_id: int) -> HttpResponse:
    """After Wix has it: cancel the booking, void the plan charge (credit back), record a refund."""
    session = _session_or_404(ref)
    action = _action_or_404(session, action_id)
    form = forms.DeskActionForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        desk.action_reverse(user=request.user, action=action, idempotency_key=data["idempotency_key"])

    done = f"{selectors.REVERSE_LABELS.get(action.kind, 'Reversed')}: sent to Wix."
    return _row_action(request, session, action.booking_id, form=form, act=act, done=done)


# --- walk-ins -----------------------------------------------------------------------------------


@dataclass
class HitChoice:
    """A customer search hit with what the desk can offer them for this service."""

    hit: Any  # services.desk.CustomerHit
    plans: list[BenefitBalance]
    booked: bool = False  # already on this session's roster
    error: str = ""
    offer_override: bool = False
    pay: str = ""  # the pay choice that was refused, to offer it again with "override"


def _hit_choices(hits: list[Any], service: Service, session: Session | None = None) -> list[HitChoice]:
    booked = (
        selectors.roster_contact_ids(session=session, contact_ids=[h.contact.pk for h in hits])
        if session is not None and hits
        else set()
    )
    return [
        HitChoice(
            hit=h,
            plans=[b for b in h.balances if selectors.balance_covers(b, service)],
            booked=h.contact.pk in booked,
        )
        for h in hits
    ]


def _search(query: str, *, ask_wix: bool) -> tuple[list[Any], bool]:
    """Customer hits and whether Wix could not be asked (mirror-only result)."""
    if not query:
        return [], False
    if not ask_wix:
        hits = desk.customer_search(query=query)
    else:
        with wix.get_wix_client(interactive=True) as client:
            hits = desk.customer_search(query=query, wix=client)
    return list(hits), bool(getattr(hits, "wix_unreachable", False))


def _walk_in_context(session: Session, *, q: str, ask_wix: bool = True, **extra: Any) -> dict[str, Any]:
    hits, unreachable = _search(q, ask_wix=ask_wix)
    return {
        "session": session,
        "q": q,
        "hits": _hit_choices(hits, session.service, session),
        "wix_unreachable": unreachable,
        "price": session.service.price,
        "currency": session.service.currency,
        "is_course": session.service.type == Service.Type.COURSE,
        "is_full": session.places is not None and session.booked >= session.places,
        **extra,
    }


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def walk_in(request: HttpRequest, ref: str) -> HttpResponse:
    """GET: find the customer as you type (?q=). POST: book the chosen customer into this session
    (a course: its schedule) and take the payment chosen in the same tap."""
    session = _session_or_404(ref)
    if session.service.type == Service.Type.APPOINTMENT:
        return redirect(f"{reverse('desk_appointment')}?service={session.service.pk}")
    if request.method == "GET":
        search = forms.CustomerSearchForm(request.GET)
        q = search.cleaned_data["q"] if search.is_valid() else ""
        context = _walk_in_context(session, q=q)
        template = "desk/walk_in.html#walk-in-results" if request.htmx else "desk/walk_in.html"
        response = TemplateResponse(request, template, context)
        patch_vary_headers(response, ("HX-Request",))
        return response

    q = request.POST.get("q", "").strip()[:100]
    form = forms.WalkInForm(request.POST)
    if (
        form.is_valid()
        and form.cleaned_data["override_capacity"]
        and not request.user.has_perm(roles.OVERRIDE_CAPACITY)
    ):
        raise PermissionDenied("Only a manager can book into a full session.")
    if _already_done(request):
        return _walk_in_done(request, session, booking=None, message="")
    if not form.is_valid():
        return _walk_in_refused(
            request,
            session,
            q=q,
            contact_id=_int(request.POST.get("contact")),
            message=form.first_error(),
            status=INVALID,
        )
    data = form.cleaned_data
    try:
        booking = _book(request, session=session, contact=data["contact"], data=data)
    except BookingError as exc:
        offer = exc.code == "session_full" and request.user.has_perm(roles.OVERRIDE_CAPACITY)
        return _walk_in_refused(
            request,
            session,
            q=q,
            contact_id=data["contact"].pk,
            message=exc.message,
            status=REFUSED,
            offer_override=offer,
            pay=request.POST.get("pay", ""),
        )
    return _walk_in_done(request, session, booking=booking, message=_booked_message(booking, data))


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def walk_in_new(request: HttpRequest, ref: str) -> HttpResponse:
    """The "new customer" quick form: create the customer and book them in one go."""
    session = _session_or_404(ref)
    form = forms.NewCustomerWalkInForm(request.POST)
    if (
        form.is_valid()
        and form.cleaned_data["override_capacity"]
        and not request.user.has_perm(roles.OVERRIDE_CAPACITY)
    ):
        raise PermissionDenied("Only a manager can book into a full session.")
    if _already_done(request, "-contact"):
        return _walk_in_done(request, session, booking=None, message="")
    status = INVALID
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused booking must not leave a half-made customer
                contact = desk.customer_create(
                    user=request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    phone=data["phone"],
                    idempotency_key=data["idempotency_key"] + "-contact",
                )
                booking = _book(request, session=session, contact=contact, data=data)
        except BookingError as exc:
            status = REFUSED
            form.add_error("email" if exc.code == "contact_duplicate" else None, exc.message)
            if exc.code == "session_full" and request.user.has_perm(roles.OVERRIDE_CAPACITY):
                form.offer_override = True
        else:
            return _walk_in_done(request, session, booking=booking, message=_booked_message(booking, data))
    context = _walk_in_context(session, q="", ask_wix=False, customer_form=form, new_open=True)
    template = "desk/walk_in.html#walk-in-new" if request.htmx else "desk/walk_in.html"
    return TemplateResponse(request, template, context, status=status)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _book(
    request: HttpRequest,
    *,
    session: Session | None,
    contact: Contact,
    data: dict[str, Any],
    service: Service | None = None,
    slot: dict[str, Any] | None = None,
) -> Booking:
    """Book ``contact`` and take the chosen payment, all or nothing. Raises BookingError."""
    key = data["idempotency_key"]
    service = service or session.service
    where: dict[str, Any]
    if slot is not None:
        where = {"service": service, "slot": slot}
    elif service.type == Service.Type.COURSE:
        where = {"service": service}  # a course booking books the course's schedule
    else:
        where = {"session": session}
    with transaction.atomic():
        booking = desk.walk_in_create(
            user=request.user,
            contact=contact,
            participants=data.get("participants") or 1,
            override_capacity=bool(data.get("override_capacity")),
            idempotency_key=key,
            **where,
        )
        pay = data.get("pay") or ""
        if pay in ("CASH", "CARD", "CHECK") and service.price:
            desk.payment_record(
                user=request.user,
                booking=booking,
                method=pay,
                amount=service.price * booking.total_participants,
                idempotency_key=key + "-pay",
            )
        elif pay == "PLAN":
            desk.plan_charge(user=request.user, booking=booking, balance=data["balance"], idempotency_key=key + "-pay")
        elif pay == "LATER":
            desk.pay_later(user=request.user, booking=booking, idempotency_key=key + "-pay")
    return booking


PAY_DONE = {
    "CASH": "paid cash",
    "CARD": "paid by card",
    "CHECK": "paid by cheque",
    "PLAN": "charged to plan",
    "LATER": "pays later",
}


def _booked_message(booking: Booking, data: dict[str, Any]) -> str:
    paid = PAY_DONE.get(data.get("pay") or "")
    return f"Added {_who(booking)}{f' — {paid}' if paid else ''}."


def _walk_in_done(request: HttpRequest, session: Session, *, booking: Booking | None, message: str) -> HttpResponse:
    """Back to the roster with the new row highlighted (htmx: the rows, swapped in place)."""
    if not request.htmx:
        if message:
            messages.success(request, message)
        return redirect(_roster_url(session, booking.pk if booking else None))
    session = _session_or_404(session.ref)  # the head count after the booking
    row = one_row(request, session, booking.pk) if booking is not None and session.booked > 1 else None
    if row is not None:
        # Just the new row, at the top of the table: re-sending a 100-person roster for every
        # walk-in made the click slower as the class filled up. The header and head count
        # follow through rosterChanged; the list re-sorts on the next full load.
        html = rows_html(request=request, session=session, rows=[row], highlight=booking.pk)
        context = {"session": session, "row_html": html, "rows_message": message}
        response = TemplateResponse(request, "roster/roster.html#walk-in-row", context)
        response = retarget(reswap(response, "afterend"), "#roster-rows table.roster > thead")
    else:
        context = roster_rows_context(request=request, session=session, highlight=booking.pk if booking else None)
        context["rows_message"] = message
        response = TemplateResponse(request, "roster/roster.html#roster-rows", context)
        response = retarget(reswap(response, "outerHTML"), "#roster-rows")
    trigger_client_event(response, ROSTER_CHANGED)
    # After the swap: the listener clears the panel, which must not happen before htmx has
    # resolved where this response goes.
    trigger_client_event(response, WALK_IN_ADDED, {"booking": booking.pk if booking else None}, after="swap")
    return response


def _walk_in_refused(
    request: HttpRequest,
    session: Session,
    *,
    q: str,
    contact_id: int | None,
    message: str,
    status: int,
    offer_override: bool = False,
    pay: str = "",
) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        url = reverse("desk_walk_in", args=[session.ref])
        return redirect(f"{url}?{urlencode({'q': q})}" if q else url)
    context = _walk_in_context(session, q=q, ask_wix=False, walk_in_error=message)
    for choice in context["hits"]:
        if choice.hit.contact.pk == contact_id:
            choice.error, choice.offer_override, choice.pay = message, offer_override, pay
            break
    else:
        context["results_error"] = message
    return TemplateResponse(request, "desk/walk_in.html#walk-in-results", context, status=status)


# --- book an appointment ------------------------------------------------------------------------


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
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(moment):
        try:
            zone = ZoneInfo(tz_name) if tz_name else timezone.get_default_timezone()
        except ZoneInfoNotFoundError:
            zone = timezone.get_default_timezone()
        moment = moment.replace(tzinfo=zone)
    return moment


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
    context: dict[str, Any] = {
        "steps": steps,
        "services": selectors.appointment_service_list(),
        "service": service,
        "day": day,
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
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
        except BookingError as exc:
            context["slots_error"] = exc.message
            slots = []
        context["slots"] = [_slot_choice(s) for s in slots]
    if service and slot:
        hits, unreachable = _search(q, ask_wix=request.method == "GET")
        context.setdefault("hits", _hit_choices(hits, service))
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
    new_customer = "first_name" in request.POST
    form: forms.WalkInForm | forms.NewCustomerWalkInForm
    form = forms.NewCustomerWalkInForm(request.POST) if new_customer else forms.WalkInForm(request.POST)
    if new_customer:
        context["customer_form"] = form
    if _already_done(request, "-contact" if new_customer else ""):
        messages.info(request, "That appointment was already booked.")
        return redirect("today")
    if not form.is_valid():
        if not new_customer:
            context["book_error"] = form.first_error()
        return INVALID
    data = form.cleaned_data
    if data["override_capacity"] and not request.user.has_perm(roles.OVERRIDE_CAPACITY):
        raise PermissionDenied("Only a manager can book into a full session.")
    try:
        with transaction.atomic():
            if new_customer:
                contact = desk.customer_create(
                    user=request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    phone=data["phone"],
                    idempotency_key=data["idempotency_key"] + "-contact",
                )
            else:
                contact = data["contact"]
            booking = _book(request, session=None, contact=contact, data=data, service=service, slot=slot)
    except BookingError as exc:
        if new_customer:
            form.add_error("email" if exc.code == "contact_duplicate" else None, exc.message)
        else:
            context["book_error"] = exc.message
        return REFUSED
    messages.success(request, f"{_booked_message(booking, data)[:-1]} — {service.name}, {context['slot'].label}.")
    if booking.session_id:
        return redirect(_roster_url(booking.session, booking.pk))
    start = context["slot"].start
    day = timezone.localdate(start) if start else timezone.localdate()
    return redirect(f"{reverse('today')}?date={day:%Y-%m-%d}")
