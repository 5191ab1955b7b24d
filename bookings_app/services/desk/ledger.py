"""Front-desk actions, local first (DESIGN.md §4).

A desk click never waits on Wix. Each function here, in one transaction:

1. returns the earlier result when its ``idempotency_key`` (a token rendered into the form) was
   used already — a double click or a retried POST cannot act twice;
2. checks the business rules against the mirror, under row locks where two desks could race
   (the session for its last place, the booking for its money);
3. writes a :class:`DeskAction` (what the worker will push to Wix, after the undo window);
4. changes the mirror optimistically (``booking.pending_sync = True``, payment status, credits,
   attendance) and records an audit entry (before → after).

The worker (``services.desk_push``) does the Wix calls. The only functions here that talk to
Wix are :func:`appointment_slots` (free slots must come from Wix) and :func:`customer_search`'s
optional contact lookup.

Every function raises ``BookingError(message, code=…)``; ``message`` is for staff, ``code`` is
stable: ``contact_invalid``, ``contact_duplicate``, ``session_full``, ``slot_taken``,
``session_required``, ``booking_cancelled``, ``amount_invalid``, ``method_invalid``,
``already_paid``, ``plan_not_eligible``, ``no_credits``, ``status_invalid``, ``settle_invalid``,
``too_late_to_undo``, ``not_needing_attention``, ``choice_invalid``, ``forbidden``,
``not_reversible``, ``already_reversed``, ``wix_unreachable``, ``duplicate_request``,
``participants_invalid``, ``idempotency_missing``.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from bookings_app import roles, selectors, signals
from bookings_app.models import (
    Attendance,
    AuditEntry,
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    OrderLineItem,
    Service,
    Session,
    StaffMember,
)
from bookings_app.services.audit import audit_entry, audit_record
from bookings_app.services.customers import CustomerHit, CustomerHits, customer_search
from bookings_app.services.errors import BookingError
from bookings_app.wix import WixClient, WixError, time_slots
from bookings_app.wix.ids import STAFF_RESOURCE_TYPE_ID

__all__ = [
    "CustomerHit",
    "CustomerHits",
    "SettleChoice",
    "SettleRow",
    "action_resolve",
    "action_reverse",
    "action_undo",
    "appointment_slots",
    "attendance_mark",
    "attendance_mark_all",
    "customer_create",
    "customer_search",
    "pay_later",
    "payment_record",
    "plan_charge",
    "settle_commit",
    "settle_suggestions",
    "walk_in_create",
]

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus

METHODS = ("CASH", "CARD", "CHECK")
METHOD_LABELS = {"CASH": "cash", "CARD": "card", "CHECK": "cheque"}
ATTENDANCE_STATUSES = (Attendance.Status.ATTENDED, Attendance.Status.NOT_ATTENDED)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_KEY = 150  # derived keys append a suffix; the column holds 200
CAPACITY_ERROR_CODES = ("SESSION_CAPACITY_EXCEEDED", "SCHEDULE_CAPACITY_EXCEEDED", "SLOT_NOT_AVAILABLE")
NO_CREDIT_ERROR_CODES = ("NOT_ENOUGH_BALANCE", "no_credits")
# What is taken back when a synced action is reversed, and the permission that needs.
REVERSALS = {
    Kind.WALK_IN: (Kind.CANCEL_BOOKING, None),
    Kind.PLAN_CHARGE: (Kind.VOID_PLAN_CHARGE, roles.VOID_PAYMENTS),
    Kind.PAYMENT: (Kind.REFUND, roles.VOID_PAYMENTS),
}
# Later money actions on a booking wait for the earlier ones: Wix sees them in the order staff made them.
CHAINED_KINDS = (*DeskAction.MONEY_KINDS, Kind.REFUND, Kind.VOID_PLAN_CHARGE, Kind.CANCEL_BOOKING)


# --- results ---------------------------------------------------------------------------------


@dataclass
class SettleRow:
    booking: Booking
    resolution: str  # "plan" | "cash" | "owes" | "paid"
    balance: BenefitBalance | None
    amount_due: Decimal
    check_in: bool = True


@dataclass
class SettleChoice:
    booking_id: int
    resolution: str  # "plan" | "cash" | "card" | "check" | "owes" | "skip"
    balance_id: int | None = None
    amount: Decimal | None = None
    check_in: bool | None = None


# --- customers ---------------------------------------------------------------------------------


def customer_create(
    *,
    user: Any,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    idempotency_key: str,
) -> Contact:
    """A new customer, usable at once (a local contact); the worker creates it in Wix.

    Raises ``BookingError`` ``contact_invalid`` (a first name and an email or phone are needed,
    the email must look like one) or ``contact_duplicate`` (that email is in the mirror already).
    """
    _require_key(idempotency_key)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, phone = (email or "").strip(), (phone or "").strip()
    if not first_name or not (email or phone):
        raise BookingError("Give a first name and an email address or a phone number.", code="contact_invalid")
    if email and not EMAIL_PATTERN.match(email):
        raise BookingError(f"“{email}” doesn't look like an email address.", code="contact_invalid")
    if phone and sum(ch.isdigit() for ch in phone) < 5:
        raise BookingError(f"“{phone}” doesn't look like a phone number.", code="contact_invalid")
    with transaction.atomic():
        existing = _existing(idempotency_key, Kind.CONTACT_CREATE)
        if existing is not None and existing.contact is not None:
            return existing.contact
        if email and Contact.objects.filter(search_email=email.casefold()).exists():
            other = Contact.objects.filter(search_email=email.casefold()).first()
            raise BookingError(
                f"{other} already has the email {email}: choose them from the search instead.",
                code="contact_duplicate",
            )
        contact = Contact.objects.create(first_name=first_name, last_name=last_name, email=email, phone=phone)
        _new_action(
            user=user,
            kind=Kind.CONTACT_CREATE,
            key=idempotency_key,
            contact=contact,
            params={"first_name": first_name, "last_name": last_name, "email": email, "phone": phone},
        )
        audit_record(
            user=user,
            action="contact.create",
            obj_type="contact",
            obj_id=contact.pk,
            summary=f"Added customer {contact}",
            after={"first_name": first_name, "last_name": last_name, "email": email, "phone": phone},
        )
    return contact


# --- walk-ins --------------------------------------------------------------------------------


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
    _require_key(idempotency_key)
    if not isinstance(participants, int) or participants < 1:
        raise BookingError("At least one participant.", code="participants_invalid")
    may_override = bool(override_capacity) and _has_perm(user, roles.OVERRIDE_CAPACITY)
    with transaction.atomic():
        existing = _existing(idempotency_key, Kind.WALK_IN)
        if existing is not None:
            return existing.booking
        contact = Contact.objects.get(pk=contact.pk)
        if session is not None:
            session = Session.objects.select_for_update(of=("self",)).select_related("service").get(pk=session.pk)
            if session.is_cancelled:
                raise BookingError("This session is cancelled.", code="booking_cancelled")
            service = session.service
        elif service is not None:
            service = Service.objects.get(pk=service.pk)
        else:
            raise BookingError("Choose a session, a course or an appointment slot.", code="session_required")
        existing = _existing(idempotency_key, Kind.WALK_IN)  # the same form, racing: it won
        if existing is not None:
            return existing.booking

        if service.type == Service.Type.COURSE:
            kind, booking_session, capacity, taken = "course", None, *_course_places(service)
        elif service.type == Service.Type.APPOINTMENT:
            if session is not None and slot is None:
                slot = (session.raw or {}).get("slot")
            if not slot:
                raise BookingError("Choose a free slot for the appointment.", code="session_required")
            kind, capacity, taken = "appointment", None, 0
            booking_session = _appointment_session(service=service, slot=slot)
        else:
            if session is None:
                raise BookingError("Choose the class session to book.", code="session_required")
            kind, booking_session = "class", session
            capacity = session.capacity if session.capacity is not None else service.default_capacity
            taken = _places_taken(session)

        full = capacity is not None and taken + participants > capacity
        if full and not may_override:
            left = max(capacity - taken, 0)
            hint = " A manager can book them in anyway." if not override_capacity else ""
            raise BookingError(
                f"{'The course' if kind == 'course' else 'This class'} is full: {taken} of {capacity} places "
                f"are taken, {left} left.{hint}",
                code="session_full",
            )
        booking = Booking.objects.create(
            session=booking_session,
            service=service,
            contact=contact,
            status=Booking.Status.CONFIRMED,
            payment_status=PS.UNDEFINED,
            selected_payment_option=Booking.PaymentOption.UNDEFINED,
            total_participants=participants,
            pending_sync=True,
        )
        params: dict[str, Any] = {"type": kind, "participants": participants, "override_capacity": may_override}
        if kind == "appointment":
            params["slot"] = slot
        action = _new_action(
            user=user,
            kind=Kind.WALK_IN,
            key=idempotency_key,
            booking=booking,
            session=booking_session or session,
            contact=contact,
            depends_on=_contact_dependency(user=user, contact=contact),
            params=params,
        )
        what = booking_session.title if booking_session else service.name
        audit_record(
            user=user,
            action="booking.walk_in",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Walk-in: {contact} booked into {what}"
            + (f" ({participants} people)" if participants > 1 else ""),
            after={"status": booking.status, "participants": participants, "action": action.pk},
        )
        if full:
            audit_record(
                user=user,
                action="booking.override_capacity",
                obj_type="booking",
                obj_id=booking.pk,
                summary=f"Booked {contact} into full {what} ({taken}/{capacity} taken)",
                before={"taken": taken, "capacity": capacity},
                after={"taken": taken + participants, "capacity": capacity},
            )
    return booking


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


def _appointment_session(*, service: Service, slot: dict[str, Any]) -> Session:
    """The local session of an appointment slot (the sync names it after the booking later)."""
    tz_name = slot.get("timezone") or settings.TIME_ZONE
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError(f"Unknown time zone {tz_name!r} on the slot.", code="session_required") from None
    try:
        start, end = _local_dt(slot["start"], tz), _local_dt(slot["end"], tz)
    except (KeyError, TypeError, ValueError):
        raise BookingError("The slot has no valid start and end.", code="session_required") from None
    staff = StaffMember.objects.filter(resource_id=slot.get("resource_id") or "").first()
    Service.objects.select_for_update().filter(pk=service.pk).first()  # serialise bookings of this service
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
        schedule_id=service.schedule_id,
        raw={"slot": slot},
    )


def _local_dt(value: str, tz: ZoneInfo) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def appointment_slots(*, wix: WixClient, service: Service, day: date) -> list[dict[str, Any]]:
    """Free slots of an APPOINTMENT service on ``day``, one per slot and free staff member, in the
    shape :func:`walk_in_create` takes. The one desk function that reads Wix (List Availability
    Time Slots). Raises ``BookingError`` ``wix_unreachable`` when Wix can't be asked,
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
        raise BookingError(
            f"Wix can't be reached to list free slots right now ({exc.code}). Try again in a moment.",
            code="wix_unreachable",
        ) from exc
    tz_name = answer.get("timeZone") or tz_name
    slots: list[dict[str, Any]] = []
    for ts in answer.get("timeSlots") or []:
        location = ts.get("location") or {}
        resources = [r for group in ts.get("availableResources") or [] for r in group.get("resources") or []]
        for resource in resources or [{}]:
            slots.append(
                {
                    "start": ts.get("localStartDate"),
                    "end": ts.get("localEndDate"),
                    "resource_id": resource.get("id") or "",
                    "staff_name": resource.get("name") or "",
                    "location_id": location.get("id") or "",
                    "location_name": location.get("name") or "",
                    "location_type": location.get("locationType") or "BUSINESS",
                    "timezone": tz_name,
                }
            )
    return slots


