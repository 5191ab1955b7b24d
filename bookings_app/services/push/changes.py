"""Phase 3 (before money): changes of where a booking holds its place — ``RESCHEDULE`` (Reschedule
Booking, CONTRACT.md §3.9) and ``WAITLIST_PROMOTE`` (Confirm Booking with its availability check,
§3.4). (A cancel is a reversal: ``push.reversals``.)

Both carry the booking's revision, so neither is repeated blindly: once one was sent
(``reschedule_sent`` / ``confirm_sent``), the next attempt first reads the booking from Wix and
counts it done when it already sits on the target slot / is confirmed. A stale revision (409) is
read again and the call made once more.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from bookings_app.models import DeskAction
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.walk_ins import booking_location_type, local_time
from bookings_app.services.push.worker import Attention, Push, booking_absorb, booking_read
from bookings_app.wix import WixConflict, bookings

Kind = DeskAction.Kind
QUIET = {"notifyParticipants": False}  # the desk tells the customer in person


def push_booking_changes(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:

        def step(action: DeskAction = action) -> None:
            booking = action.booking
            if booking is None or not booking.wix_id:
                raise Attention("booking_missing", "The booking isn't in Wix — remove this.")
            if action.kind == Kind.RESCHEDULE:
                _reschedule(push, action)
            else:
                _promote(push, action)

        push.guarded(action, step)


# --- reschedule ------------------------------------------------------------------------------------


def _reschedule(push: Push, action: DeskAction) -> None:
    booking = action.booking
    assert booking is not None and booking.wix_id
    slot = _target_slot(action)
    current: Json | None = None
    if action.steps.get("reschedule_sent") or booking.revision is None:
        current = booking_read(push, booking.wix_id)
        if _on_target(action, current):
            _done(push, action, current)
            return
    revision = str((current or {}).get("revision") or booking.revision)
    push.save_steps(action, reschedule_sent=True)
    try:
        answer = _send_reschedule(push, action, slot, revision)
    except WixConflict:
        # The booking changed in Wix since we last read it: read its revision and go again.
        current = booking_read(push, booking.wix_id)
        if _on_target(action, current):
            _done(push, action, current)
            return
        answer = _send_reschedule(push, action, slot, str(current["revision"]))
    _done(push, action, answer["booking"])


def _send_reschedule(push: Push, action: DeskAction, slot: Json, revision: str) -> Json:
    booking = action.booking
    assert booking is not None
    return push.call(
        bookings.reschedule_booking,
        booking_id=booking.wix_id or "",
        slot=slot,
        revision=revision,
        participant_notification=QUIET,
    )


def _target_slot(action: DeskAction) -> Json:
    """The request's ``slot``: a class by its event id only ("for classes send only slot.eventId",
    §3.9); an appointment as Create Booking takes one (the walk-in's request, §3.1)."""
    params = action.params
    if params.get("type") == "class":
        if not params.get("event_id"):
            raise Attention("session_unknown", "The other session isn't in Wix — remove this.")
        return {"eventId": params["event_id"]}
    booking = action.booking
    assert booking is not None
    wanted: dict[str, Any] = params.get("slot") or {}
    location: Json = {"locationType": booking_location_type(wanted.get("location_type"))}
    if wanted.get("location_id"):
        location["id"] = wanted["location_id"]
    if wanted.get("location_name"):
        location["name"] = wanted["location_name"]
    return {
        "serviceId": booking.service.wix_id,
        "scheduleId": wanted.get("schedule_id") or booking.service.schedule_id,
        "startDate": local_time(wanted.get("start")),
        "endDate": local_time(wanted.get("end")),
        "timezone": wanted.get("timezone") or settings.TIME_ZONE,
        "resource": {"id": wanted.get("resource_id")},
        "location": location,
    }


def _on_target(action: DeskAction, found: Json) -> bool:
    """Whether Wix's booking already sits where the reschedule moves it (a lost answer)."""
    slot = (found.get("bookedEntity") or {}).get("slot") or {}
    params = action.params
    if params.get("type") == "class":
        return bool(slot.get("eventId")) and slot.get("eventId") == params.get("event_id")
    wanted = params.get("slot") or {}
    return (
        not slot.get("eventId")
        and (slot.get("resource") or {}).get("id") == wanted.get("resource_id")
        and str(slot.get("startDate") or "")[:16] == str(wanted.get("start") or "")[:16]
    )


def _done(push: Push, action: DeskAction, found: Json) -> None:
    booking_absorb(action.booking, found)
    push.synced(action, reschedule_sent=None)


# --- the waiting list ---------------------------------------------------------------------------------


def _promote(push: Push, action: DeskAction) -> None:
    booking = action.booking
    assert booking is not None and booking.wix_id
    current: Json | None = None
    if action.steps.get("confirm_sent") or booking.revision is None:
        current = booking_read(push, booking.wix_id)
        if current.get("status") == "CONFIRMED":
            booking_absorb(booking, current)
            push.synced(action, confirm_sent=None)
            return
    revision = str((current or {}).get("revision") or booking.revision)
    push.save_steps(action, confirm_sent=True)
    try:
        answer = _send_confirm(push, action, revision)
    except WixConflict:
        current = booking_read(push, booking.wix_id)
        if current.get("status") == "CONFIRMED":
            booking_absorb(booking, current)
            push.synced(action, confirm_sent=None)
            return
        answer = _send_confirm(push, action, str(current["revision"]))
    booking_absorb(booking, answer["booking"])
    push.synced(action, confirm_sent=None)


def _send_confirm(push: Push, action: DeskAction, revision: str) -> Json:
    booking = action.booking
    assert booking is not None
    # Confirm Booking confirms a WAITING_LIST booking; it checks for a free place only when asked
    # (flowControlSettings.checkAvailabilityValidation, default false, §3.4): asked, so a class
    # that filled up online meanwhile is refused (NO_OPEN_SPOTS), never overbooked. Confirm Or
    # Decline (§3.3) is for custom checkouts and would decline the booking instead.
    return push.call(
        bookings.confirm_booking,
        booking_id=booking.wix_id or "",
        revision=revision,
        participant_notification=QUIET,
        flow_control_settings={"checkAvailabilityValidation": True},
    )
