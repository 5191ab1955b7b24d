"""The owes list (a manager's screen): everyone who still owes for sessions in a range, one line
per person with what they owe in all and their bookings under it, the person owing longest
first. From a booking or a person: take cash, card or cheque, or charge their plan — at once,
with an undo while the window lasts; tick several (of several people) and settle them in one
commit after a summary to confirm, as the roster's Settle does. Write-offs are
``views.write_offs``'s. A printable reminder list and the export (CSV, XLSX) take the same range.
The people's rows are drawn by Jinja2 (``templates/jinja2/owes/``), as the roster's are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from markupsafe import escape

from bookings_app import converters, forms, roles, selectors
from bookings_app.date_ranges import PRESETS, DateRange, DateRangeForm
from bookings_app.money import format_money
from bookings_app.services import desk, exports
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, MAX_SEARCH_LENGTH, REFUSED, int_or_none, url_filler

METHOD_LABELS = {"cash": "cash", "card": "card", "check": "cheque", "plan": "their plan"}


def list_query(request: HttpRequest, data: Any = None) -> tuple[DateRangeForm, DateRange, str, dict[str, str]]:
    """The range, the search and the query string that asks for them again, from ``data`` (the
    GET, or the hidden fields a POST carries)."""
    data = request.GET if data is None else data
    form = DateRangeForm({k: data[k] for k in ("range", "start", "end") if data.get(k)} or None)
    date_range = form.date_range()
    search = (data.get("q") or "").strip()[:MAX_SEARCH_LENGTH]
    query = {**date_range.query(), **({"q": search} if search else {})}
    return form, date_range, search, query


def owes_url(query: dict[str, str], **extra: Any) -> str:
    return reverse("owes") + "?" + urlencode({**query, **{k: v for k, v in extra.items() if v}})


def _page(
    request: HttpRequest,
    *,
    data: Any = None,
    status: int = 200,
    error: str = "",
    row_errors: dict[int, str] | None = None,
) -> HttpResponse:
    form, date_range, search, query = list_query(request, data)
    if form.is_bound and not form.is_valid() and status == 200:
        status = INVALID
    start, end = date_range.bounds()
    read = selectors.owes_read(
        start=start, end=end, search=search, page=int_or_none((data or request.GET).get("page")) or 1
    )
    row_errors = row_errors or {}
    for person in read.people:
        for item in person.bookings:
            item.error = row_errors.get(item.booking.pk, "")
    batch = selectors.batch_read(batch_id=request.GET.get("batch", "")[:200]) if data is None else None
    can_write_off = request.user.has_perm(roles.WRITE_OFF)
    context = {
        "form": form,
        "range_error": form.first_error() if form.is_bound else "",
        "presets": PRESETS,
        "date_range": date_range,
        "up_to_now": end > timezone.now(),
        "search": search,
        "query": query,
        "query_string": urlencode(query),
        "read": read,
        "prev_url": owes_url(query, page=read.page - 1) if read.page > 1 else "",
        "next_url": owes_url(query, page=read.page + 1) if read.page < read.pages else "",
        "error": error,
        "batch": batch if batch is not None and batch.undoable() else None,
        "batch_words": settled_words(batch.totals, read.currency) if batch is not None else "",
        "can_write_off": can_write_off,
        "people_html": debtors_html(read.people, query_string=urlencode(query), can_write_off=can_write_off),
        "can_export": request.user.has_perm(roles.EXPORT_DATA),
        "export_links": exports.export_links(request) if data is None else {},
        "undo_seconds": settings.DESK_UNDO_SECONDS,
    }
    return TemplateResponse(request, "owes/list.html", context, status=status)


def debtors_html(people: list[selectors.Debtor], *, query_string: str, can_write_off: bool) -> SafeString:
    """The people of the page, a ``<tbody>`` each, from the Jinja2 template
    ``templates/jinja2/owes/debtors.html``: a page is 30 people and their bookings, a few hundred
    buttons, which Django's template language draws several times slower."""
    template = engines["jinja2"].env.get_template("owes/debtors.html")
    return mark_safe(  # noqa: S308 - Jinja2 escapes (autoescape on, jinja_env.environment)
        rendered_in_batches(
            template,
            people=people,
            query_string=query_string,
            can_write_off=can_write_off,
            write_off_url=reverse("owes_write_off"),
            local=timezone.localtime,
            card_url=url_filler("customer_card", converters.IdConverter),
            roster_url=url_filler("roster"),
        )
    )