# --- money -----------------------------------------------------------------------------------


def payment_record(*, user: Any, booking: Booking, method: str, amount: Decimal, idempotency_key: str) -> DeskAction:
    """Cash, card or cheque taken at the desk. The full amount due → PAID; less → PARTIALLY_PAID
    (another payment can follow for the rest).

    Raises ``BookingError`` ``method_invalid``, ``amount_invalid`` (not above 0, or more than is
    due), ``already_paid`` (nothing is due, e.g. another desk just took the money),
    ``booking_cancelled``.
    """
    _require_key(idempotency_key)
    method = (method or "").upper()
    if method not in METHODS:
        raise BookingError("Choose cash, card or cheque.", code="method_invalid")
    amount = _decimal(amount)
    with transaction.atomic():
        existing, booking = _lock_unless_done(booking, idempotency_key, Kind.PAYMENT)
        if existing is not None:
            return existing
        due = _amount_due(booking)
        if due <= 0:
            raise BookingError(_already_paid_message(booking), code="already_paid")
        if amount is None or amount <= 0 or amount > due:
            raise BookingError(f"Enter an amount above 0 and at most {_money(due, booking)}.", code="amount_invalid")
        full = amount == due
        before = _booking_money_state(booking)
        booking.payment_status = PS.PAID if full else PS.PARTIALLY_PAID
        _offline_option(booking)
        booking.pending_sync = True
        booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
        action = _new_action(
            user=user,
            kind=Kind.PAYMENT,
            key=idempotency_key,
            booking=booking,
            session=booking.session,
            contact=booking.contact,
            depends_on=_money_dependency(booking),
            params={"method": method, "amount": str(amount), "full": full, "due": str(due)},
            before={"booking": before},
        )
        audit_record(
            user=user,
            action=f"payment.{method.lower()}",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Took {_money(amount, booking)} {METHOD_LABELS[method]} from {booking.contact}"
            + ("" if full else f" ({_money(due - amount, booking)} still to pay)"),
            before=before,
            after={**_booking_money_state(booking), "amount": str(amount), "action": action.pk},
        )
    return action


