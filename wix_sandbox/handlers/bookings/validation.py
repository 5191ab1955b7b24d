"""What a booking request must hold: the 400 validation failures of create, bulk and multi-service create."""

from __future__ import annotations

from typing import Any

from wix_sandbox.errors import violation
from wix_sandbox.handlers.bookings.records import Json

CREATE_STATUSES = ("CREATED", "CONFIRMED", "PENDING")
SELECTED_PAYMENT_OPTIONS = ("UNDEFINED", "OFFLINE", "ONLINE", "MEMBERSHIP", "MEMBERSHIP_OFFLINE")
LOCATION_TYPES = ("OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM")
# The booking fields the bookings_bookings typings mark ``@readonly`` (Booking, BookedEntity,
# BookedSlot, BookedResource, BookedSchedule, CustomFormField, BookedAddOn), as a caller would send
# them. ``multiServiceBookingInfo`` is @readonly too but has its own documented code
# (CAN_NOT_CREATE_BOOKING_WITH_MULTI_SERVICE_BOOKING_INFO, raised when the booking is built).
READ_ONLY = (
    "id",
    "createdDate",
    "updatedDate",
    "createdBy",
    "startDate",
    "endDate",
    "doubleBooked",
    "formId",
    "appId",
    "createdByAppId",
    "bookedEntity.title",
    # UNCONFIRMED: the typings don't mark tags @readonly, but Wix sets them from the service
    # type (INDIVIDUAL / GROUP / COURSE) and CONTRACT.md §3.0 lists them read-only: refused.
    "bookedEntity.tags",
    "bookedEntity.slot.durationUnitType",
    "bookedEntity.slot.durationUnitCount",
    "bookedEntity.slot.resource.type",
    "bookedEntity.schedule.location",
    "bookedEntity.schedule.firstSessionStart",
    "bookedEntity.schedule.lastSessionEnd",
)
READ_ONLY_IN_LISTS = {
    "additionalFields": ("label",),
    "bookedAddOns": ("durationInMinutes", "name", "nameTranslated"),
}


