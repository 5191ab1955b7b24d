"""Attendance: Wix JSON -> ``Attendance`` rows of mirrored bookings and sessions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Attendance, Booking, Session
from bookings_app.services.mirror.run import MirrorRun, paged_cursor
from bookings_app.services.mirror.upsert import Row, Upserted, upsert
from bookings_app.services.mirror.values import Json, integer, text
from bookings_app.wix import attendance as wix_attendance
from bookings_app.wix.dates import wix_timestamp_parse


def attendance_fetch(run: MirrorRun, flt: Json) -> list[Json]:
    found: list[Json] = []
    for page in paged_cursor(run, wix_attendance.query_attendance, "attendances", flt):
        found.extend(page)
    return found


def attendance_write(run: MirrorRun, items: list[Json], bookings: Upserted, course_attendance: list[Json]) -> None:
    """Attendance from the extended bookings (for their own session) and, for course bookings,
    from Query Attendance (one record per course session). Bookings with a desk change in
    flight keep what the desk set."""
    entries: list[tuple[Json, Booking, int]] = []
    for item in items:
        booking = bookings.objects.get(item["booking"]["id"])
        attendance = item.get("attendance")
        if attendance and booking is not None and booking.session_id and not booking.pending_sync:
            entries.append((attendance, booking, booking.session_id))
    if course_attendance:
        sessions = dict(
            Session.objects.filter(
                wix_id__in={a.get("eventId") or a.get("sessionId") for a in course_attendance}
            ).values_list("wix_id", "pk")
        )
        for attendance in course_attendance:
            booking = bookings.objects.get(attendance.get("bookingId") or "")
            session_pk = sessions.get(attendance.get("eventId") or attendance.get("sessionId") or "")
            if booking is not None and session_pk and not booking.pending_sync:
                entries.append((attendance, booking, session_pk))
    attendance_upsert(run, entries)


def attendance_upsert(run: MirrorRun, entries: list[tuple[Json, Booking, int]]) -> None:
    """Write (attendance payload, booking, session pk) entries, newer-wins."""
    if not entries:
        return
    held_by_pair = {
        (a.booking_id, a.session_id): a
        for a in Attendance.objects.select_for_update().filter(booking_id__in={b.pk for _, b, _ in entries})
    }
    existing: dict[str, Attendance] = {}
    rows = []
    for attendance, booking, session_pk in entries:
        wix_id = attendance.get("id")
        if not wix_id:
            continue
        held = held_by_pair.get((booking.pk, session_pk))
        if held is not None and held.wix_id != wix_id:
            existing[wix_id] = held  # made at the desk before Wix named it, or re-created in Wix
        rows.append(
            Row(
                wix_id,
                attendance.get("revision"),
                wix_timestamp_parse(attendance.get("updatedDate")),
                {
                    "booking_id": booking.pk,
                    "session_id": session_pk,
                    "status": text(attendance.get("status") or Attendance.Status.NOT_SET, 16),
                    "number_of_attendees": max(integer(attendance.get("numberOfAttendees")) or 0, 0)
                    if attendance.get("numberOfAttendees") is not None
                    else 1,
                    "raw": attendance,
                },
            )
        )
    upsert(run, Attendance, rows, existing=existing)


def mirror_attendance(*, attendances: list[Json], deleted: bool = False) -> int:
    """Write (or, with ``deleted``, forget) attendance records for mirrored bookings and sessions."""
    if deleted:
        ids = [a.get("id") for a in attendances if a.get("id")]
        count, _ = Attendance.objects.filter(wix_id__in=ids).delete()
        return count
    bookings = {
        b.wix_id: b
        for b in Booking.objects.filter(wix_id__in={a.get("bookingId") for a in attendances}, pending_sync=False)
    }
    sessions = dict(
        Session.objects.filter(wix_id__in={a.get("eventId") or a.get("sessionId") for a in attendances}).values_list(
            "wix_id", "pk"
        )
    )
    entries = []
    for a in attendances:
        booking = bookings.get(a.get("bookingId") or "")
        session_pk = sessions.get(a.get("eventId") or a.get("sessionId") or "") or (
            booking.session_id if booking else None
        )
        if booking is not None and session_pk:
            entries.append((a, booking, session_pk))
    run = MirrorRun(wix=None, actor="webhook")
    with transaction.atomic():
        attendance_upsert(run, entries)
    return len(entries)


def attendance_absorb(*, booking_id: int | None, session_id: int | None, item: Json) -> None:
    """Wix's answer to the desk's check-in of this booking and session: the desk's row takes the
    Wix id and payload (the desk's status stays until the sync reads Wix's)."""
    attendance_id = item.get("id")
    if not attendance_id:
        return
    row = Attendance.objects.filter(booking_id=booking_id, session_id=session_id).first()
    if row is None:
        return
    Attendance.objects.filter(wix_id=attendance_id).exclude(pk=row.pk).delete()
    row.wix_id = attendance_id
    row.raw = item
    row.synced_at = timezone.now()
    row.save(update_fields=["wix_id", "raw", "synced_at"])
