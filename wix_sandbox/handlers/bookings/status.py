"""Status changes of a booking (CONTRACT.md §3.4–3.7): confirm, decline, cancel (also in bulk), mark as pending."""

from __future__ import annotations

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
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

# bookings_bookings BookingsCancelList.bookingsInfo: @minSize 1, @maxSize 100.
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


def _bulk_cancel_items(body: Json) -> list[Json]:
    """The bookings of a Bulk Cancel: bookings_bookings BulkCancelBookingRequest, whose one-of
    ``bookings`` is a ``BookingsCancelList`` ``{bookingsInfo: [CancelBookingInfo] (1..100)}``."""
    listed, series = body.get("bookings"), body.get("recurringCancellation")
    if listed is None and series is None:
        raise invalid("MISSING_CANCELLATION_INFO", "Send bookings.bookingsInfo or recurringCancellation")
    if listed is not None and series is not None:
        raise ValidationFailed(
            [violation("bookings", "send bookings or recurringCancellation, not both", "ONE_OF_ALIGNMENT")]
        )
    if series is not None:
        if not isinstance(series, dict) or not series.get("recurringGroupId"):
            raise ValidationFailed(
                [violation("recurringCancellation.recurringGroupId", "recurringGroupId is required", "REQUIRED_FIELD")]
            )
        if series.get("cancellationStartDate") and not series.get("timeZone"):
            raise invalid("MISSING_TIME_ZONE", "cancellationStartDate needs recurringCancellation.timeZone")
        # The sandbox makes no recurring bookings, so no series is ever found.
        # UNCONFIRMED: the status of RECURRING_GROUP_NOT_FOUND; 404 like the other *_NOT_FOUND codes.
        raise not_found("RECURRING_GROUP_NOT_FOUND", "Recurring booking group", series["recurringGroupId"])
    if not isinstance(listed, dict):
        # A bare list is the shape of the REST table's summary, not of the request (UNCONFIRMED
        # what Wix does with it: the sandbox refuses it).
        raise ValidationFailed(
            [violation("bookings", "bookings must be {bookingsInfo: [...]} (BookingsCancelList)", "VALIDATION")]
        )
    return bulk_size(listed.get("bookingsInfo"), "bookings.bookingsInfo", BULK_CANCEL_MAX)


@route("POST /bookings/v2/bulk/bookings/cancel")
def bulk_cancel_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    items = _bulk_cancel_items(req.body)
    problems: list[Json] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        field = f"bookings.bookingsInfo[{i}]"
        booking_id = (item or {}).get("bookingId")
        if not booking_id:
            problems.append(violation(f"{field}.bookingId", "bookingId is required", "REQUIRED_FIELD"))
        elif booking_id in seen:
            raise invalid(
                "DUPLICATE_BOOKING_IDS", f"Booking {booking_id} appears more than once", {"bookingId": booking_id}
            )
        else:
            seen.add(booking_id)
        # UNCONFIRMED: CancelBookingInfo.revision is optional in the typings; the sandbox requires
        # it as Cancel Booking does, so the app never cancels a booking that moved under it.
        if (item or {}).get("revision") in (None, ""):
            problems.append(violation(f"{field}.revision", "revision is required", "REQUIRED_FIELD"))
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
