"""Phase 2: ``WALK_IN`` — Bulk Create Booking (≤40 a call).

A create whose answer was lost (``create_sent_at`` saved, no booking id) is first looked for in
Wix — Query Extended Bookings of the session, course or customer since it was sent — and adopted
rather than sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings_app.models import Booking, Contact, DeskAction
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import message
from bookings_app.services.push.worker import Attention, Push, chunks
from bookings_app.wix import WixError, WixUnavailable, WixValidationError, bookings, extended_bookings
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse

Kind = DeskAction.Kind

BULK_CREATE = bookings.BULK_CREATE_LIMIT  # 40
# Wix's createdDate of a booking whose answer we lost is after we sent it; allow for clock skew.
RECONCILE_SLACK = timedelta(minutes=5)


def push_walk_ins(push: Push, actions: list[DeskAction]) -> None:
    ready: list[tuple[DeskAction, Json]] = []
    for action in actions:
        try:
            request = _walk_in_request(push, action)
        except Exception as err:  # noqa: BLE001 - sorted by fail()
            push.fail(action, err)
            continue
        if request is not None:
            ready.append((action, request))
    sent_before = [a for a, _ in ready if a.steps.get("create_sent_at")]
    if sent_before:
        try:
            adopted = _walk_ins_reconcile(push, sent_before)
        except WixError as err:
            for action in sent_before:
                push.fail(action, err)
            ready = [(a, r) for a, r in ready if a not in sent_before]
        else:
            ready = [(a, r) for a, r in ready if a.pk not in adopted]
    for chunk in chunks(ready, BULK_CREATE):
        _walk_ins_send(push, chunk)


def _walk_in_request(push: Push, action: DeskAction) -> Json | None:
    booking = action.booking
    if booking is None:
        raise Attention("booking_missing", "The walk-in's booking was deleted — remove this.")
    if booking.wix_id:
        push.synced(action, booking_id=booking.wix_id)
        return None
    contact = booking.contact
    if not contact.wix_id:
        raise Attention("contact_not_in_wix", f"{contact} is not in Wix yet — retry in a moment.")
    service = booking.service
    params = action.params
    kind = params.get("type")
    entity: Json
    if kind == "course":
        if not service.schedule_id:
            raise Attention("schedule_unknown", "This course has no schedule in Wix — remove the walk-in.")
        # Course (bookings_bookings BookedSchedule): scheduleId (= service.schedule.id), serviceId,
        # timezone. Its location, firstSessionStart and lastSessionEnd are @readonly: Wix fills them.
        entity = {
            "schedule": {
                "scheduleId": service.schedule_id,
                "serviceId": service.wix_id,
                "timezone": settings.TIME_ZONE,
            }
        }
    elif kind == "appointment":
        slot = params.get("slot") or {}
        location: Json = {"locationType": booking_location_type(slot.get("location_type"))}
        if slot.get("location_id"):
            location["id"] = slot["location_id"]
        if slot.get("location_name"):
            location["name"] = slot["location_name"]
        # Create Booking, appointment (bookings_bookings BookedSlot; SKILL end-to-end-booking-flow):
        # serviceId, scheduleId, startDate, endDate, timezone, resource.id, location.locationType.
        # scheduleId is the time slot's own (List Availability Time Slots TimeSlot.scheduleId, "same
        # as the service's schedule ID"); a walk-in saved before slots carried it falls back to the
        # service's schedule id.
        entity = {
            "slot": {
                "serviceId": service.wix_id,
                "scheduleId": slot.get("schedule_id") or service.schedule_id,
                "startDate": local_time(slot.get("start")),
                "endDate": local_time(slot.get("end")),
                "timezone": slot.get("timezone") or settings.TIME_ZONE,
                "resource": {"id": slot.get("resource_id")},
                "location": location,
            }
        }
    else:
        session = booking.session or action.session
        if session is None or not session.wix_id:
            raise Attention("session_unknown", "This session isn't in Wix — remove the walk-in.")
        # Class session (bookings_bookings createBooking): serviceId + eventId; Wix derives the
        # times, timezone, resource and location from the event.
        entity = {"slot": {"serviceId": service.wix_id, "eventId": session.wix_id}}
    # CreateBookingInfo (bookings_bookings BulkCreateBookingRequest): booking{bookedEntity,
    # contactDetails, totalParticipants, status, selectedPaymentOption} — none @readonly — plus
    # participantNotification and flowControlSettings.skipAvailabilityValidation.
    info: Json = {
        "booking": {
            "bookedEntity": entity,
            "contactDetails": _contact_details(contact),
            "totalParticipants": booking.total_participants,
            "status": "CONFIRMED",
            "selectedPaymentOption": _payment_option(action),
        },
        "participantNotification": {"notifyParticipants": False},
    }
    if params.get("override_capacity"):
        info["flowControlSettings"] = {"skipAvailabilityValidation": True}
    return info


def _walk_ins_reconcile(push: Push, actions: list[DeskAction]) -> set[int]:
    """Find in Wix the bookings whose create answer was lost, and adopt them. Returns the
    adopted action pks. One Query Extended Bookings per session / course / customer."""
    groups: dict[tuple[str, str], list[DeskAction]] = defaultdict(list)
    for action in actions:
        groups[_place(action)].append(action)
    adopted: set[int] = set()
    taken: set[str] = set()
    for (field_name, value), group in groups.items():
        cutoff = min(wix_timestamp_parse(a.steps["create_sent_at"]) for a in group) - RECONCILE_SLACK
        candidates = list(_bookings_since(push, field_name, value, cutoff))
        # Another walk-in of ours already owns some of them (the same person twice, say).
        taken |= set(
            Booking.objects.filter(
                wix_id__in=[b["id"] for b in candidates], desk_actions__kind=Kind.WALK_IN
            ).values_list("wix_id", flat=True)
        )
        for action in group:
            booking = action.booking
            assert booking is not None
            match = next(
                (
                    b
                    for b in candidates
                    if b["id"] not in taken
                    and (b.get("contactDetails") or {}).get("contactId") == booking.contact.wix_id
                    and _participants(b) == booking.total_participants
                    and _same_place(action, b)
                ),
                None,
            )
            if match is not None:
                taken.add(match["id"])
                _adopt_booking(push, action, match)
                adopted.add(action.pk)
    return adopted


def _bookings_since(push: Push, field_name: str, value: str, cutoff: datetime) -> Iterator[Json]:
    query: Json = {
        "filter": {field_name: value},
        "sort": [{"fieldName": "createdDate", "order": "DESC"}],
        "cursorPaging": {"limit": 100},
    }
    while True:
        answer = push.call(extended_bookings.query_extended_bookings, query=query)
        page = [item["booking"] for item in answer.get("extendedBookings") or []]
        for booking in page:
            created = wix_timestamp_parse(booking.get("createdDate"))
            if created is not None and created < cutoff:
                return
            yield booking
        cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
        if not cursor or not page:
            return
        query = {"cursorPaging": {"limit": 100, "cursor": cursor}}


def _walk_ins_send(push: Push, chunk: list[tuple[DeskAction, Json]]) -> None:
    actions = [a for a, _ in chunk]
    push.extend_lease(actions)
    push.save_steps_many(actions, create_sent_at=wix_timestamp(timezone.now()))
    try:
        answer = push.call(
            bookings.bulk_create_booking, create_bookings_info=[r for _, r in chunk], return_full_entity=True
        )
    except WixValidationError as err:
        # The whole call was refused, nothing was created: the items it names need staff,
        # the others go again at once.
        bad = _violated_indexes(err, "createBookingsInfo")
        for index, action in enumerate(actions):
            push.save_steps(action, create_sent_at=None)
            if index in bad or not bad:
                push.attention(action, err.code, message(err.code, action, err), str(err))
            else:
                push.later(action, "sent again without a rejected neighbour", count=False)
        return
    except WixError as err:
        if isinstance(err, WixUnavailable) and not err.maybe_applied:
            for action in actions:
                push.save_steps(action, create_sent_at=None)
        for action in actions:
            push.fail(action, err)
        return
    results = answer.get("results") or []
    seen: set[int] = set()
    for position, result in enumerate(results):
        meta = result.get("itemMetadata") or {}
        index = meta.get("originalIndex", position)
        if not isinstance(index, int) or not 0 <= index < len(actions):
            continue
        seen.add(index)
        action = actions[index]
        if meta.get("success") and result.get("item"):
            push.guarded(action, lambda action=action, item=result["item"]: _adopt_booking(push, action, item))
        else:
            error = meta.get("error") or {}
            code = str(error.get("code") or "REJECTED")
            push.save_steps(action, create_sent_at=None)
            push.attention(action, code, message(code, action, None, error.get("description")), str(error))
    for index, action in enumerate(actions):
        if index not in seen:
            # No word about this item: look for it in Wix before sending it again.
            push.later(action, "Bulk Create Booking gave no result for this item")


def _adopt_booking(push: Push, action: DeskAction, found: Json) -> None:
    booking = action.booking
    assert booking is not None
    with transaction.atomic():
        mirror.bookings.booking_adopt(booking=booking, found=found)
        push.synced(action, booking_id=found["id"], create_sent_at=None)


# --- the request, and recognising its booking in Wix -----------------------------------------------


def _violated_indexes(err: WixValidationError, prefix: str) -> set[int]:
    found: set[int] = set()
    for violation in err.violations:
        text = str(violation.get("field") or "")
        if text.startswith(prefix + "["):
            try:
                found.add(int(text[len(prefix) + 1 : text.index("]")]))
            except ValueError:
                continue
    return found


def _contact_details(contact: Contact) -> Json:
    details = {
        "contactId": contact.wix_id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
    }
    return {k: v for k, v in details.items() if v}


def _payment_option(action: DeskAction) -> str:
    """OFFLINE, or MEMBERSHIP when a plan charge waits on this walk-in."""
    plan = DeskAction.objects.filter(
        depends_on=action, kind=Kind.PLAN_CHARGE, status__in=DeskAction.LIVE_STATUSES
    ).exists() or (action.booking is not None and action.booking.selected_payment_option == "MEMBERSHIP")
    return "MEMBERSHIP" if plan else "OFFLINE"


def booking_location_type(time_slot_type: str | None) -> str:
    # Time slots say BUSINESS / CUSTOM / CUSTOMER; Create Booking wants OWNER_BUSINESS / … (CONTRACT.md §7.3).
    return {"BUSINESS": "OWNER_BUSINESS", "CUSTOM": "OWNER_CUSTOM", "CUSTOMER": "CUSTOM"}.get(
        time_slot_type or "BUSINESS", "OWNER_BUSINESS"
    )


def _place(action: DeskAction) -> tuple[str, str]:
    """The Query Extended Bookings filter that finds this walk-in's booking among few others.

    Filter names are Wix's "Supported Filters" of Query Extended Bookings: the booked slot or
    schedule is ``bookedEntity.item.slot.eventId`` / ``bookedEntity.item.schedule.scheduleId``
    (the proto one-of ``item``), not the booking JSON's ``bookedEntity.slot…``; each field once
    per query (bookings_extended-bookings queryExtendedBookings: "You can specify a filter only
    once per query"). One ``$eq`` term, so that holds.
    """
    booking = action.booking
    assert booking is not None
    kind = action.params.get("type")
    if kind == "class" and booking.session and booking.session.wix_id:
        return "bookedEntity.item.slot.eventId", booking.session.wix_id
    if kind == "course" and booking.service.schedule_id:
        return "bookedEntity.item.schedule.scheduleId", booking.service.schedule_id
    return "contactDetails.contactId", booking.contact.wix_id or ""


def _same_place(action: DeskAction, found: Json) -> bool:
    booking = action.booking
    assert booking is not None
    entity = found.get("bookedEntity") or {}
    kind = action.params.get("type")
    if kind == "class":
        return (entity.get("slot") or {}).get("eventId") == (booking.session.wix_id if booking.session else None)
    if kind == "course":
        return (entity.get("schedule") or {}).get("scheduleId") == booking.service.schedule_id
    slot = entity.get("slot") or {}
    wanted = action.params.get("slot") or {}
    return (
        not slot.get("eventId")
        and slot.get("serviceId") == booking.service.wix_id
        and (slot.get("resource") or {}).get("id") == wanted.get("resource_id")
        and str(slot.get("startDate") or "")[:16] == str(wanted.get("start") or "")[:16]
    )


def _participants(booking: Json) -> int:
    # Not mirror.values.booking_participants: a booking that names no number must match no
    # walk-in (that one counts it as 1 for the mirror).
    if booking.get("totalParticipants") is not None:
        return int(booking["totalParticipants"])
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    return sum(int(c.get("numberOfParticipants") or 0) for c in choices)


def local_time(value: Any) -> str:
    """A slot time as Create Booking wants it: local ``YYYY-MM-DDThh:mm:ss``."""
    text = str(value or "")
    return text[:19]
