"""The desk's actions on a roster row: take a payment, charge a plan, pay later, check in or
mark a no-show; check everyone in; undo, resolve what needs attention, reverse what Wix
already has.

Every click calls one desk service, which writes locally and returns at once (the worker pushes
to Wix later), and answers with the updated roster row plus an ``HX-Trigger: rosterChanged``
for the head count. Status codes: 422 when the form is wrong (the message sits next to the
field), 409 when a business rule says no (``BookingError``: already paid, class full, too late
to undo …); nothing has changed in either case. Without JavaScript every form is a plain POST
that redirects back to the roster with the outcome as a message.

The row is built once per click, after acting (``roster_rows.one_row``); what a form needs
first — the amount due, the plans on offer — comes from ``roster_rows``' lighter reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from bookings_app import forms, roles, roster_html, roster_rows
from bookings_app.models import Attendance, DeskAction, Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views.common import (
    INVALID,
    MAX_SEARCH_LENGTH,
    REFUSED,
    ROSTER_CHANGED,
    action_or_404,
    already_done,
    booking_or_404,
    roster_url,
    session_or_404,
    who,
)


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
    row = roster_rows.one_row(request, session, booking_id)
    if row is None:
        response: HttpResponse = HttpResponse("", status=status)
    else:
        if error or part_form is not None:
            row.desk.quiet = False  # the message needs the actions line
        html = roster_html.rows_html(request=request, session=session, rows=[row], row_error=error, part_form=part_form)
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
    return redirect(roster_url(session, booking_id))


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
    return redirect(roster_url(session, booking_id))


def _back_to_row(request: HttpRequest, session: Session, booking_id: int) -> HttpResponse:
    """The answer to a re-sent form: the row as it is now (htmx), or back to it on the roster."""
    return _row_response(request, session, booking_id) if request.htmx else redirect(roster_url(session, booking_id))


# --- per-row actions ----------------------------------------------------------------------------


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def pay(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Cash, card or cheque: all that is due (the button), or a part of it (the amount prompt)."""
    session = session_or_404(ref, numbers="none")  # a row needs none of its numbers
    booking = booking_or_404(session, booking_id)
    if already_done(request):
        return _back_to_row(request, session, booking.pk)
    amount_due, currency = roster_rows.payment_due(booking=booking)
    form = forms.PaymentForm(request.POST, amount_due=amount_due, currency=currency)

    def act(data: dict[str, Any]) -> None:
        desk.payment_record(
            user=request.user,
            booking=booking,
            method=data["method"],
            amount=data["amount"],
            idempotency_key=data["idempotency_key"],
        )

    method = dict(forms.PaymentForm.METHODS).get(request.POST.get("method", ""), "payment").lower()
    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{who(booking)}: {method} taken.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def plan_charge(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Charge one of the member's plans (the roster offers only plans that cover the service)."""
    session = session_or_404(ref, numbers="none")  # a row needs none of its numbers
    booking = booking_or_404(session, booking_id)
    if already_done(request):
        return _back_to_row(request, session, booking.pk)
    form = forms.PlanChargeForm(request.POST, balances=roster_rows.plan_choices(booking=booking))

    def act(data: dict[str, Any]) -> None:
        desk.plan_charge(
            user=request.user, booking=booking, balance=data["balance"], idempotency_key=data["idempotency_key"]
        )

    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{who(booking)}: charged to plan.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def pay_later(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Not paying today: the booking goes on the owes list."""
    session = session_or_404(ref, numbers="none")  # a row needs none of its numbers
    booking = booking_or_404(session, booking_id)
    form = forms.DeskActionForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        desk.pay_later(user=request.user, booking=booking, idempotency_key=data["idempotency_key"])

    return _row_action(request, session, booking.pk, form=form, act=act, done=f"{who(booking)} will pay later.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def attendance(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """Check in, or mark a no-show."""
    session = session_or_404(ref, numbers="none")  # a row needs none of its numbers
    booking = booking_or_404(session, booking_id)
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
    done = f"{who(booking)} {'checked in' if checked_in else 'marked as a no-show'}."
    return _row_action(request, session, booking.pk, form=form, act=act, done=done)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def check_in_all(request: HttpRequest, ref: str) -> HttpResponse:
    """Check in everyone on the roster not yet checked in (one bulk action for the worker)."""
    session = session_or_404(ref)
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
        return redirect(roster_url(session))
    session = session_or_404(ref)  # the head count after the change
    search = request.POST.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    context = roster_rows.rows_context(
        request=request, session=session, search=search, include_cancelled=request.POST.get("cancelled") == "1"
    )
    context["rows_error"] = error
    if not error:
        context["rows_message"] = f"Checked in {_people(len(actions))}."
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
    session = session_or_404(ref, numbers="none")  # a row needs none of its numbers
    action = action_or_404(session, action_id)
    booking_id = action.booking_id
    try:
        desk.action_undo(user=request.user, action=action)
    except BookingError as exc:
        return _refused(request, session, booking_id, message=exc.message, status=REFUSED)
    if request.htmx:
        return _row_response(request, session, booking_id)
    messages.success(request, f"Undone: {action.get_kind_display().lower()}.")
    return redirect(roster_url(session, booking_id))


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def action_resolve(request: HttpRequest, ref: str, action_id: int) -> HttpResponse:
    """Staff's answer to "needs attention": retry, take cash instead, override (manager), remove."""
    session = session_or_404(ref)
    action = action_or_404(session, action_id)
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
    session = session_or_404(ref)
    action = action_or_404(session, action_id)
    form = forms.DeskActionForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        desk.action_reverse(user=request.user, action=action, idempotency_key=data["idempotency_key"])

    done = f"{roster_rows.REVERSE_LABELS.get(action.kind, 'Reversed')}: sent to Wix."
    return _row_action(request, session, action.booking_id, form=form, act=act, done=done)
