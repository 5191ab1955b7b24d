"""What staff read on the roster when Wix refuses a desk action: plain language, by Wix error code."""

from __future__ import annotations

from bookings_app.models import DeskAction
from bookings_app.wix import (
    WixBadRequest,
    WixConflict,
    WixError,
    WixNotFound,
    WixPreconditionFailed,
    WixValidationError,
)

# Plain-language messages for the roster, by Wix error code.
MESSAGES = {
    "SESSION_CAPACITY_EXCEEDED": "The class filled up online — override as manager, or remove.",
    "SCHEDULE_CAPACITY_EXCEEDED": "The course filled up online — override as manager, or remove.",
    "SLOT_NOT_AVAILABLE": "That slot was taken in Wix meanwhile — remove this and book another slot.",
    "SESSION_NOT_FOUND": "This session no longer exists in Wix — remove the walk-in.",
    "SCHEDULE_NOT_FOUND": "This course no longer exists in Wix — remove the walk-in.",
    "RESOURCE_NOT_FOUND": "That staff member is no longer bookable in Wix — remove and book another slot.",
    "BOOKING_NOT_FOUND": "The booking no longer exists in Wix — remove this.",
    "INVALID_BOOKING_STATUS": "The booking was cancelled or declined in Wix meanwhile — remove this.",
    "ORDER_ALREADY_PAID": "Wix says this was already paid — check the order in Wix, then remove this payment.",
    "ORDER_CANCELED": "The order was cancelled in Wix — remove this payment.",
    "ORDER_NOT_FOUND": "The order no longer exists in Wix — remove this payment.",
    "POOL_NOT_ACTIVE": "{plan} is no longer active in Wix — take cash instead?",
    "POOL_NOT_FOUND": "{plan} was not found in Wix — take cash instead?",
    "POLICY_EXPRESSION_EVALUATED_TO_FALSE": "{plan} can't pay for this in Wix — take cash instead?",
    "NOT_ENOUGH_BALANCE": "Not enough credits left on {plan} — take cash instead?",
    "MEMBERSHIP_NOT_ELIGIBLE": "Wix says {plan} can't pay for this (no credits left, ended, or not this class) "
    "— take cash instead?",
    "PAYMENT_NOT_FOUND": "The plan charge was not found in Wix — check the order in Wix, then remove this.",
    # a plan sold at the desk (Create Offline Order)
    "MEMBER_DOESNT_EXIST": "Wix says this customer is no longer a site member, so {plan} can't be sold to them "
    "— remove the sale and give the money back.",
    "plan_not_found": "{plan} no longer exists in Wix — remove the sale and give the money back.",
    "PLAN_ARCHIVED": "{plan} is archived in Wix and can't be sold — remove the sale and give the money back.",
    "PRICING_PLANS_NOT_INSTALLED": "Pricing Plans isn't installed on the Wix site — remove the sale and give "
    "the money back.",
}


# Where the same code means something else for a change of a booking (what "remove" does differs).
KIND_MESSAGES = {
    (DeskAction.Kind.RESCHEDULE, "SESSION_CAPACITY_EXCEEDED"): "The other session filled up in Wix meanwhile — "
    "remove this to keep the booking where it was, or retry once a place is free.",
    (DeskAction.Kind.RESCHEDULE, "SLOT_NOT_AVAILABLE"): "That time was taken in Wix meanwhile — remove this to "
    "keep the appointment where it was, then choose another time.",
    (DeskAction.Kind.RESCHEDULE, "SESSION_NOT_FOUND"): "The other session no longer exists in Wix — remove this "
    "to keep the booking where it was.",
    (DeskAction.Kind.RESCHEDULE, "BOOKING_POLICY_VIOLATION"): "Wix's reschedule policy doesn't allow this move "
    "any more — remove this to keep the booking where it was.",
    (DeskAction.Kind.RESCHEDULE, "INVALID_BOOKING_STATUS"): "The booking was cancelled in Wix meanwhile — remove this.",
    (DeskAction.Kind.WAITLIST_PROMOTE, "NO_OPEN_SPOTS"): "No place is free in Wix (the class filled up online) — "
    "remove this to put them back on the waiting list, or retry once someone cancels.",
    (DeskAction.Kind.WAITLIST_PROMOTE, "INVALID_BOOKING_STATUS"): "Wix no longer has them on the waiting list "
    "(confirmed, cancelled or declined meanwhile) — remove this.",
    (DeskAction.Kind.CANCEL_BOOKING, "BOOKING_POLICY_VIOLATION"): "Wix's cancellation policy refused this cancel — "
    "cancel it in the Wix dashboard, then remove this.",
}


def is_business(err: WixError) -> bool:
    """A rejection staff must decide about (not a transient failure to retry)."""
    return isinstance(err, WixPreconditionFailed | WixValidationError | WixNotFound | WixConflict | WixBadRequest)


def message(code: str, action: DeskAction, err: WixError | None, description: str | None = None) -> str:
    plan = action.params.get("plan_name") or "the plan"
    template = KIND_MESSAGES.get((action.kind, code)) or MESSAGES.get(code)
    if template:
        return template.format(plan=plan)
    said = description or (err.message if err is not None else "") or code
    return f"Wix refused this ({code}): {said}"[:500]