def plan_charge(*, user: Any, booking: Booking, balance: BenefitBalance, idempotency_key: str) -> DeskAction:
    """Pay the booking with one credit of the customer's plan (``balance``: the pool).

    Raises ``BookingError`` ``plan_not_eligible`` (another member's plan, not active, or it does
    not cover this service), ``no_credits``, ``already_paid``, ``booking_cancelled``.
    """
    _require_key(idempotency_key)
    with transaction.atomic():
        existing, booking = _lock_unless_done(booking, idempotency_key, Kind.PLAN_CHARGE)
        if existing is not None:
            return existing
        balance = BenefitBalance.objects.select_for_update().get(pk=balance.pk)
        balance_member = balance.member
        problem = _plan_problem(booking, balance, balance_member)
        if problem is not None:
            raise BookingError(problem[1], code=problem[0])
        due = _amount_due(booking)
        if due <= 0:
            raise BookingError(_already_paid_message(booking), code="already_paid")
        before = _booking_money_state(booking)
        credits_before = balance.remaining_credits
        if not balance.unlimited:
            balance.remaining_credits = (balance.remaining_credits or Decimal("0")) - 1
            balance.save(update_fields=["remaining_credits"])
        booking.payment_status = PS.PAID
        booking.selected_payment_option = Booking.PaymentOption.MEMBERSHIP
        booking.pending_sync = True
        booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
        action = _new_action(
            user=user,
            kind=Kind.PLAN_CHARGE,
            key=idempotency_key,
            booking=booking,
            session=booking.session,
            contact=booking.contact,
            depends_on=_money_dependency(booking),
            params={
                "balance_id": balance.pk,
                "pool_id": balance.wix_id,
                "member_id": balance_member.wix_id,
                "plan_name": balance.name,
                "due": str(due),
            },
            before={"booking": before, "credits": _str_or_none(credits_before)},
        )
        audit_record(
            user=user,
            action="payment.plan",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Charged {booking.contact}'s {balance.name or 'plan'}"
            + ("" if balance.unlimited else f" ({balance.remaining_credits:g} credits left)"),
            before={**before, "credits": _str_or_none(credits_before)},
            after={
                **_booking_money_state(booking),
                "credits": _str_or_none(balance.remaining_credits),
                "action": action.pk,
            },
        )
    return action


def pay_later(*, user: Any, booking: Booking, idempotency_key: str) -> DeskAction:
    """They pay another day: NOT_PAID (in ecom mode an order is made so Wix shows it unpaid);
    the booking is on the owes list. Raises ``BookingError`` ``already_paid``, ``booking_cancelled``."""
    _require_key(idempotency_key)
    with transaction.atomic():
        existing, booking = _lock_unless_done(booking, idempotency_key, Kind.PAY_LATER)
        if existing is not None:
            return existing
        due = _amount_due(booking)
        if due <= 0:
            raise BookingError(_already_paid_message(booking), code="already_paid")
        before = _booking_money_state(booking)
        if booking.payment_status in (PS.UNDEFINED, PS.REFUNDED, PS.FAILED):
            booking.payment_status = PS.NOT_PAID
        _offline_option(booking)
        booking.pending_sync = True
        booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
        action = _new_action(
            user=user,
            kind=Kind.PAY_LATER,
            key=idempotency_key,
            booking=booking,
            session=booking.session,
            contact=booking.contact,
            depends_on=_money_dependency(booking),
            params={"due": str(due)},
            before={"booking": before},
        )
        audit_record(
            user=user,
            action="payment.later",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"{booking.contact} will pay {_money(due, booking)} later",
            before=before,
            after={**_booking_money_state(booking), "action": action.pk},
        )
    return action


# --- attendance ------------------------------------------------------------------------------


def attendance_mark(
    *, user: Any, booking: Booking, status: str, idempotency_key: str, session: Session | None = None
) -> DeskAction:
    """Check in (ATTENDED) or mark a no-show (NOT_ATTENDED). ``session`` defaults to the booking's;
    a course booking needs the course session it is about.

    Raises ``BookingError`` ``status_invalid``, ``session_required``, ``booking_cancelled``.
    """
    _require_key(idempotency_key)
    _check_attendance_status(status)
    with transaction.atomic():
        existing, booking = _lock_unless_done(booking, idempotency_key, Kind.ATTENDANCE)
        if existing is not None:
            return existing
        session = session or booking.session
        if session is None:
            raise BookingError("Say which session of the course this is for.", code="session_required")
        return _attendance_action(user=user, booking=booking, session=session, status=status, key=idempotency_key)


def attendance_mark_all(*, user: Any, session: Session, status: str, idempotency_key: str) -> list[DeskAction]:
    """Check in (or mark as no-show) everyone on the roster not in that state yet: one action each,
    sharing ``batch_id``. Raises ``BookingError`` ``status_invalid``."""
    _require_key(idempotency_key)
    _check_attendance_status(status)
    with transaction.atomic():
        done = list(DeskAction.objects.filter(batch_id=idempotency_key).order_by("pk"))
        if done:
            return done
        bookings = list(
            Booking.objects.select_for_update()
            .filter(_roster_q(session), status__in=Booking.ACTIVE_STATUSES)
            .order_by("pk")
        )
        done = list(DeskAction.objects.filter(batch_id=idempotency_key).order_by("pk"))
        if done:
            return done
        actions = _attendance_actions_bulk(
            user=user, bookings=bookings, session=session, status=status, batch_id=idempotency_key
        )
        if actions:
            _schedule_push(actions[0].run_after)
            label = "Checked in" if status == Attendance.Status.ATTENDED else "Marked as no-show"
            audit_record(
                user=user,
                action="attendance.mark_all",
                obj_type="session",
                obj_id=session.pk,
                summary=f"{label} {len(actions)} people in {session.title or session}",
                after={"status": status, "bookings": [a.booking_id for a in actions]},
            )
    return actions


def _attendance_actions_bulk(
    *, user: Any, bookings: list[Booking], session: Session, status: str, batch_id: str
) -> list[DeskAction]:
    """``_attendance_action`` for a whole roster in a fixed number of queries (check in all)."""
    current = {a.booking_id: a for a in Attendance.objects.filter(session=session, booking__in=bookings)}
    walk_ins = _walk_ins_by_booking(bookings)
    now = timezone.now()
    run_after = now + timedelta(seconds=getattr(settings, "DESK_UNDO_SECONDS", 8))
    to_create, to_update, actions = [], [], []
    for booking in bookings:
        row = current.get(booking.pk)
        if row is not None and row.status == status:
            continue
        before = {"existed": row is not None, "status": row.status if row else None}
        if row is None:
            to_create.append(
                Attendance(
                    booking=booking, session=session, status=status, number_of_attendees=booking.total_participants
                )
            )
        else:
            row.status, row.number_of_attendees = status, booking.total_participants
            to_update.append(row)
        actions.append(
            DeskAction(
                idempotency_key=f"{batch_id}:{booking.pk}",
                kind=Kind.ATTENDANCE,
                created_by=_person(user),
                created_at=now,
                run_after=run_after,
                booking=booking,
                session=session,
                contact_id=booking.contact_id,
                depends_on=walk_ins.get(booking.pk),
                batch_id=batch_id,
                params={"status": status, "attendees": booking.total_participants},
                before={"attendance": before},
            )
        )
    if not actions:
        return []
    Attendance.objects.bulk_create(to_create)
    Attendance.objects.bulk_update(to_update, ["status", "number_of_attendees"])
    Booking.objects.filter(pk__in=[a.booking_id for a in actions]).update(pending_sync=True)
    try:
        with transaction.atomic():
            return DeskAction.objects.bulk_create(actions)
    except IntegrityError:
        raise BookingError("This was just done from another screen.", code="duplicate_request") from None


def _attendance_action(
    *,
    user: Any,
    booking: Booking,
    session: Session,
    status: str,
    key: str,
    batch_id: str = "",
    schedule: bool = True,
    audit: bool = True,
) -> DeskAction:
    if booking.status not in Booking.ROSTER_STATUSES:
        raise BookingError(
            f"{booking.contact}'s booking is {booking.get_status_display().lower()}.", "booking_cancelled"
        )
    row = Attendance.objects.filter(booking=booking, session=session).first()
    before = {"existed": row is not None, "status": row.status if row else None}
    if row is None:
        row = Attendance(booking=booking, session=session)
    row.status = status
    row.number_of_attendees = booking.total_participants
    row.save()
    booking.pending_sync = True
    booking.save(update_fields=["pending_sync"])
    action = _new_action(
        user=user,
        kind=Kind.ATTENDANCE,
        key=key,
        booking=booking,
        session=session,
        contact_id=booking.contact_id,
        depends_on=_walk_in_dependency(booking),
        params={"status": status, "attendees": booking.total_participants},
        before={"attendance": before},
        batch_id=batch_id,
        schedule=schedule,
    )
    if audit:
        label = "Checked in" if status == Attendance.Status.ATTENDED else "Marked as no-show:"
        audit_record(
            user=user,
            action="attendance.mark",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"{label} {booking.contact}",
            before={"attendance": before["status"]},
            after={"attendance": status, "action": action.pk},
        )
    return action


