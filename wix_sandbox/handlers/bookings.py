"""Bookings Writer V2 (CONTRACT.md §3): create, confirm/decline, cancel, participants, multi-service.

Places are counted by ``rules/capacity.py``; a booking's order and payment status are linked to
eCommerce by ``rules/booking_orders.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import parse_local, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
from wix_sandbox.routing import route
from wix_sandbox.rules.booking_orders import order_of_booking, orders_by_booking
from wix_sandbox.rules.capacity import (
    Holds,
    event_capacity,
    event_live,
    event_time,
    has_conflict,
    parse_utc,
    participants_of,
    resource_busy,
    schedule_taken,
    service_by_schedule,
    service_id_of,
    session_taken,
    slot_of,
)

BOOKING_STATUSES = ("CREATED", "CONFIRMED", "CANCELED", "PENDING", "DECLINED", "WAITING_LIST")
CREATE_STATUSES = ("CREATED", "CONFIRMED", "PENDING")
CONFIRMABLE_STATUSES = ("PENDING", "CREATED", "WAITING_LIST")
PAYMENT_STATUSES = ("UNDEFINED", "NOT_PAID", "PAID", "PARTIALLY_PAID", "REFUNDED", "EXEMPT", "FAILED")
SELECTED_PAYMENT_OPTIONS = ("UNDEFINED", "OFFLINE", "ONLINE", "MEMBERSHIP", "MEMBERSHIP_OFFLINE")
LOCATION_TYPES = ("OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM")
MULTI_SERVICE_TYPES = ("SEQUENTIAL_BOOKINGS", "SEPARATE_BOOKINGS", "PARALLEL_BOOKINGS")
# Payment states in which Confirm Or Decline declines a conflicting booking instead of keeping it.
DECLINABLE_PAYMENT = ("UNDEFINED", "NOT_PAID", "REFUNDED", "EXEMPT")
TAGS = {"APPOINTMENT": "INDIVIDUAL", "CLASS": "GROUP", "COURSE": "COURSE"}
# Calendar / Services location types → the booking's LocationType.
LOCATION_TYPE_FROM_CALENDAR = {"BUSINESS": "OWNER_BUSINESS", "CUSTOM": "OWNER_CUSTOM", "CUSTOMER": "CUSTOM"}
BULK_CREATE_MAX = 40
BULK_CONFIRM_OR_DECLINE_MAX = 300
# UNCONFIRMED: Bulk Cancel is hidden from the typed SDK and publishes no limit; 100 like most bulk APIs.
BULK_CANCEL_MAX = 100
MULTI_SERVICE_MIN, MULTI_SERVICE_MAX = 2, 8
NON_SESSION_EVENT_TYPES = ("WORKING_HOURS", "BLOCKED", "APPOINTMENT")

Json = dict[str, Any]


# -- small helpers ----------------------------------------------------------------------------


def _iso_utc(dt: datetime) -> str:
    utc = dt.astimezone(ZoneInfo("UTC"))
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _local_iso(dt: datetime) -> str:
    """A slot date the way Wix echoes it: local time with its offset, ``2026-11-21T07:00:00.000+00:00``."""
    offset = dt.strftime("%z")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}{offset[:3]}:{offset[3:]}"


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise invalid("INVALID_TIME_ZONE", f"Unknown time zone {name!r}", {"timezone": name}) from exc


def _parse_in_zone(value: Any, tz: ZoneInfo, field_name: str) -> datetime:
    try:
        parsed = parse_local(str(value))
    except (ValueError, TypeError) as exc:
        raise invalid("INVALID_DATE_FORMAT", f"{field_name} is not an ISO-8601 date: {value!r}") from exc
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def _is_session(event: Json) -> bool:
    """A bookable class/course session: live, and not a MASTER (its INSTANCEs are the sessions)."""
    return (
        event_live(event)
        and event.get("type") not in NON_SESSION_EVENT_TYPES
        and event.get("recurrenceType") != "MASTER"
    )


def _service_location(service: Json) -> Json | None:
    locations = service.get("locations") or []
    if not locations:
        return None
    loc = locations[0]
    detail = loc.get("business") or loc.get("custom") or {}
    out: Json = {"locationType": LOCATION_TYPE_FROM_CALENDAR.get(loc.get("type", "BUSINESS"), "OWNER_BUSINESS")}
    if loc.get("id") or detail.get("id"):
        out["id"] = loc.get("id") or detail.get("id")
    if detail.get("name"):
        out["name"] = detail["name"]
    address = (detail.get("address") or {}).get("formattedAddress")
    if address:
        out["formattedAddress"] = address
    return out


def _requires_approval(service: Json | None) -> bool:
    return bool(((service or {}).get("onlineBooking") or {}).get("requireManualApproval"))


def get_booking(sb: Sandbox, booking_id: str) -> Json:
    booking = sb.state.get("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    return booking


def _require_revision(body: Json) -> str:
    revision = body.get("revision")
    if revision in (None, ""):
        raise ValidationFailed([violation("revision", "revision is required", "REQUIRED_FIELD")])
    return str(revision)


def _check_revision(booking: Json, revision: str) -> None:
    if str(booking.get("revision")) != revision:
        # UNCONFIRMED: the contract names 409 for revision races but no Bookings code; INVALID_REVISION.
        raise SandboxError(
            409,
            "INVALID_REVISION",
            f"Booking {booking['id']} is at revision {booking.get('revision')}, not {revision}",
            {"currentRevision": booking.get("revision")},
        )


def _check_payment_status(value: Any, field_name: str = "paymentStatus") -> None:
    if value is not None and value not in PAYMENT_STATUSES:
        raise ValidationFailed([violation(field_name, f"{value!r} is not a PaymentStatus", "INVALID_ENUM_VALUE")])


# -- capacity and availability ------------------------------------------------------------------


# -- create: validation of the request ------------------------------------------------------------


def _participants_violations(body: Json, prefix: str) -> list[Json]:
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


def _required_violations(booking: Any, prefix: str, *, multi: bool = False) -> list[Json]:
    """Everything about one booking request that fails validation (400), listed together."""
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
            required = ("serviceId",)
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

    out += _participants_violations(booking, prefix)
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


# -- create: building the booking ------------------------------------------------------------------


def _service_for(sb: Sandbox, service_id: str) -> Json:
    service = sb.state.get("services", service_id)
    if service is None:
        # UNCONFIRMED: Create Booking declares no SERVICE_NOT_FOUND; an unknown service is a validation failure.
        raise invalid("VALIDATION_FAILURE", f"Service {service_id} not found", {"serviceId": service_id})
    return service


def _class_slot(
    sb: Sandbox, slot: Json, participants: int, holds: Holds, skip: bool, *, exclude: str | None = None
) -> tuple[Json, Json, datetime, datetime]:
    event_id = slot.get("eventId") or slot.get("sessionId")
    event = sb.state.get("events", event_id)
    if event is None or not _is_session(event):
        raise not_found("SESSION_NOT_FOUND", "Session", event_id)
    service = _service_for(sb, slot["serviceId"])
    if (service.get("schedule") or {}).get("id") != event.get("scheduleId"):
        raise invalid("VALIDATION_FAILURE", f"Session {event_id} is not a session of service {service['id']}")
    if service.get("type") != "CLASS":
        raise invalid("VALIDATION_FAILURE", "Only class sessions are booked by eventId; book courses by schedule")
    start = event_time(event, "start", sb.business_timezone)
    end = event_time(event, "end", sb.business_timezone)
    if not skip:
        capacity = event_capacity(event, service)
        taken = session_taken(sb, event, exclude=exclude) + holds.events.get(event_id, 0)
        if taken + participants > capacity:
            raise precondition(
                "SESSION_CAPACITY_EXCEEDED",
                f"Session {event_id} has {max(capacity - taken, 0)} open spots, {participants} requested",
                {"eventId": event_id, "capacity": capacity, "openSpots": max(capacity - taken, 0)},
            )
    # Wix derives these from the event; whatever the caller sent for them is overridden.
    out: Json = {
        "serviceId": service["id"],
        "scheduleId": event.get("scheduleId"),
        "eventId": event_id,
        "startDate": _local_iso(start),
        "endDate": _local_iso(end),
        "timezone": str(start.tzinfo),
    }
    if slot.get("sessionId"):
        out["sessionId"] = slot["sessionId"]
    resources = event.get("resources") or []
    if resources:
        res = resources[0]
        resource: Json = {"id": res["id"], "name": res.get("name", "")}
        stored = sb.state.get("resources", res["id"])
        if stored and (stored.get("eventsSchedule") or {}).get("id"):
            resource["scheduleId"] = stored["eventsSchedule"]["id"]
        out["resource"] = resource
    loc = event.get("location")
    if loc:
        location: Json = {k: loc[k] for k in ("id", "name", "formattedAddress") if loc.get(k)}
        location["locationType"] = LOCATION_TYPE_FROM_CALENDAR.get(loc.get("type", "BUSINESS"), "OWNER_BUSINESS")
        out["location"] = location
    return out, service, start, end


def _resolve_resource(sb: Sandbox, resource_id: str) -> tuple[Json, Json | None]:
    """The booked resource and its staff member; a staff member id is accepted for its resource."""
    resource = sb.state.get("resources", resource_id)
    staff: Json | None = None
    if resource is None:
        # UNCONFIRMED: slots carry the resource id; a staff member id is taken to mean its resource.
        staff = sb.state.get("staff_members", resource_id)
        if staff is not None:
            resource = sb.state.get("resources", staff.get("resourceId"))
    else:
        staff = next((s for s in sb.state.all("staff_members") if s.get("resourceId") == resource_id), None)
    if resource is None:
        # UNCONFIRMED: RESOURCE_NOT_FOUND is declared for Bulk Create; used for single create too.
        raise not_found("RESOURCE_NOT_FOUND", "Resource", resource_id)
    out: Json = {"id": resource["id"], "name": resource.get("name", "")}
    if staff and staff.get("email"):
        out["email"] = staff["email"]
    if (resource.get("eventsSchedule") or {}).get("id"):
        out["scheduleId"] = resource["eventsSchedule"]["id"]
    return out, staff


def _appointment_slot(
    sb: Sandbox, slot: Json, holds: Holds, skip: bool, *, multi: bool, exclude: str | None = None
) -> tuple[Json, Json, datetime, datetime]:
    service = service_by_schedule(sb, slot["scheduleId"])
    if service is None:
        raise not_found("SCHEDULE_NOT_FOUND", "Schedule", slot["scheduleId"])
    if slot.get("serviceId") and slot["serviceId"] != service["id"]:
        _service_for(sb, slot["serviceId"])
        raise invalid(
            "VALIDATION_FAILURE", f"Schedule {slot['scheduleId']} is not the schedule of service {slot['serviceId']}"
        )
    if service.get("type") != "APPOINTMENT":
        raise invalid(
            "VALIDATION_FAILURE", f"Service {service['id']} is a {service.get('type')}: book it by event or schedule"
        )
    tz = _zone(slot.get("timezone") or sb.business_timezone) if multi else _zone(slot["timezone"])
    start = _parse_in_zone(slot["startDate"], tz, "startDate")
    end = _parse_in_zone(slot["endDate"], tz, "endDate")
    if end <= start:
        raise invalid("VALIDATION_FAILURE", "endDate must be after startDate")
    out: Json = {
        "serviceId": service["id"],
        "scheduleId": slot["scheduleId"],
        "startDate": _local_iso(start),
        "endDate": _local_iso(end),
        "timezone": str(tz),
    }
    resource_id = (slot.get("resource") or {}).get("id")
    if resource_id:
        resource, staff = _resolve_resource(sb, resource_id)
        out["resource"] = resource
        if not skip:
            offered = service.get("staffMemberIds") or []
            busy = any(r == resource["id"] and s < end and start < e for r, s, e in holds.resources)
            if (
                (offered and staff is not None and staff["id"] not in offered)
                or busy
                or resource_busy(sb, resource["id"], start, end, exclude=exclude)
            ):
                raise precondition(
                    "SLOT_NOT_AVAILABLE",
                    f"{resource['name'] or resource['id']} is busy at {_local_iso(start)}",
                    {"resourceId": resource["id"]},
                )
    location = dict(slot.get("location") or {})
    known = sb.state.get("locations", location.get("id"))
    if known:
        location.setdefault("name", known.get("name"))
        if known.get("formattedAddress"):
            location.setdefault("formattedAddress", known["formattedAddress"])
    out["location"] = location
    if slot.get("resourceSelections"):
        out["resourceSelections"] = slot["resourceSelections"]
    return out, service, start, end


def _course_schedule(
    sb: Sandbox, schedule: Json, participants: int, holds: Holds, skip: bool
) -> tuple[Json, Json, datetime | None, datetime | None]:
    schedule_id = schedule["scheduleId"]
    service = service_by_schedule(sb, schedule_id)
    if service is None:
        raise not_found("SCHEDULE_NOT_FOUND", "Schedule", schedule_id)
    if service.get("type") != "COURSE":
        raise invalid("VALIDATION_FAILURE", f"Service {service['id']} is a {service.get('type')}, not a course")
    if schedule.get("serviceId") and schedule["serviceId"] != service["id"]:
        raise invalid(
            "VALIDATION_FAILURE", f"Schedule {schedule_id} is not the schedule of service {schedule['serviceId']}"
        )
    if not skip:
        capacity = int(service.get("defaultCapacity") or 0)
        taken = schedule_taken(sb, schedule_id) + holds.schedules.get(schedule_id, 0)
        if taken + participants > capacity:
            raise precondition(
                "SCHEDULE_CAPACITY_EXCEEDED",
                f"Course {service['name']} has {max(capacity - taken, 0)} open spots, {participants} requested",
                {"scheduleId": schedule_id, "capacity": capacity, "openSpots": max(capacity - taken, 0)},
            )
    sessions = sorted(
        (
            (event_time(e, "start", sb.business_timezone), event_time(e, "end", sb.business_timezone))
            for e in sb.state.all("events")
            if e.get("scheduleId") == schedule_id and _is_session(e)
        ),
    )
    out: Json = {"scheduleId": schedule_id, "serviceId": service["id"]}
    location = _service_location(service)
    if location:
        out["location"] = location
    start = end = None
    if sessions:
        start, end = sessions[0][0], max(s[1] for s in sessions)
        out["timezone"] = str(start.tzinfo)
        out["firstSessionStart"] = _local_iso(start)
        out["lastSessionEnd"] = _local_iso(end)
    else:
        out["timezone"] = schedule.get("timezone") or sb.business_timezone
    return out, service, start, end


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


def _build_booking(sb: Sandbox, info: Json, holds: Holds, *, multi_info: Json | None = None) -> Json:
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
            built, service, start, end = _class_slot(sb, slot, participants, holds, skip)
        else:
            built, service, start, end = _appointment_slot(sb, slot, holds, skip, multi=multi_info is not None)
        booked_entity: Json = {"slot": built}
    else:
        built, service, start, end = _course_schedule(sb, entity["schedule"], participants, holds, skip)
        booked_entity = {"schedule": built}
    booked_entity["title"] = service.get("name", "")
    booked_entity["tags"] = [TAGS.get(service.get("type", ""), "INDIVIDUAL")]

    status = src.get("status") or "CREATED"
    if flow.get("skipBusinessConfirmation") and _requires_approval(service):
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
        booking["startDate"] = _iso_utc(start)
        booking["endDate"] = _iso_utc(end)
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
    problems = _required_violations(info["booking"], "booking")
    if problems:
        raise ValidationFailed(problems)
    booking = _build_booking(sb, info, Holds())
    sb.state.put("bookings", booking)
    return {"booking": booking}


def _item_error(exc: SandboxError) -> Json:
    return {"code": exc.code, "description": exc.description, "data": exc.data}


def _bulk_meta(results: list[Json]) -> Json:
    successes = sum(1 for r in results if r["itemMetadata"]["success"])
    return {"totalSuccesses": successes, "totalFailures": len(results) - successes, "undetailedFailures": 0}


def _bulk_size(items: Any, name: str, maximum: int) -> list[Json]:
    if not isinstance(items, list) or not items:
        raise ValidationFailed([violation(name, f"{name} needs at least 1 item", "MIN_SIZE")])
    if len(items) > maximum:
        raise ValidationFailed([violation(name, f"{name} takes at most {maximum} items", "MAX_SIZE")])
    return items


@route("POST /bookings/v2/bulk/bookings/create")
def bulk_create_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    items = _bulk_size(req.body.get("createBookingsInfo"), "createBookingsInfo", BULK_CREATE_MAX)
    problems: list[Json] = []
    for i, item in enumerate(items):
        problems += _required_violations((item or {}).get("booking"), f"createBookingsInfo[{i}].booking")
    if problems:
        raise ValidationFailed(problems)
    return_full = bool(req.body.get("returnFullEntity"))
    holds = Holds()
    results: list[Json] = []
    for i, item in enumerate(items):
        try:
            booking = _build_booking(sb, _create_info(item), holds)
        except ValidationFailed:
            raise
        except SandboxError as exc:
            results.append({"itemMetadata": {"originalIndex": i, "success": False, "error": _item_error(exc)}})
            continue
        sb.state.put("bookings", booking)
        holds.add(booking)
        result: Json = {"itemMetadata": {"id": booking["id"], "originalIndex": i, "success": True}}
        if return_full:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": _bulk_meta(results)}


# -- confirm or decline (custom checkouts) -----------------------------------------------------------


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
        if _requires_approval(service) and not flow.get("skipBusinessConfirmation"):
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
    _check_payment_status(payment_status)
    has_order = order_of_booking(sb, booking_id) is not None
    return {"booking": _confirm_or_decline(sb, booking_id, payment_status, has_order)}


@route("POST /bookings/v2/bulk/bookings/confirmOrDecline")
def bulk_confirm_or_decline_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    details = _bulk_size(req.body.get("details"), "details", BULK_CONFIRM_OR_DECLINE_MAX)
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
                {"itemMetadata": {"id": booking_id, "originalIndex": i, "success": False, "error": _item_error(exc)}}
            )
            continue
        result: Json = {"itemMetadata": {"id": booking_id, "originalIndex": i, "success": True}}
        if return_entity:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": _bulk_meta(results)}


# -- status changes -----------------------------------------------------------------------------------


def _editable(sb: Sandbox, booking_id: str, body: Json) -> Json:
    """The booking to change, after the revision rule: required (400), current (409)."""
    revision = _require_revision(body)
    booking = sb.state.edit("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    _check_revision(booking, revision)
    return booking


def _save(sb: Sandbox, booking: Json) -> Json:
    touch(sb, booking)
    sb.state.put("bookings", booking)
    return booking


def _apply_payment_flags(booking: Json, body: Json) -> None:
    if body.get("paymentStatus"):
        booking["paymentStatus"] = body["paymentStatus"]
    if body.get("doubleBooked") is not None:
        booking["doubleBooked"] = bool(body["doubleBooked"])


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/confirm")
def confirm_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    _check_payment_status(req.body.get("paymentStatus"))
    booking = _editable(sb, req.path_params["bookingId"], req.body)
    if booking["status"] not in CONFIRMABLE_STATUSES:
        raise precondition(
            "INVALID_BOOKING_STATUS",
            f"Only PENDING, CREATED or WAITING_LIST bookings can be confirmed, not {booking['status']}",
        )
    if (req.body.get("flowControlSettings") or {}).get("checkAvailabilityValidation") and has_conflict(sb, booking):
        raise precondition("NO_OPEN_SPOTS", f"No open spots left for booking {booking['id']}")
    booking["status"] = "CONFIRMED"
    _apply_payment_flags(booking, req.body)
    return {"booking": _save(sb, booking)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/decline")
def decline_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    _check_payment_status(req.body.get("paymentStatus"))
    booking = _editable(sb, req.path_params["bookingId"], req.body)
    if booking["status"] not in CONFIRMABLE_STATUSES:
        raise precondition(
            "INVALID_BOOKING_STATUS",
            f"Only PENDING, CREATED or WAITING_LIST bookings can be declined, not {booking['status']}",
        )
    booking["status"] = "DECLINED"
    _apply_payment_flags(booking, req.body)
    return {"booking": _save(sb, booking)}


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
    return _save(sb, booking)


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/cancel")
def cancel_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    return {"booking": _cancel(sb, _editable(sb, req.path_params["bookingId"], req.body))}


@route("POST /bookings/v2/bulk/bookings/cancel")
def bulk_cancel_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    items = _bulk_size(req.body.get("bookings"), "bookings", BULK_CANCEL_MAX)
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
            booking = _cancel(sb, _editable(sb, item["bookingId"], item))
        except SandboxError as exc:
            results.append(
                {
                    "itemMetadata": {
                        "id": item["bookingId"],
                        "originalIndex": i,
                        "success": False,
                        "error": _item_error(exc),
                    }
                }
            )
            continue
        result: Json = {"itemMetadata": {"id": booking["id"], "originalIndex": i, "success": True}}
        if return_full:
            result["item"] = booking
        results.append(result)
    return {"results": results, "bulkActionMetadata": _bulk_meta(results)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/mark_booking_as_pending")
def mark_booking_as_pending(sb: Sandbox, req: SandboxRequest) -> Json:
    _check_payment_status(req.body.get("paymentStatus"))
    booking = _editable(sb, req.path_params["bookingId"], req.body)
    if booking["status"] != "CREATED":
        # UNCONFIRMED: the method's own code BOOKING_MARK_BOOKING_AS_PENDING is taken to mean "not CREATED".
        raise precondition(
            "BOOKING_MARK_BOOKING_AS_PENDING",
            f"Only CREATED bookings can be marked as pending, not {booking['status']}",
        )
    flow = req.body.get("flowControlSettings") or {}
    service = sb.state.get("services", service_id_of(booking))
    if not _requires_approval(service) and not flow.get("skipPendingApprovalServiceValidation"):
        raise precondition("NOT_PENDING_APPROVAL_SERVICE", "The service does not require manual approval")
    if flow.get("checkAvailabilityValidation") and has_conflict(sb, booking):
        raise precondition("NO_OPEN_SPOTS", f"No open spots left for booking {booking['id']}")
    booking["status"] = "PENDING"
    _apply_payment_flags(booking, req.body)
    return {"booking": _save(sb, booking)}


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/update_number_of_participants")
def update_number_of_participants(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    problems = _participants_violations(body, "")
    if problems:
        raise ValidationFailed(problems)
    has_total = body.get("totalParticipants") is not None
    booking = _editable(sb, req.path_params["bookingId"], body)
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
    return {"booking": _save(sb, booking)}


# -- reschedule ---------------------------------------------------------------------------------------


@route("POST /_api/bookings-service/v2/bookings/{bookingId}/reschedule")
def reschedule_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    problems: list[Json] = []
    if not isinstance(body.get("slot"), dict) or not body["slot"]:
        problems.append(violation("slot", "slot is required", "REQUIRED_FIELD"))
    if body.get("revision") in (None, ""):
        problems.append(violation("revision", "revision is required", "REQUIRED_FIELD"))
    if body.get("totalParticipants") is not None or body.get("participantsChoices") is not None:
        problems += _participants_violations(body, "")
    if problems:
        raise ValidationFailed(problems)
    booking = _editable(sb, req.path_params["bookingId"], body)
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
        wanted = {"serviceId": old["serviceId"], "eventId": event_id}
        built, service, start, end = _class_slot(
            sb, wanted, participants_of(booking), Holds(), skip, exclude=booking["id"]
        )
    else:
        wanted = {**old, **body["slot"]}
        built, service, start, end = _appointment_slot(sb, wanted, Holds(), skip, multi=False, exclude=booking["id"])
    if service["id"] != old.get("serviceId"):
        raise invalid("VALIDATION_FAILURE", "A booking can only move to another slot of the same service")
    booking["bookedEntity"]["slot"] = built
    booking["startDate"], booking["endDate"] = _iso_utc(start), _iso_utc(end)
    return {"booking": _save(sb, booking)}


# -- multi-service bookings ---------------------------------------------------------------------------


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
        problems += _required_violations(item, f"bookings[{i}]", multi=True)
    if problems:
        raise ValidationFailed(problems)
    flow = body.get("flowControlSettings") or {}
    if flow.get("skipAvailabilityValidation") and any(
        not ((item["bookedEntity"]["slot"].get("resource") or {}).get("id")) for item in items
    ):
        raise invalid(
            "CAN_NOT_SKIP_AVAILABILITY_VALIDATION_IF_RESOURCE_NOT_PROVIDED",
            "skipAvailabilityValidation needs a resource on every booking",
        )
    msb_id = sb.state.new_id()
    multi_info = {"id": msb_id, "type": kind}
    holds = Holds()
    built: list[Json] = []
    for item in items:
        info = {
            "booking": item,
            "flowControlSettings": flow,
            "participantNotification": body.get("participantNotification"),
            "sendSmsReminder": body.get("sendSmsReminder", True),
        }
        booking = _build_booking(sb, info, holds, multi_info=dict(multi_info))
        holds.add(booking)
        built.append(booking)
    locations = {
        (b["bookedEntity"]["slot"]["location"].get("id"), b["bookedEntity"]["slot"]["location"].get("locationType"))
        for b in built
    }
    if len(locations) > 1:
        raise invalid("VALIDATION_FAILURE", "All services of a multi-service booking must be at the same location")
    for first, second in zip(built, built[1:], strict=False):
        if parse_utc(first["endDate"]) != parse_utc(second["startDate"]):
            raise invalid("VALIDATION_FAILURE", "Sequential bookings must follow each other with no gap or overlap")
    for booking in built:
        sb.state.put("bookings", booking)
    msb = {"id": msb_id, "bookings": [{"bookingId": b["id"]} for b in built]}
    sb.state.put("multi_service_bookings", msb)
    return _multi_response(sb, msb, full=bool(body.get("returnFullEntity")))


@route("GET /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}")
def get_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    return _multi_response(sb, _get_multi(sb, req.path_params["multiServiceBookingId"]), full=True)


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
        _check_payment_status(info.get("paymentStatus"), "confirmBookingsInfo.paymentStatus")
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
        _apply_payment_flags(edited, {**req.body, **infos[booking["id"]]})
        _save(sb, edited)
    return _multi_response(sb, msb, full=bool(req.body.get("returnFullEntity")))


@route("POST /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}/cancel")
def cancel_multi_service_booking(sb: Sandbox, req: SandboxRequest) -> Json:
    msb = _get_multi(sb, req.path_params["multiServiceBookingId"])
    # UNCONFIRMED: revisions are optional on cancel (the doc asks for none); checked when sent.
    infos = _multi_revisions(msb, req.body.get("cancelBookingsInfo"), "cancelBookingsInfo")
    bookings = [get_booking(sb, ref["bookingId"]) for ref in msb["bookings"]]
    live = [b for b in bookings if b["status"] not in ("CANCELED", "DECLINED")]
    if not live:
        raise precondition("ALL_BOOKINGS_ARE_ALREADY_CANCELED", "Every booking is already canceled or declined")
    for booking in bookings:
        _check_multi_revision(booking, infos.get(booking["id"]))
    for booking in live:
        edited = sb.state.edit("bookings", booking["id"])
        assert edited is not None
        edited["status"] = "CANCELED"
        _save(sb, edited)
    return _multi_response(sb, msb, full=bool(req.body.get("returnFullEntity")))
