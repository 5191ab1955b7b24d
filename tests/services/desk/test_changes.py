"""Changing a booking at the desk (``services/desk/changes.py``): reschedule, cancel with the
policy's permissions, move someone off the waiting list — local first, checked under locks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import Attendance, AuditEntry, Booking, DeskAction, Service, Session
from bookings_app.services import desk
from bookings_app.wix import bookings
from tests.services.conftest import (
    World,
    add_appointments,
    add_course,
    another_session,
    key,
    tomorrow_at,
    waiting_list_booking,
)

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def _booked(session: Session) -> int:
    found = selectors.session_get(ref=session.ref)
    assert found is not None
    return found.booked


def _online(world: World, first: str, *, event: dict | None = None) -> Booking:
    person = world.customer(first)
    made = world.online_booking(person, event=event, order=False)
    world.mirror()
    return world.booking(made)


# --- reschedule --------------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_onto_the_other_roster_at_once(world: World, desk_user) -> None:
    later = another_session(world)
    jo = _online(world, "Jo")
    first, second = world.session(), world.session(later)

    action = desk.booking_reschedule(user=desk_user, booking=jo, session=second, idempotency_key=key())

    jo.refresh_from_db()
    assert (jo.session_id, jo.pending_sync) == (second.pk, True)
    assert (action.kind, action.status, action.session_id) == (Kind.RESCHEDULE, Status.QUEUED, second.pk)
    assert action.params == {
        "type": "class",
        "to_session": second.pk,
        "event_id": later["id"],
        "from_session": first.pk,
    }
    assert (_booked(first), _booked(second)) == (0, 1)
    assert selectors.roster_booking_get(session=first, booking_id=jo.pk) is None
    assert selectors.roster_booking_get(session=second, booking_id=jo.pk) is not None
    audit = AuditEntry.objects.get(action="booking.reschedule")
    assert audit.summary.startswith(f"Moved {jo.contact} from Open Water Swim")
    assert world.wix_booking(jo)["bookedEntity"]["slot"]["eventId"] == world.event["id"]  # not sent yet


def test_reschedule_twice_with_one_form_moves_once_and_another_form_twice(world: World, desk_user) -> None:
    later, third = another_session(world), another_session(world, days=2)
    jo = _online(world, "Jo")
    form = key()

    first = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(later), idempotency_key=form)
    again = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(later), idempotency_key=form)
    with pytest.raises(desk.BookingError) as reused:
        desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(third), idempotency_key=form)
    moved_on = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(third), idempotency_key=key())

    assert again.pk == first.pk and reused.value.code == "key_reused"
    assert moved_on.depends_on_id == first.pk  # Wix hears of them in order
    assert DeskAction.objects.filter(kind=Kind.RESCHEDULE).count() == 2
    jo.refresh_from_db()
    assert jo.session_id == world.session(third).pk


def test_reschedule_into_a_full_session_is_refused_and_changes_nothing(world: World, desk_user) -> None:
    full = another_session(world, capacity=1)
    _online(world, "Ann", event=full)
    jo = _online(world, "Jo")

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(full), idempotency_key=key())

    assert excinfo.value.code == "session_full"
    assert "1 of 1 places are taken, 0 left" in excinfo.value.message
    jo.refresh_from_db()
    assert (jo.session_id, jo.pending_sync) == (world.session().pk, False)
    assert not DeskAction.objects.exists()


def test_a_course_booking_cannot_be_rescheduled(world: World, desk_user) -> None:
    course, events = add_course(world)
    person = world.customer("Kit")
    made = bookings.create_booking(
        world.wix,
        booking={
            "bookedEntity": {"schedule": {"scheduleId": course["schedule"]["id"], "serviceId": course["id"]}},
            "contactDetails": {"contactId": person["contact"]["id"]},
            "totalParticipants": 1,
            "status": "CONFIRMED",
        },
    )["booking"]
    world.mirror()

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_reschedule(
            user=desk_user, booking=world.booking(made), session=world.session(events[1]), idempotency_key=key()
        )

    assert excinfo.value.code == "course_not_reschedulable"
    assert "whole course" in excinfo.value.message
    assert not DeskAction.objects.exists()


@pytest.mark.parametrize("case", ["not_in_wix", "checked_in", "waiting", "same", "started", "other_service"])
def test_reschedule_refuses_what_cannot_move(world: World, desk_user, case: str) -> None:
    later = another_session(world)
    jo = _online(world, "Jo")
    target = world.session(later)
    expected = {
        "not_in_wix": "not_in_wix",
        "checked_in": "already_checked_in",
        "waiting": "status_invalid",
        "same": "session_required",
        "started": "session_required",
        "other_service": "session_required",
    }[case]
    if case == "not_in_wix":
        jo = _walk_in(world, desk_user)
    elif case == "checked_in":
        desk.attendance_mark(
            user=desk_user, booking=jo, session=world.session(), status="ATTENDED", idempotency_key=key()
        )
    elif case == "waiting":
        Booking.objects.filter(pk=jo.pk).update(status=Booking.Status.WAITING_LIST)
    elif case == "same":
        target = world.session()
    elif case == "started":
        Session.objects.filter(pk=target.pk).update(start=timezone.now() - timedelta(minutes=5))
    else:
        target = Session.objects.create(
            service=Service.objects.create(type="CLASS", name="Yoga", wix_id="yoga"),
            start=target.start,
            end=target.end,
            wix_id="yoga-session",
        )
    before = DeskAction.objects.count()

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_reschedule(user=desk_user, booking=jo, session=target, idempotency_key=key())

    assert excinfo.value.code == expected
    assert DeskAction.objects.count() == before
    assert not DeskAction.objects.filter(kind=Kind.RESCHEDULE).exists()


def test_undo_of_a_reschedule_puts_the_booking_back(world: World, desk_user) -> None:
    later = another_session(world)
    jo = _online(world, "Jo")
    action = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(later), idempotency_key=key())

    desk.action_undo(user=desk_user, action=action)

    jo.refresh_from_db()
    assert (jo.session_id, jo.pending_sync) == (world.session().pk, False)
    assert DeskAction.objects.get(pk=action.pk).status == Status.UNDONE
    assert (_booked(world.session()), _booked(world.session(later))) == (1, 0)


def test_reschedule_an_appointment_moves_its_session_to_the_new_time(world: World, desk_user) -> None:
    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = Service.objects.get(wix_id=massage["id"])
    slots = desk.appointment_slots(wix=world.wix, service=service, day=tomorrow_at(9).date())
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(kim), service=service, slot=slots[0], idempotency_key=key()
    )
    world.push()
    booking.refresh_from_db()
    session = booking.session
    was = (session.start, session.end)
    free = desk.appointment_slots(wix=world.wix, service=service, day=tomorrow_at(9).date())
    new = next(s for s in free if s["start"] > slots[1]["start"])

    action = desk.booking_reschedule(user=desk_user, booking=booking, slot=new, idempotency_key=key())

    session.refresh_from_db()
    assert session.start > was[0] and session.start.strftime("%H:%M") == new["start"][11:16]
    assert action.before["session"]["start"] == was[0].isoformat()
    assert action.params == {"type": "appointment", "slot": new}

    desk.action_undo(user=desk_user, action=action)
    session.refresh_from_db()
    assert (session.start, session.end) == was


def test_reschedule_an_appointment_onto_a_time_someone_has_is_refused(world: World, desk_user) -> None:
    massage = add_appointments(world)
    kim, lee = world.customer("Kim"), world.customer("Lee")
    world.mirror(kim, lee)
    service = Service.objects.get(wix_id=massage["id"])
    slots = desk.appointment_slots(wix=world.wix, service=service, day=tomorrow_at(9).date())
    taken = slots[3]
    desk.walk_in_create(user=desk_user, contact=world.contact(lee), service=service, slot=taken, idempotency_key=key())
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(kim), service=service, slot=slots[0], idempotency_key=key()
    )
    world.push()
    booking.refresh_from_db()

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_reschedule(user=desk_user, booking=booking, slot=taken, idempotency_key=key())

    assert excinfo.value.code == "slot_taken"
    assert not DeskAction.objects.filter(kind=Kind.RESCHEDULE).exists()


# --- cancel --------------------------------------------------------------------------------------------


def _walk_in(world: World, desk_user, first: str = "Walk") -> Booking:
    person = world.customer(first)
    world.mirror(person)
    return desk.walk_in_create(
        user=desk_user, contact=world.contact(person), session=world.session(), idempotency_key=key()
    )


def test_front_desk_cancels_todays_unpaid_walk_in_and_the_place_is_free(world: World, desk_user) -> None:
    booking = _walk_in(world, desk_user)
    walk_in = DeskAction.objects.get(booking=booking, kind=Kind.WALK_IN)
    assert _booked(world.session()) == 1

    action = desk.booking_cancel(user=desk_user, booking=booking, idempotency_key=key())

    booking.refresh_from_db()
    assert (booking.status, booking.pending_sync) == (Booking.Status.CANCELED, True)
    assert _booked(world.session()) == 0
    assert action.kind == Kind.CANCEL_BOOKING and action.depends_on_id == walk_in.pk
    assert action.params == {"refund": False, "ignore_policy": True, "reverses": walk_in.pk}
    assert action.can_undo()
    assert AuditEntry.objects.filter(action="booking.cancel", object_id=str(booking.pk)).exists()


@pytest.mark.parametrize("case", ["online", "paid", "plan", "yesterday"])
def test_front_desk_may_not_cancel_other_bookings(world: World, desk_user, manager_user, case: str) -> None:
    if case == "online":
        booking = _online(world, "Ona")
        why = "booked online"
    else:
        booking = _walk_in(world, desk_user)
        why = "has been paid"
        if case == "paid":
            desk.payment_record(
                user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
            )
        elif case == "plan":
            DeskAction.objects.create(
                idempotency_key=key(), kind=Kind.PLAN_CHARGE, booking=booking, run_after=timezone.now()
            )
        else:
            DeskAction.objects.filter(booking=booking).update(created_at=timezone.now() - timedelta(days=1))
            why = "was booked on"

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_cancel(user=desk_user, booking=booking, idempotency_key=key())

    assert excinfo.value.code == "forbidden"
    assert excinfo.value.message.startswith("Only a manager can cancel this booking")
    assert why in excinfo.value.message
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not DeskAction.objects.filter(kind=Kind.CANCEL_BOOKING).exists()
    desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key())  # a manager may
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED


def test_cancel_twice_with_one_form_is_one_cancel_and_a_cancelled_booking_stays_so(world: World, manager_user) -> None:
    booking = _online(world, "Jo")
    form = key()

    first = desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=form)
    again = desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=form)
    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key())

    assert first.pk == again.pk
    assert excinfo.value.code == "booking_cancelled"
    assert DeskAction.objects.filter(kind=Kind.CANCEL_BOOKING).count() == 1


def test_manager_cancels_and_refunds_what_wix_has_the_cancel_last(world: World, desk_user, manager_user) -> None:
    booking = _walk_in(world, desk_user)
    paid = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    world.push()
    assert DeskAction.objects.get(pk=paid.pk).status == Status.SYNCED

    cancel = desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key(), refund=True)

    refund = DeskAction.objects.get(kind=Kind.REFUND)
    assert refund.params["reverses"] == paid.pk
    assert cancel.depends_on_id == refund.pk and not cancel.can_undo()  # no undo window with money moving
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (Booking.Status.CANCELED, Booking.PaymentStatus.REFUNDED)

    world.push()
    assert world.wix_booking(booking)["status"] == "CANCELED"
    assert world.wix_order(booking)["paymentStatus"] == "FULLY_REFUNDED"
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.SYNCED}


def test_cancel_and_refund_waits_for_a_payment_still_on_its_way(world: World, desk_user, manager_user) -> None:
    booking = _walk_in(world, desk_user)
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())

    with pytest.raises(desk.BookingError) as excinfo:
        desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key(), refund=True)
    with pytest.raises(desk.BookingError) as not_manager:
        desk.booking_cancel(user=desk_user, booking=booking, idempotency_key=key(), refund=True)

    assert excinfo.value.code == "refund_waiting"
    assert not_manager.value.code == "forbidden"
    assert not DeskAction.objects.filter(kind__in=(Kind.CANCEL_BOOKING, Kind.REFUND)).exists()


def test_cancel_of_an_appointment_frees_its_time_and_undo_takes_it_back(world: World, manager_user) -> None:
    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = Service.objects.get(wix_id=massage["id"])
    slot = desk.appointment_slots(wix=world.wix, service=service, day=tomorrow_at(9).date())[0]
    booking = desk.walk_in_create(
        user=manager_user, contact=world.contact(kim), service=service, slot=slot, idempotency_key=key()
    )
    world.push()
    booking.refresh_from_db()

    action = desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key())
    assert Session.objects.get(pk=booking.session_id).is_cancelled
    desk.action_undo(user=manager_user, action=action)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not Session.objects.get(pk=booking.session_id).is_cancelled


# --- the waiting list -------------------------------------------------------------------------------


def test_promote_moves_them_into_a_free_place(world: World, desk_user) -> None:
    waiting = waiting_list_booking(world, world.customer("Wes"))
    world.mirror()
    booking = world.booking(waiting)
    assert booking.status == Booking.Status.WAITING_LIST
    assert _booked(world.session()) == 0

    action = desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())

    booking.refresh_from_db()
    assert (booking.status, booking.pending_sync) == (Booking.Status.CONFIRMED, True)
    assert _booked(world.session()) == 1
    assert (action.kind, action.before) == (Kind.WAITLIST_PROMOTE, {"booking": {"status": "WAITING_LIST"}})
    assert selectors.waitlist_read(session=selectors.session_get(ref=world.session().ref)).entries == []

    desk.action_undo(user=desk_user, action=action)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.WAITING_LIST


def test_promote_when_the_class_is_full_is_refused(world: World, desk_user) -> None:
    full = another_session(world, capacity=2)
    waiting = waiting_list_booking(world, world.customer("Wes"), event=full)
    _online(world, "Ann", event=full)
    _online(world, "Bea", event=full)
    booking = world.booking(waiting)

    with pytest.raises(desk.BookingError) as excinfo:
        desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())

    assert excinfo.value.code == "session_full"
    assert "2 of 2 places are taken, 0 left" in excinfo.value.message
    booking.refresh_from_db()
    assert booking.status == Booking.Status.WAITING_LIST and not DeskAction.objects.exists()
    listed = selectors.waitlist_read(session=selectors.session_get(ref=world.session(full).ref))
    assert [(e.booking.pk, e.fits) for e in listed.entries] == [(booking.pk, False)]
    assert listed.free == 0


def test_a_cancel_frees_the_place_a_promote_then_takes(world: World, desk_user, manager_user) -> None:
    full = another_session(world, capacity=1)
    waiting = waiting_list_booking(world, world.customer("Wes"), event=full)
    ann = _online(world, "Ann", event=full)
    booking = world.booking(waiting)

    desk.booking_cancel(user=manager_user, booking=ann, idempotency_key=key())
    desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())
    with pytest.raises(desk.BookingError) as excinfo:
        desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())

    assert excinfo.value.code == "status_invalid"
    assert _booked(world.session(full)) == 1


def test_promoted_then_paid_the_payment_waits_for_the_promote(world: World, desk_user) -> None:
    waiting = waiting_list_booking(world, world.customer("Wes"))
    world.mirror()
    booking = world.booking(waiting)
    promote = desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())

    paid = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )

    assert paid.depends_on_id == promote.pk
    world.push()
    assert world.wix_booking(booking)["status"] == "CONFIRMED"
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.SYNCED}
    assert Attendance.objects.count() == 0