def _check_attendance_status(status: str) -> None:
    if status not in ATTENDANCE_STATUSES:
        raise BookingError("Check in or mark as no-show.", code="status_invalid")


# --- settle the roster -----------------------------------------------------------------------


def settle_suggestions(*, session: Session) -> list[SettleRow]:
    """One row per live booking on the roster with a suggested resolution: ``paid`` when nothing
    is due, ``plan`` when an eligible plan has credit, else ``cash`` at the price due (``owes``
    only when staff choose it). A fixed number of queries however many rows."""
    rows = [r for r in selectors.roster_row_list(session=session) if r.booking.status in Booking.ACTIVE_STATUSES]
    bookings = [r.booking for r in rows]
    inflight = _inflight_by_booking([b.pk for b in bookings])
    synced = _synced_payments([r.booking for r in rows if not r.due_from_order], inflight)
    balances = _balances_by_contact([b.contact_id for b in bookings])
    out = []
    for row in rows:
        booking = row.booking
        due = _due_from_row(row, inflight.get(booking.pk, []), synced)
        balance = _best_balance(booking, balances.get(booking.contact_id, []))
        if due <= 0:
            resolution = "paid"
        elif balance is not None:
            resolution = "plan"
        else:
            resolution = "cash"
        out.append(
            SettleRow(
                booking=booking,
                resolution=resolution,
                balance=balance,
                amount_due=max(due, Decimal("0")),
                check_in=row.attendance != Attendance.Status.NOT_ATTENDED,
            )
        )
    return out


