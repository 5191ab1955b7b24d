"""Settle roster: every participant with a suggested resolution (what the desk chose before, else
their plan if it has credit, else cash at the price due), staff change any row with a tap, and
"Commit all" shows what it will record to confirm (Back keeps the choices). Confirm writes the
lot as one batch of desk actions (the worker pushes them with Wix's bulk endpoints), undone as
one while its window lasts. The page lists the session's earlier batches: their undo, and a
manager's reverse once Wix has them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings_app import forms, money, roles, selectors
from bookings_app.models import Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, REFUSED, session_or_404


def settle_totals(fields: list[forms.SettleField]) -> selectors.BatchTotals:
    """The totals for the choices as they stand: at the top of the screen (app.js keeps them up
    to date as staff tap; this is what a page without JavaScript shows) and in the summary to
    confirm."""
    totals = selectors.BatchTotals(people=len(fields))
    for field in fields:
        totals.add(field.resolution, field.row.amount_due or Decimal("0"))
        if field.check_in:
            totals.check_ins += 1
        else:
            totals.no_shows += 1
    return totals


def _render(
    request: HttpRequest,
    session: Session,
    form: forms.SettleForm,
    *,
    status: int = 200,
    error: str = "",
    confirming: bool = False,
) -> HttpResponse:
    context = {
        "session": session,
        "form": form,
        "participants": form.participants,
        "totals": settle_totals(form.participants),
        "any_plan": any(field.row.balance is not None for field in form.participants),  # keeps the columns aligned
        "currency": session.service.currency,
        "settle_error": error,
        "confirming": confirming,
        "undo_seconds": settings.DESK_UNDO_SECONDS,
        "batches": [] if confirming else selectors.session_batches(session=session),
        "can_reverse": request.user.has_perm(roles.VOID_PAYMENTS),
    }
    return TemplateResponse(request, "desk/settle.html", context, status=status)


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def settle(request: HttpRequest, ref: str) -> HttpResponse:
    """GET: the suggestions. POST: the summary to confirm (``back``: the choices again, to
    change); with ``confirm``, commit every row at once (all or nothing)."""
    # The commit answers with a redirect and needs none of the roster's numbers; a page shows them.
    committing = request.method == "POST" and "confirm" in request.POST and "back" not in request.POST
    session = session_or_404(ref, numbers="none" if committing else "all")

    def render(form: forms.SettleForm, **kwargs: Any) -> HttpResponse:
        shown = (selectors.session_get(ref=session.ref) or session) if committing else session
        return _render(request, shown, form, **kwargs)

    rows = desk.settle_suggestions(session=session)
    if request.method == "GET":
        return render(forms.SettleForm(rows=rows))
    form = forms.SettleForm(request.POST, rows=rows)
    if not form.is_valid():
        return render(form, status=INVALID, error=form.first_error())
    if "back" in request.POST:
        return render(form)
    choices = [desk.SettleChoice(**choice) for choice in form.choices()]
    try:
        if "confirm" not in request.POST:
            desk.settle_check(session=session, rows=choices)
            return render(form, confirming=True)
        actions = desk.settle_commit(
            user=request.user, session=session, rows=choices, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except BookingError as exc:
        row_errors: dict[int, str] = getattr(exc, "row_errors", {}) or {}
        for field in form.participants:
            field.error = row_errors.get(field.row.booking.pk, "")
        return render(form, status=REFUSED, error=exc.message)
    totals = settle_totals(form.participants)
    cash = f" Cash to collect: {money.format_money(totals.cash, session.service.currency)}." if totals.cash else ""
    changes = f"{len(actions)} change{'s' if len(actions) != 1 else ''}"
    people = f"{len(choices)} participant{'s' if len(choices) != 1 else ''}"
    messages.success(request, f"Settled {people} ({changes} on their way to Wix).{cash}")
    return redirect(reverse("roster", args=[session.ref]))
