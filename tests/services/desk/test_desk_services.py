"""The desk flows end to end: desk service (local, instant) → worker → the sandbox's state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app.models import Attendance, AuditEntry, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World, key

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


def assert_all_synced() -> None:
    left = list(DeskAction.objects.exclude(status=Status.SYNCED).values_list("kind", "status", "error_code", "message"))
    assert not left, left


def test_walk_in_charged_to_plan_takes_one_credit_in_wix(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=5)
    world.mirror(sam)
    balance = world.balance(sam)
    assert balance.remaining_credits == 5

    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    desk.plan_charge(user=desk_user, booking=booking, balance=balance, idempotency_key=key())
    balance.refresh_from_db()
    assert balance.remaining_credits == 4  # at once, locally

    world.push()

    assert_all_synced()
    booking.refresh_from_db()
    assert world.wix_credits(sam) == "4"
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert world.wix_booking(booking)["selectedPaymentOption"] == "MEMBERSHIP"
    order = world.wix_order(booking)
    assert order["lineItems"][0]["paymentOption"] == "MEMBERSHIP"


def test_part_payment_leaves_booking_partially_paid_then_the_rest_pays_it(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    desk.payment_record(user=desk_user, booking=booking, method="CARD", amount=Decimal("5"), idempotency_key=key())
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PARTIALLY_PAID

    world.push()
    assert_all_synced()
    assert world.wix_booking(booking.__class__.objects.get(pk=booking.pk))["paymentStatus"] == "PARTIALLY_PAID"
    order = world.wix_order(Booking.objects.get(pk=booking.pk))
    assert order["balanceSummary"]["balance"]["amount"] == "7"

    with pytest.raises(desk.BookingError) as excinfo:
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("8"), idempotency_key=key())
    assert excinfo.value.code == "amount_invalid"
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("7"), idempotency_key=key())
    world.push()
    assert_all_synced()
    booking.refresh_from_db()
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert world.wix_order(booking)["paymentStatus"] == "PAID"


def test_pay_later_makes_a_not_paid_order_in_wix(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    desk.pay_later(user=desk_user, booking=booking, idempotency_key=key())
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.NOT_PAID

    world.push()
    assert_all_synced()
    booking.refresh_from_db()
    order = world.wix_order(booking)
    assert order["paymentStatus"] == "NOT_PAID" and order["status"] == "APPROVED"
    assert world.wix_booking(booking)["paymentStatus"] == "NOT_PAID"


def test_online_unpaid_booking_is_marked_paid_on_its_existing_order(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    online = world.online_booking(jo)
    order_before = world.wix_order(online["id"])
    world.mirror()
    booking = world.booking(online)
    assert booking.line_items.count() == 1

    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    world.push()

    assert_all_synced()
    assert world.wix_order(online["id"])["id"] == order_before["id"]  # no second order
    assert world.wix_order(online["id"])["paymentStatus"] == "PAID"
    assert world.wix_booking(online["id"])["paymentStatus"] == "PAID"
    assert len(world.sb.state.all("orders")) == 1


def test_online_unpaid_booking_charged_to_plan_on_its_existing_order(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=3)
    online = world.online_booking(sam)
    world.mirror(sam)
    booking = world.booking(online)

    desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    world.push()

    assert_all_synced()
    assert world.wix_credits(sam) == "2"
    assert world.wix_order(online["id"])["paymentStatus"] == "PAID"
    assert world.wix_booking(online["id"])["paymentStatus"] == "PAID"
    assert len(world.sb.state.all("orders")) == 1


def test_appointment_walk_in_books_a_free_slot_with_its_staff_and_location(world: World, desk_user) -> None:
    from tests.services.conftest import add_appointments, tomorrow_at

    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = world.sb.state.get("services", massage["id"])
    from bookings_app.models import Service, Session

    mirrored = Service.objects.get(wix_id=service["id"])
    slots = desk.appointment_slots(wix=world.wix, service=mirrored, day=tomorrow_at(9).date())
    assert slots and slots[0]["resource_id"] == world.coach["resourceId"]
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


@pytest.mark.usefixtures("booking_only")
def test_booking_only_mode_records_payment_status_without_an_order(world: World, desk_user) -> None:
    jo, sam, al, bo = world.customer("Jo"), world.customer("Sam", credits=2), world.customer("Al"), world.customer("Bo")
    world.mirror(jo, sam, al, bo)
    session = world.session()
    made = {}
    for person in (jo, sam, al, bo):
        made[person["contact"]["id"]] = desk.walk_in_create(
            user=desk_user, contact=world.contact(person), session=session, idempotency_key=key()
        )
    desk.payment_record(
        user=desk_user, booking=made[jo["contact"]["id"]], method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    desk.plan_charge(
        user=desk_user, booking=made[sam["contact"]["id"]], balance=world.balance(sam), idempotency_key=key()
    )
    desk.pay_later(user=desk_user, booking=made[al["contact"]["id"]], idempotency_key=key())
    desk.payment_record(
        user=desk_user, booking=made[bo["contact"]["id"]], method="CHECK", amount=Decimal("4"), idempotency_key=key()
    )

    report = world.push()

    assert_all_synced()
    statuses = {cid: world.wix_booking(Booking.objects.get(pk=b.pk))["paymentStatus"] for cid, b in made.items()}
    assert statuses == {
        jo["contact"]["id"]: "PAID",
        sam["contact"]["id"]: "PAID",
        al["contact"]["id"]: "NOT_PAID",
        bo["contact"]["id"]: "PARTIALLY_PAID",
    }
    assert world.wix_credits(sam) == "1"
    assert world.sb.state.all("orders") == []
    assert report.calls_by_operation["bulk_confirm_or_decline_booking"] == 1


def _full_class(world: World, capacity: int) -> None:
    """Shrink tomorrow's class to ``capacity`` places in Wix (before the mirror reads it)."""
    with world.sb.state.transaction():
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = capacity
        world.sb.state.put("events", event)