def settle_commit(*, user: Any, session: Session, rows: list[SettleChoice], idempotency_key: str) -> list[DeskAction]:
    """Commit a whole roster in one transaction: the money choice and the check-in of every row.

    Every row is validated first; if any is wrong nothing is written and ``BookingError``
    ``settle_invalid`` lists them (``.row_errors``: booking id → message). The actions share
    ``batch_id = idempotency_key``, so committing twice returns the first commit's actions.

    A fixed number of queries however many rows (SQLite's cap on query variables splits the
    bulk inserts into a few more batches): what the rows depend on is read in bulk with the
    bookings and balances locked, the mirror changes are worked out in memory, then written
    with bulk inserts and updates. Row by row it does what :func:`payment_record`,
    :func:`plan_charge`, :func:`pay_later` and :func:`attendance_mark` do.
    """
    _require_key(idempotency_key)
    with transaction.atomic():
        done = list(DeskAction.objects.filter(batch_id=idempotency_key).order_by("pk"))
        if done:
            return done
        ids = [r.booking_id for r in rows]
        bookings = {
            b.pk: b
            for b in Booking.objects.select_for_update(of=("self",))
            .filter(_roster_q(session), pk__in=ids)
            .select_related("contact", "service", "session")
            .order_by("pk")  # one lock order everywhere: no deadlock between two settles
        }
        done = list(DeskAction.objects.filter(batch_id=idempotency_key).order_by("pk"))
        if done:  # the same form, committed from another screen while we waited for the rows
            return done
        balance_ids = {r.balance_id for r in rows if r.balance_id}
        balances = {
            b.pk: b
            for b in BenefitBalance.objects.select_for_update(of=("self",))
            .filter(pk__in=balance_ids)
            .select_related("member")
            .order_by("pk")
        }
        attendance = {a.booking_id: a for a in Attendance.objects.filter(session=session, booking_id__in=ids)}
        inflight = _inflight_by_booking(list(bookings))
        dues = _amounts_due(list(bookings.values()), inflight=inflight)
        errors: dict[int, str] = {}
        credits_used: dict[int, int] = defaultdict(int)
        seen: set[int] = set()
        for choice in rows:
            booking = bookings.get(choice.booking_id)
            if booking is None or choice.booking_id in seen:
                errors[choice.booking_id] = "Not on this roster (or listed twice)."
                continue
            seen.add(choice.booking_id)
            who = str(booking.contact)
            resolution = (choice.resolution or "").lower()
            due = dues.get(booking.pk, Decimal("0"))
            if resolution not in ("plan", "cash", "card", "check", "owes", "skip", "paid"):
                errors[booking.pk] = f"{who}: choose plan, cash, card, cheque, owes or skip."
            elif booking.status not in Booking.ACTIVE_STATUSES and resolution != "skip":
                errors[booking.pk] = f"{who}: the booking is {booking.get_status_display().lower()}."
            elif resolution in ("plan", "cash", "card", "check", "owes") and due <= 0:
                errors[booking.pk] = f"{who}: nothing is due."
            elif resolution == "plan":
                balance = balances.get(choice.balance_id or 0)
                problem = (
                    ("plan_not_eligible", "Choose one of their plans.")
                    if balance is None
                    else _plan_problem(booking, balance, balance.member, already_used=credits_used[balance.pk])
                )
                if problem is not None:
                    errors[booking.pk] = f"{who}: {problem[1]}"
                else:
                    credits_used[balance.pk] += 1
            elif resolution in ("cash", "card", "check"):
                amount = due if choice.amount is None else _decimal(choice.amount)
                if amount is None or amount <= 0 or amount > due:
                    errors[booking.pk] = f"{who}: enter an amount above 0 and at most {_money(due, booking)}."
        if errors:
            exc = BookingError(
                f"Nothing was saved — fix {len(errors)} row{'s' if len(errors) != 1 else ''}: "
                + "; ".join(errors.values()),
                code="settle_invalid",
            )
            exc.row_errors = errors  # type: ignore[attr-defined]
            raise exc

        # What each action waits for, as _money_dependency / _walk_in_dependency would say.
        walk_ins = _walk_ins_by_booking(bookings.values())
        now = timezone.now()
        run_after = now + timedelta(seconds=getattr(settings, "DESK_UNDO_SECONDS", 8))
        created_by = _person(user)
        actions: list[DeskAction] = []
        audits: list[AuditEntry] = []
        changed: dict[int, Booking] = {}  # pending_sync, and the money state of those that paid
        money_changed: set[int] = set()
        new_attendance: list[Attendance] = []
        changed_attendance: list[Attendance] = []

        def action(kind: str, key: str, booking: Booking, **fields: Any) -> DeskAction:
            made = DeskAction(
                idempotency_key=key,
                kind=kind,
                created_by=created_by,
                created_at=now,
                run_after=run_after,
                booking=booking,
                contact_id=booking.contact_id,
                batch_id=idempotency_key,
                **fields,
            )
            actions.append(made)
            changed[booking.pk] = booking
            if kind != Kind.ATTENDANCE:
                money_changed.add(booking.pk)
            return made

        for choice in rows:
            booking = bookings[choice.booking_id]
            resolution = choice.resolution.lower()
            due = dues.get(booking.pk, Decimal("0"))
            before = _booking_money_state(booking)
            key = f"{idempotency_key}:{booking.pk}"
            live = inflight.get(booking.pk)
            money = {
                "session": booking.session or session,
                "depends_on": live[-1] if live else walk_ins.get(booking.pk),
            }
            if resolution in ("cash", "card", "check"):
                method = resolution.upper()
                amount = due if choice.amount is None else _decimal(choice.amount)
                assert amount is not None
                full = amount == due
                booking.payment_status = PS.PAID if full else PS.PARTIALLY_PAID
                _offline_option(booking)
                action(
                    Kind.PAYMENT,
                    f"{key}:pay",
                    booking,
                    params={"method": method, "amount": str(amount), "full": full, "due": str(due)},
                    before={"booking": before},
                    **money,
                )
                audits.append(
                    audit_entry(
                        user=user,
                        action=f"payment.{method.lower()}",
                        obj_type="booking",
                        obj_id=booking.pk,
                        summary=f"Settle: took {_money(amount, booking)} {METHOD_LABELS[method]} "
                        f"from {booking.contact}",
                        before=before,
                        after={**_booking_money_state(booking), "amount": str(amount), "batch": idempotency_key},
                    )
                )
            elif resolution == "plan":
                balance = balances[choice.balance_id or 0]
                credits_before = balance.remaining_credits
                if not balance.unlimited:
                    balance.remaining_credits = (balance.remaining_credits or Decimal("0")) - 1
                booking.payment_status = PS.PAID
                booking.selected_payment_option = Booking.PaymentOption.MEMBERSHIP
                action(
                    Kind.PLAN_CHARGE,
                    f"{key}:plan",
                    booking,
                    params={
                        "balance_id": balance.pk,
                        "pool_id": balance.wix_id,
                        "member_id": balance.member.wix_id,
                        "plan_name": balance.name,
                        "due": str(due),
                    },
                    before={"booking": before, "credits": _str_or_none(credits_before)},
                    **money,
                )
                audits.append(
                    audit_entry(
                        user=user,
                        action="payment.plan",
                        obj_type="booking",
                        obj_id=booking.pk,
                        summary=f"Settle: charged {booking.contact}'s {balance.name or 'plan'}",
                        before={**before, "credits": _str_or_none(credits_before)},
                        after={**_booking_money_state(booking), "batch": idempotency_key},
                    )
                )
            elif resolution == "owes":
                if booking.payment_status in (PS.UNDEFINED, PS.REFUNDED, PS.FAILED):
                    booking.payment_status = PS.NOT_PAID
                _offline_option(booking)
                action(
                    Kind.PAY_LATER,
                    f"{key}:later",
                    booking,
                    params={"due": str(due)},
                    before={"booking": before},
                    **money,
                )
                audits.append(
                    audit_entry(
                        user=user,
                        action="payment.later",
                        obj_type="booking",
                        obj_id=booking.pk,
                        summary=f"Settle: {booking.contact} owes {_money(due, booking)}",
                        before=before,
                        after={**_booking_money_state(booking), "batch": idempotency_key},
                    )
                )
            if choice.check_in is not None and booking.status in Booking.ACTIVE_STATUSES:
                wanted = Attendance.Status.ATTENDED if choice.check_in else Attendance.Status.NOT_ATTENDED
                row = attendance.get(booking.pk)
                if row is None or row.status != wanted:
                    was = {"existed": row is not None, "status": row.status if row else None}
                    if row is None:
                        row = Attendance(booking=booking, session=session)
                        new_attendance.append(row)
                    else:
                        changed_attendance.append(row)
                    row.status, row.number_of_attendees = wanted, booking.total_participants
                    action(
                        Kind.ATTENDANCE,
                        f"{key}:attendance",
                        booking,
                        session=session,
                        depends_on=walk_ins.get(booking.pk),
                        params={"status": wanted, "attendees": booking.total_participants},
                        before={"attendance": was},
                    )
        if not actions:
            return []
        try:
            with transaction.atomic():
                DeskAction.objects.bulk_create(actions)
        except IntegrityError:
            # The same rows committed with another form at the same moment: the other request made them.
            raise BookingError("This was just done from another screen.", code="duplicate_request") from None
        # One UPDATE per distinct new state (a handful, however many rows): cheaper than
        # bulk_update's CASE per row, and the rows are locked, so nothing else changed them.
        Attendance.objects.bulk_create(new_attendance)
        _update_in_groups(Attendance, changed_attendance, ("status", "number_of_attendees"))
        for booking in changed.values():
            booking.pending_sync = True
        paid = [b for b in changed.values() if b.pk in money_changed]
        _update_in_groups(Booking, paid, ("payment_status", "selected_payment_option", "pending_sync"))
        _update_in_groups(Booking, [b for b in changed.values() if b.pk not in money_changed], ("pending_sync",))
        by_credits_used: dict[int, list[int]] = defaultdict(list)
        for balance in balances.values():
            if credits_used.get(balance.pk) and not balance.unlimited:
                by_credits_used[credits_used[balance.pk]].append(balance.pk)
        for used, pks in by_credits_used.items():
            BenefitBalance.objects.filter(pk__in=pks).update(remaining_credits=F("remaining_credits") - used)
        audits.append(
            audit_entry(
                user=user,
                action="settle.commit",
                obj_type="session",
                obj_id=session.pk,
                summary=f"Settled {session.title or session}: {len(rows)} rows, {len(actions)} actions",
                after={"batch": idempotency_key, "actions": len(actions)},
            )
        )
        AuditEntry.objects.bulk_create(audits)
        _schedule_push(run_after)
    return actions


# --- undo, resolve, reverse ------------------------------------------------------------------


def action_undo(*, user: Any, action: DeskAction) -> None:
    """Take back an action still in its undo window: the mirror is put back as it was, nothing
    reaches Wix; what waited on it (a payment on an undone walk-in) goes too.

    Raises ``BookingError`` ``too_late_to_undo`` once the window has passed or the worker has it.
    """
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if not action.can_undo():
            raise BookingError(
                "Too late to undo: this has gone to Wix (or is on its way). Use reverse instead.",
                code="too_late_to_undo",
            )
        _drop(user=user, action=action, status=Status.UNDONE, verb="undo")


def action_resolve(*, user: Any, action: DeskAction, choice: str) -> DeskAction | None:
    """What staff decided about an action Wix refused (NEEDS_ATTENTION):

    * ``retry`` — send it again (after fixing things in Wix, say);
    * ``override`` — a manager books the walk-in into the full class anyway;
    * ``cash_instead`` — the plan had no credit: take cash at the price (returns the new action);
    * ``remove`` — drop the walk-in / payment and put the mirror back (returns None).

    Raises ``BookingError`` ``not_needing_attention``, ``choice_invalid``, ``forbidden``.
    """
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if action.status != Status.NEEDS_ATTENTION:
            raise BookingError("This doesn't need attention any more.", code="not_needing_attention")
        if choice == "retry":
            _requeue(action)
            audit_record(
                user=user,
                action="desk.retry",
                obj_type="desk_action",
                obj_id=action.pk,
                summary=f"Retry: {action.get_kind_display()} for {_who(action)}",
                before={"error": action.error_code},
            )
            return action
        if choice == "override":
            if action.kind != Kind.WALK_IN:
                raise BookingError("Only a walk-in can be booked in over capacity.", code="choice_invalid")
            if not _has_perm(user, roles.OVERRIDE_CAPACITY):
                raise BookingError("Only a manager can book someone into a full class.", code="forbidden")
            action.params = {**action.params, "override_capacity": True}
            _requeue(action)
            audit_record(
                user=user,
                action="booking.override_capacity",
                obj_type="booking",
                obj_id=action.booking_id,
                summary=f"Override: {_who(action)} booked into a full session",
                before={"error": action.error_code},
                after={"override_capacity": True},
            )
            return action
        if choice == "cash_instead":
            if action.kind != Kind.PLAN_CHARGE:
                raise BookingError("Cash instead is for a plan charge that failed.", code="choice_invalid")
            return _cash_instead(user=user, action=action)
        if choice == "remove":
            _drop(user=user, action=action, status=Status.REMOVED, verb="remove")
            return None
    raise BookingError("Choose retry, override, cash instead or remove.", code="choice_invalid")


