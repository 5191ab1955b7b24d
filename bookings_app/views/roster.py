import secrets

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from bookings_app import roles, selectors
from bookings_app.models import Session

MAX_SEARCH_LENGTH = 100
# The desk actions every roster row offers, by the key the template uses: ``row.urls.pay`` …
ROW_ACTIONS = {
    "pay": "desk_pay",
    "plan": "desk_plan",
    "later": "desk_later",
    "attendance": "desk_attendance",
    "row": "roster_row",
}
_ANY_BOOKING = 4_611_686_018_427_387_904  # a booking id no real URL contains (2**62)


def _session_or_404(ref: str) -> Session:
    session = selectors.session_get(ref=ref)
    if session is None:
        raise Http404("No such session.")
    return session


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster(request: HttpRequest, ref: str) -> HttpResponse:
    """Everyone booked on one session; ?q= filters by name, email or phone, ?cancelled=1 shows
    cancelled and declined bookings too."""
    session = _session_or_404(ref)
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    include_cancelled = request.GET.get("cancelled") == "1"
    context = roster_rows_context(request=request, session=session, search=search, include_cancelled=include_cancelled)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "roster/roster.html#roster-rows" if partial else "roster/roster.html"
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def roster_rows_context(
    *,
    request: HttpRequest,
    session: Session,
    search: str = "",
    include_cancelled: bool = False,
    highlight: int | None = None,
) -> dict[str, object]:
    """What the ``roster-rows`` partial needs: the rows with their desk actions (also used by
    the desk views that re-render the whole list, e.g. after a walk-in or check-in-all)."""
    rows = selectors.roster_row_list(session=session, search=search, include_cancelled=include_cancelled)
    selectors.roster_desk_state_attach(rows=rows, can_reverse=request.user.has_perm(roles.VOID_PAYMENTS))
    row_actions_attach(rows=rows, session=session)
    return {
        "session": session,
        "rows": rows,
        "rows_html": rows_html(request=request, session=session, rows=rows, highlight=highlight),
        "people": sum(row.booking.total_participants for row in rows),
        "search": search,
        "include_cancelled": include_cancelled,
    }


def rows_html(
    *,
    request: HttpRequest,
    session: Session,
    rows: list[selectors.RosterRow],
    highlight: int | None = None,
    row_error: str = "",
    part_form: forms.Form | None = None,
    part_open: bool = False,
) -> SafeString:
    """The rows' ``<tbody>`` elements, from the Jinja2 row template (templates/jinja2/roster/
    row.html: rendered once per participant, it is the one template kept out of Django's
    template language for speed). ``row_error``, ``part_form`` and ``part_open`` are for a
    single row: a refused action's message, the part-payment prompt with its error, or open."""
    template = engines["jinja2"].env.get_template("roster/row.html")
    part = None
    if part_form is not None:
        field = part_form["amount"]
        part = {"value": field.value() or "", "errors": list(field.errors)}
    elif part_open:
        part = {"value": "", "errors": []}
    context = {
        "session": session,
        "highlight": highlight,
        "row_error": row_error,
        "part": part,
        # one hidden field for every form of every row, made once
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
        "can_override": request.user.has_perm(roles.OVERRIDE_CAPACITY),
        "can_reverse": request.user.has_perm(roles.VOID_PAYMENTS),
    }
    return mark_safe("".join(template.render(context, row=row) for row in rows))  # noqa: S308 (autoescaped)


def row_actions_attach(*, rows: list[selectors.RosterRow], session: Session) -> list[selectors.RosterRow]:
    """Give every row what its forms need: the desk action URLs (``row.urls``), each reversed
    once for the whole list and completed per row with the booking id, and the row's form token
    (``row.key``, see ``DeskActionForm``). Both used to be tags per form per row (``{% url %}``,
    ``{% idempotency_key %}``), most of a 120-row roster's render time.

    The token is this render's random prefix plus the booking id, so it is fresh for every
    render and differs between rows; a row with more than one form adds a suffix per form."""
    marker = f"/{_ANY_BOOKING}/"
    parts = {
        key: reverse(name, args=[session.ref, _ANY_BOOKING]).rpartition(marker) for key, name in ROW_ACTIONS.items()
    }
    render_key = secrets.token_hex(10)
    for row in rows:
        middle = f"/{row.booking.pk}/"
        row.urls = {key: head + middle + tail for key, (head, _, tail) in parts.items()}
        row.key = f"{render_key}-{row.booking.pk}"
    return rows


def one_row(request: HttpRequest, session: Session, booking_id: int) -> selectors.RosterRow | None:
    """One roster row with its desk state, as the roster shows it (a cancelled one too)."""
    rows = selectors.roster_row_list(session=session, booking_ids=[booking_id], include_cancelled=True)
    selectors.roster_desk_state_attach(rows=rows, can_reverse=request.user.has_perm(roles.VOID_PAYMENTS))
    row_actions_attach(rows=rows, session=session)
    return rows[0] if rows else None


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster_row(request: HttpRequest, ref: str, booking_id: int) -> HttpResponse:
    """One participant's row; ``?part=1`` opens its part-payment prompt. The roster fetches it
    when "Part…" is tapped (the prompt is not sent with every row of a big roster); without
    JavaScript the link opens it as a page of its own."""
    session = _session_or_404(ref)
    row = one_row(request, session, booking_id)
    if row is None:
        raise Http404("No such booking on this session.")
    part_open = request.GET.get("part") == "1" and row.offers_payment
    if part_open:
        row.desk.quiet = False  # the prompt lives on the actions line
    html = rows_html(request=request, session=session, rows=[row], part_open=part_open)
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
    session = _session_or_404(ref)
    return TemplateResponse(request, "roster/roster.html#session-header", {"session": session})


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def roster_print(request: HttpRequest, ref: str) -> HttpResponse:
    """A sign-in sheet for the session: name, phone, paid?, and a column to sign."""
    session = _session_or_404(ref)
    rows = selectors.roster_row_list(session=session)
    return TemplateResponse(request, "roster/print.html", {"session": session, "rows": rows})
