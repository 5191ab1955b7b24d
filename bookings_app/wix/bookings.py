"""Bookings Writer V2: create, confirm, decline, cancel and change bookings (CONTRACT.md §3).

Every state change carries the booking's ``revision`` and so is sent once (``idempotent=False``):
a blind repeat after a lost answer would fail on the moved revision even though the first call
worked. Callers reconcile on ``WixUnavailable.maybe_applied`` instead.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

BOOKINGS = "/_api/bookings-service/v2/bookings"
MULTI_SERVICE_BOOKINGS = "/_api/bookings-service/v2/multi_service_bookings"

BULK_CREATE_LIMIT = 40
BULK_CONFIRM_OR_DECLINE_LIMIT = 300
BULK_CANCEL_LIMIT = 100  # BookingsCancelList.bookingsInfo @maxSize 100


def create_booking(
    wix: WixClient,
    *,
    booking: dict[str, Any],
    flow_control_settings: dict[str, Any] | None = None,
    participant_notification: dict[str, Any] | None = None,
    send_sms_reminder: bool | None = None,
    form_submission: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a booking for an appointment slot, a class session (``slot.eventId``) or a course.

    Returns ``{booking}`` (status CREATED unless flow control says otherwise, paymentStatus
    UNDEFINED). Raises ``WixPreconditionFailed`` (SESSION_CAPACITY_EXCEEDED, SLOT_NOT_AVAILABLE …),
    ``WixValidationError``, ``WixNotFound`` (SESSION_NOT_FOUND, SCHEDULE_NOT_FOUND).
    """
    body = compact(
        {
            "booking": booking,
            "participantNotification": participant_notification,
            "sendSmsReminder": send_sms_reminder,
            "flowControlSettings": flow_control_settings,
            "formSubmission": form_submission,
        }
    )
    return wix.post(BOOKINGS, body, idempotent=False)


def bulk_create_booking(
    wix: WixClient,
    *,
    create_bookings_info: list[dict[str, Any]],
    return_full_entity: bool | None = None,
) -> dict[str, Any]:
    """Create up to 40 bookings; each item is ``{booking, participantNotification?, sendSmsReminder?,
    flowControlSettings?, formSubmission?}``.

    Returns ``{results: [{itemMetadata{id, originalIndex, success, error?}, item?}],
    bulkActionMetadata{totalSuccesses, totalFailures}}``; unavailable slots fail per item.
    Raises ``ValueError`` locally for 0 or more than 40 items.
    """
    items = require_batch(create_bookings_info, limit=BULK_CREATE_LIMIT, what="Bulk Create Booking")
    body = compact({"createBookingsInfo": items, "returnFullEntity": return_full_entity})
    return wix.post("/bookings/v2/bulk/bookings/create", body, idempotent=False)


def confirm_or_decline_booking(
    wix: WixClient,
    *,
    booking_id: str,
    payment_status: str | None = None,
) -> dict[str, Any]:
    """Let Wix confirm (or decline on a double booking) a custom-checkout booking.

    Returns ``{booking}``. Raises ``WixNotFound`` (BOOKING_NOT_FOUND), ``WixPreconditionFailed``
    (INVALID_BOOKING_STATUS).
    """
    path = f"/bookings/v2/confirmation/{path_param(booking_id, 'booking_id')}:confirmOrDecline"
    return wix.post(path, compact({"paymentStatus": payment_status}), idempotent=False)


def bulk_confirm_or_decline_booking(
    wix: WixClient,
    *,
    details: list[dict[str, Any]],
    return_entity: bool | None = None,
) -> dict[str, Any]:
    """Confirm-or-decline up to 300 bookings; ``details`` items are ``{bookingId, paymentStatus?}``.

    Returns ``{results, bulkActionMetadata}``. Raises ``WixBadRequest`` (DUPLICATED_BOOKINGS) and
    ``ValueError`` locally for 0 or more than 300 items.
    """
    items = require_batch(details, limit=BULK_CONFIRM_OR_DECLINE_LIMIT, what="Bulk Confirm Or Decline Booking")
    body = compact({"details": items, "returnEntity": return_entity})
    return wix.post("/bookings/v2/bulk/bookings/confirmOrDecline", body, idempotent=False)