def action_reverse(*, user: Any, action: DeskAction, idempotency_key: str) -> DeskAction:
    """Take back an action Wix already has, the way Wix allows, as a new action: a walk-in is
    cancelled, a plan charge voided (the credit comes back), a payment refunded.

    Raises ``BookingError`` ``not_reversible`` (not synced, or nothing Wix can take back),
    ``already_reversed``, ``forbidden`` (voids and refunds need the void-payments permission).
    """
    _require_key(idempotency_key)
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if action.kind not in REVERSALS:
            raise BookingError("This can't be taken back.", code="not_reversible")
        reverse_kind, permission = REVERSALS[action.kind]
        existing = _existing(idempotency_key, reverse_kind)
        if existing is not None:
            return existing
        if action.status != Status.SYNCED:
            raise BookingError(
                "Only what Wix already has can be reversed; undo or remove it instead.", code="not_reversible"
            )
        if permission and not _has_perm(user, permission):
            raise BookingError("Only a manager can void or refund a payment.", code="forbidden")
        if DeskAction.objects.filter(
            params__reverses=action.pk, status__in=(*DeskAction.LIVE_STATUSES, Status.SYNCED)
        ).exists():
            raise BookingError("This was already reversed.", code="already_reversed")
        if action.booking is None:
            raise BookingError("The booking is gone.", code="not_reversible")
        booking = _lock_booking(action.booking, allow_cancelled=reverse_kind != Kind.CANCEL_BOOKING)
        before = _booking_money_state(booking) | {"status": booking.status}
        extra: dict[str, Any] = {}
        params: dict[str, Any] = {"reverses": action.pk}
        if reverse_kind == Kind.CANCEL_BOOKING:
            booking.status = Booking.Status.CANCELED
            summary = f"Cancelled {booking.contact}'s booking"
            audit_action = "booking.cancel"
        elif reverse_kind == Kind.VOID_PLAN_CHARGE:
            balance = BenefitBalance.objects.select_for_update().filter(pk=action.params.get("balance_id")).first()
            if balance is not None and not balance.unlimited:
                extra["credits"] = _str_or_none(balance.remaining_credits)
                balance.remaining_credits = (balance.remaining_credits or Decimal("0")) + 1
                balance.save(update_fields=["remaining_credits"])
            booking.payment_status = PS.NOT_PAID
            booking.selected_payment_option = Booking.PaymentOption.OFFLINE
            params.update({k: action.params.get(k) for k in ("balance_id", "pool_id", "member_id", "plan_name")})
            summary = f"Voided the plan charge for {booking.contact} (credit back)"
            audit_action = "payment.void_plan"
        else:
            booking.payment_status = PS.REFUNDED
            params.update({"amount": action.params.get("amount"), "method": action.params.get("method")})
            method_label = METHOD_LABELS.get(action.params.get("method"), "")
            summary = f"Refunded {action.params.get('amount')} {method_label} to {booking.contact}"
            audit_action = "payment.refund"
        booking.pending_sync = True
        booking.save(update_fields=["status", "payment_status", "selected_payment_option", "pending_sync"])
        reverse = _new_action(
            user=user,
            kind=reverse_kind,
            key=idempotency_key,
            booking=booking,
            session=booking.session,
            contact=booking.contact,
            depends_on=_money_dependency(booking),
            params=params,
            before={"booking": before, **extra},
            undo_window=False,
        )
        audit_record(
            user=user,
            action=audit_action,
            obj_type="booking",
            obj_id=booking.pk,
            summary=summary,
            before={**before, **extra},
            after={**_booking_money_state(booking), "status": booking.status, "action": reverse.pk},
        )
    return reverse


def _requeue(action: DeskAction) -> None:
    action.requeue()
    _schedule_push(action.run_after)


def _cash_instead(*, user: Any, action: DeskAction) -> DeskAction:
    booking = action.booking
    assert booking is not None
    _drop(user=user, action=action, status=Status.REMOVED, verb="cash_instead", cascade=False)
    booking = _lock_booking(booking)
    due = _amount_due(booking)
    if due <= 0:
        raise BookingError(_already_paid_message(booking), code="already_paid")
    before = _booking_money_state(booking)
    booking.payment_status = PS.PAID
    _offline_option(booking)
    booking.pending_sync = True
    booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
    cash = _new_action(
        user=user,
        kind=Kind.PAYMENT,
        key=f"{action.idempotency_key}:cash",
        booking=booking,
        session=booking.session,
        contact=booking.contact,
        depends_on=_money_dependency(booking),
        params={"method": "CASH", "amount": str(due), "full": True, "due": str(due), "instead_of": action.pk},
        before={"booking": before},
        undo_window=False,
    )
    # Whatever waited on the plan charge now waits on the cash.
    DeskAction.objects.filter(depends_on=action, status__in=DeskAction.LIVE_STATUSES).update(depends_on=cash)
    audit_record(
        user=user,
        action="payment.cash",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Cash instead of the plan: took {_money(due, booking)} from {booking.contact}",
        before=before,
        after={**_booking_money_state(booking), "amount": str(due), "action": cash.pk},
    )
    return cash


def _drop(*, user: Any, action: DeskAction, status: str, verb: str, cascade: bool = True) -> None:
    """Mark ``action`` (and, with ``cascade``, what waits on it) UNDONE/REMOVED and put back what it
    changed in the mirror — latest first, so chained changes unwind in order."""
    chain = [action]
    if cascade:
        frontier = [action.pk]
        while frontier:
            nxt = list(
                DeskAction.objects.select_for_update()
                .filter(depends_on_id__in=frontier, status__in=DeskAction.LIVE_STATUSES)
                .order_by("pk")
            )
            chain.extend(nxt)
            frontier = [a.pk for a in nxt]
    touched: set[int] = set()
    for item in sorted(chain, key=lambda a: a.pk, reverse=True):
        was = item.status
        _restore(item)
        item.status = status
        item.next_attempt_at = None
        item.save(update_fields=["status", "next_attempt_at", "updated_at"])
        if item.booking_id:
            touched.add(item.booking_id)
        audit_record(
            user=user,
            action=f"desk.{verb}",
            obj_type="booking" if item.booking_id else "contact",
            obj_id=item.booking_id or item.contact_id,
            summary=f"{verb.replace('_', ' ').capitalize()}: {item.get_kind_display()} for {_who(item)}",
            before={"status": was, "action": item.pk},
            after={"status": status},
        )
    for booking_id in touched:
        DeskAction.refresh_pending(booking_id)


