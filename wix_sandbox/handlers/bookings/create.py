"""Create Booking and Bulk Create Booking (CONTRACT.md §3.1–3.2)."""

from __future__ import annotations

from datetime import datetime

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import stamp_new
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid
from wix_sandbox.handlers.bookings.records import Json, bulk_meta, bulk_size, iso_utc, item_error, requires_approval
from wix_sandbox.handlers.bookings.slots import appointment_slot, class_slot, course_schedule
from wix_sandbox.handlers.bookings.validation import required_violations
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import Holds, participants_of

TAGS = {"APPOINTMENT": "INDIVIDUAL", "CLASS": "GROUP", "COURSE": "COURSE"}
BULK_CREATE_MAX = 40


def _contact_details(sb: Sandbox, given: Json | None) -> Json:
    details = dict(given or {})
    contact = sb.state.get("contacts", details.get("contactId"))
    if contact:
        # UNCONFIRMED: Wix resolves the contact for the booking; missing details are taken from it.
        name = (contact.get("info") or {}).get("name") or {}
        primary = contact.get("primaryInfo") or {}
        for key, value in (
            ("firstName", name.get("first")),
            ("lastName", name.get("last")),
            ("email", primary.get("email")),
            ("phone", primary.get("phone")),
        ):
            if value and not details.get(key):
                details[key] = value
    return details


def build_booking(sb: Sandbox, info: Json, holds: Holds, *, multi_info: Json | None = None) -> Json:
    """A new booking from one CreateBooking request (already validated); raises on unavailability.

    Writes nothing, so a per-item failure in a bulk call leaves no trace.
    """
    src: Json = info["booking"]
    flow = dict(info.get("flowControlSettings") or {})
    skip = bool(flow.get("skipAvailabilityValidation"))
    if src.get("multiServiceBookingInfo") and multi_info is None:
        raise invalid(
            "CAN_NOT_CREATE_BOOKING_WITH_MULTI_SERVICE_BOOKING_INFO",
            "multiServiceBookingInfo is read-only; use Create Multi-Service Booking",
        )
    participants = participants_of(src)
    entity = src["bookedEntity"]
    start: datetime | None
    end: datetime | None
    if entity.get("slot"):
        slot = entity["slot"]
        if slot.get("eventId") or slot.get("sessionId"):
            built, service, start, end = class_slot(sb, slot, participants, holds, skip)
        else:
            built, service, start, end = appointment_slot(sb, slot, holds, skip, multi=multi_info is not None)
        booked_entity: Json = {"slot": built}
    else:
        built, service, start, end = course_schedule(sb, entity["schedule"], participants, holds, skip)
        booked_entity = {"schedule": built}
    booked_entity["title"] = service.get("name", "")
    booked_entity["tags"] = [TAGS.get(service.get("type", ""), "INDIVIDUAL")]

    status = src.get("status") or "CREATED"
    if flow.get("skipBusinessConfirmation") and requires_approval(service):
        status = "CONFIRMED"
    flow_settings = {
        "skipAvailabilityValidation": False,
        "skipBusinessConfirmation": False,
        "skipSelectedPaymentOptionValidation": False,
        **flow,
    }
    booking: Json = {
        "id": sb.state.new_id(),
        "bookedEntity": booked_entity,
        "contactDetails": _contact_details(sb, src.get("contactDetails")),
        "status": status,
        # Wix ignores a paymentStatus sent on create (seed 002).
        "paymentStatus": "UNDEFINED",
        "selectedPaymentOption": src.get("selectedPaymentOption") or "UNDEFINED",
        "createdBy": {"identityType": "UNKNOWN"},
        "doubleBooked": False,
        "appId": BOOKINGS_APP_ID,
        "flowControlSettings": flow_settings,
        "participantNotification": info.get("participantNotification") or {"notifyParticipants": False},
        "sendSmsReminder": bool(info.get("sendSmsReminder", True)),
    }
    if src.get("totalParticipants") is not None:
        booking["totalParticipants"] = src["totalParticipants"]
    else:
        booking["participantsChoices"] = src["participantsChoices"]
    if start is not None and end is not None:
        booking["startDate"] = iso_utc(start)
        booking["endDate"] = iso_utc(end)
    for key in ("externalUserId", "additionalFields", "extendedFields", "bookedAddOns"):
        if key in src:
            booking[key] = src[key]
    if multi_info is not None:
        booking["multiServiceBookingInfo"] = multi_info
    stamp_new(sb, booking)
    return booking


def _create_info(body: Json) -> Json:
    return {
        "booking": body.get("booking"),
        "flowControlSettings": body.get("flowControlSettings"),
        "participantNotification": body.get("participantNotification"),
        "sendSmsReminder": body.get("sendSmsReminder", True),
    }


@route("POST /_api/bookings-service/v2/bookings")
def create_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    info = _create_info(req.body)
    problems = required_violations(info["booking"], "booking")
    if problems:
        raise ValidationFailed(problems)
    booking = build_booking(sb, info, Holds())
    sb.state.put("bookings", booking)
    return {"booking": booking}


@route("POST /bookings/v2/bulk/bookings/create")
def bulk_create_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    items = bulk_size(req.body.get("createBookingsInfo"), "createBookingsInfo", BULK_CREATE_MAX)
    problems: list[Json] = []
    for i, item in enumerate(items):
        problems += required_violations((item or {}).get("booking"), f"createBookingsInfo[{i}].booking")
    if problems:
        raise ValidationFailed(problems)
    return_full = bool(req.body.get("returnFullEntity"))
    holds = Holds()
    results: list[Json] = []
    for i, item in enumerate(items):
        try:
            booking = build_booking(sb, _create_info(item), holds)
        except ValidationFailed:
            raise
        except SandboxError as exc:
            results.append({"itemMetadata": {"originalIndex": i, "success": False, "error": item_error(exc)}})
            continue
        sb.state.put("bookings", booking)
        holds.add(booking, stored=True)
        result: Json = {"itemMetadata": {"id": booking["id"], "originalIndex": i, "success": True}}
        if return_full:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": bulk_meta(results)}
