"""The drift watchdog's page (managers): every case where the desk, the mirror and Wix disagree,
oldest first, and its one-click fixes — retry, re-sync this booking, record the payment — each a
POST that answers with the case again (htmx swaps it in place) or, without JavaScript, the page.

The page reads the mirror only (``selectors.drift``); a re-sync is a background task; a payment
goes through the desk's own payment action (which also needs the front-desk permission).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from bookings_app import converters, roles, tasks
from bookings_app.models import Booking, DeskAction
from bookings_app.selectors import drift as drift_read
from bookings_app.services import drift as drift_fix
from bookings_app.services.errors import BookingError
from bookings_app.views.common import MAX_PK, REFUSED, url_filler

PAGE = "drift/drift.html"
BAD_REQUEST = 400


@roles.require(roles.VIEW_REPORTS)
@require_GET
def drift(request: HttpRequest) -> HttpResponse:
    """Every kind with its count and first cases; ``?kind=`` one kind, paged with ``&after=``."""
    kind = request.GET.get("kind") or None
    after_raw = request.GET.get("after")
    error = ""
    if kind is not None and kind not in drift_read.QUERIES:
        error = "There is no such kind of drift; these are the kinds the watchdog looks for."
    elif after_raw is not None and (kind is None or drift_read.cursor_parse(after_raw) is None):
        error = "That page of cases cannot be read; start again from the first one."
    if error:  # answered at once: no case is read for a request that cannot be served
        return TemplateResponse(request, PAGE, {**_context(request, []), "error": error}, status=BAD_REQUEST)
    after = drift_read.cursor_parse(after_raw) if after_raw else None
    sections = drift_read.drift_sections(kind=kind, after=after)
    context = _context(request, sections)
    if kind is None:  # every kind just counted: the header shows this total, not a count of its own
        drift_read.drift_total_keep(context["total"])
    context["sections_html"] = sections_html(sections, kind=kind, page=_case_page(request))
    return TemplateResponse(request, PAGE, {**context, "kind": kind, "after": after_raw or ""})


def _context(request: HttpRequest, sections: list[drift_read.DriftSection]) -> dict[str, Any]:
    _urls_attach([case for section in sections for case in section.cases])
    return {
        "sections": sections,
        "sections_html": "",
        "total": sum(s.count for s in sections),
        "stuck_minutes": settings.DRIFT_STUCK_MINUTES,
        "lookback_days": settings.DRIFT_LOOKBACK_DAYS,
    }


def _case_page(request: HttpRequest, *, done: str = "", error: str = "") -> dict[str, Any]:
    """What every case drawn in this response shares (``templates/jinja2/drift/case.html``)."""
    return {
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
        "form_key": secrets.token_hex(10),  # this render's form token prefix (a payment's idempotency key)
        "can_pay": request.user.has_perm(roles.USE_FRONT_DESK),
        "can_audit": request.user.has_perm(roles.VIEW_AUDIT),
        "done": done,
        "error": error,
    }


def sections_html(sections: list[drift_read.DriftSection], *, kind: str | None, page: dict[str, Any]) -> SafeString:
    """The page's sections and their cases, from the Jinja2 template
    ``templates/jinja2/drift/sections.html`` (Django's template language drew them several times
    slower: thirty-five cases of a few forms each)."""
    template = engines["jinja2"].env.get_template("drift/sections.html")
    return mark_safe(  # noqa: S308 - Jinja2 escapes (autoescape on, jinja_env.environment)
        template.render(sections=sections, kind=kind, drift_url=reverse("drift"), page=page)
    )


def case_html(case: drift_read.DriftCase | None, *, key: str, page: dict[str, Any]) -> SafeString:
    """One case again (a fix's answer, swapped in place), or "Fixed" when it no longer stands."""
    template = engines["jinja2"].env.get_template("drift/case.html")
    return mark_safe(template.render(case=case, key=key, page=page))  # noqa: S308 - as sections_html


@roles.require(roles.VIEW_REPORTS)
@require_POST
def drift_retry(request: HttpRequest, action_id: int) -> HttpResponse:
    """Send a stuck desk action again."""
    action = _get_or_404(DeskAction.objects.select_related("booking__contact", "contact"), action_id)
    try:
        drift_fix.drift_retry(user=request.user, action=action)
    except BookingError as exc:
        return _answer(request, error=exc.message)
    return _answer(request, done="Sent again: the worker takes it to Wix now.")


@roles.require(roles.VIEW_REPORTS)
@require_POST
def drift_resync(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Read this booking (its order, the member's plans) from Wix again, in the background."""
    booking = _get_or_404(Booking.objects.select_related("contact"), booking_id)
    try:
        tasks.booking_resync_request(user=request.user, booking=booking)
    except BookingError as exc:
        return _answer(request, error=exc.message)
    return _answer(request, done=f"Reading {booking.contact}'s booking from Wix again; this page shows the result.")


@roles.require(roles.VIEW_REPORTS)
@require_POST
def drift_pay(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Take what someone who came still owes, in cash, by card or by cheque (a desk payment)."""
    if not request.user.has_perm(roles.USE_FRONT_DESK):
        raise PermissionDenied("Taking a payment is the front desk's.")
    booking = _get_or_404(Booking.objects.select_related("contact", "service", "session"), booking_id)
    key = request.POST.get("idempotency_key", "").strip()
    try:
        drift_fix.attended_pay(
            user=request.user, booking=booking, method=request.POST.get("method", ""), idempotency_key=key
        )
    except BookingError as exc:
        return _answer(request, error=exc.message)
    return _answer(request, done=f"Payment taken from {booking.contact}; it is on its way to Wix.")


def _urls_attach(cases: list[drift_read.DriftCase]) -> None:
    """Each case's fix and link URLs (``case.urls``): reversed once for the page, not per case
    (seventy cases, five URLs each, were a third of the page's time as ``{% url %}`` tags)."""
    retry, resync, pay = (
        url_filler(view, converters.IdConverter) for view in ("drift_retry", "drift_resync", "drift_pay")
    )
    roster = url_filler("roster")
    history = reverse("audit") + "?booking="
    for case in cases:
        urls = case.urls
        if case.action is not None:
            urls["retry"] = retry(case.action.pk)
        if case.booking is not None:
            pk = case.booking.pk
            urls["resync"] = resync(pk)
            urls["pay"] = pay(pk)
            urls["history"] = f"{history}{pk}"
        if case.session is not None:
            anchor = f"#booking-{case.booking.pk}" if case.booking is not None else ""
            urls["roster"] = f"{roster(case.session.ref)}{anchor}"


def _get_or_404(queryset: Any, pk: int) -> Any:
    found = queryset.filter(pk=pk).first() if 0 < pk <= MAX_PK else None
    if found is None:
        raise Http404("It is not there any more.")
    return found


def _answer(request: HttpRequest, *, done: str = "", error: str = "") -> HttpResponse:
    """The case again (htmx: swapped in place — or "fixed" once it no longer stands), else back to the
    page with a message. The case is named by the form's ``kind`` and ``case``."""
    kind = request.POST.get("kind", "")
    case_pk = _int(request.POST.get("case"))
    if request.htmx and kind in drift_read.QUERIES and case_pk is not None:
        case = drift_read.drift_case_get(kind=kind, pk=case_pk)
        _urls_attach([case] if case else [])
        html = case_html(case, key=f"{kind}-{case_pk}", page=_case_page(request, done=done, error=error))
        return HttpResponse(html, status=REFUSED if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    back = reverse("drift")
    if kind in drift_read.QUERIES:
        back += f"?kind={kind}"
    return redirect(back)


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_PK else None
