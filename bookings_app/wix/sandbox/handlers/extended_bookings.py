"""Bookings Reader V2 — Query / Count Extended Bookings (CONTRACT.md §4)."""

from __future__ import annotations

from typing import Any

from bookings_app.wix.sandbox.app import Sandbox, SandboxRequest, route
from bookings_app.wix.sandbox.common import now_iso
from bookings_app.wix.sandbox.errors import ValidationFailed, violation
from bookings_app.wix.sandbox.handlers.bookings import orders_by_booking
from bookings_app.wix.sandbox.query import match_filter, run_query

Json = dict[str, Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
DEFAULT_SORT = [{"fieldName": "createdDate", "order": "DESC"}]
LIVE_STATUSES = ("CREATED", "CONFIRMED", "PENDING", "WAITING_LIST")


def _booking_filter(flt: Any) -> Any:
    """Filters name booking fields; a ``booking.`` prefix (the extended-booking path) is accepted too."""
    if isinstance(flt, list):
        return [_booking_filter(f) for f in flt]
    if not isinstance(flt, dict):
        return flt
    return {
        (key.removeprefix("booking.") if not key.startswith("$") else key): (
            _booking_filter(value) if key in ("$and", "$or", "$not") else value
        )
        for key, value in flt.items()
    }


def _attendance_by_booking(sb: Sandbox) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for attendance in sb.state.all("attendances"):
        found[attendance["bookingId"]] = attendance
    return found


def _allowed_actions(booking: Json, now: str) -> Json:
    # UNCONFIRMED: for the business (API key) no booking policy applies; a live booking can be
    # canceled, and rescheduled while its session is still ahead (courses can't be rescheduled).
    live = booking.get("status") in LIVE_STATUSES
    slot = (booking.get("bookedEntity") or {}).get("slot")
    upcoming = bool(booking.get("startDate")) and booking["startDate"] > now
    return {"cancel": live, "reschedule": live and bool(slot) and upcoming}


@route("POST /_api/bookings-reader/v2/extended-bookings/query")
def query_extended_bookings(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    if not isinstance(body.get("query"), dict):
        raise ValidationFailed([violation("query", "query is required", "REQUIRED_FIELD")])
    query = dict(body["query"])
    if "filter" in query:
        query["filter"] = _booking_filter(query["filter"])
    if not query.get("paging") and not query.get("cursorPaging"):
        query["cursorPaging"] = {"limit": DEFAULT_LIMIT}
    page, meta = run_query(
        sb.state.all("bookings"),
        query,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        default_sort=DEFAULT_SORT,
    )
    attendances = _attendance_by_booking(sb) if body.get("withBookingAttendanceInfo") else {}
    orders = orders_by_booking(sb) if body.get("withEcomOrder") else {}
    now = now_iso(sb)
    extended: list[Json] = []
    for booking in page:
        item: Json = {"booking": booking}
        attendance = attendances.get(booking["id"])
        if attendance is not None:
            item["attendance"] = {
                "id": attendance["id"],
                "status": attendance["status"],
                "numberOfAttendees": attendance.get("numberOfAttendees", 1),
            }
        if booking["id"] in orders:
            item["order"] = orders[booking["id"]]
        if body.get("withBookingAllowedActions"):
            item["allowedActions"] = _allowed_actions(booking, now)
        extended.append(item)
    return {"extendedBookings": extended, "pagingMetadata": meta}


@route("POST /_api/bookings-reader/v2/extended-bookings/count")
def count_extended_bookings(sb: Sandbox, req: SandboxRequest) -> Json:
    flt = _booking_filter(req.body.get("filter"))
    return {"count": sum(1 for b in sb.state.all("bookings") if match_filter(b, flt))}
