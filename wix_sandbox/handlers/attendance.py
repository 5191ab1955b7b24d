"""Bookings Attendance (CONTRACT.md §5): set (upsert per booking and session), bulk set, query, get, count."""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, violation
from wix_sandbox.query import match_filter, require_filterable, require_sortable, run_query
from wix_sandbox.routing import route

Json = dict[str, Any]

STATUSES = ("NOT_SET", "ATTENDED", "NOT_ATTENDED")
BULK_MAX = 8
DEFAULT_LIMIT = 50
# bookings_attendance CursorPaging.limit: "Default: 50, Maximum: 1000" (@max 1000).
MAX_LIMIT = 1000
# bookings_attendance AttendanceQuerySpec (``_id`` is REST ``id``): these fields and operators only.
_IDS = ("$eq", "$in", "$ne", "$nin")
FILTERS = {
    "id": _IDS,
    "bookingId": _IDS,
    "eventId": _IDS,
    "sessionId": _IDS,
    "status": _IDS,
    "numberOfAttendees": ("$eq", "$gt", "$gte", "$in", "$lt", "$lte", "$ne", "$nin"),
}


def _violations(attendance: Any, prefix: str) -> list[Json]:
    if not isinstance(attendance, dict) or not attendance:
        return [violation(prefix, f"{prefix} is required", "REQUIRED_FIELD")]
    out: list[Json] = []
    if not attendance.get("bookingId"):
        out.append(violation(f"{prefix}.bookingId", "bookingId is required", "REQUIRED_FIELD"))
    status = attendance.get("status")
    if not status:
        out.append(violation(f"{prefix}.status", "status is required", "REQUIRED_FIELD"))
    elif status not in STATUSES:
        out.append(violation(f"{prefix}.status", f"{status!r} is not an AttendanceStatus", "INVALID_ENUM_VALUE"))
    count = attendance.get("numberOfAttendees")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        out.append(violation(f"{prefix}.numberOfAttendees", "numberOfAttendees must be a whole number", "MIN"))
    return out


def _require_session(attendance: Json) -> None:
    if not (attendance.get("eventId") or attendance.get("sessionId")):
        raise invalid("SESSION_ID_NOT_PROVIDED", "Send attendance.eventId (or the deprecated sessionId)")


def _session_known(sb: Sandbox, booking: Json, event_id: str) -> bool:
    if sb.state.get("events", event_id) is not None:
        return True
    slot = (booking.get("bookedEntity") or {}).get("slot") or {}
    return event_id in (slot.get("eventId"), slot.get("sessionId"))


def _upsert(sb: Sandbox, attendance: Json) -> Json:
    """Set the attendance of one booking in one session; validation has already passed."""
    booking = sb.state.get("bookings", attendance["bookingId"])
    if booking is None:
        # UNCONFIRMED: Set Attendance declares no booking code; BOOKING_NOT_FOUND like the Bookings APIs.
        raise not_found("BOOKING_NOT_FOUND", "Booking", attendance["bookingId"])
    event_id = attendance.get("eventId") or attendance["sessionId"]
    if not _session_known(sb, booking, event_id):
        # UNCONFIRMED: an unknown session is 404 SESSION_NOT_FOUND (the Bookings code for it).
        raise not_found("SESSION_NOT_FOUND", "Session", event_id)
    existing = next(
        (a for a in sb.state.all("attendances") if a["bookingId"] == booking["id"] and a.get("eventId") == event_id),
        None,
    )
    stored: Json = {
        "id": existing["id"] if existing else sb.state.new_id(),
        "bookingId": booking["id"],
        "eventId": event_id,
        "status": attendance["status"],
        "numberOfAttendees": attendance.get("numberOfAttendees", 1),
    }
    if attendance.get("sessionId"):
        stored["sessionId"] = attendance["sessionId"]
    sb.state.put("attendances", stored)
    return stored


@route("POST /bookings/bookings-attendance/set", "/_api/bookings-attendance/v2/attendance/set")
def set_attendance(sb: Sandbox, req: SandboxRequest) -> Json:
    attendance = req.body.get("attendance")
    problems = _violations(attendance, "attendance")
    if problems:
        raise ValidationFailed(problems)
    _require_session(attendance)
    return {"attendance": _upsert(sb, attendance)}


@route("POST /bookings/v2/bulk/attendance/set")
def bulk_set_attendance(sb: Sandbox, req: SandboxRequest) -> Json:
    details = req.body.get("attendanceDetails")
    if not isinstance(details, list) or not details:
        raise invalid("ATTENDANCES_MISSING_IN_REQUEST", "attendanceDetails needs at least 1 attendance")
    if len(details) > BULK_MAX:
        raise ValidationFailed([violation("attendanceDetails", f"at most {BULK_MAX} attendances per call", "MAX_SIZE")])
    problems: list[Json] = []
    for i, detail in enumerate(details):
        problems += _violations((detail or {}).get("attendance"), f"attendanceDetails[{i}].attendance")
    if problems:
        raise ValidationFailed(problems)
    for detail in details:
        _require_session(detail["attendance"])
    return_full = bool(req.body.get("returnFullEntity"))
    results: list[Json] = []
    for i, detail in enumerate(details):
        try:
            stored = _upsert(sb, detail["attendance"])
        except SandboxError as exc:
            results.append(
                {
                    "itemMetadata": {
                        "originalIndex": i,
                        "success": False,
                        "error": {"code": exc.code, "description": exc.description, "data": exc.data},
                    }
                }
            )
            continue
        result: Json = {"itemMetadata": {"id": stored["id"], "originalIndex": i, "success": True}}
        if return_full:
            result["item"] = stored
        results.append(result)
    successes = sum(1 for r in results if r["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {
            "totalSuccesses": successes,
            "totalFailures": len(results) - successes,
            "undetailedFailures": 0,
        },
    }


@route("POST /bookings/bookings-attendance/query")
def query_attendance(sb: Sandbox, req: SandboxRequest) -> Json:
    query = dict(req.body.get("query") or {})
    # Attendance pages by cursor only (CursorPagingMetadata).
    query.pop("paging", None)
    query.setdefault("cursorPaging", {"limit": DEFAULT_LIMIT})
    require_sortable(query.get("sort"), FILTERS, "Query Attendance")
    page, meta = run_query(
        sb.state.all("attendances"),
        query,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        # Default sort: ``id`` ascending (queryAttendance doc).
        default_sort=[{"fieldName": "id", "order": "ASC"}],
        filterable=FILTERS,
        api="Query Attendance",
    )
    return {"attendances": page, "pagingMetadata": meta}


@route("GET /bookings/bookings-attendance/{attendanceId}")
def get_attendance(sb: Sandbox, req: SandboxRequest) -> Json:
    attendance = sb.state.get("attendances", req.path_params["attendanceId"])
    if attendance is None:
        raise not_found("ATTENDANCE_NOT_FOUND", "Attendance", req.path_params["attendanceId"])
    return {"attendance": attendance}


@route("POST /bookings/bookings-attendance/count")
def count_attendances(sb: Sandbox, req: SandboxRequest) -> Json:
    flt = req.body.get("filter")
    require_filterable(flt, FILTERS, "Count Attendances")
    return {"count": sum(1 for a in sb.state.all("attendances") if match_filter(a, flt))}
