"""Write-offs from the owes list (a manager's): one booking's debt, all of a person's or the ticked
ones, with a reason, after a page that shows what will be written off; the write-offs made in a
range, each taken back with one button. Nothing here reaches Wix (``services.desk.write_offs``
says why)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings_app import forms, money, roles, selectors
from bookings_app.models import WriteOff
from bookings_app.services import desk
from bookings_app.services.desk.write_offs import REASON_MAX
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, MAX_PK, REFUSED
from bookings_app.views.owes import list_query, owes_url


class WriteOffForm(forms.DeskActionForm):
    reason = django_forms.CharField(
        max_length=REASON_MAX,
        error_messages={
            "required": "Say why it is written off (a few words).",
            "max_length": f"Keep the reason under {REASON_MAX} characters.",
        },
    )


def _booking_ids(values: list[str]) -> list[int] | None:
    try:
        pks = [int(v) for v in values if v.strip()]
    except ValueError:
        return None
    return pks if all(0 < pk <= MAX_PK for pk in pks) else None


@roles.require(roles.WRITE_OFF)
@require_http_methods(["GET", "POST"])
def owes_write_off(request: HttpRequest) -> HttpResponse:
    """GET (``?booking=`` one or more) or a POST from the owes list without a reason: what will be
    written off, and the reason to give. POST with ``reason``: write it off, back to the list."""
    data = request.POST if request.method == "POST" else request.GET
    _, _, _, query = list_query(request, data)
    pks = _booking_ids(data.getlist("booking"))
    if pks is None:
        return _page(request, [], query, status=INVALID, error="Choose bookings from the owes list.")
    if not pks:
        return _page(request, [], query, status=INVALID, error="Choose at least one booking to write off.")
    rows = selectors.owes_bookings_due(booking_ids=pks)
    if request.method == "GET" or "reason" not in request.POST:
        return _page(request, rows, query, form=WriteOffForm(initial={}))
    form = WriteOffForm(request.POST)
    if not form.is_valid():
        return _page(request, rows, query, form=form, status=INVALID, error=form.first_error())
    try:
        done = desk.write_off(
            user=request.user,
            bookings=[b for b, _ in rows],
            reason=form.cleaned_data["reason"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BookingError as exc:
        status = INVALID if exc.code == "reason_required" else REFUSED
        return _page(request, rows, query, form=form, status=status, error=exc.message)
    bookings = f"{len(done)} booking{'s' if len(done) != 1 else ''}"
    messages.success(request, f"Written off: {bookings}. Nothing is sent to Wix.")
    return redirect(owes_url(query))


def _page(
    request: HttpRequest,
    rows: list,
    query: dict[str, str],
    *,
    form: WriteOffForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    context = {
        "rows": rows,
        "owing": [(b, due) for b, due in rows if due > 0],
        "total": sum((due for _, due in rows if due > 0), start=Decimal("0")),
        "currency": rows[0][0].service.currency if rows else "",
        "form": form or WriteOffForm(),
        "query": query,
        "back_url": owes_url(query),
        "error": error,
    }
    return TemplateResponse(request, "owes/write_off.html", context, status=status)


@roles.require(roles.VIEW_REPORTS)
@require_GET
def owes_written_off(request: HttpRequest) -> HttpResponse:
    """The write-offs made in the range (the owes list's), newest first, taken back ones too."""
    return _written_off_page(request, request.GET)


def _written_off_page(request: HttpRequest, data: QueryDict, *, status: int = 200, error: str = "") -> HttpResponse:
    form, date_range, _, query = list_query(request, data)
    start, end = date_range.bounds()
    context = {
        "write_offs": selectors.written_off_list(start=start, end=end),
        "date_range": date_range,
        "range_error": form.first_error() if form.is_bound else "",
        "query": query,
        "back_url": owes_url(query),
        "can_write_off": request.user.has_perm(roles.WRITE_OFF),
        "error": error,
    }
    if status == 200 and form.errors:
        status = INVALID
    return TemplateResponse(request, "owes/written_off.html", context, status=status)


@roles.require(roles.WRITE_OFF)
@require_POST
def owes_write_off_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a write-off back: the booking owes again. 409 when it was taken back already."""
    found: WriteOff | None = selectors.write_off_get(pk=pk) if pk <= MAX_PK else None
    if found is None:
        raise Http404("No such write-off.")
    try:
        desk.write_off_reverse(user=request.user, write_off=found, reason=request.POST.get("reason", ""))
    except BookingError as exc:
        return _written_off_page(request, request.POST, status=REFUSED, error=exc.message)
    _, _, _, query = list_query(request, request.POST)
    owed = money.format_money(found.amount, found.currency)
    messages.success(request, f"Taken back: {found.contact} owes {owed} again (if nothing was paid since).")
    return redirect(reverse("owes_written_off") + "?" + urlencode(query))