def test_full_class_refuses_a_walk_in_locally_unless_a_manager_overrides(world: World, desk_user, manager_user) -> None:
    _full_class(world, 2)
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


def test_class_filled_online_meanwhile_needs_attention_then_override_or_remove(
    world: World, desk_user, manager_user
) -> None:
    _full_class(world, 2)
    b, c, online1, online2 = world.customer("Ben"), world.customer("Cat"), world.customer("On"), world.customer("Line")
    world.mirror(b, c)
    session = world.session()
    first = desk.walk_in_create(user=desk_user, contact=world.contact(b), session=session, idempotency_key=key())
    paid = desk.payment_record(
        user=desk_user, booking=first, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    second = desk.walk_in_create(user=desk_user, contact=world.contact(c), session=session, idempotency_key=key())
    world.online_booking(online1, order=False)  # meanwhile, online: the class is full in Wix
    world.online_booking(online2, order=False)

    world.push()

    walk_in = DeskAction.objects.get(booking=first, kind="WALK_IN")
    assert walk_in.status == Status.NEEDS_ATTENTION
    assert walk_in.error_code == "SESSION_CAPACITY_EXCEEDED"
    assert walk_in.message == "The class filled up online — override as manager, or remove."
    assert DeskAction.objects.get(pk=paid.pk).status == Status.QUEUED  # waits for its walk-in
    first.refresh_from_db()
    assert first.pending_sync and first.wix_id is None

    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_resolve(user=desk_user, action=walk_in, choice="override")
    assert excinfo.value.code == "forbidden"
    desk.action_resolve(user=manager_user, action=walk_in, choice="override")
    world.push()
    first.refresh_from_db()
    assert DeskAction.objects.get(pk=walk_in.pk).status == Status.SYNCED
    assert DeskAction.objects.get(pk=paid.pk).status == Status.SYNCED
    assert world.wix_booking(first)["paymentStatus"] == "PAID"

    other = DeskAction.objects.get(booking=second, kind="WALK_IN")
    assert other.status == Status.NEEDS_ATTENTION
    assert desk.action_resolve(user=desk_user, action=other, choice="remove") is None
    second.refresh_from_db()
    assert second.status == Booking.Status.CANCELED and not second.pending_sync
    assert DeskAction.objects.get(pk=other.pk).status == Status.REMOVED
    assert AuditEntry.objects.filter(action="desk.remove").exists()


def test_plan_out_of_credit_in_wix_needs_attention_then_cash_instead(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=1)
    world.mirror(sam)
    with world.sb.state.transaction():  # the last credit was used online after the mirror read it
        balance = world.sb.state.edit("balances", sam["sold"]["pool"]["id"])
        balance["amount"]["available"] = "0"
        world.sb.state.put("balances", balance)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())

    world.push()

    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION
    assert charge.message == "No credits left on 10 Swim Pass — take cash instead?"
    cash = desk.action_resolve(user=desk_user, action=charge, choice="cash_instead")
    assert cash is not None and cash.kind == "PAYMENT" and cash.params["amount"] == "12.00"
    assert world.balance(sam).remaining_credits == 1  # the local credit came back

    world.push()
    booking.refresh_from_db()
    assert DeskAction.objects.get(pk=cash.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert world.wix_credits(sam) == "0"


def test_existing_order_plan_charge_without_credit_needs_attention(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=1)
    online = world.online_booking(sam)
    world.mirror(sam)
    with world.sb.state.transaction():
        balance = world.sb.state.edit("balances", sam["sold"]["pool"]["id"])
        balance["amount"]["available"] = "0"
        world.sb.state.put("balances", balance)
    charge = desk.plan_charge(
        user=desk_user, booking=world.booking(online), balance=world.balance(sam), idempotency_key=key()
    )
    world.push()
    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION and charge.error_code == "NOT_ENOUGH_BALANCE"
    assert "take cash instead" in charge.message


def test_undo_within_the_window_restores_the_mirror_and_nothing_reaches_wix(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=3)
    world.mirror(sam)
    session = world.session()
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key())
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())
    assert world.balance(sam).remaining_credits == 2

    desk.action_undo(user=desk_user, action=charge)
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.UNDEFINED
    assert world.balance(sam).remaining_credits == 3
    assert DeskAction.objects.get(pk=charge.pk).status == Status.UNDONE

    walk_in = DeskAction.objects.get(booking=booking, kind="WALK_IN")
    desk.action_undo(user=desk_user, action=walk_in)  # takes the check-in with it
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED and not booking.pending_sync
    assert not Attendance.objects.filter(booking=booking).exists()
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.UNDONE}

    calls = world.calls()
    world.push()
    assert world.calls() == calls
    assert world.sb.state.all("bookings") == []


