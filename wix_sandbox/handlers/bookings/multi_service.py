"""Multi-service bookings (CONTRACT.md §3.10): back-to-back appointments created, confirmed and cancelled together."""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
from wix_sandbox.handlers.bookings.create import build_booking
from wix_sandbox.handlers.bookings.multi_rules import check_sequence, fit_staff
from wix_sandbox.handlers.bookings.records import (
    CONFIRMABLE_STATUSES,
    Json,
    apply_payment_flags,
    check_payment_status,
    get_booking,
    save_booking,
)
from wix_sandbox.handlers.bookings.validation import required_violations
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import Holds

MULTI_SERVICE_TYPES = ("SEQUENTIAL_BOOKINGS", "SEPARATE_BOOKINGS", "PARALLEL_BOOKINGS")
MULTI_SERVICE_MIN, MULTI_SERVICE_MAX = 2, 8


def _get_multi(sb: Sandbox, msb_id: str) -> Json:
    msb = sb.state.get("multi_service_bookings", msb_id)
    if msb is None:
        raise not_found("MULTI_SERVICE_BOOKING_NOT_FOUND", "Multi-service booking", msb_id)
    return msb


def _multi_response(sb: Sandbox, msb: Json, *, full: bool) -> Json:
    entries: list[Json] = []
    for ref in msb["bookings"]:
        entry: Json = {"bookingId": ref["bookingId"]}
        if full:
            entry["booking"] = sb.state.get("bookings", ref["bookingId"])
        entries.append(entry)
    return {"multiServiceBooking": {"id": msb["id"], "bookings": entries}}


@route("POST /_api/bookings-service/v2/multi_service_bookings")
def create_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    items = body.get("bookings")
    if not isinstance(items, list) or len(items) < MULTI_SERVICE_MIN:
        raise ValidationFailed([violation("bookings", f"send at least {MULTI_SERVICE_MIN} bookings", "MIN_SIZE")])
    if len(items) > MULTI_SERVICE_MAX:
        raise ValidationFailed([violation("bookings", f"send at most {MULTI_SERVICE_MAX} bookings", "MAX_SIZE")])
    kind = body.get("multiServiceBookingType") or "SEQUENTIAL_BOOKINGS"
    if kind not in MULTI_SERVICE_TYPES:
        raise ValidationFailed(
            [violation("multiServiceBookingType", f"{kind!r} is not a MultiServiceBookingType", "INVALID_ENUM_VALUE")]
        )
    if kind != "SEQUENTIAL_BOOKINGS":
        raise invalid("VALIDATION_FAILURE", f"{kind} is not supported; only SEQUENTIAL_BOOKINGS")
    problems: list[Json] = []
    for i, item in enumerate(items):
        problems += required_violations(item, f"bookings[{i}]", multi=True)
    if problems:
        raise ValidationFailed(problems)
    flow = body.get("flowControlSettings") or {}
    skip = bool(flow.get("skipAvailabilityValidation"))
    if skip and any(not ((item["bookedEntity"]["slot"].get("resource") or {}).get("id")) for item in items):
        raise invalid(
            "CAN_NOT_SKIP_AVAILABILITY_VALIDATION_IF_RESOURCE_NOT_PROVIDED",
            "skipAvailabilityValidation needs a resource on every booking",
        )
    # The package's shape first (one location, back to back), then whether its staff can take it.
    check_sequence(sb, items)
    holds = Holds()
    if not skip:
        items = fit_staff(sb, items, holds)
    msb_id = sb.state.new_id()
    multi_info = {"id": msb_id, "type": kind}
    built: list[Json] = []
    for item in items:
        info = {
            "booking": item,
            "flowControlSettings": flow,
            "participantNotification": body.get("participantNotification"),
            "sendSmsReminder": body.get("sendSmsReminder", True),
        }
        booking = build_booking(sb, info, holds, multi_info=dict(multi_info))
        holds.add(booking, stored=False)
        built.append(booking)
    for booking in built:
        sb.state.put("bookings", booking)
    msb = {"id": msb_id, "bookings": [{"bookingId": b["id"]} for b in built]}
    sb.state.put("multi_service_bookings", msb)
    return _multi_response(sb, msb, full=bool(body.get("returnFullEntity")))


@route("GET /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}")
def get_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    """``{multiServiceBooking, metadata{totalNumberOfScheduledBookings}}`` (GetMultiServiceBookingResponse:
    the count of its CONFIRMED and PENDING bookings)."""
    msb = _get_multi(sb, req.path_params["multiServiceBookingId"])
    answer = _multi_response(sb, msb, full=True)
    scheduled = sum(
        1
        for e in answer["multiServiceBooking"]["bookings"]
        if (e.get("booking") or {}).get("status") in ("CONFIRMED", "PENDING")
    )
    answer["metadata"] = {"totalNumberOfScheduledBookings": scheduled}
    return answer


