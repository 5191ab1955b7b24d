"""Status changes of a booking (CONTRACT.md §3.4–3.7): confirm, decline, cancel (also in bulk), mark as pending."""

from __future__ import annotations

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, precondition, violation
from wix_sandbox.handlers.bookings.records import (
    CONFIRMABLE_STATUSES,
    Json,
    apply_payment_flags,
    bulk_meta,
    bulk_size,
    check_payment_status,
    editable_booking,
    item_error,
    requires_approval,
    save_booking,
)
from wix_sandbox.routing import route
from wix_sandbox.rules.capacity import has_conflict, service_id_of

# UNCONFIRMED: Bulk Cancel is hidden from the typed SDK and publishes no limit; 100 like most bulk APIs.
BULK_CANCEL_MAX = 100


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/confirm")
def confirm_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    check_payment_status(req.body.get("paymentStatus"))
    booking = editable_booking(sb, req.path_params["bookingId"], req.body)
    if booking["status"] not in CONFIRMABLE_STATUSES:
        raise precondition(
            "INVALID_BOOKING_STATUS",
            f"Only PENDING, CREATED or WAITING_LIST bookings can be confirmed, not {booking['status']}",
        )
    if (req.body.get("flowControlSettings") or {}).get("checkAvailabilityValidation") and has_conflict(sb, booking):
        raise precondition("NO_OPEN_SPOTS", f"No open spots left for booking {booking['id']}")
    booking["status"] = "CONFIRMED"
    apply_payment_flags(booking, req.body)
    return {"booking": save_booking(sb, booking)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/decline")
def decline_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    check_payment_status(req.body.get("paymentStatus"))
    booking = editable_booking(sb, req.path_params["bookingId"], req.body)
    if booking["status"] not in CONFIRMABLE_STATUSES:
        raise precondition(
            "INVALID_BOOKING_STATUS",
            f"Only PENDING, CREATED or WAITING_LIST bookings can be declined, not {booking['status']}",
        )
    booking["status"] = "DECLINED"
    apply_payment_flags(booking, req.body)
    return {"booking": save_booking(sb, booking)}


def _cancel(sb: Sandbox, booking: Json) -> Json:
    if booking["status"] in ("CANCELED", "DECLINED"):
        # UNCONFIRMED: Cancel Booking declares no status code; INVALID_BOOKING_STATUS like its siblings.
        raise precondition("INVALID_BOOKING_STATUS", f"Booking {booking['id']} is already {booking['status']}")
    if booking.get("multiServiceBookingInfo"):
        raise precondition(
            "NOT_ALLOWED_TO_UPDATE_BOOKING_IN_MULTI_SERVICE_BOOKING",
            f"Booking {booking['id']} is part of a multi-service booking; cancel that instead",
        )
    booking["status"] = "CANCELED"
    return save_booking(sb, booking)


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/cancel")
def cancel_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    return {"booking": _cancel(sb, editable_booking(sb, req.path_params["bookingId"], req.body))}


@route("POST /bookings/v2/bulk/bookings/cancel")
def bulk_cancel_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    items = bulk_size(req.body.get("bookings"), "bookings", BULK_CANCEL_MAX)
    problems: list[Json] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        booking_id = (item or {}).get("bookingId")
        if not booking_id:
            problems.append(violation(f"bookings[{i}].bookingId", "bookingId is required", "REQUIRED_FIELD"))
        elif booking_id in seen:
            raise invalid(
                "DUPLICATE_BOOKING_IDS", f"Booking {booking_id} appears more than once", {"bookingId": booking_id}
            )
        else:
            seen.add(booking_id)
        if (item or {}).get("revision") in (None, ""):
            problems.append(violation(f"bookings[{i}].revision", "revision is required", "REQUIRED_FIELD"))
    if problems:
        raise ValidationFailed(problems)
    return_full = bool(req.body.get("returnFullEntity"))
    results: list[Json] = []
    for i, item in enumerate(items):
        try:
            booking = _cancel(sb, editable_booking(sb, item["bookingId"], item))
        except SandboxError as exc:
            results.append(
                {
                    "itemMetadata": {
                        "id": item["bookingId"],
                        "originalIndex": i,
                        "success": False,
                        "error": item_error(exc),
                    }
                }
            )
            continue
        result: Json = {"itemMetadata": {"id": booking["id"], "originalIndex": i, "success": True}}
        if return_full:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": bulk_meta(results)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/mark_booking_as_pending")
def mark_booking_as_pending(sb: Sandbox, req: SandboxRequest) -> Json:
    check_payment_status(req.body.get("paymentStatus"))
    booking = editable_booking(sb, req.path_params["bookingId"], req.body)
    if booking["status"] != "CREATED":
        # UNCONFIRMED: the method's own code BOOKING_MARK_BOOKING_AS_PENDING is taken to mean "not CREATED".
        raise precondition(
            "BOOKING_MARK_BOOKING_AS_PENDING",
            f"Only CREATED bookings can be marked as pending, not {booking['status']}",
        )
    flow = req.body.get("flowControlSettings") or {}
    service = sb.state.get("services", service_id_of(booking))
    if not requires_approval(service) and not flow.get("skipPendingApprovalServiceValidation"):
        raise precondition("NOT_PENDING_APPROVAL_SERVICE", "The service does not require manual approval")
    if flow.get("checkAvailabilityValidation") and has_conflict(sb, booking):
        raise precondition("NO_OPEN_SPOTS", f"No open spots left for booking {booking['id']}")
    booking["status"] = "PENDING"
    apply_payment_flags(booking, req.body)
    return {"booking": save_booking(sb, booking)}
