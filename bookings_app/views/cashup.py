"""Cash-up screens: one session's takings (from its roster's header), one staff member's day, the
whole day — each with what the desk's actions say was taken, line by line, the count the person
closing enters (notes and coins, or totals), over/short, and a manager's sign-off after which
it is read-only (a count sent then is refused, 409). A manager's list of the day's cash-ups
links them all (from Today and from the owes list).

The person closing counts: the front desk may open and count any cash-up (it is their till);
listing the day's and signing off are a manager's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings_app import forms, money, roles, selectors
from bookings_app.models import CashUp
from bookings_app.services import cashup as cashup_service
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, MAX_PK, REFUSED, session_or_404

Scope = CashUp.Scope


class DayForm(django_forms.Form):
    date = forms.DayField(required=False)


class CountForm(django_forms.Form):
    """The count: a field per note and coin of the currency (how many), or the cash as one total;
    the card and cheque totals; a note."""

    cash = forms.AmountField(required=False)
    card = forms.AmountField(required=False)
    check = forms.AmountField(required=False)
    note = django_forms.CharField(required=False, max_length=1000)

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.pieces = cashup_service.denominations(currency)
        for value in self.pieces:
            self.fields[self.piece_name(value)] = django_forms.IntegerField(
                required=False,
                min_value=0,
                max_value=cashup_service.MAX_PIECES,
                error_messages={"invalid": "Count whole notes and coins.", "min_value": "Count 0 or more."},
            )

    @staticmethod
    def piece_name(value: Decimal) -> str:
        return "n_" + str(value).replace(".", "_")

    def piece_rows(self) -> list[tuple[Decimal, str, Any]]:
        """(value, what it is called, its field) for each note and coin."""
        return [
            (value, cashup_service.denomination_label(value, self.currency), self[self.piece_name(value)])
            for value in self.pieces
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pieces = {v: data.get(self.piece_name(v)) for v in self.pieces}
        data["pieces"] = {v: n for v, n in pieces.items() if n} if any(n is not None for n in pieces.values()) else None
        if data["pieces"] is None and data.get("cash") is None and not self.errors:
            raise django_forms.ValidationError("Enter the cash counted: notes and coins, or the total (0 if none).")
        if data["pieces"] is not None and data.get("cash") is not None:
            pieces = sum((v * n for v, n in data["pieces"].items()), Decimal("0"))
            if pieces != data["cash"]:
                counted = money.format_money(pieces, self.currency)
                typed = money.format_money(data["cash"], self.currency)
                raise django_forms.ValidationError(
                    f"The notes and coins come to {counted} but the cash total says {typed}: clear one of them."
                )
        for name in ("cash", "card", "check"):
            if (data.get(name) or Decimal("0")) < 0:
                self.add_error(name, "Enter 0 or more.")
        return data

    def count(self) -> cashup_service.Count:
        data = self.cleaned_data
        return cashup_service.Count(
            cash=data.get("cash"),
            pieces=data.get("pieces"),
            card=data.get("card") or Decimal("0"),
            check=data.get("check") or Decimal("0"),
            note=data.get("note") or "",
        )

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return ""


def _day(request: HttpRequest) -> date | None:
    """?date= (today without one); None when it cannot be read."""
    form = DayForm(request.GET)
    if not form.is_valid():
        return None
    return form.cleaned_data["date"] or timezone.localdate()


def scope_url(scope: selectors.CashupScope) -> str:
    if scope.kind == Scope.SESSION:
        return reverse("cashup_session", args=[scope.session.ref])
    if scope.kind == Scope.STAFF:
        return reverse("cashup_staff", args=[scope.staff.pk]) + f"?date={scope.day:%Y-%m-%d}"
    return reverse("cashup_day") + f"?date={scope.day:%Y-%m-%d}"


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def cashup_session(request: HttpRequest, ref: str) -> HttpResponse:
    """The cash-up of one session: what the desk took for it on its day."""
    session = session_or_404(ref)
    day = timezone.localdate(session.start)
    return _cashup(request, selectors.CashupScope(Scope.SESSION, day, session=session))


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def cashup_staff(request: HttpRequest, user_id: int) -> HttpResponse:
    """One staff member's takings on a day (?date=, today without one)."""
    staff = selectors.staff_user_get(pk=user_id) if user_id <= MAX_PK else None
    if staff is None:
        raise Http404("No such staff member.")
    day = _day(request)
    if day is None:
        return _bad_day(request)
    return _cashup(request, selectors.CashupScope(Scope.STAFF, day, staff=staff))


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def cashup_day(request: HttpRequest) -> HttpResponse:
    """The whole day's takings (?date=, today without one)."""
    day = _day(request)
    if day is None:
        return _bad_day(request)
    return _cashup(request, selectors.CashupScope(Scope.DAY, day))


def _bad_day(request: HttpRequest) -> HttpResponse:
    context = {"message": "Enter a date as YYYY-MM-DD.", "back_url": reverse("today")}
    return TemplateResponse(request, "cashup/problem.html", context, status=INVALID)