def _restore(action: DeskAction) -> None:
    """Put back what ``action`` changed in the mirror."""
    booking = Booking.objects.select_for_update().filter(pk=action.booking_id).first() if action.booking_id else None
    before = action.before or {}
    if action.kind == Kind.WALK_IN and booking is not None:
        booking.status = Booking.Status.CANCELED
        booking.save(update_fields=["status"])
        if (
            booking.session_id
            and booking.session.service.type == Service.Type.APPOINTMENT
            and not booking.session.wix_id
        ):
            Session.objects.filter(pk=booking.session_id).update(status="CANCELLED")
    elif action.kind == Kind.ATTENDANCE and booking is not None and action.session_id:
        previous = before.get("attendance") or {}
        row = Attendance.objects.filter(booking=booking, session_id=action.session_id).first()
        if row is not None:
            if previous.get("existed"):
                row.status = previous.get("status") or Attendance.Status.NOT_SET
                row.save(update_fields=["status"])
            elif row.wix_id is None:
                row.delete()
            else:
                row.status = Attendance.Status.NOT_SET
                row.save(update_fields=["status"])
    elif action.kind in (Kind.PLAN_CHARGE, Kind.VOID_PLAN_CHARGE):
        balance = BenefitBalance.objects.select_for_update().filter(pk=action.params.get("balance_id")).first()
        if balance is not None and not balance.unlimited:
            step = 1 if action.kind == Kind.PLAN_CHARGE else -1
            balance.remaining_credits = (balance.remaining_credits or Decimal("0")) + step
            balance.save(update_fields=["remaining_credits"])
    if booking is not None and "booking" in before:
        state = before["booking"]
        for name in ("payment_status", "selected_payment_option", "status"):
            if name in state:
                setattr(booking, name, state[name])
        booking.save(update_fields=["payment_status", "selected_payment_option", "status"])


# --- shared helpers --------------------------------------------------------------------------


def _require_key(key: str) -> None:
    if not key or not isinstance(key, str) or len(key) > MAX_KEY:
        raise BookingError("This form has expired; reload the page and try again.", code="idempotency_missing")


def _existing(key: str, kind: str) -> DeskAction | None:
    action = DeskAction.objects.filter(idempotency_key=key).select_related("booking", "contact").first()
    if action is not None and action.kind != kind:
        raise BookingError("This form was already used for something else; reload the page.", code="duplicate_request")
    return action


def _new_action(
    *,
    user: Any,
    kind: str,
    key: str,
    booking: Booking | None = None,
    session: Session | None = None,
    contact: Contact | None = None,
    contact_id: int | None = None,
    depends_on: DeskAction | None = None,
    params: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    batch_id: str = "",
    schedule: bool = True,
    undo_window: bool = True,
) -> DeskAction:
    now = timezone.now()
    seconds = getattr(settings, "DESK_UNDO_SECONDS", 8) if undo_window else 0
    action = DeskAction(
        idempotency_key=key,
        kind=kind,
        created_by=_person(user),
        created_at=now,
        run_after=now + timedelta(seconds=seconds),
        booking=booking,
        session=session,
        contact=contact,
        depends_on=depends_on,
        batch_id=batch_id,
        params=params or {},
        before=before or {},
    )
    if contact_id is not None:
        action.contact_id = contact_id
    try:
        with transaction.atomic():
            action.save(force_insert=True)
    except IntegrityError:
        # The same form posted twice at the same moment: the other request made it.
        raise BookingError("This was just done from another screen.", code="duplicate_request") from None
    if schedule:
        _schedule_push(action.run_after)
    return action


def _update_in_groups(model: type[Any], objs: list[Any], fields: tuple[str, ...]) -> None:
    """Save ``fields`` of ``objs``: one UPDATE per distinct combination of their values."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for obj in objs:
        groups[tuple(getattr(obj, name) for name in fields)].append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))


def _schedule_push(run_after: datetime) -> None:
    """Once this transaction commits, ask for a push by ``run_after`` (``tasks`` listens)."""
    transaction.on_commit(lambda: signals.desk_actions_queued.send(sender=DeskAction, run_after=run_after))


def _person(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _has_perm(user: Any, permission: str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_perm(permission))


def _who(action: DeskAction) -> str:
    contact = action.contact or (action.booking.contact if action.booking else None)
    return str(contact) if contact else f"action {action.pk}"


def _lock_booking(booking: Booking, *, allow_cancelled: bool = False) -> Booking:
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("contact", "service", "session")
        .get(pk=booking.pk)
    )
    if not allow_cancelled and booking.status not in Booking.ROSTER_STATUSES:
        raise BookingError(
            f"{booking.contact}'s booking is {booking.get_status_display().lower()}.", code="booking_cancelled"
        )
    return booking


def _roster_q(session: Session) -> Q:
    q = Q(session=session)
    if session.service.type == Service.Type.COURSE:
        q |= Q(session__isnull=True, service_id=session.service_id)
    return q


def _contact_dependency(*, user: Any, contact: Contact) -> DeskAction | None:
    """The action that creates ``contact`` in Wix, when it isn't there yet (made anew if the
    first one was undone or removed)."""
    if contact.wix_id:
        return None
    found = (
        DeskAction.objects.filter(contact=contact, kind=Kind.CONTACT_CREATE)
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("-pk")
        .first()
    )
    if found is not None:
        return found
    return _new_action(
        user=user,
        kind=Kind.CONTACT_CREATE,
        key=f"contact:{contact.pk}:{uuid.uuid4().hex}",
        contact=contact,
        params={
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
        },
    )


def _walk_in_dependency(booking: Booking) -> DeskAction | None:
    if booking.wix_id:
        return None
    return (
        DeskAction.objects.filter(booking=booking, kind=Kind.WALK_IN)
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("-pk")
        .first()
    )


def _money_dependency(booking: Booking) -> DeskAction | None:
    """The latest money action of the booking still on its way, else its walk-in."""
    latest = (
        DeskAction.objects.filter(booking=booking, kind__in=CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES)
        .order_by("-pk")
        .first()
    )
    return latest or _walk_in_dependency(booking)


def _walk_ins_by_booking(bookings: Iterable[Booking]) -> dict[int, DeskAction]:
    """:func:`_walk_in_dependency` for many bookings in one query (none when all are in Wix)."""
    unsynced = [b.pk for b in bookings if not b.wix_id]
    walk_ins: dict[int, DeskAction] = {}
    if unsynced:
        for walk_in in (
            DeskAction.objects.filter(booking_id__in=unsynced, kind=Kind.WALK_IN)
            .exclude(status__in=(Status.UNDONE, Status.REMOVED))
            .order_by("pk")
        ):
            walk_ins[walk_in.booking_id] = walk_in  # the latest one wins, as in _walk_in_dependency
    return walk_ins


def _inflight_by_booking(booking_ids: Iterable[int]) -> dict[int, list[DeskAction]]:
    out: dict[int, list[DeskAction]] = defaultdict(list)
    for action in DeskAction.objects.filter(
        booking_id__in=list(booking_ids), kind__in=CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).order_by("pk"):
        out[action.booking_id].append(action)
    return out


def _inflight_reduction(actions: list[DeskAction], *, gross: Decimal) -> Decimal:
    """How much of ``gross`` the desk actions still on their way to Wix already settle."""
    taken = Decimal("0")
    for action in actions:
        if action.kind == Kind.PAYMENT:
            taken += Decimal(action.params.get("amount") or "0")
        elif action.kind == Kind.PLAN_CHARGE:
            taken = gross
    return taken


def _amounts_due(bookings: list[Booking], *, inflight: dict[int, list[DeskAction]] | None = None) -> dict[int, Decimal]:
    """Booking pk → what is still to pay, counting desk payments not in Wix yet. Two queries
    (three when a booking was part paid; ``inflight``, from :func:`_inflight_by_booking`, saves one)."""
    ids = [b.pk for b in bookings]
    orders: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for line in (
        OrderLineItem.objects.filter(booking_id__in=ids).exclude(order__status="CANCELED").select_related("order")
    ):
        orders[line.booking_id][line.order_id] = line.order.balance
    if inflight is None:
        inflight = _inflight_by_booking(ids)
    synced = _synced_payments([b for b in bookings if b.pk not in orders], inflight)
    due: dict[int, Decimal] = {}
    for booking in bookings:
        due[booking.pk] = _due(booking, orders.get(booking.pk), inflight.get(booking.pk, []), synced)
    return due


def _amount_due(booking: Booking) -> Decimal:
    return _amounts_due([booking])[booking.pk]


def _due(
    booking: Booking,
    orders: dict[int, Decimal] | None,
    inflight: list[DeskAction],
    synced: dict[int, Decimal] | None = None,
) -> Decimal:
    """``synced``: from :func:`_synced_payments` for a batch of bookings (else one query here
    when the booking was part paid)."""
    price = (booking.service.price or Decimal("0")) * booking.total_participants
    if orders:
        # Wix's truth (as last mirrored), less what the desk took that Wix hasn't heard of yet.
        gross = sum(orders.values(), Decimal("0"))
        return gross - _inflight_reduction(inflight, gross=gross)
    if not inflight:
        if booking.payment_status in (PS.PAID, PS.EXEMPT):
            return Decimal("0")
        if booking.payment_status == PS.PARTIALLY_PAID:
            return price - _synced_paid(booking, synced)
        return price
    # No order: the booking's state before the first action on its way is the base.
    base_status = _base_payment_status(booking, inflight)
    if base_status in (PS.PAID, PS.EXEMPT):
        return Decimal("0")
    gross = price
    if base_status == PS.PARTIALLY_PAID:
        gross -= _synced_paid(booking, synced)
    return gross - _inflight_reduction(inflight, gross=gross)


def _base_payment_status(booking: Booking, inflight: list[DeskAction]) -> str:
    """The booking's payment status before the desk actions still on their way."""
    if not inflight:
        return booking.payment_status
    first = inflight[0].before.get("booking") or {}
    return first.get("payment_status", booking.payment_status)


