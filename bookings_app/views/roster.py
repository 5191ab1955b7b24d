from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from bookings_app import roles, selectors
from bookings_app.models import Session

MAX_SEARCH_LENGTH = 100
# The desk actions every roster row offers, by the key the template uses: ``row.urls.pay`` …
ROW_ACTIONS = {"pay": "desk_pay", "plan": "desk_plan", "later": "desk_later", "attendance": "desk_attendance"}
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
    row_urls_attach(rows=rows, session=session)
    return {
        "session": session,
        "rows": rows,
        "people": sum(row.booking.total_participants for row in rows),
        "search": search,
        "include_cancelled": include_cancelled,
        "highlight": highlight,
        # What the row partial shows after a refused action (see views.desk._row_response): none
        # here, but present, so that the template does not look them up in vain on every row.
        "row_error": "",
        "part_form": None,
    }


def row_urls_attach(*, rows: list[selectors.RosterRow], session: Session) -> list[selectors.RosterRow]:
    """Give every row its desk action URLs (``row.urls``), each reversed once for the whole list
    and completed per row with the booking id: a ``{% url %}`` per button per row was a good
    part of the roster's render time."""
    marker = f"/{_ANY_BOOKING}/"
    parts = {
        key: reverse(name, args=[session.ref, _ANY_BOOKING]).rpartition(marker) for key, name in ROW_ACTIONS.items()
    }
    for row in rows:
        middle = f"/{row.booking.pk}/"
        row.urls = {key: head + middle + tail for key, (head, _, tail) in parts.items()}
    return rows


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