def _cashup(request: HttpRequest, scope: selectors.CashupScope) -> HttpResponse:
    takings = selectors.cashup_takings(scope=scope)
    cashup = selectors.cashup_get(scope=scope)
    if request.method == "GET":
        return _render(request, scope, takings, cashup, CountForm(initial=_initial(cashup), currency=takings.currency))
    form = CountForm(request.POST, currency=takings.currency)
    if cashup is not None and cashup.is_signed_off:
        error = "This cash-up is signed off: it can no longer be changed."
        return _render(request, scope, takings, cashup, form, status=REFUSED, error=error)
    if not form.is_valid():
        return _render(request, scope, takings, cashup, form, status=INVALID, error=form.first_error())
    try:
        saved = cashup_service.cashup_count(user=request.user, scope=scope, count=form.count())
    except BookingError as exc:
        status = INVALID if exc.code == "amount_invalid" else REFUSED
        return _render(request, scope, takings, cashup, form, status=status, error=exc.message)
    messages.success(request, f"Count saved: {_over_short_words(saved.over_short, saved.currency)}.")
    return redirect(scope_url(scope))


def _over_short_words(amount: Decimal, currency: str) -> str:
    if amount > 0:
        return f"{money.format_money(amount, currency)} over"
    if amount < 0:
        return f"{money.format_money(-amount, currency)} short"
    return "exactly as expected"


def _initial(cashup: CashUp | None) -> dict[str, Any]:
    if cashup is None:
        return {}
    initial: dict[str, Any] = {"card": cashup.counted_card, "check": cashup.counted_check, "note": cashup.note}
    if cashup.denominations:
        for value, n in cashup.denominations.items():
            initial[CountForm.piece_name(Decimal(value))] = n
    else:
        initial["cash"] = cashup.counted_cash
    return initial


def _render(
    request: HttpRequest,
    scope: selectors.CashupScope,
    takings: selectors.Takings,
    cashup: CashUp | None,
    form: CountForm,
    *,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    methods = [("CASH", "Cash"), ("CARD", "Card"), ("CHECK", "Cheque")]
    figures = []
    for method, label in methods:
        name = {"CASH": "cash", "CARD": "card", "CHECK": "check"}[method]
        row = {"label": label, "expected_now": takings.expected(method)}
        if cashup is not None:
            expected, counted = getattr(cashup, f"expected_{name}"), getattr(cashup, f"counted_{name}")
            row.update(expected=expected, counted=counted, over_short=counted - expected)
        figures.append(row)
    context = {
        "scope": scope,
        "scope_url": scope_url(scope),
        "takings": takings,
        "currency": takings.currency,
        "cashup": cashup,
        "figures": figures,
        "changed_since": cashup is not None and cashup.expected_actions != takings.snapshot(),
        "form": form,
        "error": error,
        "can_sign_off": request.user.has_perm(roles.SIGN_OFF_CASHUPS),
        "can_list": request.user.has_perm(roles.VIEW_REPORTS),
        "counted_line": _over_short_words(cashup.over_short, cashup.currency) if cashup else "",
    }
    return TemplateResponse(request, "cashup/cashup.html", context, status=status)


@roles.require(roles.SIGN_OFF_CASHUPS)
@require_POST
def cashup_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager signs a count off: read-only from now on. 409 when the takings changed since the
    count (count again first) or it is signed off already."""
    cashup = selectors.cashup_by_pk(pk=pk) if pk <= MAX_PK else None
    if cashup is None:
        raise Http404("No such cash-up.")
    scope = selectors.CashupScope(cashup.scope, cashup.day, session=cashup.session, staff=cashup.staff)
    try:
        cashup_service.cashup_sign_off(user=request.user, cashup=cashup, scope=scope)
    except BookingError as exc:
        takings = selectors.cashup_takings(scope=scope)
        form = CountForm(initial=_initial(cashup), currency=takings.currency)
        return _render(request, scope, takings, cashup, form, status=REFUSED, error=exc.message)
    messages.success(request, "Signed off: this cash-up is read-only now.")
    return redirect(scope_url(scope))


@roles.require(roles.VIEW_REPORTS)
@require_GET
def cashups(request: HttpRequest) -> HttpResponse:
    """A day's cash-ups (?date=, today without one): the whole day, each session that took money
    and each staff member who did, with what the desk took and how each count came out."""
    day = _day(request)
    status = 200
    if day is None:
        day, status = timezone.localdate(), INVALID
    before, after = forms.day_neighbours(day)
    read = selectors.cashup_day_read(day=day)
    for entry in (read.whole_day, *read.sessions, *read.staff):
        entry.url = scope_url(entry.scope)
    context = {
        "read": read,
        "day": day,
        "prev_day": before,
        "next_day": after,
        "is_today": day == timezone.localdate(),
        "date_error": "Enter a date as YYYY-MM-DD: showing today." if status == INVALID else "",
    }
    return TemplateResponse(request, "cashup/list.html", context, status=status)