def test_undo_after_the_window_is_refused(world: World, desk_user, settings) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    settings.DESK_UNDO_SECONDS = 0
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    action = DeskAction.objects.get(booking=booking)
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_undo(user=desk_user, action=action)
    assert excinfo.value.code == "too_late_to_undo"
    world.push()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_undo(user=desk_user, action=action)
    assert excinfo.value.code == "too_late_to_undo"


def test_reverse_after_sync_cancels_the_booking_and_voids_the_plan_charge(
    world: World, desk_user, manager_user
) -> None:
    sam = world.customer("Sam", credits=3)
    world.mirror(sam)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    world.push()
    assert world.wix_credits(sam) == "2"

    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_reverse(user=desk_user, action=charge, idempotency_key=key())
    assert excinfo.value.code == "forbidden"
    void = desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    assert void.kind == "VOID_PLAN_CHARGE"
    assert world.balance(sam).remaining_credits == 3
    with pytest.raises(desk.BookingError) as excinfo:
        desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    assert excinfo.value.code == "already_reversed"
    world.push()
    assert DeskAction.objects.get(pk=void.pk).status == Status.SYNCED
    assert world.wix_credits(sam) == "3"
    booking.refresh_from_db()
    assert world.wix_booking(booking)["paymentStatus"] == "NOT_PAID"

    walk_in = DeskAction.objects.get(booking=booking, kind="WALK_IN")
    cancel = desk.action_reverse(user=desk_user, action=walk_in, idempotency_key=key())
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED and booking.pending_sync
    world.push()
    assert DeskAction.objects.get(pk=cancel.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["status"] == "CANCELED"
    assert AuditEntry.objects.filter(action__in=["booking.cancel", "payment.void_plan"]).count() == 2


@pytest.mark.usefixtures("booking_only")
def test_booking_only_void_gives_the_credit_back_and_refund_marks_refunded(
    world: World, desk_user, manager_user
) -> None:
    sam, jo = world.customer("Sam", credits=3), world.customer("Jo")
    world.mirror(sam, jo)
    session = world.session()
    b1 = desk.walk_in_create(user=desk_user, contact=world.contact(sam), session=session, idempotency_key=key())
    charge = desk.plan_charge(user=desk_user, booking=b1, balance=world.balance(sam), idempotency_key=key())
    b2 = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=session, idempotency_key=key())
    cash = desk.payment_record(user=desk_user, booking=b2, method="CASH", amount=Decimal("12"), idempotency_key=key())
    world.push()
    assert world.wix_credits(sam) == "2"

    desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=cash.pk), idempotency_key=key())
    world.push()

    assert_all_synced()
    assert world.wix_credits(sam) == "3"
    assert world.wix_booking(Booking.objects.get(pk=b1.pk))["paymentStatus"] == "NOT_PAID"
    assert world.wix_booking(Booking.objects.get(pk=b2.pk))["paymentStatus"] == "REFUNDED"


