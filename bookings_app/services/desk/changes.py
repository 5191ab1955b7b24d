"""Changing a booking at the desk: move it to another session or appointment slot of its service
(:func:`booking_reschedule`), cancel it (:func:`booking_cancel`), move someone from the waiting
list into a freed place (:func:`waitlist_promote`).

Local first, as every desk action: the mirror changes at once — the booking is on the new
session's roster (an appointment's own session moves to the new time), a cancelled place is free,
a promoted person holds a place — "waiting for Wix", and a ``RESCHEDULE``, ``CANCEL_BOOKING`` or
``WAITLIST_PROMOTE`` action takes it to Wix after the undo window (``services.push.changes``,
``services.push.reversals``). Payment stays with the booking: its order names the booking, wherever
it moves. Each change waits for the booking's earlier changes and money on their way
(``ledger.money_dependency``), so Wix hears of them in the order staff made them.

Who may cancel (:func:`cancel_refusal`): with the ``cancel_bookings`` permission (managers,
admins) any booking; the front desk only today's unpaid walk-ins — booked at this desk today with
nothing paid. Cancelling takes no money back: a manager may "cancel and refund", which reverses
the desk's payments and plan charges Wix already has (``corrections.action_reverse``) before it
cancels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings_app import roles, selectors
from bookings_app.models import Attendance, Booking, DeskAction, PackageItem, Service, Session, StaffMember
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.desk import walk_ins
from bookings_app.services.desk.corrections import action_reverse
from bookings_app.services.errors import BookingError
from bookings_app.wix.dates import wix_local_parse

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus
UNPAID = (PS.UNDEFINED, PS.NOT_PAID)
NOT_CANCELLABLE_BY_DESK = (
    "Only a manager can cancel this booking: the front desk may cancel only walk-ins booked here today "
    "with nothing paid"
)


# --- who may cancel ---------------------------------------------------------------------------------


def cancel_refusal(*, user: Any, booking: Booking, walk_in: DeskAction | None = None) -> str | None:
    """Why ``user`` may not cancel ``booking`` (a sentence staff read), or None when they may.
    ``walk_in``: the desk's walk-in of the booking when already read (``selectors.booking_walk_in``)."""
    if PackageItem.objects.filter(booking=booking).exists():
        return "This booking is part of a package: cancel the whole package from its page."
    if ledger.has_perm(user, roles.CANCEL_BOOKINGS):
        return None
    if not ledger.has_perm(user, roles.USE_FRONT_DESK):
        return "You may not cancel bookings."
    walk_in = walk_in if walk_in is not None else selectors.booking_walk_in(booking=booking)
    if walk_in is None:
        return f"{NOT_CANCELLABLE_BY_DESK}, and this one was booked online."
    if timezone.localdate(walk_in.created_at) != timezone.localdate():
        day = timezone.localdate(walk_in.created_at)
        return f"{NOT_CANCELLABLE_BY_DESK}, and this one was booked on {day.day} {day:%b}."
    if booking.payment_status not in UNPAID or desk_money_taken([booking.pk]):
        return f"{NOT_CANCELLABLE_BY_DESK}, and this one has been paid."
    return None


def desk_money_taken(booking_ids: list[int]) -> bool:
    """Whether the desk took money for any of these bookings: a payment or plan charge on its way
    to Wix or in it (what the front desk's cancel rule looks at besides the payment status). One
    query."""
    return DeskAction.objects.filter(
        booking_id__in=booking_ids,
        kind__in=(Kind.PAYMENT, Kind.PLAN_CHARGE),
        status__in=(*DeskAction.LIVE_STATUSES, Status.SYNCED),
    ).exists()


# --- cancel ------------------------------------------------------------------------------------------


