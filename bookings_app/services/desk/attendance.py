"""Check in (ATTENDED) or mark a no-show (NOT_ATTENDED): one person (:func:`attendance_mark`) or
everyone on the roster (:func:`attendance_mark_all`). ``attendance_change`` builds one
roster row's change for a batch (check in all, settle)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Attendance, Booking, DeskAction, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind

ATTENDANCE_STATUSES = (Attendance.Status.ATTENDED, Attendance.Status.NOT_ATTENDED)


def attendance_mark(
    *, user: Any, booking: Booking, status: str, idempotency_key: str, session: Session | None = None
) -> DeskAction:
    """Check in (ATTENDED) or mark a no-show (NOT_ATTENDED). ``session`` defaults to the booking's;
    a course booking needs the course session it is about.

    Raises ``BookingError`` ``status_invalid``, ``session_required``, ``booking_cancelled``.
    """
    ledger.require_key(idempotency_key)
    _check_status(status)
    with transaction.atomic():
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.ATTENDANCE, params={"status": status})
        if done is not None:
            return done
        session = session or booking.session
        if session is None:
            raise BookingError("Say which session of the course this is for.", code="session_required")
        return _attendance_action(user=user, booking=booking, session=session, status=status, key=idempotency_key)


def attendance_mark_all(*, user: Any, session: Session, status: str, idempotency_key: str) -> list[DeskAction]:
    """Check in (or mark as no-show) everyone on the roster not in that state yet: one action each,
    sharing ``batch_id``. A fixed number of queries however many people.
    Raises ``BookingError`` ``status_invalid``, ``duplicate_request``."""
    ledger.require_key(idempotency_key)
    _check_status(status)
    with transaction.atomic():
        done = ledger.batch_done(idempotency_key, session=session)
        if done:
            return done
        bookings = list(
            Booking.objects.select_for_update()
            .filter(ledger.roster_q(session), status__in=Booking.ACTIVE_STATUSES)
            .order_by("pk")
        )
        done = ledger.batch_done(idempotency_key, session=session)
        if done:
            return done
        current = {a.booking_id: a for a in Attendance.objects.filter(session=session, booking__in=bookings)}
        walk_ins = ledger.walk_ins_by_booking(bookings)
        now = timezone.now()
        changes = [
            change
            for booking in bookings
            if (
                change := attendance_change(
                    user=user,
                    booking=booking,
                    session=session,
                    status=status,
                    current=current.get(booking.pk),
                    key=f"{idempotency_key}:{booking.pk}",
                    depends_on=walk_ins.get(booking.pk),
                    now=now,
                    batch_id=idempotency_key,
                )
            )
            is not None
        ]
        if not changes:
            return []
        Attendance.objects.bulk_create([c.row for c in changes if c.is_new])
        Attendance.objects.bulk_update([c.row for c in changes if not c.is_new], ["status", "number_of_attendees"])
        Booking.objects.filter(pk__in=[c.action.booking_id for c in changes]).update(pending_sync=True)
        actions = ledger.save_actions([c.action for c in changes])
        ledger.schedule_push(actions[0].run_after)
        label = "Checked in" if status == Attendance.Status.ATTENDED else "Marked as no-show"
        audit_record(
            user=user,
            action="attendance.mark_all",
            obj_type="session",
            obj_id=session.pk,
            summary=f"{label} {len(actions)} people in {session.title or session}",
            after={"status": status, "bookings": [a.booking_id for a in actions]},
        )
    return actions


@dataclass
class AttendanceChange:
    """One person's attendance at a session, changed in memory, and the action that pushes it."""

    row: Attendance
    is_new: bool
    action: DeskAction


def attendance_change(
    *,
    user: Any,
    booking: Booking,
    session: Session,
    status: str,
    current: Attendance | None,
    key: str,
    depends_on: DeskAction | None,
    now: datetime,
    batch_id: str,
) -> AttendanceChange | None:
    """``booking``'s attendance at ``session`` set to ``status`` (``current``: its row, if any),
    unsaved; None when it is in that state already."""
    if current is not None and current.status == status:
        return None
    before = {"existed": current is not None, "status": current.status if current else None}
    row = current or Attendance(booking=booking, session=session)
    row.status, row.number_of_attendees = status, booking.total_participants
    action = ledger.build_action(
        user=user,
        kind=Kind.ATTENDANCE,
        key=key,
        now=now,
        booking=booking,
        session=session,
        contact_id=booking.contact_id,
        depends_on=depends_on,
        batch_id=batch_id,
        params={"status": status, "attendees": booking.total_participants},
        before={"attendance": before},
    )
    return AttendanceChange(row=row, is_new=current is None, action=action)


def _attendance_action(*, user: Any, booking: Booking, session: Session, status: str, key: str) -> DeskAction:
    if booking.status not in Booking.ROSTER_STATUSES:
        raise BookingError(
            f"{booking.contact}'s booking is {booking.get_status_display().lower()}.", "booking_cancelled"
        )
    row = Attendance.objects.filter(booking=booking, session=session).first()
    before = {"existed": row is not None, "status": row.status if row else None}
    if row is None:
        row = Attendance(booking=booking, session=session)
    row.status = status
    row.number_of_attendees = booking.total_participants
    row.save()
    booking.pending_sync = True
    booking.save(update_fields=["pending_sync"])
    action = ledger.new_action(
        user=user,
        kind=Kind.ATTENDANCE,
        key=key,
        booking=booking,
        session=session,
        contact_id=booking.contact_id,
        depends_on=ledger.walk_in_dependency(booking),
        params={"status": status, "attendees": booking.total_participants},
        before={"attendance": before},
    )
    label = "Checked in" if status == Attendance.Status.ATTENDED else "Marked as no-show:"
    audit_record(
        user=user,
        action="attendance.mark",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"{label} {booking.contact}",
        before={"attendance": before["status"]},
        after={"attendance": status, "action": action.pk},
    )
    return action


def _check_status(status: str) -> None:
    if status not in ATTENDANCE_STATUSES:
        raise BookingError("Check in or mark as no-show.", code="status_invalid")