def _synced_paid(booking: Booking, synced: dict[int, Decimal] | None) -> Decimal:
    """What the desk took for ``booking`` that is in Wix already (its SYNCED payments)."""
    if synced is not None:
        return synced.get(booking.pk, Decimal("0"))
    paid = (
        DeskAction.objects.filter(booking=booking, kind=Kind.PAYMENT, status=Status.SYNCED)
        .values_list("params", flat=True)
        .iterator()
    )
    return sum((Decimal(p.get("amount") or "0") for p in paid), Decimal("0"))


def _synced_payments(bookings: Iterable[Booking], inflight: dict[int, list[DeskAction]]) -> dict[int, Decimal]:
    """:func:`_synced_paid` for every part-paid booking of ``bookings`` in one query (none when
    no booking was part paid)."""
    part_paid = [b.pk for b in bookings if _base_payment_status(b, inflight.get(b.pk, [])) == PS.PARTIALLY_PAID]
    paid: dict[int, Decimal] = defaultdict(Decimal)
    if part_paid:
        for booking_id, params in DeskAction.objects.filter(
            booking_id__in=part_paid, kind=Kind.PAYMENT, status=Status.SYNCED
        ).values_list("booking_id", "params"):
            paid[booking_id] += Decimal(params.get("amount") or "0")
    return paid


def _due_from_row(
    row: selectors.RosterRow, inflight: list[DeskAction], synced: dict[int, Decimal] | None = None
) -> Decimal:
    booking = row.booking
    if row.due_from_order:
        gross = row.amount_due or Decimal("0")
        return gross - _inflight_reduction(inflight, gross=gross)
    if row.charged_to_plan and not inflight:
        return Decimal("0")
    return _due(booking, None, inflight, synced)


def _balances_by_contact(contact_ids: list[int]) -> dict[int, list[BenefitBalance]]:
    out: dict[int, list[BenefitBalance]] = defaultdict(list)
    for balance in (
        BenefitBalance.objects.filter(member__contact_id__in=contact_ids, status__iexact="ACTIVE")
        .select_related("member", "plan_order")
        .order_by("pk")
    ):
        out[balance.member.contact_id].append(balance)
    return out


def _best_balance(booking: Booking, balances: list[BenefitBalance]) -> BenefitBalance | None:
    """The plan to suggest: unlimited first, then the pass that runs out soonest."""
    fitting = [b for b in balances if _plan_problem(booking, b, b.member) is None]
    if not fitting:
        return None

    def rank(b: BenefitBalance) -> tuple[int, datetime, Decimal, int]:
        end = b.plan_order.end if b.plan_order and b.plan_order.end else datetime.max.replace(tzinfo=UTC)
        return (0 if b.unlimited else 1, end, b.remaining_credits or Decimal("0"), b.pk)

    return min(fitting, key=rank)


def _plan_problem(
    booking: Booking, balance: BenefitBalance, member: Any, *, already_used: int = 0
) -> tuple[str, str] | None:
    """Why ``balance`` can't pay for ``booking`` (code, message), or None."""
    name = balance.name or "This plan"
    if member is None or member.contact_id != booking.contact_id:
        return "plan_not_eligible", f"{name} belongs to someone else."
    if (balance.status or "").upper() != "ACTIVE":
        return "plan_not_eligible", f"{name} is not active ({(balance.status or 'unknown').lower()})."
    covered = balance.covered_service_ids or []
    # An empty list means the mirror doesn't know the plan's coverage; Wix decides when pushed.
    if covered and booking.service.wix_id not in covered:
        return "plan_not_eligible", f"{name} doesn't cover {booking.service.name}."
    if not balance.wix_id or not member.wix_id:
        return "plan_not_eligible", f"{name} isn't in Wix yet."
    if not balance.unlimited and (balance.remaining_credits or Decimal("0")) - already_used < 1:
        return "no_credits", f"No credits left on {name}."
    return None


def _lock_unless_done(booking: Booking, key: str, kind: str) -> tuple[DeskAction | None, Booking]:
    """The action this idempotency key already made, if any; else the booking, row-locked.

    Looked up before and after taking the lock: the same form posted twice at once waits on the
    lock, then finds what the first request made instead of acting again.
    """
    existing = _existing(key, kind)
    if existing is not None:
        return existing, booking
    booking = _lock_booking(booking)
    return _existing(key, kind), booking


def _booking_money_state(booking: Booking) -> dict[str, Any]:
    return {"payment_status": booking.payment_status, "selected_payment_option": booking.selected_payment_option}


def _offline_option(booking: Booking) -> None:
    """Paid (or owed) at the desk: whatever they meant to pay with (online, their plan), it's
    offline now — so a cash payment is never counted as a plan charge."""
    booking.selected_payment_option = Booking.PaymentOption.OFFLINE


def _already_paid_message(booking: Booking) -> str:
    if DeskAction.objects.filter(
        booking=booking, kind__in=DeskAction.MONEY_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).exists():
        return f"{booking.contact} has just paid — it's on its way to Wix. Nothing more is due."
    return f"{booking.contact} has nothing left to pay."


def _money(amount: Decimal, booking: Booking) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(booking.service.currency, "")
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {booking.service.currency}".strip()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip().lstrip("£€$").replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