def booking_cancel(*, user: Any, booking: Booking, idempotency_key: str, refund: bool = False) -> DeskAction:
    """Cancel ``booking``: its place is free at once; Wix hears of it after the undo window. With
    ``refund`` (a manager) the desk's payments and plan charges Wix already has are reversed first
    — money refunded, credits back — and the cancel, made with them, has no undo window.

    Raises ``BookingError`` ``forbidden`` (see :func:`cancel_refusal`; a refund needs the
    void-payments permission), ``booking_cancelled`` (cancelled or declined already),
    ``refund_waiting`` (a payment of it is still on its way to Wix), ``key_reused``,
    ``duplicate_request``.
    """
    ledger.require_key(idempotency_key)
    refund = bool(refund)
    with transaction.atomic():
        same = {"refund": refund}
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.CANCEL_BOOKING, params=same)
        if done is not None:
            return done
        _not_in_a_package(booking, "cancelled")
        walk_in = selectors.booking_walk_in(booking=booking)
        refusal = cancel_refusal(user=user, booking=booking, walk_in=walk_in)
        if refusal:
            raise BookingError(refusal, code="forbidden")
        reversals: list[DeskAction] = []
        if refund:
            reversals = _refund_first(user=user, booking=booking, key=idempotency_key)
            booking = ledger.lock_booking(booking)
        before = {"status": booking.status}
        booking.status = Booking.Status.CANCELED
        booking.pending_sync = True
        booking.save(update_fields=["status", "pending_sync"])
        saved: dict[str, Any] = {"booking": before}
        session = booking.session
        if session is not None and booking.service.type == Service.Type.APPOINTMENT:
            # Wix removes a cancelled appointment's calendar event: its time is free again.
            saved["session"] = {"pk": session.pk, "status": session.status}
            Session.objects.filter(pk=session.pk).update(status="CANCELLED")
        params: dict[str, Any] = {"refund": refund, "ignore_policy": True}
        if walk_in is not None:
            params["reverses"] = walk_in.pk  # the walk-in is taken back: the row offers no other cancel
        action = ledger.new_action(
            user=user,
            kind=Kind.CANCEL_BOOKING,
            key=idempotency_key,
            booking=booking,
            session=session,
            contact=booking.contact,
            depends_on=ledger.money_dependency(booking),
            params=params,
            before=saved,
            undo_window=not reversals,
        )
        what = _where(booking)
        audit_record(
            user=user,
            action="booking.cancel",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Cancelled {booking.contact}'s booking of {what}"
            + (f", and reversed {len(reversals)} payments" if reversals else ""),
            before=before,
            after={"status": booking.status, "action": action.pk, "reversals": [a.pk for a in reversals]},
        )
    return action


def _refund_first(*, user: Any, booking: Booking, key: str) -> list[DeskAction]:
    if not ledger.has_perm(user, roles.VOID_PAYMENTS):
        raise BookingError("Only a manager can refund a payment.", code="forbidden")
    money = selectors.booking_money_read(booking=booking)
    if money.in_flight:
        raise BookingError(
            f"A payment of {booking.contact}'s is still on its way to Wix: cancel without refunding, "
            "or wait until Wix has it and try again.",
            code="refund_waiting",
        )
    return [action_reverse(user=user, action=a, idempotency_key=f"{key}:refund:{a.pk}") for a in money.reversible]


# --- reschedule ----------------------------------------------------------------------------------------


def booking_reschedule(
    *,
    user: Any,
    booking: Booking,
    idempotency_key: str,
    session: Session | None = None,
    slot: dict[str, Any] | None = None,
) -> DeskAction:
    """Move ``booking`` to another ``session`` of its class, or its appointment to another free
    ``slot`` (from ``walk_in.appointment_slots``). Locally at once: a class booking leaves its
    session's roster for the new one; an appointment's own session moves to the new time.

    Raises ``BookingError`` ``course_not_reschedulable``, ``not_in_wix`` (a walk-in Wix doesn't
    have yet), ``status_invalid`` (cancelled, or on the waiting list), ``already_checked_in``,
    ``session_required`` (no session / slot, another service's, the same one, started or
    cancelled), ``session_full``, ``slot_taken``, ``key_reused``, ``duplicate_request``.
    """
    ledger.require_key(idempotency_key)
    same: dict[str, Any] = {"slot": slot} if slot is not None else {"to_session": session.pk if session else None}
    with transaction.atomic():
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.RESCHEDULE, params=same)
        if done is not None:
            return done
        _check_movable(booking)
        if booking.service.type == Service.Type.APPOINTMENT:
            return _reschedule_appointment(user=user, booking=booking, slot=slot, key=idempotency_key)
        return _reschedule_class(user=user, booking=booking, target=session, key=idempotency_key)


def _not_in_a_package(booking: Booking, verb: str) -> None:
    """Wix refuses a change of one booking of a multi-service booking
    (NOT_ALLOWED_TO_UPDATE_BOOKING_IN_MULTI_SERVICE_BOOKING): the desk says so first."""
    if PackageItem.objects.filter(booking=booking).exists():
        raise BookingError(
            f"{booking.contact}'s booking is part of a package, which is {verb} as a whole: open the package "
            "to cancel it.",
            code="in_package",
        )


