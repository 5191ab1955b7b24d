"""A session's roster: everyone booked, filtered as you type; one participant's row; the
session header (refreshed after every desk action); the printable sign-in sheet. The rows
themselves are ``bookings_app.roster_rows``'s, drawn by ``bookings_app.roster_html``."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import reswap

from bookings_app import roles, roster_html, roster_list, roster_rows, selectors
from bookings_app.views.common import MAX_SEARCH_LENGTH, session_or_404


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster(request: HttpRequest, ref: str) -> HttpResponse:
    """Everyone booked on one session; ?q= filters by name, email or phone, ?cancelled=1 shows
    cancelled and declined bookings too.

    The refresh while rows wait for Wix sends the rows its page holds (``X-Roster-Rows``: each
    row's pk and digest) and gets only what changed: 204 when nothing did; the changed rows and
    the counts as out-of-band swaps; the whole list when someone came or went."""
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    include_cancelled = request.GET.get("cancelled") == "1"
    # The whole roster's rows give the header its numbers; a search's rows are only some of it.
    session = session_or_404(ref, numbers="all" if search else "none")
    context = roster_rows.rows_context(
        request=request, session=session, search=search, include_cancelled=include_cancelled
    )
    if not search:
        roster_list.numbers_from_rows(session, context["rows"])
    partial = request.htmx and not request.htmx.history_restore_request
    page_rows = roster_html.page_rows_parse(request.headers.get(roster_html.PAGE_ROWS_HEADER)) if partial else None
    changed = roster_html.rows_changed(context["rendered"], page_rows) if page_rows is not None else None
    if changed == []:
        response: HttpResponse = HttpResponse(status=204)
    elif changed:
        context.update(changed_html=roster_html.out_of_band(changed), out_of_band=True)
        response = reswap(TemplateResponse(request, "roster/roster.html#roster-changes", context), "none")
    else:
        template = "roster/roster.html#roster-rows" if partial else "roster/roster.html"
        if not partial and (search or context["count"].waiting_list):
            # The rows' count says whether anyone waits (a search's rows may not show them all).
            context["waiting_list"] = selectors.waitlist_read(session=session)
        response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ("HX-Request", roster_html.PAGE_ROWS_HEADER))
    return response


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster_row(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """One participant's row; ``?part=1`` opens its part-payment prompt. The roster fetches it
    when "Part…" is tapped (the prompt is not sent with every row of a big roster); without
    JavaScript the link opens it as a page of its own."""
    session = session_or_404(ref)
    row = roster_rows.one_row(request, session, booking_id)
    if row is None:
        raise Http404("No such booking on this session.")
    part_open = request.GET.get("part") == "1" and row.offers_payment
    if part_open:
        row.desk.quiet = False  # the prompt lives on the actions line
    html = roster_html.rows_html(request=request, session=session, rows=[row], part_open=part_open)
    if request.htmx:
        response = HttpResponse(html)
    else:
        context = {"session": session, "row": row, "row_html": html}
        response = TemplateResponse(request, "roster/participant.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster_header(request: HttpRequest, ref: str) -> HttpResponse:
    """The session header with its head count, refreshed after every desk action (rosterChanged)."""
    session = session_or_404(ref)
    return TemplateResponse(request, "roster/roster.html#session-header", {"session": session})


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster_print(request: HttpRequest, ref: str) -> HttpResponse:
    """A sign-in sheet for the session: name, phone, paid?, and a column to sign."""
    session = session_or_404(ref)
    rows = roster_rows.row_list(session=session)
    context = {"session": session, "rows": rows, "count": roster_list.roster_count(rows)}
    return TemplateResponse(request, "roster/print.html", context)
