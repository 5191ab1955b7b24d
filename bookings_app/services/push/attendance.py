"""Phase 4: ``ATTENDANCE`` — Bulk Set Attendance (≤8 a call), an upsert: safe to repeat.

A later check-in or no-show of the same person replaces an earlier one still queued; an
appointment's attendance stays local (it has no calendar event we know the id of).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from bookings_app.models import DeskAction, Service
from bookings_app.services import mirror
from bookings_app.services.push.messages import message
from bookings_app.services.push.worker import Push, chunks
from bookings_app.wix import attendance

Kind = DeskAction.Kind
Status = DeskAction.Status

BULK_ATTENDANCE = attendance.BULK_SET_LIMIT  # 8


def push_attendance(push: Push, actions: list[DeskAction]) -> None:
    newest: dict[tuple[int | None, int | None], DeskAction] = {}
    for action in actions:
        newest[(action.booking_id, action.session_id)] = action
    # Newer marks of the same people that can no longer be undone replace the older ones.
    later_ones = set(
        DeskAction.objects.filter(kind=Kind.ATTENDANCE, booking_id__in={a.booking_id for a in actions})
        .filter(
            Q(status__in=(Status.RUNNING, Status.SYNCED, Status.NEEDS_ATTENTION))
            | Q(status=Status.QUEUED, run_after__lte=timezone.now())
        )
        .values_list("booking_id", "session_id", "pk")
    )
    send: list[DeskAction] = []
    for action in actions:
        key = (action.booking_id, action.session_id)
        superseded = newest[key] is not action or any(
            b == action.booking_id and s == action.session_id and pk > action.pk for b, s, pk in later_ones
        )
        if superseded:
            # A later check-in / no-show of the same person replaces this one.
            push.synced(action, superseded=True)
            continue
        booking, session = action.booking, action.session
        if booking is None or session is None or not booking.wix_id:
            push.attention(action, "booking_missing", "The booking isn't in Wix — remove this.")
            continue
        if not session.wix_id or session.service.type == Service.Type.APPOINTMENT:
            # An appointment has no calendar event we know the id of: attendance stays local.
            push.synced(action, local_only=True)
            continue
        send.append(action)
    for chunk in chunks(send, BULK_ATTENDANCE):
        push.extend_lease(chunk)
        details = [
            {
                "attendance": {
                    "bookingId": a.booking.wix_id,  # type: ignore[union-attr]
                    "eventId": a.session.wix_id,  # type: ignore[union-attr]
                    "status": a.params.get("status"),
                    "numberOfAttendees": int(a.params.get("attendees") or 1),
                }
            }
            for a in chunk
        ]
        try:
            answer = push.call(attendance.bulk_set_attendance, attendance_details=details, return_full_entity=True)
        except Exception as err:  # noqa: BLE001 - sorted by fail(); an upsert, safe to repeat
            for action in chunk:
                push.fail(action, err)
            continue
        by_index = {
            (r.get("itemMetadata") or {}).get("originalIndex", i): r for i, r in enumerate(answer.get("results") or [])
        }
        for index, action in enumerate(chunk):
            result = by_index.get(index)
            meta = (result or {}).get("itemMetadata") or {}
            if result is None:
                push.later(action, "Bulk Set Attendance gave no result for this booking")
            elif meta.get("success"):
                mirror.attendance.attendance_absorb(
                    booking_id=action.booking_id,
                    session_id=action.session_id,
                    item=result.get("item") or {"id": meta.get("id")},
                )
                push.synced(action, attendance_id=meta.get("id"))
            else:
                error = meta.get("error") or {}
                code = str(error.get("code") or "REJECTED")
                push.attention(action, code, message(code, action, None, error.get("description")), str(error))
