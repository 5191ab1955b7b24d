"""Walk-ins end to end: desk service (local, instant) → worker → the sandbox's state: a class, an
appointment slot, a course, a full class."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import Attendance, AuditEntry, Booking, Contact, DeskAction, Session
from bookings_app.services import desk
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced, full_class

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_walk_in_paid_cash_and_checked_in_ends_synced_and_paid_in_wix(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    session = world.session()

    booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12.00"), idempotency_key=key())
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())

    booking.refresh_from_db()
    assert booking.wix_id is None and booking.pending_sync
    assert booking.payment_status == Booking.PaymentStatus.PAID
    assert Attendance.objects.get(booking=booking).status == "ATTENDED"
    assert AuditEntry.objects.filter(action__in=["booking.walk_in", "payment.cash", "attendance.mark"]).count() == 3

    report = world.push()

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0, report
    booking.refresh_from_db()
    assert booking.wix_id and not booking.pending_sync
    in_wix = world.wix_booking(booking)
    assert in_wix["status"] == "CONFIRMED"
    assert in_wix["paymentStatus"] == "PAID"
    order = world.wix_order(booking)
    assert order["paymentStatus"] == "PAID" and order["channelInfo"]["type"] == "BACKOFFICE_MERCHANT"
    assert world.wix_attendance(booking)["status"] == "ATTENDED"


def test_appointment_walk_in_books_a_free_slot_with_its_staff_and_location(world: World, desk_user) -> None:
    from tests.services.conftest import add_appointments, tomorrow_at

    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = world.sb.state.get("services", massage["id"])
    from bookings_app.models import Service

    mirrored = Service.objects.get(wix_id=service["id"])
    slots = desk.appointment_slots(wix=world.wix, service=mirrored, day=tomorrow_at(9).date())
    assert slots and slots[0]["resource_id"] == world.coach["resourceId"]
    assert {s["schedule_id"] for s in slots} == {massage["schedule"]["id"]}  # each time slot's scheduleId
    slot = slots[2]

    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(kim), service=mirrored, slot=slot, idempotency_key=key()
    )
    assert booking.session.start.astimezone().hour is not None and booking.session.staff is not None
    with pytest.raises(desk.BookingError) as excinfo:  # the same slot again: taken
        desk.walk_in_create(
            user=desk_user, contact=world.contact(kim), service=mirrored, slot=slot, idempotency_key=key()
        )
    assert excinfo.value.code == "slot_taken"
    desk.payment_record(user=desk_user, booking=booking, method="CARD", amount=Decimal("45"), idempotency_key=key())
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())

    world.push()

    assert_all_synced()
    booking.refresh_from_db()
    in_wix = world.wix_booking(booking)
    wix_slot = in_wix["bookedEntity"]["slot"]
    assert wix_slot["resource"]["id"] == slot["resource_id"]
    assert wix_slot["location"]["locationType"] == "OWNER_BUSINESS"
    assert wix_slot["startDate"].startswith(slot["start"])
    assert in_wix["paymentStatus"] == "PAID"
    # The local session is the one the sync will keep for this appointment.
    assert Session.objects.get(pk=booking.session_id).wix_id.endswith(booking.wix_id)


def test_course_walk_in_books_the_course_schedule(world: World, desk_user) -> None:
    from tests.services.conftest import add_course

    course, events = add_course(world)
    lee = world.customer("Lee")
    world.mirror(lee)
    first = world.session(events[0])

    booking = desk.walk_in_create(user=desk_user, contact=world.contact(lee), session=first, idempotency_key=key())
    assert booking.session is None and booking.service.type == "COURSE"
    desk.pay_later(user=desk_user, booking=booking, idempotency_key=key())
    desk.attendance_mark(user=desk_user, booking=booking, session=first, status="ATTENDED", idempotency_key=key())

    world.push()

    assert_all_synced()
    booking.refresh_from_db()
    in_wix = world.wix_booking(booking)
    assert in_wix["bookedEntity"]["schedule"]["scheduleId"] == course["schedule"]["id"]
    assert world.wix_order(booking)["paymentStatus"] == "NOT_PAID"
    assert world.wix_attendance(booking)["eventId"] == events[0]["id"]


def test_full_class_refuses_a_walk_in_locally_unless_a_manager_overrides(world: World, desk_user, manager_user) -> None:
    full_class(world, 2)
    a, b, c = world.customer("Ann"), world.customer("Ben"), world.customer("Cat")
    world.online_booking(a)
    world.mirror(b, c)
    session = world.session()
    desk.walk_in_create(user=desk_user, contact=world.contact(b), session=session, idempotency_key=key())

    with pytest.raises(desk.BookingError) as excinfo:
        desk.walk_in_create(user=desk_user, contact=world.contact(c), session=session, idempotency_key=key())
    assert excinfo.value.code == "session_full"
    assert "2 of 2" in excinfo.value.message
    with pytest.raises(desk.BookingError) as excinfo:  # a front-desk user may not override
        desk.walk_in_create(
            user=desk_user, contact=world.contact(c), session=session, override_capacity=True, idempotency_key=key()
        )
    assert excinfo.value.code == "session_full"

    booking = desk.walk_in_create(
        user=manager_user, contact=world.contact(c), session=session, override_capacity=True, idempotency_key=key()
    )
    assert AuditEntry.objects.filter(action="booking.override_capacity", object_id=str(booking.pk)).exists()
    world.push()
    assert_all_synced()
    booking.refresh_from_db()
    assert world.wix_booking(booking)["status"] == "CONFIRMED"
    assert world.wix_booking(booking)["flowControlSettings"]["skipAvailabilityValidation"] is True


def test_a_group_takes_a_place_each_and_is_pushed_with_its_size_and_price(world: World, desk_user) -> None:
    full_class(world, 4)
    a, b = world.customer("Ann"), world.customer("Ben")
    world.online_booking(a)
    world.mirror(b)
    session = world.session()

    with pytest.raises(desk.BookingError) as excinfo:  # 1 of 4 taken: no room for 4 more
        desk.walk_in_book(
            user=desk_user, contact=world.contact(b), session=session, participants=4, idempotency_key=key()
        )
    assert excinfo.value.code == "session_full"
    assert excinfo.value.message.startswith("No room for 4 people: 1 of 4 places are taken, 3 left.")
    assert not DeskAction.objects.exists()

    booking = desk.walk_in_book(
        user=desk_user, contact=world.contact(b), session=session, participants=3, pay="CASH", idempotency_key=key()
    )

    assert booking.total_participants == 3
    assert DeskAction.objects.get(kind=Kind.PAYMENT).params["amount"] == "36.00"
    world.push()
    assert_all_synced()
    booking.refresh_from_db()
    assert world.wix_booking(booking)["totalParticipants"] == 3
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


# --- walk_in_book: the desk's one tap -------------------------------------------------------------


def test_walk_in_book_creates_the_customer_books_and_pays_with_the_forms_keys(world: World, desk_user) -> None:
    world.mirror()
    session = world.session()
    k = key()

    booking = desk.walk_in_book(
        user=desk_user,
        new_customer=desk.NewCustomer(first_name="Nia", last_name="New", email="nia@example.com"),
        session=session,
        pay="CASH",
        idempotency_key=k,
    )

    actions = {a.idempotency_key: a.kind for a in DeskAction.objects.all()}
    assert actions == {f"{k}-contact": Kind.CONTACT_CREATE, k: Kind.WALK_IN, f"{k}-pay": Kind.PAYMENT}
    assert booking.contact.first_name == "Nia" and booking.session == session
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID
    again = desk.walk_in_book(
        user=desk_user,
        new_customer=desk.NewCustomer(first_name="Nia", last_name="New", email="nia@example.com"),
        session=session,
        pay="CASH",
        idempotency_key=k,
    )
    assert again.pk == booking.pk and DeskAction.objects.count() == 3

    world.push()

    assert_all_synced()
    booking.refresh_from_db()
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_walk_in_book_refused_leaves_no_customer_booking_or_action(world: World, desk_user) -> None:
    full_class(world, 0)
    world.mirror()
    session = world.session()

    with pytest.raises(desk.BookingError) as excinfo:
        desk.walk_in_book(
            user=desk_user,
            new_customer=desk.NewCustomer(first_name="Nia", email="nia@example.com"),
            session=session,
            pay="CASH",
            idempotency_key=key(),
        )

    assert excinfo.value.code == "session_full"
    assert not Contact.objects.filter(email="nia@example.com").exists()
    assert not Booking.objects.filter(session=session, contact__email="nia@example.com").exists()
    assert not DeskAction.objects.exists()


def test_walk_in_book_a_refused_plan_charge_takes_the_booking_back_too(world: World, desk_user) -> None:
    jo, sam = world.customer("Jo"), world.customer("Sam", credits=3)
    world.mirror(jo, sam)
    session = world.session()

    with pytest.raises(desk.BookingError) as excinfo:  # Sam's plan cannot pay for Jo
        desk.walk_in_book(
            user=desk_user,
            contact=world.contact(jo),
            session=session,
            pay="PLAN",
            balance=world.balance(sam),
            idempotency_key=key(),
        )

    assert excinfo.value.code == "plan_not_eligible"
    assert not Booking.objects.filter(contact=world.contact(jo), session=session).exists()
    assert not DeskAction.objects.exists()