def test_refund_of_a_paid_order_asks_staff_to_refund_in_the_dashboard(world: World, desk_user, manager_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    cash = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
    )
    world.push()
    refund = desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=cash.pk), idempotency_key=key())
    world.push()
    refund.refresh_from_db()
    assert refund.status == Status.NEEDS_ATTENTION and refund.error_code == "refund_in_dashboard"
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.REFUNDED  # what staff did, kept locally


def test_the_same_idempotency_key_twice_makes_one_action(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    k = key()
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    again = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    assert again.pk == booking.pk
    pk = key()
    first = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    second = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    assert first.pk == second.pk
    assert DeskAction.objects.count() == 2
    assert Booking.objects.filter(contact__wix_id=jo["contact"]["id"]).count() == 1
    with pytest.raises(desk.BookingError) as excinfo:  # a new key: nothing left to pay
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    assert excinfo.value.code == "already_paid"
    with pytest.raises(desk.BookingError) as excinfo:  # the key of a walk-in, reused for a payment
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("1"), idempotency_key=k)
    assert excinfo.value.code == "duplicate_request"


def test_new_customer_is_bookable_at_once_and_created_in_wix_before_their_booking(world: World, desk_user) -> None:
    contact = desk.customer_create(
        user=desk_user, first_name="Nia", last_name="New", email="nia@example.com", idempotency_key=key()
    )
    assert contact.wix_id is None
    booking = desk.walk_in_create(
        user=desk_user, contact=contact, session=_mirrored_session(world), idempotency_key=key()
    )
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())

    world.push()

    assert_all_synced()
    contact.refresh_from_db()
    booking.refresh_from_db()
    in_wix = world.sb.state.get("contacts", contact.wix_id)
    assert in_wix["primaryInfo"]["email"] == "nia@example.com"
    assert world.wix_booking(booking)["contactDetails"]["contactId"] == contact.wix_id
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def _mirrored_session(world: World):
    world.mirror()
    return world.session()


def test_new_customer_needs_a_name_and_a_way_to_reach_them(world: World, desk_user) -> None:
    for kwargs in (
        {"first_name": "", "email": "a@example.com"},
        {"first_name": "Al"},
        {"first_name": "Al", "email": "x"},
    ):
        with pytest.raises(desk.BookingError) as excinfo:
            desk.customer_create(user=desk_user, idempotency_key=key(), **kwargs)
        assert excinfo.value.code == "contact_invalid"
    jo = world.customer("Jo")
    world.mirror(jo)
    with pytest.raises(desk.BookingError) as excinfo:
        desk.customer_create(
            user=desk_user, first_name="Jo", email=jo["contact"]["primaryInfo"]["email"].upper(), idempotency_key=key()
        )
    assert excinfo.value.code == "contact_duplicate"


def test_new_customer_whose_email_wix_already_has_is_adopted_not_duplicated(world: World, desk_user) -> None:
    world.customer("Old", "Timer")  # in Wix, not in the mirror
    email = [c for c in world.sb.state.all("contacts")][0]["primaryInfo"]["email"]
    contact = desk.customer_create(user=desk_user, first_name="Old", email=email, idempotency_key=key())
    world.push()
    contact.refresh_from_db()
    assert contact.wix_id == world.sb.state.all("contacts")[0]["id"]
    assert len(world.sb.state.all("contacts")) == 1