@roles.require(roles.VIEW_REPORTS)
@require_GET
def owes(request: HttpRequest) -> HttpResponse:
    """?range=this_week|last_week|this_month|last_month|custom&start=&end=&q=&page=; a range it
    cannot read shows this month, with the message (422). ``batch``: the settle just made, to undo."""
    return _page(request)


def _selection(request: HttpRequest) -> tuple[str, list[int]] | None:
    """(method, booking pks) a POST asks to settle: a row's or a person's button (``row`` =
    "cash:12,13"), else the ticked bookings and the bulk button's ``method``; None when it makes
    no sense (not numbers)."""
    row = request.POST.get("row", "")
    if row:
        method, _, ids = row.partition(":")
        raw = ids.split(",")
    else:
        method, raw = request.POST.get("method", ""), request.POST.getlist("booking")
    pks = [int_or_none(value.strip()) for value in raw if value.strip()]
    if any(pk is None or pk <= 0 or pk > 2**62 for pk in pks):
        return None
    return method.lower(), [pk for pk in pks if pk is not None]


@roles.require(roles.VIEW_REPORTS)
@require_POST
def owes_settle(request: HttpRequest) -> HttpResponse:
    """Settle the chosen bookings: a row's or a person's button at once; the ticked ones after a
    summary to confirm (``confirm``; ``back`` returns to the list). Then back to the list, with an
    undo for the whole settle while its window lasts."""
    _, _, _, query = list_query(request, request.POST)
    token = forms.DeskActionForm(request.POST)
    selection = _selection(request)
    if not token.is_valid() or selection is None:
        error = token.first_error() or "Choose bookings from the list."
        return _page(request, data=request.POST, status=INVALID, error=error)
    if "back" in request.POST:
        return redirect(owes_url(query))
    method, pks = selection
    key = token.cleaned_data["idempotency_key"]
    try:
        if not request.POST.get("row") and "confirm" not in request.POST:
            preview = desk.owes_settle_check(booking_ids=pks, method=method)
            return _confirm(request, preview=preview, query=query, key=key)
        actions = desk.owes_settle(user=request.user, booking_ids=pks, method=method, idempotency_key=key)
    except BookingError as exc:
        status = INVALID if exc.code == "method_invalid" else REFUSED
        return _page(
            request, data=request.POST, status=status, error=exc.message, row_errors=getattr(exc, "row_errors", {})
        )
    batch = selectors.batch_read(batch_id=key)
    currency = actions[0].booking.service.currency if actions and actions[0].booking else ""
    summary = settled_words(batch.totals, currency) if batch else ""
    messages.success(request, f"Settled {len(actions)} booking{'s' if len(actions) != 1 else ''}: {summary}.")
    return redirect(owes_url(query, batch=key))


def settled_words(totals: selectors.BatchTotals, currency: str) -> str:
    """What a settle from the owes list took: "£24.00 cash, £12.00 by card, 2 plan charges" (one
    person may have several bookings in it, so no "from N people")."""
    parts = [
        f"{format_money(getattr(totals, kind), currency)} {words}"
        for kind, words in (("cash", "cash"), ("card", "by card"), ("check", "by cheque"))
        if getattr(totals, f"{kind}_count")
    ]
    if totals.plan_count:
        parts.append(f"{totals.plan_count} plan charge{'s' if totals.plan_count != 1 else ''}")
    return ", ".join(parts) or "nothing"


def _confirm(request: HttpRequest, *, preview: desk.OwesPreview, query: dict[str, str], key: str) -> HttpResponse:
    context = {
        "preview": preview,
        "method_label": METHOD_LABELS[preview.method],
        "query": query,
        "key": key,
        "undo_seconds": settings.DESK_UNDO_SECONDS,
    }
    return TemplateResponse(request, "owes/confirm.html", context)


@roles.require(roles.VIEW_REPORTS)
@require_POST
def owes_batch_undo(request: HttpRequest, batch_id: str) -> HttpResponse:
    """Undo a settle made from the owes list, all of it, while its window lasts (409 after)."""
    _, _, _, query = list_query(request, request.POST)
    try:
        undone = desk.batch_undo(user=request.user, session=None, batch_id=batch_id[:200])
    except BookingError as exc:
        status = 404 if exc.code == "batch_not_found" else REFUSED
        return _page(request, data=request.POST, status=status, error=exc.message)
    messages.success(request, f"Undone: {len(undone)} change{'s' if len(undone) != 1 else ''} taken back.")
    return redirect(owes_url(query))


