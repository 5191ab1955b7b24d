"""Walk-ins: book a customer in at the desk — into a class session, onto a course's schedule, or
into a free appointment slot (:func:`appointment_slots` asks Wix for those) — with the last
place taken under a row lock. :func:`walk_in_book` is the desk's one tap: a new customer (or a
known one), the booking and the payment chosen with it, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from bookings_app import roles
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Service, Session, StaffMember
from bookings_app.selectors.appointment_slots import slots_of_answer
from bookings_app.services import customers, ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.desk import payments
from bookings_app.services.errors import BookingError, wix_unreachable
from bookings_app.wix import WixClient, WixError, time_slots
from bookings_app.wix.dates import wix_local_parse
from bookings_app.wix.ids import STAFF_RESOURCE_TYPE_ID

Kind = DeskAction.Kind
PAY_METHODS = ("CASH", "CARD", "CHECK")


def walk_in_book(
    *,
    user: Any,
    contact: Contact | None = None,
    new_customer: customers.NewCustomer | None = None,
    session: Session | None = None,
    service: Service | None = None,
    slot: dict[str, Any] | None = None,
    participants: int = 1,
    override_capacity: bool = False,
    pay: str = "",
    balance: BenefitBalance | None = None,
    idempotency_key: str,
) -> Booking:
    """The desk's one tap: book ``contact`` (or create ``new_customer`` first) into ``session``
    (a course session: the course's schedule) or ``service`` at ``slot`` (an appointment), and
    take the payment chosen with it — ``pay``: CASH, CARD or CHECK (the full price; nothing for a
    free service), PLAN (one credit of ``balance``), LATER, or "" (decide later). All or
    nothing: a refused booking or payment leaves no customer, booking or action behind.

    Idempotency keys: the customer ``<key>-contact``, the booking ``<key>``, the payment
    ``<key>-pay``. Raises what :func:`services.customers.customer_create`, :func:`walk_in_create`
    and the payment services raise.
    """
    if session is None and service is None:
        raise BookingError("Choose a session, a course or an appointment slot.", code="session_required")
    service = service or session.service
    where: dict[str, Any]
    if slot is not None:
        where = {"service": service, "slot": slot}
    elif service.type == Service.Type.COURSE:
        where = {"service": service}  # a course booking books the course's schedule
    else:
        where = {"session": session}
    with transaction.atomic():
        contact = customers.customer_chosen(
            user=user, contact=contact, new_customer=new_customer, idempotency_key=idempotency_key
        )
        booking = walk_in_create(
            user=user,
            contact=contact,
            participants=participants or 1,
            override_capacity=bool(override_capacity),
            idempotency_key=idempotency_key,
            **where,
        )
        pay_key = idempotency_key + "-pay"
        if pay in PAY_METHODS and service.price:
            payments.payment_record(
                user=user,
                booking=booking,
                method=pay,
                amount=service.price * booking.total_participants,
                idempotency_key=pay_key,
            )
        elif pay == "PLAN":
            if balance is None:
                raise BookingError("Choose one of their plans.", code="plan_not_eligible")
            payments.plan_charge(user=user, booking=booking, balance=balance, idempotency_key=pay_key)
        elif pay == "LATER":
            payments.pay_later(user=user, booking=booking, idempotency_key=pay_key)
    return booking


@dataclass
class _Place:
    """Where a walk-in goes and how full it is."""

    kind: str  # "class" | "course" | "appointment"
    session: Session | None  # the booking's session (None: a course's schedule)
    capacity: int | None
    taken: int
    slot: dict[str, Any] | None = None


def walk_in_create(
    *,
    user: Any,
    contact: Contact,
    session: Session | None = None,
    service: Service | None = None,
    slot: dict[str, Any] | None = None,
    participants: int = 1,
    override_capacity: bool = False,
    idempotency_key: str,
) -> Booking:
    """Book ``contact`` in at the desk: a class ``session``, a COURSE ``service`` (its schedule;
    also when ``session`` is a course session) or an APPOINTMENT ``service`` at ``slot`` (from
    :func:`appointment_slots`). The booking exists locally at once (CONFIRMED, pending sync).

    Capacity is checked with the session (or course) row locked, so two desks can't both take the
    last place. Raises ``BookingError`` ``session_full`` (unless ``override_capacity`` by a user
    with the override permission — audited), ``slot_taken``, ``session_required``,
    ``participants_invalid``, ``booking_cancelled`` (the session is cancelled).
    """
    ledger.require_key(idempotency_key)
    if not isinstance(participants, int) or participants < 1:
        raise BookingError("At least one participant.", code="participants_invalid")
    may_override = bool(override_capacity) and ledger.has_perm(user, roles.OVERRIDE_CAPACITY)
    # A re-sent form is answered with what it made; the key used for someone (or something) else
    # is refused (``key_reused``).
    same: dict[str, Any] = {"contact": contact, "params": {"participants": participants}}
    if slot is not None:
        same["params"]["slot"] = slot
    elif session is not None and session.service.type != Service.Type.APPOINTMENT:
        same["session"] = session
    with transaction.atomic():
        done = ledger.existing(idempotency_key, Kind.WALK_IN, **same)
        if done is not None:
            return _same_service(done, service)
        contact = Contact.objects.get(pk=contact.pk)
        session, service = _lock_where(session, service)
        done = ledger.existing(idempotency_key, Kind.WALK_IN, **same)  # the same form, racing: it won
        if done is not None:
            return _same_service(done, service)
        place = _place(session=session, service=service, slot=slot)
        full = place.capacity is not None and place.taken + participants > place.capacity
        if full and not may_override:
            left = max(place.capacity - place.taken, 0)
            hint = " A manager can book them in anyway." if not override_capacity else ""
            what = (
                f"No room for {participants} people"
                if participants > 1 and left
                else f"{'The course' if place.kind == 'course' else 'This class'} is full"
            )
            raise BookingError(
                f"{what}: {place.taken} of {place.capacity} places are taken, {left} left.{hint}",
                code="session_full",
            )
        return _write_walk_in(
            user=user,
            contact=contact,
            service=service,
            session=session,
            place=place,
            participants=participants,
            may_override=may_override,
            full=full,
            key=idempotency_key,
        )


def _same_service(done: DeskAction, service: Service | None) -> Booking:
    """The booking an earlier post of this form made — of ``service``, when one is named."""
    if done.booking is None or (service is not None and done.booking.service_id != service.pk):
        raise BookingError(ledger.reused_message(done), code="key_reused")
    return done.booking


def _lock_where(session: Session | None, service: Service | None) -> tuple[Session | None, Service]:
    """The session row-locked (and not cancelled) with its service, or the service."""
    if session is not None:
        session = Session.objects.select_for_update(of=("self",)).select_related("service").get(pk=session.pk)
        if session.is_cancelled:
            raise BookingError("This session is cancelled.", code="booking_cancelled")
        return session, session.service
    if service is not None:
        return None, Service.objects.get(pk=service.pk)
    raise BookingError("Choose a session, a course or an appointment slot.", code="session_required")


def _place(*, session: Session | None, service: Service, slot: dict[str, Any] | None) -> _Place:
    """Where the booking goes and how many places are taken there (locks the course or service row)."""
    if service.type == Service.Type.COURSE:
        return _Place("course", None, *_course_places(service))
    if service.type == Service.Type.APPOINTMENT:
        if session is not None and slot is None:
            slot = (session.raw or {}).get("slot")
        if not slot:
            raise BookingError("Choose a free slot for the appointment.", code="session_required")
        return _Place("appointment", _appointment_session(service=service, slot=slot), None, 0, slot=slot)
    if session is None:
        raise BookingError("Choose the class session to book.", code="session_required")
    capacity = session.capacity if session.capacity is not None else service.default_capacity
    return _Place("class", session, capacity, _places_taken(session))


def _write_walk_in(
    *,
    user: Any,
    contact: Contact,
    service: Service,
    session: Session | None,
    place: _Place,
    participants: int,
    may_override: bool,
    full: bool,
    key: str,
) -> Booking:
    """The booking (CONFIRMED, pending sync), its WALK_IN action and the audit entries."""
    booking = Booking.objects.create(
        session=place.session,
        service=service,
        contact=contact,
        status=Booking.Status.CONFIRMED,
        payment_status=Booking.PaymentStatus.UNDEFINED,
        selected_payment_option=Booking.PaymentOption.UNDEFINED,
        total_participants=participants,
        pending_sync=True,
    )
    params: dict[str, Any] = {"type": place.kind, "participants": participants, "override_capacity": may_override}
    if place.kind == "appointment":
        params["slot"] = place.slot
    action = ledger.new_action(
        user=user,
        kind=Kind.WALK_IN,
        key=key,
        booking=booking,
        session=place.session or session,
        contact=contact,
        depends_on=ledger.contact_dependency(user=user, contact=contact),
        params=params,
    )
    what = place.session.title if place.session else service.name
    audit_record(
        user=user,
        action="booking.walk_in",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Walk-in: {contact} booked into {what}" + (f" ({participants} people)" if participants > 1 else ""),
        after={"status": booking.status, "participants": participants, "action": action.pk},
    )
    if full:
        audit_record(
            user=user,
            action="booking.override_capacity",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Booked {contact} into full {what} ({place.taken}/{place.capacity} taken)",
            before={"taken": place.taken, "capacity": place.capacity},
            after={"taken": place.taken + participants, "capacity": place.capacity},
        )
    return booking


def places_held(*, session: Session | None, service: Service) -> tuple[int | None, int]:
    """(capacity, participants holding a place) of a class ``session`` — whose row the caller has
    locked — or of a COURSE ``service`` (its row locked here): what a booking moved onto it must
    fit in. Desk changes count already (the mirror changes first). Capacity None: no limit known."""
    if service.type == Service.Type.COURSE:
        return _course_places(service)
    if session is None:
        raise BookingError("Choose the class session.", code="session_required")
    capacity = session.capacity if session.capacity is not None else service.default_capacity
    return capacity, _places_taken(session)


def _places_taken(session: Session) -> int:
    """Participants holding a place: CONFIRMED/PENDING bookings, desk walk-ins included."""
    q = Q(session=session)
    if session.service.type == Service.Type.COURSE:
        q |= Q(session__isnull=True, service_id=session.service_id)
    return (
        Booking.objects.filter(q, status__in=Booking.ACTIVE_STATUSES).aggregate(n=Sum("total_participants"))["n"] or 0
    )


def _course_places(service: Service) -> tuple[int | None, int]:
    # The course row is the lock: every enrolment of the course goes through it.
    Service.objects.select_for_update().filter(pk=service.pk).first()
    taken = (
        Booking.objects.filter(service=service, session__isnull=True, status__in=Booking.ACTIVE_STATUSES).aggregate(
            n=Sum("total_participants")
        )["n"]
        or 0
    )
    return service.default_capacity, taken


# --- appointments ----------------------------------------------------------------------------------


def _appointment_session(*, service: Service, slot: dict[str, Any]) -> Session:
    """The local session of an appointment slot (the sync names it after the booking later)."""
    tz_name = slot.get("timezone") or settings.TIME_ZONE
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError(f"Unknown time zone {tz_name!r} on the slot.", code="session_required") from None
    start, end = wix_local_parse(slot.get("start"), tz), wix_local_parse(slot.get("end"), tz)
    if start is None or end is None:
        raise BookingError("The slot has no valid start and end.", code="session_required")
    staff = StaffMember.objects.filter(resource_id=slot.get("resource_id") or "").first()
    # Two desks (or two tabs) booking the same time: the clash check and the new session must be
    # one step. Lock the service's row (every booking of it), then the staff member's (a person
    # gives one appointment at a time, whatever the service): the second desk waits here, then
    # sees the first one's booking and is refused. SQLite takes its write lock at BEGIN instead.
    Service.objects.select_for_update().filter(pk=service.pk).first()
    if staff is not None:
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
    clash = Booking.objects.filter(
        status__in=Booking.ACTIVE_STATUSES,
        session__start__lt=end,
        session__end__gt=start,
        session__service__type=Service.Type.APPOINTMENT,
    )
    if staff is not None:
        clash = clash.filter(session__staff=staff)
    else:
        clash = clash.filter(session__service=service)
    if clash.exists():
        raise BookingError(
            f"{staff.name if staff else 'This slot'} is already booked at {start:%H:%M}.", code="slot_taken"
        )
    return Session.objects.create(
        service=service,
        title=service.name,
        start=start,
        end=end,
        timezone=tz_name,
        capacity=1,
        staff=staff,
        location_name=(slot.get("location_name") or "")[:400],
        schedule_id=slot.get("schedule_id") or service.schedule_id,
        raw={"slot": slot},
    )


def appointment_slots(*, wix: WixClient, service: Service, day: date) -> list[dict[str, Any]]:
    """Free slots of an APPOINTMENT service on ``day``, one per slot and free staff member, in the
    shape :func:`walk_in_create` takes (``start``, ``end``, ``timezone``, ``resource_id``,
    ``staff_name``, ``location_*`` and the time slot's ``schedule_id``). The one desk function
    that reads Wix (List Availability Time Slots). Raises ``BookingError`` ``wix_unreachable`` when Wix can't be asked,
    ``session_required`` for a service that has no appointments.
    """
    if service.type != Service.Type.APPOINTMENT or not service.wix_id:
        raise BookingError(f"{service.name} is not an appointment service.", code="session_required")
    tz_name = settings.TIME_ZONE
    try:
        answer = time_slots.list_availability_time_slots(
            wix,
            service_id=service.wix_id,
            from_local_date=f"{day.isoformat()}T00:00:00",
            to_local_date=f"{(day + timedelta(days=1)).isoformat()}T00:00:00",
            time_zone=tz_name,
            include_resource_type_ids=[STAFF_RESOURCE_TYPE_ID],
            bookable=True,
        )
    except WixError as exc:
        raise wix_unreachable(exc, listing="free slots") from exc
    slots, _ = slots_of_answer(answer, tz_name)  # the same slots as the week grid's
    return slots
