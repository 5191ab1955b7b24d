"""Settle roster: every participant with a suggested resolution (their plan if it has credit,
else cash at the price due), staff change any row with a tap, and one "Commit all" writes the
lot as one batch of desk actions (the worker pushes them with Wix's bulk endpoints)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings_app import forms, money, roles
from bookings_app.models import Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, REFUSED, session_or_404

MONEY_RESOLUTIONS = ("cash", "card", "check")


@dataclass
class SettleTotals:
    cash: Decimal = Decimal("0")
    cash_count: int = 0
    card: Decimal = Decimal("0")
    card_count: int = 0
    check: Decimal = Decimal("0")
    check_count: int = 0
    plan_count: int = 0
    owes: Decimal = Decimal("0")
    owes_count: int = 0
    check_ins: int = 0
    people: int = 0


def settle_totals(fields: list[forms.SettleField]) -> SettleTotals:
    """The totals at the top of the screen for the choices as they stand (app.js keeps them
    up to date as staff tap; this is what a page without JavaScript shows)."""
    totals = SettleTotals(people=len(fields))
    for field in fields:
        due = field.row.amount_due or Decimal("0")
        if field.resolution in MONEY_RESOLUTIONS:
            setattr(totals, field.resolution, getattr(totals, field.resolution) + due)
            setattr(totals, f"{field.resolution}_count", getattr(totals, f"{field.resolution}_count") + 1)
        elif field.resolution == "plan":
            totals.plan_count += 1
        elif field.resolution == "owes":
            totals.owes += due
            totals.owes_count += 1
        totals.check_ins += 1 if field.check_in else 0
    return totals


def _render(
    request: HttpRequest, session: Session, form: forms.SettleForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {
        "session": session,
        "form": form,
        "participants": form.participants,
        "totals": settle_totals(form.participants),
        "any_plan": any(field.row.balance is not None for field in form.participants),  # keeps the columns aligned
        "currency": session.service.currency,
        "settle_error": error,
    }
    return TemplateResponse(request, "desk/settle.html", context, status=status)


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def settle(request: HttpRequest, ref: str) -> HttpResponse:
    """GET: the suggestions. POST: commit every row at once (all or nothing)."""
    session = session_or_404(ref)
    rows = desk.settle_suggestions(session=session)
    if request.method == "GET":
        return _render(request, session, forms.SettleForm(rows=rows))
    form = forms.SettleForm(request.POST, rows=rows)
    if not form.is_valid():
        return _render(request, session, form, status=INVALID, error=form.first_error())
    choices = [desk.SettleChoice(**choice) for choice in form.choices()]
    try:
        actions = desk.settle_commit(
            user=request.user, session=session, rows=choices, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except BookingError as exc:
        row_errors: dict[int, str] = getattr(exc, "row_errors", {}) or {}
        for field in form.participants:
            field.error = row_errors.get(field.row.booking.pk, "")
        return _render(request, session, form, status=REFUSED, error=exc.message)
    totals = settle_totals(form.participants)
    cash = f" Cash to collect: {money.format_money(totals.cash, session.service.currency)}." if totals.cash else ""
    changes = f"{len(actions)} change{'s' if len(actions) != 1 else ''}"
    people = f"{len(choices)} participant{'s' if len(choices) != 1 else ''}"
    messages.success(request, f"Settled {people} ({changes} on their way to Wix).{cash}")
    return redirect(reverse("roster", args=[session.ref]))