@roles.require(roles.VIEW_REPORTS)
@require_GET
def owes_print(request: HttpRequest) -> HttpResponse:
    """A reminder list to print: everyone in the range (no pages), their contact details, what
    they owe and for which sessions."""
    form, date_range, search, query = list_query(request)
    start, end = date_range.bounds()
    read = selectors.owes_read(start=start, end=end, search=search, page=None, detail=selectors.owes.PRINT)
    people_html = mark_safe("".join(reminder_rows(read.people)))  # noqa: S308 - escaped in reminder_rows
    context = {
        "read": read,
        "people_html": people_html,
        "date_range": date_range,
        "search": search,
        "query_string": urlencode(query),
    }
    return TemplateResponse(request, "owes/print.html", context, status=INVALID if form.errors else 200)


def rendered_in_batches(template: Any, **context: Any) -> str:
    """``template.render(**context)``, its pieces joined a few hundred at a time as they come. The
    pieces Jinja2 escapes are ``Markup`` strings, which Python's garbage collector tracks, and
    ``render`` keeps them all until the end: long enough to be carried into the collector's
    oldest generation, whose full collections take tens of milliseconds (a printout of two
    thousand people drawn so was some ten thousand of them). Joined, they are a plain string."""
    pieces = template.generate(**context)
    done = []
    while batch := list(islice(pieces, 500)):
        done.append("".join(batch))
    return "".join(done)


def reminder_rows(people: Iterable[selectors.Debtor]) -> Iterator[str]:
    """Each person's ``<tbody>`` of the printed reminders: name, phone and email, their bookings
    as ``<li>`` lines — "Mon 7 Dec 18:30 Lane swim — £12.00" — and what they owe in all, escaped
    here. Written in Python rather than a template: a range can hold a thousand people or more,
    and a Jinja2 template drew each person several times slower. A start and an amount are
    written once each however many bookings share them (a session's people, a class's price).
    A generator of plain strings: nothing of a person's outlives their row."""
    tz = timezone.get_current_timezone()
    starts: dict[Any, str] = {}
    amounts: dict[tuple[Any, str], str] = {}

    def money(amount: Any, currency: str) -> str:
        text = amounts.get((amount, currency))
        if text is None:
            text = amounts[amount, currency] = format_money(amount, currency)
        return text

    for person in people:
        items = []
        for item in person.bookings:
            start = starts.get(item.when)
            if start is None:
                when = item.when.astimezone(tz)
                start = starts[item.when] = f"{when:%a} {when.day} {when:%b %H:%M}"
            items.append(f"<li>{escape(f'{start} {item.what} — {money(item.due, item.currency)}')}</li>")
        contact = person.contact
        phone, email = contact.phone, contact.email
        yield (
            '\n<tbody class="reminder">\n  <tr>\n'
            f'    <th scope="row">{escape(contact.full_name or "(no name)")}</th>\n'
            f"    <td>{escape(phone)}{'<br>' if phone and email else ''}{escape(email)}</td>\n"
            f'    <td><ul class="reminder-sessions">{"".join(items)}</ul></td>\n'
            f'    <td class="num"><strong>{escape(money(person.total, person.currency))}</strong></td>\n'
            '    <td class="done"></td>\n  </tr>\n</tbody>'
        )


EXPORT_HEADERS = [
    "Name",
    "Email",
    "Phone",
    "Person owes",
    "Session",
    "Session start",
    "Booking status",
    "Payment status",
    "Attendance",
    "Owes",
    "Currency",
    "Pays later",
    "Order shared",
]


@roles.require(roles.EXPORT_DATA)
@require_GET
def owes_export(request: HttpRequest) -> HttpResponse:
    """The owes list as CSV or XLSX (``format``): one row per booking, as on the screen, with the
    person's details and total on each row. 400 for another format."""
    try:
        fmt = exports.parse_format(request.GET.get("format"))
    except exports.ExportFormatError as exc:
        return HttpResponseBadRequest(str(exc))
    _, date_range, search, _ = list_query(request)
    start, end = date_range.bounds()
    read = selectors.owes_read(start=start, end=end, search=search, page=None, detail=selectors.owes.EXPORT)

    def rows() -> Any:
        for person in read.people:
            contact = person.contact
            name, email, phone = (contact.full_name, contact.email, contact.phone) if contact else ("", "", "")
            for item in person.bookings:
                yield (
                    name,
                    email,
                    phone,
                    person.total,
                    item.what,
                    item.when,
                    item.status_label,
                    item.payment_label,
                    item.attendance_label,
                    item.due,
                    item.currency,
                    item.marked_later,
                    item.shares_order,
                )

    name = f"owes-{date_range.first:%Y-%m-%d}-to-{date_range.last:%Y-%m-%d}"
    return exports.response(exports.Table(name=name, headers=EXPORT_HEADERS, rows=rows(), sheet_title="Owes"), fmt)
