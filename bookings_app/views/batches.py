"""A batch of desk actions — a settle, a check in all — taken back as one: undone while its undo
window lasts (the roster's bar, the settle page), or reversed by a manager once Wix has it
(refunds and voids, after a confirmation page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from bookings_app import forms, roles, roster_rows, selectors
from bookings_app.models import Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.templatetags.batches import batch_label
from bookings_app.views.common import INVALID, MAX_SEARCH_LENGTH, REFUSED, ROSTER_CHANGED, roster_url, session_or_404


def _batch_or_404(session: Session, batch_id: str) -> selectors.Batch:
    found = selectors.session_batches(session=session, batch_id=batch_id)
    if not found:
        raise Http404("No such batch of changes on this session.")
    return found[0]


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def batch_undo(request: HttpRequest, ref: str, batch_id: str) -> HttpResponse:
    """Undo a whole settle or check in all. htmx (the roster's bar): the roster's rows as they are
    now, with the outcome above them; without JavaScript: back to the roster (or the settle page,
    ``next=settle``) with a message. 409 when it is too late."""
    session = session_or_404(ref)
    batch = _batch_or_404(session, batch_id)
    message, error, status = "", "", 200
    try:
        desk.batch_undo(user=request.user, session=session, batch_id=batch.batch_id)
        message = f"Undone: {batch_label(batch, session.service.currency)}."
    except BookingError as exc:
        error, status = exc.message, REFUSED
    if request.htmx:
        session = session_or_404(ref)  # the head count after the change
        context = roster_rows.rows_context(
            request=request,
            session=session,
            search=request.POST.get("q", "").strip()[:MAX_SEARCH_LENGTH],
            include_cancelled=request.POST.get("cancelled") == "1",
        )
        context.update(rows_message=message, rows_error=error)
        response = TemplateResponse(request, "roster/roster.html#roster-rows", context, status=status)
        if status == 200:
            trigger_client_event(response, ROSTER_CHANGED)
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    if request.POST.get("next") == "settle":
        return redirect(reverse("desk_settle", args=[session.ref]))
    return redirect(roster_url(session))


@roles.require(roles.VOID_PAYMENTS)
@require_http_methods(["GET", "POST"])
def batch_reverse(request: HttpRequest, ref: str, batch_id: str) -> HttpResponse:
    """GET: what reversing the settle takes back, to confirm. POST: refund its payments and void
    its plan charges (one reversal each, on their way to Wix), then back to the settle page."""
    session = session_or_404(ref)
    batch = _batch_or_404(session, batch_id)
    if request.method == "GET":
        return _reverse_page(request, session, batch)
    form = forms.DeskActionForm(request.POST)
    if not form.is_valid():
        return _reverse_page(request, session, batch, status=INVALID, error=form.first_error())
    try:
        reversals = desk.batch_reverse(
            user=request.user,
            session=session,
            batch_id=batch.batch_id,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BookingError as exc:
        return _reverse_page(request, session, batch, status=REFUSED, error=exc.message)
    messages.success(request, f"Reversed: {len(reversals)} payments and plan charges on their way to Wix.")
    return redirect(reverse("desk_settle", args=[session.ref]))


def _reverse_page(
    request: HttpRequest, session: Session, batch: selectors.Batch, *, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {"session": session, "batch": batch, "currency": session.service.currency, "error": error}
    return TemplateResponse(request, "desk/batch_reverse.html", context, status=status)
