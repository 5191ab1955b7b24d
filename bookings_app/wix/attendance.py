"""Attendance: who came to a session (CONTRACT.md §5).

Set Attendance is an upsert per (booking, session), so repeating it is harmless and it is retried
like a read.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

ATTENDANCE = "/bookings/bookings-attendance"
BULK_SET_LIMIT = 8


def set_attendance(
    wix: WixClient,
    *,
    attendance: dict[str, Any],
    participant_notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record ``attendance{bookingId, eventId, status (ATTENDED|NOT_ATTENDED|NOT_SET), numberOfAttendees}``.

    Returns ``{attendance}``. Raises ``WixBadRequest`` (SESSION_ID_NOT_PROVIDED),
    ``WixValidationError``, ``WixNotFound`` (BOOKING_NOT_FOUND).
    """
    body = compact({"attendance": attendance, "participantNotification": participant_notification})
    return wix.post(f"{ATTENDANCE}/set", body, idempotent=True)


def bulk_set_attendance(
    wix: WixClient,
    *,
    attendance_details: list[dict[str, Any]],
    return_full_entity: bool | None = None,
) -> dict[str, Any]:
    """Record up to 8 attendances; items are ``{attendance, participantNotification?}``.

    Returns ``{results[{itemMetadata, item?}], bulkActionMetadata}``. Raises ``ValueError`` locally
    for 0 or more than 8 items.
    """
    items = require_batch(attendance_details, limit=BULK_SET_LIMIT, what="Bulk Set Attendance")
    body = compact({"attendanceDetails": items, "returnFullEntity": return_full_entity})
    return wix.post("/bookings/v2/bulk/attendance/set", body, idempotent=True)


def query_attendance(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter (one field), sort, cursorPaging}`` → ``{attendances[], pagingMetadata{cursors, hasNext}}``."""
    return wix.post(f"{ATTENDANCE}/query", {"query": query or {}}, idempotent=True)


def get_attendance(wix: WixClient, *, attendance_id: str) -> dict[str, Any]:
    """Returns ``{attendance}``. Raises ``WixNotFound`` (ATTENDANCE_NOT_FOUND)."""
    return wix.get(f"{ATTENDANCE}/{path_param(attendance_id, 'attendance_id')}")


def count_attendances(wix: WixClient, *, filter: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns ``{count}`` of the attendances matching ``filter``."""
    return wix.post(f"{ATTENDANCE}/count", compact({"filter": filter}), idempotent=True)
