"""Confirm Or Decline Booking, one and in bulk (CONTRACT.md §3.3): the custom-checkout confirmation.

A booking that no longer fits is declined unless it is paid; with an eCommerce order its payment
status follows the order (``rules/booking_orders.py``), not the request.
"""

from __future__ import annotations

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import touch
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
from wix_sandbox.handlers.bookings.records import (
    PAYMENT_STATUSES,
    Json,
    bulk_meta,
    bulk_size,
    check_payment_status,
    item_error,
    requires_approval,
)
from wix_sandbox.routing import route
from wix_sandbox.rules.booking_orders import order_of_booking, orders_by_booking
from wix_sandbox.rules.capacity import has_conflict, service_id_of

# Payment states in which Confirm Or Decline declines a conflicting booking instead of keeping it.
DECLINABLE_PAYMENT = ("UNDEFINED", "NOT_PAID", "REFUNDED", "EXEMPT")
BULK_CONFIRM_OR_DECLINE_MAX = 300


def _confirm_or_decline(sb: Sandbox, booking_id: str, payment_status: str | None, has_order: bool) -> Json:
    booking = sb.state.edit("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    if booking["status"] in ("CANCELED", "DECLINED"):
        raise precondition(
            "INVALID_BOOKING_STATUS", f"Booking {booking_id} is {booking['status']}", {"status": booking["status"]}
        )
    if payment_status and not has_order:
        booking["paymentStatus"] = payment_status
    # UNCONFIRMED: with an eCom order the payment status follows the order, so one sent here is ignored.
    flow = booking.get("flowControlSettings") or {}
    conflict = has_conflict(sb, booking)
    if booking["status"] == "CONFIRMED":
        # UNCONFIRMED: an already confirmed booking keeps its place; only its payment status changes.
        pass
    elif conflict and not flow.get("skipAvailabilityValidation") and booking["paymentStatus"] in DECLINABLE_PAYMENT:
        booking["status"] = "DECLINED"
    else:
        if conflict:
            booking["doubleBooked"] = True
        service = sb.state.get("services", service_id_of(booking))
        if requires_approval(service) and not flow.get("skipBusinessConfirmation"):
            booking["status"] = "PENDING"
        else:
            booking["status"] = "CONFIRMED"
    touch(sb, booking)
    sb.state.put("bookings", booking)
    return booking


@route("POST /bookings/v2/confirmation/{bookingId}:confirmOrDecline")
def confirm_or_decline_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    booking_id = req.path_params["bookingId"]
    payment_status = req.body.get("paymentStatus")
    check_payment_status(payment_status)
    has_order = order_of_booking(sb, booking_id) is not None
    return {"booking": _confirm_or_decline(sb, booking_id, payment_status, has_order)}


@route("POST /bookings/v2/bulk/bookings/confirmOrDecline")
def bulk_confirm_or_decline_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    details = bulk_size(req.body.get("details"), "details", BULK_CONFIRM_OR_DECLINE_MAX)
    problems: list[Json] = []
    seen: set[str] = set()
    for i, item in enumerate(details):
        booking_id = (item or {}).get("bookingId")
        if not booking_id:
            problems.append(violation(f"details[{i}].bookingId", "bookingId is required", "REQUIRED_FIELD"))
        elif booking_id in seen:
            raise invalid(
                "DUPLICATED_BOOKINGS", f"Booking {booking_id} appears more than once", {"bookingId": booking_id}
            )
        else:
            seen.add(booking_id)
        status = (item or {}).get("paymentStatus")
        if status is not None and status not in PAYMENT_STATUSES:
            problems.append(
                violation(f"details[{i}].paymentStatus", f"{status!r} is not a PaymentStatus", "INVALID_ENUM_VALUE")
            )
    if problems:
        raise ValidationFailed(problems)
    orders = orders_by_booking(sb, [item["bookingId"] for item in details])
    return_entity = bool(req.body.get("returnEntity"))
    results: list[Json] = []
    for i, item in enumerate(details):
        booking_id = item["bookingId"]
        try:
            booking = _confirm_or_decline(sb, booking_id, item.get("paymentStatus"), booking_id in orders)
        except SandboxError as exc:
            results.append(
                {"itemMetadata": {"id": booking_id, "originalIndex": i, "success": False, "error": item_error(exc)}}
            )
            continue
        result: Json = {"itemMetadata": {"id": booking_id, "originalIndex": i, "success": True}}
        if return_entity:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": bulk_meta(results)}
