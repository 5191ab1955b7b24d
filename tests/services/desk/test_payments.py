"""Money at the desk end to end: cash, card, part payments, plans, pay later, an online booking's
existing order, booking-only mode."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import Booking, DeskAction
from bookings_app.services import desk
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


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


def test_a_plan_charge_for_three_participants_takes_three_credits_and_its_undo_gives_them_back(
    world: World, desk_user
) -> None:
    sam = world.customer("Sam", credits=5)
    world.mirror(sam)
    balance = world.balance(sam)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    Booking.objects.filter(pk=booking.pk).update(total_participants=3)
    booking.refresh_from_db()

    charge = desk.plan_charge(user=desk_user, booking=booking, balance=balance, idempotency_key=key())
    balance.refresh_from_db()
    assert balance.remaining_credits == 2  # one per participant, as the push redeems count = 3

    desk.action_undo(user=desk_user, action=charge)
    balance.refresh_from_db()
    assert balance.remaining_credits == 5