def confirm_booking(
    wix: WixClient,
    *,
    booking_id: str,
    revision: str,
    participant_notification: dict[str, Any] | None = None,
    send_sms_reminder: bool | None = None,
    payment_status: str | None = None,
    double_booked: bool | None = None,
    flow_control_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Confirm a PENDING, CREATED or WAITING_LIST booking (no availability check by default).

    Returns ``{booking}``. Raises ``WixNotFound``, ``WixPreconditionFailed`` (INVALID_BOOKING_STATUS,
    NO_OPEN_SPOTS), ``WixConflict`` on a stale revision.
    """
    body = compact(
        {
            "revision": revision,
            "participantNotification": participant_notification,
            "sendSmsReminder": send_sms_reminder,
            "paymentStatus": payment_status,
            "doubleBooked": double_booked,
            "flowControlSettings": flow_control_settings,
        }
    )
    return wix.post(f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/confirm", body, idempotent=False)


def decline_booking(
    wix: WixClient,
    *,
    booking_id: str,
    revision: str,
    participant_notification: dict[str, Any] | None = None,
    payment_status: str | None = None,
    double_booked: bool | None = None,
    flow_control_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decline a PENDING, CREATED or WAITING_LIST booking.

    Returns ``{booking}``. Raises ``WixNotFound``, ``WixPreconditionFailed`` (INVALID_BOOKING_STATUS),
    ``WixConflict``.
    """
    body = compact(
        {
            "revision": revision,
            "participantNotification": participant_notification,
            "paymentStatus": payment_status,
            "doubleBooked": double_booked,
            "flowControlSettings": flow_control_settings,
        }
    )
    return wix.post(f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/decline", body, idempotent=False)


def cancel_booking(
    wix: WixClient,
    *,
    booking_id: str,
    revision: str,
    participant_notification: dict[str, Any] | None = None,
    flow_control_settings: dict[str, Any] | None = None,
    waive_charges: bool | None = None,
) -> dict[str, Any]:
    """Cancel a booking (the participant leaves; an appointment's calendar event goes away).

    Returns ``{booking}`` with status CANCELED. Raises ``WixNotFound``, ``WixPreconditionFailed``
    (BOOKING_POLICY_VIOLATION, INVALID_BOOKING_STATUS), ``WixConflict``.
    """
    body = compact(
        {
            "revision": revision,
            "participantNotification": participant_notification,
            "flowControlSettings": flow_control_settings,
            "waiveCharges": waive_charges,
        }
    )
    return wix.post(f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/cancel", body, idempotent=False)


def bulk_cancel_booking(
    wix: WixClient,
    *,
    bookings_info: list[dict[str, Any]] | None = None,
    recurring_cancellation: dict[str, Any] | None = None,
    return_full_entity: bool | None = None,
) -> dict[str, Any]:
    """Cancel up to 100 bookings, or a recurring series (exactly one of the two).

    The body is bookings_bookings ``BulkCancelBookingRequest``: the one-of ``bookings`` is a
    ``BookingsCancelList`` — ``{"bookings": {"bookingsInfo": [...]}}`` (1..100), not a bare list —
    each ``CancelBookingInfo{bookingId, revision?, flowControlSettings?, waiveCharges?,
    participantNotification?}``; or ``recurringCancellation{recurringGroupId, cancellationStartDate?,
    timeZone?, participantNotification?, flowControlSettings?, waiveCharges?}``.

    Returns ``{results, bulkActionMetadata}``. Raises ``WixBadRequest`` (DUPLICATE_BOOKING_IDS,
    MISSING_CANCELLATION_INFO). Raises ``ValueError`` locally for neither or both, or over 100.
    """
    if bool(bookings_info) == bool(recurring_cancellation):
        raise ValueError("Bulk Cancel Booking: send bookings_info or recurring_cancellation (one of them)")
    items = require_batch(bookings_info, limit=BULK_CANCEL_LIMIT, what="Bulk Cancel Booking") if bookings_info else None
    body = compact(
        {
            "bookings": {"bookingsInfo": items} if items else None,
            "recurringCancellation": recurring_cancellation,
            "returnFullEntity": return_full_entity,
        }
    )
    return wix.post("/bookings/v2/bulk/bookings/cancel", body, idempotent=False)


def mark_booking_as_pending(
    wix: WixClient,
    *,
    booking_id: str,
    revision: str,
    participant_notification: dict[str, Any] | None = None,
    send_sms_reminder: bool | None = None,
    payment_status: str | None = None,
    double_booked: bool | None = None,
    flow_control_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Move a CREATED booking to PENDING (blocks the slot while it awaits approval).

    Returns ``{booking}``. Raises ``WixPreconditionFailed`` (NOT_PENDING_APPROVAL_SERVICE,
    NO_OPEN_SPOTS), ``WixNotFound``.
    """
    body = compact(
        {
            "revision": revision,
            "participantNotification": participant_notification,
            "sendSmsReminder": send_sms_reminder,
            "paymentStatus": payment_status,
            "doubleBooked": double_booked,
            "flowControlSettings": flow_control_settings,
        }
    )
    path = f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/mark_booking_as_pending"
    return wix.post(path, body, idempotent=False)


def update_number_of_participants(
    wix: WixClient,
    *,
    booking_id: str,
    revision: str,
    total_participants: int | None = None,
    participants_choices: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Change how many people a class or course booking holds (exactly one of the two counts).

    Returns ``{booking}``. Raises ``WixNotFound`` and ``ValueError`` locally when both or neither
    count is given.
    """
    if (total_participants is None) == (participants_choices is None):
        raise ValueError("Send exactly one of total_participants and participants_choices")
    body = compact(
        {
            "revision": revision,
            "totalParticipants": total_participants,
            "participantsChoices": participants_choices,
        }
    )
    path = f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/update_number_of_participants"
    return wix.post(path, body, idempotent=False)


def reschedule_booking(
    wix: WixClient,
    *,
    booking_id: str,
    slot: dict[str, Any],
    revision: str,
    total_participants: int | None = None,
    participants_choices: dict[str, Any] | None = None,
    participant_notification: dict[str, Any] | None = None,
    flow_control_settings: dict[str, Any] | None = None,
    booked_add_ons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Move a booking to another slot (classes: send only ``slot.eventId``; not for courses).

    Returns ``{booking}``. Raises ``WixPreconditionFailed`` (SLOT_NOT_AVAILABLE,
    SESSION_CAPACITY_EXCEEDED, BOOKING_POLICY_VIOLATION), ``WixNotFound``.
    """
    body = compact(
        {
            "slot": slot,
            "revision": revision,
            "totalParticipants": total_participants,
            "participantsChoices": participants_choices,
            "participantNotification": participant_notification,
            "flowControlSettings": flow_control_settings,
            "bookedAddOns": booked_add_ons,
        }
    )
    return wix.post(f"{BOOKINGS}/{path_param(booking_id, 'booking_id')}/reschedule", body, idempotent=False)


def create_multi_service_booking(
    wix: WixClient,
    *,
    bookings: list[dict[str, Any]],
    participant_notification: dict[str, Any] | None = None,
    send_sms_reminder: bool | None = None,
    flow_control_settings: dict[str, Any] | None = None,
    return_full_entity: bool | None = None,
    multi_service_booking_type: str | None = None,
    form_submission: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Book several appointments back to back at one location (a spa package).

    ``bookings`` items are Booking objects with ``bookedEntity.slot``. Returns
    ``{multiServiceBooking{id, bookings[{bookingId, booking?}]}}``. Raises ``WixPreconditionFailed``
    (SLOT_NOT_AVAILABLE), ``WixValidationError``.
    """
    body = compact(
        {
            "bookings": bookings,
            "participantNotification": participant_notification,
            "sendSmsReminder": send_sms_reminder,
            "flowControlSettings": flow_control_settings,
            "returnFullEntity": return_full_entity,
            "multiServiceBookingType": multi_service_booking_type,
            "formSubmission": form_submission,
        }
    )
    return wix.post(MULTI_SERVICE_BOOKINGS, body, idempotent=False)


def get_multi_service_booking(wix: WixClient, *, multi_service_booking_id: str) -> dict[str, Any]:
    """Returns ``{multiServiceBooking}``. Raises ``WixNotFound`` (MULTI_SERVICE_BOOKING_NOT_FOUND)."""
    return wix.get(f"{MULTI_SERVICE_BOOKINGS}/{path_param(multi_service_booking_id, 'multi_service_booking_id')}")


def cancel_multi_service_booking(
    wix: WixClient,
    *,
    multi_service_booking_id: str,
    participant_notification: dict[str, Any] | None = None,
    flow_control_settings: dict[str, Any] | None = None,
    return_full_entity: bool | None = None,
    waive_charges: bool | None = None,
) -> dict[str, Any]:
    """Cancel a multi-service booking: every one of its bookings (CancelMultiServiceBookingRequest;
    it names no bookings and no revisions).

    Returns ``{multiServiceBooking{id, bookings[{bookingId, booking?}]}}``. Raises ``WixNotFound``
    (MULTI_SERVICE_BOOKING_NOT_FOUND), ``WixPreconditionFailed`` (ALL_BOOKINGS_ARE_ALREADY_CANCELED:
    the call fails once every booking is cancelled or declined — how a repeat after a lost answer
    shows it worked).
    """
    body = compact(
        {
            "participantNotification": participant_notification,
            "flowControlSettings": flow_control_settings,
            "returnFullEntity": return_full_entity,
            "waiveCharges": waive_charges,
        }
    )
    path = f"{MULTI_SERVICE_BOOKINGS}/{path_param(multi_service_booking_id, 'multi_service_booking_id')}/cancel"
    return wix.post(path, body, idempotent=False)