def _present(body: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return False
        body = body[part]
    return body is not None


def read_only_violations(booking: Json, prefix: str) -> list[Json]:
    """A read-only field in the request. UNCONFIRMED: whether Wix ignores or rejects one; the
    sandbox rejects it (400, the field named) so the app is held to sending none."""
    out = [
        violation(f"{prefix}.{path}", f"{prefix}.{path} is read-only", "FIELD_NOT_ALLOWED")
        for path in READ_ONLY
        if _present(booking, path)
    ]
    for name, fields in READ_ONLY_IN_LISTS.items():
        for i, item in enumerate(booking.get(name) or []):
            out += [
                violation(f"{prefix}.{name}[{i}].{field}", f"{name}.{field} is read-only", "FIELD_NOT_ALLOWED")
                for field in fields
                if isinstance(item, dict) and item.get(field) is not None
            ]
    return out


def participants_violations(body: Json, prefix: str) -> list[Json]:
    """Exactly one of ``totalParticipants`` / ``participantsChoices``, with at least 1 participant."""
    dot = f"{prefix}." if prefix else ""
    has_total = body.get("totalParticipants") is not None
    has_choices = body.get("participantsChoices") is not None
    if has_total == has_choices:
        return [
            violation(
                f"{dot}totalParticipants",
                "send exactly one of totalParticipants and participantsChoices",
                "REQUIRED_ONE_OF_FIELD",
            )
        ]
    if has_total:
        total = body["totalParticipants"]
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            return [violation(f"{dot}totalParticipants", "totalParticipants must be at least 1", "MIN")]
        return []
    choices = (body["participantsChoices"] or {}).get("serviceChoices") or []
    if not choices or any(
        not isinstance(c.get("numberOfParticipants"), int) or c["numberOfParticipants"] < 1 for c in choices
    ):
        return [
            violation(
                f"{dot}participantsChoices.serviceChoices",
                "every service choice needs numberOfParticipants of at least 1",
                "VALIDATION",
            )
        ]
    return []


def required_violations(booking: Any, prefix: str, *, multi: bool = False) -> list[Json]:
    """Everything about one booking request that fails validation (400), listed together: a
    required field missing, a read-only field sent, a value out of its enum."""
    if not isinstance(booking, dict) or not booking:
        return [violation(prefix, f"{prefix} is required", "REQUIRED_FIELD")]
    out: list[Json] = []
    entity = booking.get("bookedEntity")
    if not isinstance(entity, dict) or not (entity.get("slot") or entity.get("schedule")):
        out.append(
            violation(
                f"{prefix}.bookedEntity", "bookedEntity.slot or bookedEntity.schedule is required", "REQUIRED_FIELD"
            )
        )
    elif entity.get("slot") and entity.get("schedule"):
        out.append(violation(f"{prefix}.bookedEntity", "send either slot or schedule, not both", "ONE_OF_ALIGNMENT"))
    elif entity.get("slot"):
        slot = entity["slot"]
        base = f"{prefix}.bookedEntity.slot"
        if multi:
            if slot.get("eventId") or slot.get("sessionId"):
                out.append(
                    violation(f"{base}.eventId", "multi-service bookings are appointments only", "FIELD_NOT_ALLOWED")
                )
            required = ("scheduleId", "startDate", "endDate", "location.locationType")
        elif slot.get("eventId") or slot.get("sessionId"):
            # Create Booking reference (seed 002): for a class, the event id is enough — Wix
            # derives the rest from the event (the service from the event's schedule; see
            # ``slots.class_slot``). A serviceId sent along must be that event's service.
            required = ()
        else:
            required = (
                "serviceId",
                "scheduleId",
                "startDate",
                "endDate",
                "timezone",
                "resource.id",
                "location.locationType",
            )
        for name in required:
            value: Any = slot
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value in (None, ""):
                out.append(violation(f"{base}.{name}", f"{base}.{name} is required", "REQUIRED_FIELD"))
        location_type = (slot.get("location") or {}).get("locationType")
        if location_type and location_type not in LOCATION_TYPES and not (slot.get("eventId") or slot.get("sessionId")):
            out.append(
                violation(
                    f"{base}.location.locationType",
                    f"{location_type!r} is not accepted; use OWNER_BUSINESS, OWNER_CUSTOM or CUSTOM",
                    "INVALID_ENUM_VALUE",
                )
            )
    else:
        if multi:
            out.append(
                violation(
                    f"{prefix}.bookedEntity.slot", "multi-service bookings are appointments only", "REQUIRED_FIELD"
                )
            )
        elif not entity["schedule"].get("scheduleId"):
            out.append(
                violation(f"{prefix}.bookedEntity.schedule.scheduleId", "scheduleId is required", "REQUIRED_FIELD")
            )

    out += participants_violations(booking, prefix)
    out += read_only_violations(booking, prefix)
    # @requiredField booking.additionalFields._id (createBooking, bulkCreateBooking).
    out += [
        violation(f"{prefix}.additionalFields[{i}].id", "additionalFields.id is required", "REQUIRED_FIELD")
        for i, extra in enumerate(booking.get("additionalFields") or [])
        if not (isinstance(extra, dict) and extra.get("id"))
    ]
    option = booking.get("selectedPaymentOption")
    if option is not None and option not in SELECTED_PAYMENT_OPTIONS:
        out.append(
            violation(
                f"{prefix}.selectedPaymentOption", f"{option!r} is not a SelectedPaymentOption", "INVALID_ENUM_VALUE"
            )
        )
    status = booking.get("status")
    if status is not None and status not in CREATE_STATUSES:
        out.append(
            violation(f"{prefix}.status", "a new booking can be CREATED, CONFIRMED or PENDING", "INVALID_ENUM_VALUE")
        )
    return out