def _check_movable(booking: Booking) -> None:
    who = booking.contact
    _not_in_a_package(booking, "moved and cancelled")
    if booking.service.type == Service.Type.COURSE:
        raise BookingError(
            f"{who}'s booking is for the whole course, so it can't move to another session "
            "(Wix reschedules class and appointment bookings only). Cancel it and enrol them again instead.",
            code="course_not_reschedulable",
        )
    if booking.status == Booking.Status.WAITING_LIST:
        raise BookingError(
            f"{who} is on the waiting list: move them into a place first, or cancel.", code="status_invalid"
        )
    if not booking.wix_id:
        raise BookingError(
            f"{who}'s booking isn't in Wix yet: try again in a moment (or undo the walk-in and book the other time).",
            code="not_in_wix",
        )
    if (
        booking.session_id
        and Attendance.objects.filter(
            booking=booking, session_id=booking.session_id, status=Attendance.Status.ATTENDED
        ).exists()
    ):
        raise BookingError(f"{who} is checked in at this session already: it stays here.", code="already_checked_in")


def _reschedule_class(*, user: Any, booking: Booking, target: Session | None, key: str) -> DeskAction:
    if target is None:
        raise BookingError("Choose the session to move to.", code="session_required")
    target = Session.objects.select_for_update(of=("self",)).select_related("service").get(pk=target.pk)
    if target.service_id != booking.service_id:
        raise BookingError(f"That session is not a {booking.service.name} session.", code="session_required")
    if target.pk == booking.session_id:
        raise BookingError("That is the session they are booked on already.", code="session_required")
    if target.is_cancelled or not target.wix_id:
        raise BookingError("That session is cancelled, or not in Wix: choose another.", code="session_required")
    if target.start <= timezone.now():
        raise BookingError("That session has started already: choose a later one.", code="session_required")
    capacity, taken = walk_ins.places_held(session=target, service=target.service)
    participants = booking.total_participants
    if capacity is not None and taken + participants > capacity:
        left = max(capacity - taken, 0)
        raise BookingError(
            f"{_when(target)} is full: {taken} of {capacity} places are taken, {left} left"
            + (f" and {participants} are needed." if participants > 1 else "."),
            code="session_full",
        )
    old = booking.session
    booking.session = target
    booking.pending_sync = True
    booking.save(update_fields=["session", "pending_sync"])
    action = ledger.new_action(
        user=user,
        kind=Kind.RESCHEDULE,
        key=key,
        booking=booking,
        session=target,
        contact=booking.contact,
        depends_on=ledger.money_dependency(booking),
        params={
            "type": "class",
            "to_session": target.pk,
            "event_id": target.wix_id,
            "from_session": old.pk if old else None,
        },
        before={"booking": {"session_id": old.pk if old else None}},
    )
    audit_record(
        user=user,
        action="booking.reschedule",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Moved {booking.contact} from {_when(old)} to {_when(target)}",
        before={"session": old.pk if old else None},
        after={"session": target.pk, "action": action.pk},
    )
    return action


def _reschedule_appointment(*, user: Any, booking: Booking, slot: dict[str, Any] | None, key: str) -> DeskAction:
    session = booking.session
    if not slot or session is None:
        raise BookingError("Choose the new time.", code="session_required")
    service = booking.service
    if slot.get("schedule_id") and service.schedule_id and slot["schedule_id"] != service.schedule_id:
        raise BookingError(f"That time is not one of {service.name}'s.", code="session_required")
    start, end, tz_name = _slot_times(slot)
    if start <= timezone.now():
        raise BookingError("That time has passed: choose a later one.", code="session_required")
    staff = StaffMember.objects.filter(resource_id=slot.get("resource_id") or "").first()
    session = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
    # As a new appointment (walk_ins._appointment_session): the service's row, then the staff
    # member's, so the clash check and the move are one step against every other desk.
    Service.objects.select_for_update().filter(pk=service.pk).first()
    if staff is not None:
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
    clash = Booking.objects.filter(
        status__in=Booking.ACTIVE_STATUSES,
        session__start__lt=end,
        session__end__gt=start,
        session__service__type=Service.Type.APPOINTMENT,
    ).exclude(pk=booking.pk)
    clash = clash.filter(session__staff=staff) if staff is not None else clash.filter(session__service=service)
    if clash.exists():
        who = staff.name if staff else "This time"
        raise BookingError(f"{who} is already booked at {timezone.localtime(start):%H:%M}.", code="slot_taken")
    was = {
        "pk": session.pk,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "timezone": session.timezone,
        "staff_id": session.staff_id,
        "location_name": session.location_name,
        "schedule_id": session.schedule_id,
        "raw": session.raw,
    }
    session.start, session.end, session.timezone = start, end, tz_name
    session.staff = staff
    session.location_name = (slot.get("location_name") or session.location_name)[:400]
    session.schedule_id = slot.get("schedule_id") or session.schedule_id
    session.raw = {**(session.raw or {}), "slot": slot}
    session.save(update_fields=["start", "end", "timezone", "staff", "location_name", "schedule_id", "raw"])
    booking.pending_sync = True
    booking.save(update_fields=["pending_sync"])
    action = ledger.new_action(
        user=user,
        kind=Kind.RESCHEDULE,
        key=key,
        booking=booking,
        session=session,
        contact=booking.contact,
        depends_on=ledger.money_dependency(booking),
        params={"type": "appointment", "slot": slot},
        before={"session": was},
    )
    audit_record(
        user=user,
        action="booking.reschedule",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Moved {booking.contact}'s {service.name} from {_at(was['start'])} to "
        f"{_stamp(start)}" + (f" with {staff.name}" if staff else ""),
        before={"start": was["start"], "staff": was["staff_id"]},
        after={"start": start.isoformat(), "staff": staff.pk if staff else None, "action": action.pk},
    )
    return action


