"""The desk's lookups: a booking or desk action on a session's roster, who is booked already,
whether a form token was used, the appointment services."""

from __future__ import annotations

from bookings_app.models import Booking, DeskAction, Service, Session
from bookings_app.selectors.queries import session_roster_q


def roster_booking_get(*, session: Session, booking_id: int) -> Booking | None:
    """A booking on ``session``'s roster (a course booking belongs to every course session)."""
    return (
        Booking.objects.filter(session_roster_q(session), pk=booking_id)
        .select_related("contact", "service", "session")
        .first()
    )


def desk_action_get(*, session: Session, action_id: int) -> DeskAction | None:
    """A desk action on one of ``session``'s roster bookings."""
    return (
        DeskAction.objects.filter(
            pk=action_id,
            booking__in=Booking.objects.filter(session_roster_q(session)),
        )
        .select_related("booking")
        .first()
    )


def roster_contact_ids(*, session: Session, contact_ids: list[int]) -> set[int]:
    """Which of ``contact_ids`` already hold a place on ``session``'s roster. One query."""
    return set(
        Booking.objects.filter(
            session_roster_q(session),
            contact_id__in=contact_ids,
            status__in=Booking.ROSTER_STATUSES,
        ).values_list("contact_id", flat=True)
    )


def desk_action_by_key(*, key: str) -> DeskAction | None:
    """The desk action a form token already made (a re-sent form), or None."""
    return DeskAction.objects.filter(idempotency_key=key).first()


def appointment_service_list() -> list[Service]:
    """The services booked as appointments, for the "Book appointment" screen."""
    return list(Service.objects.filter(type=Service.Type.APPOINTMENT, hidden=False).order_by("name"))
