"""Changing a standing booking (CONTRACT.md §3.8–3.9): its number of participants, its slot (reschedule)."""

from __future__ import annotations

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import ValidationFailed, invalid, precondition, violation
from wix_sandbox.handlers.bookings.records import Json, editable_booking, iso_utc, save_booking
from wix_sandbox.handlers.bookings.slots import appointment_slot, class_slot
from wix_sandbox.handlers.bookings.validation import participants_violations, read_only_violations
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import Holds, has_conflict, participants_of, slot_of


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/update_number_of_participants")
def update_number_of_participants(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    problems = participants_violations(body, "")
    if problems:
        raise ValidationFailed(problems)
    has_total = body.get("totalParticipants") is not None
    booking = editable_booking(sb, req.path_params["bookingId"], body)
    if booking["status"] in ("CANCELED", "DECLINED"):
        raise precondition("INVALID_BOOKING_STATUS", f"Booking {booking['id']} is {booking['status']}")
    slot = slot_of(booking)
    if slot and not slot.get("eventId"):
        raise invalid("VALIDATION_FAILURE", "The number of participants can only change on class and course bookings")
    booking.pop("totalParticipants", None)
    booking.pop("participantsChoices", None)
    if has_total:
        booking["totalParticipants"] = body["totalParticipants"]
    else:
        booking["participantsChoices"] = body["participantsChoices"]
    if has_conflict(sb, booking):
        code = "SESSION_CAPACITY_EXCEEDED" if slot else "SCHEDULE_CAPACITY_EXCEEDED"
        raise precondition(code, f"Not enough open spots for {participants_of(booking)} participants")
    return {"booking": save_booking(sb, booking)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/reschedule")
def reschedule_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    problems: list[Json] = []
    if not isinstance(body.get("slot"), dict) or not body["slot"]:
        problems.append(violation("slot", "slot is required", "REQUIRED_FIELD"))
    if body.get("revision") in (None, ""):
        problems.append(violation("revision", "revision is required", "REQUIRED_FIELD"))
    if body.get("totalParticipants") is not None or body.get("participantsChoices") is not None:
        problems += participants_violations(body, "")
    if isinstance(body.get("slot"), dict):
        problems += read_only_violations({"bookedEntity": {"slot": body["slot"]}}, "")
    problems += read_only_violations({"bookedAddOns": body.get("bookedAddOns") or []}, "")
    if problems:
        raise ValidationFailed([_unprefixed(p) for p in problems])
    booking = editable_booking(sb, req.path_params["bookingId"], body)
    if booking["status"] in ("CANCELED", "DECLINED"):
        raise precondition("INVALID_BOOKING_STATUS", f"Booking {booking['id']} is {booking['status']}")
    if booking.get("multiServiceBookingInfo"):
        raise precondition(
            "NOT_ALLOWED_TO_UPDATE_BOOKING_IN_MULTI_SERVICE_BOOKING",
            f"Booking {booking['id']} is part of a multi-service booking",
        )
    old = slot_of(booking)
    if not old:
        raise invalid("VALIDATION_FAILURE", "Course bookings can't be rescheduled")
    for key in ("totalParticipants", "participantsChoices"):
        if body.get(key) is not None:
            booking.pop("totalParticipants", None)
            booking.pop("participantsChoices", None)
            booking[key] = body[key]
    skip = bool((body.get("flowControlSettings") or {}).get("skipAvailabilityValidation"))
    if old.get("eventId"):
        event_id = body["slot"].get("eventId") or body["slot"].get("sessionId")
        if not event_id:
            raise ValidationFailed([violation("slot.eventId", "classes are rescheduled by eventId", "REQUIRED_FIELD")])
        # "For classes send only slot.eventId" (SDK doc of rescheduleBooking). UNCONFIRMED whether
        # Wix ignores or refuses anything else; the sandbox refuses it, naming the fields.
        extra = sorted(set(body["slot"]) - {"eventId", "sessionId"})
        if extra:
            only = "a class booking is rescheduled by slot.eventId only"
            raise ValidationFailed([violation(f"slot.{name}", only, "FIELD_NOT_ALLOWED") for name in extra])
        wanted = {"serviceId": old["serviceId"], "eventId": event_id}
        built, service, start, end = class_slot(
            sb, wanted, participants_of(booking), Holds(), skip, exclude=booking["id"]
        )
    else:
        # An appointment moves to a new time: UNCONFIRMED which slot fields Wix requires; the
        # sandbox requires the new startDate and endDate (the rest — staff, location, time zone —
        # stays as booked unless sent), and refuses an eventId (appointments have none).
        missing = [name for name in ("startDate", "endDate") if not body["slot"].get(name)]
        if body["slot"].get("eventId") or body["slot"].get("sessionId"):
            to_a_time = "an appointment is rescheduled to a time, not an event"
            raise ValidationFailed([violation("slot.eventId", to_a_time, "FIELD_NOT_ALLOWED")])
        if missing:
            raise ValidationFailed(
                [violation(f"slot.{name}", f"slot.{name} is required", "REQUIRED_FIELD") for name in missing]
            )
        wanted = {**old, **body["slot"]}
        built, service, start, end = appointment_slot(sb, wanted, Holds(), skip, multi=False, exclude=booking["id"])
    if service["id"] != old.get("serviceId"):
        raise invalid("VALIDATION_FAILURE", "A booking can only move to another slot of the same service")
    booking["bookedEntity"]["slot"] = built
    booking["startDate"], booking["endDate"] = iso_utc(start), iso_utc(end)
    return {"booking": save_booking(sb, booking)}


def _unprefixed(problem: Json) -> Json:
    """A violation found under the booking's field names, named as the request holds the field."""
    field = str(problem.get("field") or "")
    for prefix in (".bookedEntity.slot.", "."):
        if field.startswith(prefix):
            return {**problem, "field": ("slot." if prefix != "." else "") + field[len(prefix) :]}
    return problem