def test_customer_search_finds_mirror_then_wix_and_shows_plans_and_what_they_owe(world: World, desk_user) -> None:
    sam = world.customer("Samantha", "Lake", credits=4)
    world.online_booking(sam)
    world.customer("Samuel", "Pond")  # only in Wix
    world.mirror(sam)

    local_only = desk.customer_search(query="sam")
    assert [h.contact.first_name for h in local_only] == ["Samantha"]
    hit = local_only[0]
    assert hit.is_member and [b.remaining_credits for b in hit.balances] == [4]
    assert hit.owes == Decimal("12.00")

    both = desk.customer_search(query="sam", wix=world.wix)
    assert sorted(h.contact.first_name for h in both) == ["Samantha", "Samuel"]
    assert [h.from_wix for h in both if h.contact.first_name == "Samuel"] == [True]
    assert both.wix_unreachable is False
    assert desk.customer_search(query="samuel")[0].contact.wix_id  # now in the mirror


def test_customer_search_survives_wix_being_down(world: World) -> None:
    from bookings_app.wix import WixClient
    from bookings_app.wix.client import ApiKeyAuth
    from wix_sandbox import Faults, Sandbox
    from wix_sandbox.transport import SandboxTransport

    jo = world.customer("Jonah")
    world.mirror(jo)
    down = Sandbox(faults=Faults(error_5xx_rate=1.0, seed=1))
    client = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(down.api_key, down.site_id),
        transport=SandboxTransport(down),
        sleep=lambda _s: None,
        max_retries=0,
    )
    hits = desk.customer_search(query="jon", wix=client)
    assert [h.contact.first_name for h in hits] == ["Jonah"] and hits.wix_unreachable


def test_check_in_everyone_is_one_bulk_call_per_eight(world: World, desk_user) -> None:
    people = [world.customer(f"P{i}") for i in range(10)]
    for person in people:
        world.online_booking(person, order=False)
    world.mirror()
    session = world.session()
    k = key()
    actions = desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k)
    assert len(actions) == 10
    assert desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k) == actions

    report = world.push()

    assert_all_synced()
    assert report.calls_by_operation == {"bulk_set_attendance": 2}
    assert sum(1 for a in world.sb.state.all("attendances") if a["status"] == "ATTENDED") == 10


def test_settle_suggests_plan_cash_or_paid_and_commits_every_row(world: World, desk_user) -> None:
    plan_person, cash_person, owes_person = (
        world.customer("Pat", credits=2),
        world.customer("Cas"),
        world.customer("Ow"),
    )
    paid_person = world.customer("Paid")
    for person in (plan_person, cash_person, owes_person, paid_person):
        world.online_booking(person)
    world.mirror(plan_person)
    session = world.session()
    already = world.booking(
        next(
            b
            for b in world.sb.state.all("bookings")
            if b["contactDetails"]["contactId"] == paid_person["contact"]["id"]
        )
    )
    desk.payment_record(user=desk_user, booking=already, method="CASH", amount=Decimal("12"), idempotency_key=key())

    rows = {r.booking.contact.first_name: r for r in desk.settle_suggestions(session=session)}
    assert {n: r.resolution for n, r in rows.items()} == {"Pat": "plan", "Cas": "cash", "Ow": "cash", "Paid": "paid"}
    assert rows["Pat"].balance == world.balance(plan_person)
    assert rows["Cas"].amount_due == Decimal("12.00")

    bad = [desk.SettleChoice(booking_id=rows["Cas"].booking.pk, resolution="cash", amount=Decimal("20"))]
    with pytest.raises(desk.BookingError) as excinfo:
        desk.settle_commit(user=desk_user, session=session, rows=bad, idempotency_key=key())
    assert excinfo.value.code == "settle_invalid" and rows["Cas"].booking.pk in excinfo.value.row_errors
    assert DeskAction.objects.filter(batch_id__gt="").count() == 0

    choices = [
        desk.SettleChoice(
            booking_id=rows["Pat"].booking.pk, resolution="plan", balance_id=rows["Pat"].balance.pk, check_in=True
        ),
        desk.SettleChoice(booking_id=rows["Cas"].booking.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=rows["Ow"].booking.pk, resolution="owes", check_in=False),
        desk.SettleChoice(booking_id=rows["Paid"].booking.pk, resolution="skip", check_in=True),
    ]
    k = key()
    actions = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k)
    assert sorted(a.kind for a in actions) == ["ATTENDANCE"] * 4 + ["PAYMENT", "PAY_LATER", "PLAN_CHARGE"]
    assert desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k) == actions

    world.push()
    assert_all_synced()
    by_name = {b.contact.first_name: b for b in Booking.objects.select_related("contact")}
    assert world.wix_order(by_name["Pat"])["paymentStatus"] == "PAID"
    assert world.wix_order(by_name["Cas"])["paymentStatus"] == "PAID"
    assert world.wix_order(by_name["Ow"])["paymentStatus"] == "NOT_PAID"
    assert world.wix_attendance(by_name["Ow"])["status"] == "NOT_ATTENDED"
    assert world.wix_attendance(by_name["Cas"])["status"] == "ATTENDED"
    assert world.wix_credits(plan_person) == "1"


