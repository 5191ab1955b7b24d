"""Walk-ins on a roster: find the customer as you type (the mirror, then Wix), or add a new
one, and book them into the session (a course: its schedule) with the payment chosen in the
same tap — one service call, ``desk.walk_in_book``, all or nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from bookings_app import forms, roles, roster_html, roster_list, roster_rows
from bookings_app.models import Booking, Service, Session
from bookings_app.services import customers
from bookings_app.services.errors import BookingError
from bookings_app.views.common import (
    INVALID,
    MAX_SEARCH_LENGTH,
    REFUSED,
    ROSTER_CHANGED,
    already_done,
    book,
    booked_message,
    customer_hits,
    hit_choices,
    int_or_none,
    roster_url,
    session_or_404,
)

WALK_IN_ADDED = "walkInAdded"


def _walk_in_context(session: Session, *, q: str, ask_wix: bool = True, **extra: Any) -> dict[str, Any]:
    hits, unreachable = customer_hits(q, ask_wix=ask_wix)
    return {
        "session": session,
        "q": q,
        "hits": hit_choices(hits, session.service, session),
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
    # The search as you type, and a walk-in's answer (its row; the header follows through
    # rosterChanged), only need to know whether the session is full: a full page needs the rest.
    session = session_or_404(ref, numbers="booked" if request.htmx else "all")
    if session.service.type == Service.Type.APPOINTMENT:
        return redirect(f"{reverse('desk_appointment')}?service={session.service.pk}")
    if request.method == "GET":
        search = forms.CustomerSearchForm(request.GET)
        q = search.cleaned_data["q"] if search.is_valid() else ""
        if request.htmx and request.GET.get("wix") == "1":
            return _wix_lookup(request, session, q)
        # As you type (htmx): the mirror's hits at once, and Wix asked in a second request that
        # the answer starts (``wix_lookup``) — nobody waits on Wix to see who is already here.
        context = _walk_in_context(session, q=q, ask_wix=not request.htmx)
        if request.htmx and customers.wix_lookup_wanted(q, len(context["hits"])):
            context["wix_lookup"] = f"{reverse('desk_walk_in', args=[session.ref])}?{urlencode({'q': q, 'wix': 1})}"
        template = "desk/walk_in.html#walk-in-results" if request.htmx else "desk/walk_in.html"
        response = TemplateResponse(request, template, context)
        patch_vary_headers(response, ("HX-Request",))
        return response

    q = request.POST.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    form = forms.WalkInForm(request.POST)
    if (
        form.is_valid()
        and form.cleaned_data["override_capacity"]
        and not request.user.has_perm(roles.OVERRIDE_CAPACITY)
    ):
        raise PermissionDenied("Only a manager can book into a full session.")
    repeat = already_done(request)  # sent again (double tap, retried post): answered with the roster
    if not form.is_valid():
        return _walk_in_refused(
            request,
            session,
            q=q,
            contact_id=int_or_none(request.POST.get("contact")),
            message=form.first_error(),
            status=INVALID,
        )
    data = form.cleaned_data
    try:
        booking = book(request, data, session=session)
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
    if repeat:
        return _walk_in_done(request, session, booking=None, message="")
    return _walk_in_done(request, session, booking=booking, message=booked_message(booking, data))


def _wix_lookup(request: HttpRequest, session: Session, q: str) -> HttpResponse:
    """The search's second half: the customers Wix has and the mirror does not (now written into
    the mirror, so they can be booked), or why Wix could not be asked. Bounded like every
    interactive Wix call: a short wait for the rate budget, then the read timeout."""
    hits, unreachable = customer_hits(q, ask_wix=True)
    context = {
        "session": session,
        "q": q,
        "hits": hit_choices([h for h in hits if h.from_wix], session.service, session),
        "nobody": not hits,
        "wix_unreachable": unreachable,
        "price": session.service.price,
        "currency": session.service.currency,
    }
    return TemplateResponse(request, "desk/walk_in.html#walk-in-wix-lookup", context)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def walk_in_new(request: HttpRequest, ref: str) -> HttpResponse:
    """The "new customer" quick form: create the customer and book them in one go."""
    session = session_or_404(ref)
    form = forms.NewCustomerWalkInForm(request.POST)
    if (
        form.is_valid()
        and form.cleaned_data["override_capacity"]
        and not request.user.has_perm(roles.OVERRIDE_CAPACITY)
    ):
        raise PermissionDenied("Only a manager can book into a full session.")
    repeat = already_done(request, "-contact")  # sent again: answered with the roster
    status = INVALID
    if form.is_valid():
        data = form.cleaned_data
        try:
            booking = book(request, data, session=session, new=True)
        except BookingError as exc:
            status = REFUSED
            form.add_error("email" if exc.code == "contact_duplicate" else None, exc.message)
            if exc.code == "session_full" and request.user.has_perm(roles.OVERRIDE_CAPACITY):
                form.offer_override = True
        else:
            if repeat:
                return _walk_in_done(request, session, booking=None, message="")
            return _walk_in_done(request, session, booking=booking, message=booked_message(booking, data))
    context = _walk_in_context(session, q="", ask_wix=False, customer_form=form, new_open=True)
    template = "desk/walk_in.html#walk-in-new" if request.htmx else "desk/walk_in.html"
    return TemplateResponse(request, template, context, status=status)


def _walk_in_done(request: HttpRequest, session: Session, *, booking: Booking | None, message: str) -> HttpResponse:
    """Back to the roster with the new row highlighted (htmx: the rows, swapped in place)."""
    if not request.htmx:
        if message:
            messages.success(request, message)
        return redirect(roster_url(session, booking.pk if booking else None))
    session = session_or_404(session.ref, numbers="booked")  # the head count after the booking
    row = roster_rows.one_row(request, session, booking.pk) if booking is not None and session.booked > 1 else None
    if row is not None:
        # Just the new row, at the top of the table: re-sending a 100-person roster for every
        # walk-in made the click slower as the class filled up. The header and head count
        # follow through rosterChanged; the list re-sorts on the next full load.
        html = roster_html.rows_html(request=request, session=session, rows=[row], highlight=booking.pk)
        context = {"session": session, "row_html": html, "rows_message": message}
        response = TemplateResponse(request, "roster/roster.html#walk-in-row", context)
        response = retarget(reswap(response, "afterend"), "#roster-rows table.roster > thead")
    else:
        context = roster_rows.rows_context(request=request, session=session, highlight=booking.pk if booking else None)
        roster_list.numbers_from_rows(session, context["rows"])  # the list's head count, as the roster's
        context["rows_message"] = message
        response = TemplateResponse(request, "roster/roster.html#roster-rows", context)
        response = retarget(reswap(response, "outerHTML"), "#roster-rows")
    _send_fresh_panel(request, response, session)
    trigger_client_event(response, ROSTER_CHANGED)
    # After the swap: the listener clears the panel, which must not happen before htmx has
    # resolved where this response goes.
    trigger_client_event(response, WALK_IN_ADDED, {"booking": booking.pk if booking else None}, after="swap")
    return response


def _send_fresh_panel(request: HttpRequest, response: TemplateResponse, session: Session) -> None:
    """The panel's forms were rendered with keys that are used now: send its new-customer form
    again with a fresh key, and no search hits (their keys went with them), out of band. The next
    walk-in from the same page is a new action, never "the same form again"."""

    def append(rendered: HttpResponse) -> None:
        context = _walk_in_context(session, q="", ask_wix=False, oob=True)
        fresh = render_to_string("desk/walk_in.html#walk-in-fresh", context, request=request)
        rendered.content = rendered.content + fresh.encode()

    response.add_post_render_callback(append)


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
            choice.participants = request.POST.get("participants", "").strip()[:10]
            break
    else:
        context["results_error"] = message
    return TemplateResponse(request, "desk/walk_in.html#walk-in-results", context, status=status)