def _multi_revisions(msb: Json, infos: Any, name: str) -> dict[str, Json]:
    """Check a ``[{bookingId, revision, ...}]`` list against the multi-service booking's members."""
    members = {ref["bookingId"] for ref in msb["bookings"]}
    by_id: dict[str, Json] = {}
    for info in infos or []:
        booking_id = (info or {}).get("bookingId")
        if booking_id in by_id:
            raise invalid("DUPLICATE_BOOKING_INFO", f"Booking {booking_id} appears more than once in {name}")
        if booking_id not in members:
            raise not_found("BOOKING_NOT_FOUND", "Booking", str(booking_id))
        if info.get("revision") in (None, ""):
            raise invalid("REVISION_MISSING", f"{name} needs the revision of booking {booking_id}")
        by_id[booking_id] = info
    return by_id


def _check_multi_revision(booking: Json, info: Json | None) -> None:
    if info is not None and str(info["revision"]) != str(booking.get("revision")):
        raise SandboxError(
            409,
            "BOOKING_REVISION_MISMATCH",
            f"Booking {booking['id']} is at revision {booking.get('revision')}",
            {"bookingId": booking["id"], "currentRevision": booking.get("revision")},
        )


@route("POST /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}/confirm")
def confirm_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    msb = _get_multi(sb, req.path_params["multiServiceBookingId"])
    infos = _multi_revisions(msb, req.body.get("confirmBookingsInfo"), "confirmBookingsInfo")
    if len(infos) != len(msb["bookings"]):
        raise invalid("NOT_ALL_BOOKINGS_WERE_SENT", "confirmBookingsInfo must list every booking with its revision")
    for info in infos.values():
        check_payment_status(info.get("paymentStatus"), "confirmBookingsInfo.paymentStatus")
    bookings = [get_booking(sb, ref["bookingId"]) for ref in msb["bookings"]]
    if all(b["status"] == "CONFIRMED" for b in bookings):
        raise precondition("ALL_BOOKINGS_ARE_ALREADY_CONFIRMED", "Every booking is already confirmed")
    for booking in bookings:
        _check_multi_revision(booking, infos[booking["id"]])
        if booking["status"] not in CONFIRMABLE_STATUSES:
            raise precondition("INVALID_BOOKING_STATUS", f"Booking {booking['id']} is {booking['status']}")
    for booking in bookings:
        edited = sb.state.edit("bookings", booking["id"])
        assert edited is not None
        edited["status"] = "CONFIRMED"
        apply_payment_flags(edited, {**req.body, **infos[booking["id"]]})
        save_booking(sb, edited)
    return _multi_response(sb, msb, full=bool(req.body.get("returnFullEntity")))


@route("POST /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}/cancel")
def cancel_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    """CancelMultiServiceBookingRequest{multiServiceBookingId, participantNotification?,
    flowControlSettings?, returnFullEntity?, waiveCharges?}: every live booking of it CANCELED;
    428 ALL_BOOKINGS_ARE_ALREADY_CANCELED when none is left ("The call fails if all single-service
    bookings are already canceled or declined"). It names no bookings and no revisions: a request
    that sends ``cancelBookingsInfo`` (a field of none of the typed requests) is refused with a 400
    rather than ignored (UNCONFIRMED what Wix does with it), so the app is held to the typed shape."""
    msb = _get_multi(sb, req.path_params["multiServiceBookingId"])
    if "cancelBookingsInfo" in req.body:
        raise ValidationFailed(
            [
                violation(
                    "cancelBookingsInfo",
                    "Cancel Multi-Service Booking names no bookings: it cancels them all",
                    "FIELD_NOT_ALLOWED",
                )
            ]
        )
    bookings = [get_booking(sb, ref["bookingId"]) for ref in msb["bookings"]]
    live = [b for b in bookings if b["status"] not in ("CANCELED", "DECLINED")]
    if not live:
        raise precondition("ALL_BOOKINGS_ARE_ALREADY_CANCELED", "Every booking is already canceled or declined")
    for booking in live:
        edited = sb.state.edit("bookings", booking["id"])
        assert edited is not None
        edited["status"] = "CANCELED"
        save_booking(sb, edited)
    return _multi_response(sb, msb, full=bool(req.body.get("returnFullEntity")))