def test_settle_suggestions_and_customer_search_cost_the_same_queries_for_3_or_30_people(world: World) -> None:
    people = [world.customer(f"Q{i:02d}", "Many", credits=3 if i % 2 else None) for i in range(30)]
    for person in people[:3]:
        world.online_booking(person)
    world.mirror(*people)
    session = world.session()

    def count(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    few_settle = count(lambda: desk.settle_suggestions(session=session))
    few_search = count(lambda: desk.customer_search(query="many", limit=3))
    for person in people[3:]:
        world.online_booking(person)
    world.mirror()
    assert count(lambda: desk.settle_suggestions(session=session)) == few_settle
    assert count(lambda: desk.customer_search(query="many", limit=30)) == few_search
    assert len(desk.settle_suggestions(session=session)) == 30


# --- settle commit in bulk: what row-by-row clicks do, in a fixed number of queries ------------


def _settle_session(hours: int) -> Session:
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return factories.SessionFactory(start=start, capacity=200, service__price=Decimal("12.00"))


def _settle_roster(session: Session, n: int) -> list[desk.SettleChoice]:
    """``n`` rows on ``session``, cycling through the cases a commit handles: walk-ins still on
    their way (the payment and the check-in wait for the walk-in), money already on its way (the
    next payment waits for it), part paid in Wix, an order, two bookings on one pass, unlimited,
    owes, no-shows, already checked in, on the waiting list, two people on one booking."""
    ps, att = Booking.PaymentStatus, Attendance.Status

    def booking(first: str, contact=None, **fields) -> Booking:
        contact = contact or factories.ContactFactory(first_name=first, last_name="Settle")
        return factories.BookingFactory(session=session, contact=contact, **fields)

    def walk_in(first: str, **fields) -> Booking:
        b = booking(first, wix_id=None, pending_sync=True, payment_status=ps.UNDEFINED, **fields)
        factories.DeskActionFactory(booking=b, kind=Kind.WALK_IN, params={"type": "class"})
        factories.DeskActionFactory(booking=b, kind=Kind.WALK_IN, status=Status.UNDONE)  # later, but undone
        return b

    def plan(b: Booking, credits: str | None = "3", *, unlimited: bool = False) -> BenefitBalance:
        return factories.BenefitBalanceFactory(
            member=factories.MemberFactory(contact=b.contact),
            remaining_credits=None if credits is None else Decimal(credits),
            unlimited=unlimited,
            covered_service_ids=[b.service.wix_id],
        )

    def part_paid(first: str, amount: str) -> Booking:
        b = booking(first, payment_status=ps.PARTIALLY_PAID)
        factories.DeskActionFactory(booking=b, status=Status.SYNCED, params={"method": "CASH", "amount": amount})
        return b

    def walk_in_cash(i: int) -> list[desk.SettleChoice]:
        return [desk.SettleChoice(booking_id=walk_in(f"Walk{i}").pk, resolution="cash", check_in=True)]

    def money_on_its_way(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Way{i}", payment_status=ps.PARTIALLY_PAID, pending_sync=True)
        factories.DeskActionFactory(
            booking=b,
            params={"method": "CASH", "amount": "5.00", "full": False, "due": "12.00"},
            before={"booking": {"payment_status": ps.NOT_PAID, "selected_payment_option": "OFFLINE"}},
        )
        return [desk.SettleChoice(booking_id=b.pk, resolution="card", check_in=True)]

    def part_paid_in_wix(i: int) -> list[desk.SettleChoice]:
        b = part_paid(f"Part{i}", "4.00")
        return [desk.SettleChoice(booking_id=b.pk, resolution="cash", amount=Decimal("3"), check_in=None)]

    def with_an_order(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Order{i}")
        factories.OrderLineItemFactory(booking=b, order__contact=b.contact, order__balance=Decimal("10.00"))
        factories.AttendanceFactory(booking=b, session=session, status=att.NOT_ATTENDED)
        return [desk.SettleChoice(booking_id=b.pk, resolution="check", check_in=True)]

    def one_pass_twice(i: int) -> list[desk.SettleChoice]:
        first = booking(f"Pass{i}")
        second = booking("", contact=first.contact)
        balance = plan(first, "2")
        return [
            desk.SettleChoice(booking_id=first.pk, resolution="plan", balance_id=balance.pk, check_in=True),
            desk.SettleChoice(booking_id=second.pk, resolution="plan", balance_id=balance.pk, check_in=False),
        ]

    def unlimited_checked_in(i: int) -> list[desk.SettleChoice]:
        b = walk_in(f"Unl{i}")
        balance = plan(b, None, unlimited=True)
        factories.AttendanceFactory(booking=b, session=session, status=att.ATTENDED)
        return [desk.SettleChoice(booking_id=b.pk, resolution="plan", balance_id=balance.pk, check_in=True)]

    def owes_no_show(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Owes{i}", payment_status=ps.UNDEFINED, selected_payment_option="ONLINE")
        return [desk.SettleChoice(booking_id=b.pk, resolution="owes", check_in=False)]

    def owes_the_rest(i: int) -> list[desk.SettleChoice]:
        return [desk.SettleChoice(booking_id=part_paid(f"Rest{i}", "2.00").pk, resolution="owes", check_in=True)]

    def paid_already(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Paid{i}", payment_status=ps.PAID)
        factories.AttendanceFactory(booking=b, session=session, status=att.NOT_SET)
        return [desk.SettleChoice(booking_id=b.pk, resolution="paid", check_in=True)]

    def waiting_list(i: int) -> list[desk.SettleChoice]:
        b = booking(f"Wait{i}", status=Booking.Status.WAITING_LIST)
        return [desk.SettleChoice(booking_id=b.pk, resolution="skip", check_in=True)]

    def two_people(i: int) -> list[desk.SettleChoice]:
        b = walk_in(f"Two{i}", total_participants=2)
        return [desk.SettleChoice(booking_id=b.pk, resolution="cash", check_in=True)]

    cases = [
        walk_in_cash,
        money_on_its_way,
        part_paid_in_wix,
        with_an_order,
        one_pass_twice,
        unlimited_checked_in,
        owes_no_show,
        owes_the_rest,
        paid_already,
        waiting_list,
        two_people,
    ]
    choices: list[desk.SettleChoice] = []
    for i in range(n):
        if len(choices) >= n:
            break
        choices += cases[i % len(cases)](i)
    return choices[:n]


def test_settle_commit_costs_the_same_queries_for_10_or_100_rows(desk_user) -> None:
    counts = []
    for hours, n in ((1, 10), (3, 100)):
        session = _settle_session(hours)
        choices = _settle_roster(session, n)
        with CaptureQueriesContext(connection) as ctx:
            actions = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=key("settle"))
        counts.append(len(ctx.captured_queries))
        assert len(actions) > n
    # Bulk writes: only SQLite's cap on query variables splits 100 rows' inserts into a few batches.
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 6), counts
    assert counts[1] <= 35, counts


def _settle_outcome(session: Session, choices: list[desk.SettleChoice], actions: list[DeskAction]) -> dict:
    """What a settle left behind, by row number (not ids), to compare two twin rosters."""
    row_of = {c.booking_id: i for i, c in enumerate(choices)}
    balance_of = {c.balance_id: i for i, c in enumerate(choices) if c.balance_id}
    balances = BenefitBalance.objects.select_related("member").in_bulk(list(balance_of))
    bookings = Booking.objects.in_bulk(list(row_of))

    def action(a: DeskAction) -> tuple:
        params = dict(a.params)
        if a.kind == Kind.PLAN_CHARGE:
            balance = balances[params.pop("balance_id")]
            assert (params.pop("pool_id"), params.pop("member_id")) == (balance.wix_id, balance.member.wix_id)
            params["balance"] = balance_of[balance.pk]
        assert a.contact_id == bookings[a.booking_id].contact_id
        assert a.session_id == session.pk
        waits = a.depends_on
        return (
            row_of[a.booking_id],
            a.kind,
            params,
            a.before,
            (row_of[waits.booking_id], waits.kind, waits.status) if waits else None,
        )

    attendance = {a.booking_id: a for a in Attendance.objects.filter(session=session)}
    return {
        "actions": sorted((action(a) for a in actions), key=repr),
        "bookings": {
            row_of[b.pk]: (b.status, b.payment_status, b.selected_payment_option, b.pending_sync)
            for b in bookings.values()
        },
        "attendance": {row_of[pk]: (a.status, a.number_of_attendees) for pk, a in attendance.items() if pk in row_of},
        "credits": {i: balances[pk].remaining_credits for pk, i in balance_of.items()},
        "audit": sorted(
            (
                (
                    row_of[int(e.object_id)],
                    e.action,
                    e.before,
                    {n: v for n, v in e.after.items() if n not in ("action", "batch", "credits")},
                )
                for e in AuditEntry.objects.filter(action__startswith="payment.", object_id__in=list(map(str, row_of)))
            ),
            key=repr,
        ),
    }


def test_settle_commit_does_what_row_by_row_clicks_do(desk_user, settings) -> None:
    """One commit, and the per-row services on a twin roster: the same desk actions (kinds,
    params, before, what each waits for), the same mirror and the same audited changes."""
    settle_session, by_hand_session = _settle_session(1), _settle_session(3)
    settled_rows, by_hand_rows = _settle_roster(settle_session, 33), _settle_roster(by_hand_session, 33)
    k = key("settle")
    actions = desk.settle_commit(user=desk_user, session=settle_session, rows=settled_rows, idempotency_key=k)

    assert [a.pk for a in actions] == sorted(a.pk for a in actions)
    assert desk.settle_commit(user=desk_user, session=settle_session, rows=settled_rows, idempotency_key=k) == actions
    assert all(a.batch_id == k and a.status == Status.QUEUED for a in actions)
    assert all(a.run_after - a.created_at == timedelta(seconds=settings.DESK_UNDO_SECONDS) for a in actions)
    assert AuditEntry.objects.filter(action="settle.commit", object_id=str(settle_session.pk)).count() == 1

    clicked: list[DeskAction] = []
    for choice in by_hand_rows:  # what staff would click, one row at a time
        b = Booking.objects.get(pk=choice.booking_id)
        if choice.resolution in ("cash", "card", "check"):
            amount = desk._amount_due(b) if choice.amount is None else choice.amount
            clicked.append(
                desk.payment_record(
                    user=desk_user, booking=b, method=choice.resolution, amount=amount, idempotency_key=key()
                )
            )
        elif choice.resolution == "plan":
            balance = BenefitBalance.objects.get(pk=choice.balance_id)
            clicked.append(desk.plan_charge(user=desk_user, booking=b, balance=balance, idempotency_key=key()))
        elif choice.resolution == "owes":
            clicked.append(desk.pay_later(user=desk_user, booking=b, idempotency_key=key()))
        if choice.check_in is not None and b.status in Booking.ACTIVE_STATUSES:
            wanted = "ATTENDED" if choice.check_in else "NOT_ATTENDED"
            if not Attendance.objects.filter(booking=b, session=by_hand_session, status=wanted).exists():
                clicked.append(desk.attendance_mark(user=desk_user, booking=b, status=wanted, idempotency_key=key()))

    settled = _settle_outcome(settle_session, settled_rows, actions)
    assert settled == _settle_outcome(by_hand_session, by_hand_rows, clicked)
    assert {a[1] for a in settled["actions"]} == {Kind.PAYMENT, Kind.PLAN_CHARGE, Kind.PAY_LATER, Kind.ATTENDANCE}
    waits_for = {(a[1], a[4][1] if a[4] else None) for a in settled["actions"]}
    assert {(Kind.PAYMENT, Kind.WALK_IN), (Kind.ATTENDANCE, Kind.WALK_IN), (Kind.PAYMENT, Kind.PAYMENT)} <= waits_for
    payments = {
        (a[2]["method"], a[2]["amount"], a[2]["due"], a[2]["full"]) for a in settled["actions"] if a[1] == "PAYMENT"
    }
    # a walk-in, money on its way (12 - 5), part paid in Wix (12 - 4), an order (its balance), two people
    assert payments == {
        ("CASH", "12.00", "12.00", True),
        ("CARD", "7.00", "7.00", True),
        ("CASH", "3", "8.00", False),
        ("CHECK", "10.00", "10.00", True),
        ("CASH", "24.00", "24.00", True),
    }
    assert set(settled["credits"].values()) == {Decimal("0"), None}  # each pass charged twice; unlimited