def _slot_times(slot: dict[str, Any]) -> tuple[datetime, datetime, str]:
    tz_name = slot.get("timezone") or settings.TIME_ZONE
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError(f"Unknown time zone {tz_name!r} on the slot.", code="session_required") from None
    start, end = wix_local_parse(slot.get("start"), tz), wix_local_parse(slot.get("end"), tz)
    if start is None or end is None or end <= start:
        raise BookingError("The slot has no valid start and end.", code="session_required")
    return start, end, tz_name


# --- the waiting list --------------------------------------------------------------------------------


def waitlist_promote(*, user: Any, booking: Booking, idempotency_key: str) -> DeskAction:
    """Move ``booking`` from the waiting list into a place on its session (or course): CONFIRMED
    at once, holding its place; Wix confirms it (Confirm Booking, with its availability check)
    after the undo window.

    Raises ``BookingError`` ``status_invalid`` (not on the waiting list), ``not_in_wix``,
    ``session_full`` (no free place for them, counting the desk's own changes), ``key_reused``,
    ``duplicate_request``.
    """
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.WAITLIST_PROMOTE)
        if done is not None:
            return done
        who = booking.contact
        if booking.status != Booking.Status.WAITING_LIST:
            raise BookingError(
                f"{who} is not on the waiting list (their booking is {booking.get_status_display().lower()}).",
                code="status_invalid",
            )
        if not booking.wix_id:
            raise BookingError(f"{who}'s booking isn't in Wix.", code="not_in_wix")
        session = booking.session
        if session is not None:
            session = Session.objects.select_for_update(of=("self",)).select_related("service").get(pk=session.pk)
        capacity, taken = walk_ins.places_held(session=session, service=booking.service)
        participants = booking.total_participants
        if capacity is not None and taken + participants > capacity:
            left = max(capacity - taken, 0)
            need = f"; {participants} are needed" if participants > 1 and left else ""
            raise BookingError(
                f"No free place for {who}: {taken} of {capacity} places are taken, {left} left{need}. "
                "They stay on the waiting list until someone cancels.",
                code="session_full",
            )
        before = {"status": booking.status}
        booking.status = Booking.Status.CONFIRMED
        booking.pending_sync = True
        booking.save(update_fields=["status", "pending_sync"])
        action = ledger.new_action(
            user=user,
            kind=Kind.WAITLIST_PROMOTE,
            key=idempotency_key,
            booking=booking,
            session=session,
            contact=who,
            depends_on=ledger.money_dependency(booking),
            params={"participants": participants},
            before={"booking": before},
        )
        audit_record(
            user=user,
            action="booking.waitlist_promote",
            obj_type="booking",
            obj_id=booking.pk,
            summary=f"Moved {who} from the waiting list into a place in {_where(booking)}",
            before=before,
            after={"status": booking.status, "taken": taken + participants, "capacity": capacity, "action": action.pk},
        )
    return action


# --- words ---------------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _when(session: Session | None) -> str:
    if session is None:
        return "no session"
    return f"{session.title or session.service.name} {_stamp(session.start)}"


def _at(iso: str) -> str:
    return _stamp(datetime.fromisoformat(iso))


def _where(booking: Booking) -> str:
    return _when(booking.session) if booking.session else booking.service.name
