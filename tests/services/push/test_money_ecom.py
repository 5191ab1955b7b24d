"""Phase 3 in ecom mode, on Cart V2: a walk-in's order comes from a cart; money taken at the desk is
recorded with Add Payments; a plan is charged on the placed order and followed until Wix settles
it; a lost answer is found on the cart or the order, never sent twice; Checkout V1 only behind its
setting."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from bookings_app.models import Booking, DeskAction, OrderLineItem, WixSiteFact
from bookings_app.services import desk
from tests.services.conftest import World, key, walk_in_with_cash
from tests.services.push.conftest import Trouble, push_now, recorder, roster, settle, trouble_client
from wix_sandbox.handlers.ecom_orders import settle_membership_payments

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


def charge_payment(action: DeskAction) -> str:
    action.refresh_from_db()
    return action.steps["charge_payment_ids"][0]


def paths(world: World) -> list[str]:
    return [path for _method, path, _status in world.sb.call_log]


def test_a_walk_in_paid_in_cash_gets_its_order_from_a_cart_and_an_offline_payment(world: World, desk_user) -> None:
    booking = walk_in_with_cash(world, desk_user)

    report = world.push()

    assert report.needs_attention == 0, report.as_dict()
    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    called = paths(world)
    assert sum(p == "/ecom/v2/carts" for p in called) == 1
    assert sum(p.endswith("/place-order") for p in called) == 1
    assert sum(p.endswith("/add-payment") for p in called) == 1
    assert not any("/checkouts" in p or "mark-as-paid" in p for p in called)
    booking.refresh_from_db()
    order = world.wix_order(booking)
    assert order["channelInfo"]["type"] == "BACKOFFICE_MERCHANT"
    assert order["paymentStatus"] == "PAID"
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_full_payments_of_booked_online_orders_use_add_payments_not_the_unrouted_bulk_path(
    world: World, desk_user
) -> None:
    roster(world, n=3, plans=0, orders=True)
    world.mirror()
    settle(world, desk_user, owes=0)

    report = world.push()

    assert report.needs_attention == 0, report.as_dict()
    assert sum(1 for b in world.sb.state.all("bookings") if b["paymentStatus"] == "PAID") == 3
    called = paths(world)
    assert sum(p.endswith("/add-payment") for p in called) == 3
    assert not any("payments-collector" in p for p in called)


def test_a_lost_part_payment_is_compared_with_the_order_before_sending_again(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    desk.payment_record(user=desk_user, booking=booking, method="CHECK", amount=Decimal("5"), idempotency_key=key())
    client = trouble_client(world, Trouble(world, "/add-payment", "lost"))
    push_now(client)
    push_now(client, ignore_backoff=True)
    booking.refresh_from_db()
    order = world.wix_order(booking)
    assert order["paymentStatus"] == "PARTIALLY_PAID" and order["balanceSummary"]["paid"]["amount"] == "5"
    assert len(world.sb.state.get("order_transactions", order["id"])["payments"]) == 1


def test_a_walk_in_charged_to_a_plan_is_charged_on_its_placed_order_and_followed_until_settled(
    world: World, desk_user
) -> None:
    sam = world.customer("Sam", credits=3)
    world.mirror(sam)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    charge = DeskAction.objects.get(kind="PLAN_CHARGE")
    assert charge.status == Status.SYNCED
    assert world.wix_credits(sam) == "2"
    booking.refresh_from_db()
    sent = wire.bodies("/charge-memberships")
    assert len(sent) == 1
    order = world.wix_order(booking)
    assert sent[0]["orderId"] == order["id"]
    assert sent[0]["memberships"][0]["lineItemId"] == order["lineItems"][0]["id"]
    assert sent[0]["memberships"][0]["membershipIdentifier"]["existingMembership"]["membershipId"] == (
        world.balance(sam).wix_id
    )
    # No membership was chosen in the cart, and no line id was made up.
    cart_body = wire.bodies("/ecom/v2/carts")[0]
    assert "membershipPayment" not in cart_body["catalogItems"][0] and "id" not in cart_body["catalogItems"][0]
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def plan_walk_in(world: World, desk_user, credits: int = 3) -> tuple[dict, Booking, DeskAction]:
    """Sam walks in and pays with their pass: the walk-in is booked for a plan (MEMBERSHIP)."""
    sam = world.customer("Sam", credits=credits)
    world.mirror(sam)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(sam), session=world.session(), idempotency_key=key()
    )
    charge = desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    return sam, booking, charge


def online_plan_charge(world: World, desk_user, credits: int = 3) -> tuple[dict, dict, DeskAction]:
    """Sam booked online to pay in person (an OFFLINE order line); at the desk they use their pass."""
    sam = world.customer("Sam", credits=credits)
    online = world.online_booking(sam)
    world.mirror(sam)
    charge = desk.plan_charge(
        user=desk_user, booking=world.booking(online), balance=world.balance(sam), idempotency_key=key()
    )
    return sam, online, charge


def test_a_lost_membership_charge_is_found_in_the_order_transactions(world: World, desk_user) -> None:
    sam, _booking, _charge = plan_walk_in(world, desk_user)
    wire = Trouble(world, "/charge-memberships", "lost")
    client = trouble_client(world, wire)
    push_now(client)
    push_now(client, ignore_backoff=True)
    assert DeskAction.objects.get(kind="PLAN_CHARGE").status == Status.SYNCED
    assert world.wix_credits(sam) == "2"
    assert len(wire.bodies("/charge-memberships")) == 1


def test_a_charge_wix_is_still_processing_waits_and_is_synced_once_it_settles(world: World, desk_user) -> None:
    world.sb.faults.membership_settlement = "manual"
    sam, booking, charge = plan_walk_in(world, desk_user)

    report = world.push()

    charge.refresh_from_db()
    assert charge.status == Status.QUEUED and charge.steps["charge_payment_ids"]
    assert report.needs_attention == 0
    assert settle_membership_payments(world.sb) == 1
    world.push(ignore_backoff=True)
    charge.refresh_from_db()
    assert charge.status == Status.SYNCED
    assert world.wix_credits(sam) == "2"


def test_a_charge_wix_declines_needs_attention_and_a_retry_charges_afresh(world: World, desk_user) -> None:
    world.sb.faults.membership_decline_rate = 1.0
    _sam, _booking, charge = plan_walk_in(world, desk_user)

    world.push()

    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION and charge.error_code == "NOT_ENOUGH_BALANCE"
    assert "charge_payment_ids" not in charge.steps or not charge.steps["charge_payment_ids"]
    assert not charge.steps.get("charge_sent")


def test_a_membership_wix_finds_not_eligible_needs_attention_in_plain_words(world: World, desk_user) -> None:
    sam, _booking, charge = plan_walk_in(world, desk_user, credits=1)
    # Meanwhile the plan ended in Wix.
    pool = world.balance(sam).wix_id
    with world.sb.state.transaction():
        found = world.sb.state.edit("pools", pool)
        found["status"] = "ENDED"
        world.sb.state.put("pools", found)

    world.push()

    charge.refresh_from_db()
    assert charge.status == Status.NEEDS_ATTENTION and charge.error_code == "MEMBERSHIP_NOT_ELIGIBLE"
    assert "can't pay for this" in charge.message


def test_a_pay_in_person_booking_paid_with_a_plan_redeems_the_credit_and_records_the_plan_payment(
    world: World, desk_user
) -> None:
    sam, online, charge = online_plan_charge(world, desk_user)
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    charge.refresh_from_db()
    assert charge.status == Status.SYNCED
    assert world.wix_credits(sam) == "2"
    assert not wire.bodies("/charge-memberships")  # its line was sold to be paid offline
    redeemed = wire.bodies("/benefits/redeem")
    assert len(redeemed) == 1 and redeemed[0]["count"] == 1
    recorded = wire.bodies("/add-payment")[0]["payments"][0]
    order = world.wix_order(online["id"])
    assert recorded["membershipPaymentDetails"]["lineItemId"] == order["lineItems"][0]["id"]
    assert recorded["membershipPaymentDetails"]["externalTransactionId"] == charge.steps["redemption_id"]
    assert order["paymentStatus"] == "PAID"
    assert world.wix_booking(online["id"])["paymentStatus"] == "PAID"


def test_a_lost_recorded_plan_payment_is_found_on_the_order_and_the_credit_taken_once(world: World, desk_user) -> None:
    sam, online, _charge = online_plan_charge(world, desk_user)
    wire = Trouble(world, "/add-payment", "lost")
    client = trouble_client(world, wire)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert DeskAction.objects.get(kind="PLAN_CHARGE").status == Status.SYNCED
    assert world.wix_credits(sam) == "2"
    assert len(wire.bodies("/add-payment")) == 1 and len(wire.bodies("/benefits/redeem")) == 1
    assert len(world.sb.state.get("order_transactions", world.wix_order(online["id"])["id"])["payments"]) == 1


def test_when_the_mirror_does_not_know_the_line_wix_refusing_the_charge_falls_back_to_recording(
    world: World, desk_user
) -> None:
    sam, online, charge = online_plan_charge(world, desk_user)
    OrderLineItem.objects.filter(booking__wix_id=online["id"]).update(payment_option="")
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    assert len(wire.bodies("/charge-memberships")) == 1  # refused: PAYMENT_OPTION_NOT_MEMBERSHIP
    assert len(wire.bodies("/benefits/redeem")) == 1
    assert world.wix_credits(sam) == "2"
    assert world.wix_order(online["id"])["paymentStatus"] == "PAID"


def test_a_cart_ordered_before_is_recognised_by_cart_already_ordered(world: World, desk_user) -> None:
    booking = walk_in_with_cash(world, desk_user)
    client = trouble_client(world, Trouble(world, "/place-order", "lost"))
    push_now(client)
    payment = DeskAction.objects.get(kind="PAYMENT")
    assert payment.steps["place_sent"] and "order_id" not in payment.steps
    # As if the "sent" marker had not been saved: Place Order goes again and Wix refuses it.
    payment.steps = {**payment.steps, "place_sent": False}
    payment.save(update_fields=["steps"])

    push_now(client, ignore_backoff=True)

    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Status.SYNCED
    assert len(world.sb.state.all("orders")) == 1
    assert payment.steps["order_id"] == world.wix_order(booking)["id"]
    assert world.wix_order(booking)["paymentStatus"] == "PAID"


def test_checkout_v1_is_used_only_behind_its_setting_and_sends_no_line_ids_and_a_billing_address(
    world: World, desk_user, settings
) -> None:
    settings.WIX = dataclasses.replace(settings.WIX, checkout_v1=True)
    assert [w.id for w in run_checks() if w.id == "bookings_app.W001"] == ["bookings_app.W001"]
    booking = walk_in_with_cash(world, desk_user)
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    sent = wire.bodies("/ecom/v1/checkouts")[0]
    assert "id" not in sent["lineItems"][0]
    assert sent["checkoutInfo"]["billingInfo"]["address"]["country"] == "GB"
    assert "membershipOptions" not in sent["checkoutInfo"]
    assert not any(p.startswith("/ecom/v2/carts") for p in paths(world))
    booking.refresh_from_db()
    assert world.wix_order(booking)["paymentStatus"] == "PAID"


def test_checkout_v1_is_off_by_default_and_says_nothing() -> None:
    assert not [w for w in run_checks() if w.id == "bookings_app.W001"]


def test_undoing_a_plan_charge_refunds_its_membership_payment_and_the_credit_comes_back(
    world: World, desk_user, manager_user
) -> None:
    sam, booking, charge = plan_walk_in(world, desk_user)
    world.push()
    assert world.wix_credits(sam) == "2"
    charge.refresh_from_db()
    booking.refresh_from_db()

    desk.action_reverse(user=manager_user, action=charge, idempotency_key=key())
    client, wire = recorder(world)
    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    assert world.wix_credits(sam) == "3"
    assert wire.bodies("/refund-payments") == [
        {
            "orderId": world.wix_order(booking)["id"],
            "paymentRefunds": [{"paymentId": charge.steps["charge_payment_ids"][0]}],
        }
    ]
    assert not any("void-memberships" in p for p in paths(world))
    assert world.wix_booking(booking)["paymentStatus"] == "NOT_PAID"


def test_undoing_a_recorded_plan_payment_refunds_it_and_gives_the_credit_back_once(
    world: World, desk_user, manager_user
) -> None:
    sam, online, charge = online_plan_charge(world, desk_user)
    world.push()
    assert world.wix_credits(sam) == "2"
    charge.refresh_from_db()

    desk.action_reverse(user=manager_user, action=charge, idempotency_key=key())
    client, wire = recorder(world)
    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    assert world.wix_credits(sam) == "3"  # the refund reversed the redemption; no Change Balance on top
    assert len(wire.bodies("/refund-payments")) == 1
    assert not wire.bodies("/change")
    assert world.wix_order(online["id"])["paymentStatus"] == "NOT_PAID"


def test_checkout_v1_a_lost_create_order_answer_is_found_by_checkout_already_paid_whatever_its_status(
    world: World, desk_user, settings
) -> None:
    settings.WIX = dataclasses.replace(settings.WIX, checkout_v1=True)
    booking = walk_in_with_cash(world, desk_user)
    wire = Trouble(world, "/create-order", "lost")
    client = trouble_client(world, wire)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    assert len(wire.bodies("/create-order")) == 2
    statuses = [status for _method, path, status in world.sb.call_log if path.endswith("/create-order")]
    assert statuses == [200, 409]  # the second was refused: CHECKOUT_ALREADY_PAID, the reference's 409
    assert len(world.sb.state.all("orders")) == 1
    booking.refresh_from_db()
    assert world.wix_order(booking)["paymentStatus"] == "PAID"


def test_where_wix_check_found_offline_lines_chargeable_the_desk_charges_them_first(world: World, desk_user) -> None:
    WixSiteFact.objects.create(key="charge_offline_line", value=True, settled_at=timezone.now())
    sam, online, _charge = online_plan_charge(world, desk_user)
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    # This sandbox refuses it (its strict reading), and the desk falls back: the credit taken once.
    assert len(wire.bodies("/charge-memberships")) == 1
    assert len(wire.bodies("/benefits/redeem")) == 1
    assert world.wix_credits(sam) == "2"
    assert world.wix_order(online["id"])["paymentStatus"] == "PAID"


def test_a_plan_paying_what_is_left_after_a_part_payment_records_only_what_is_left(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=3)
    online = world.online_booking(sam)
    world.mirror(sam)
    booking = world.booking(online)
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("5"), idempotency_key=key())
    world.push()
    booking.refresh_from_db()
    desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(sam), idempotency_key=key())
    client, wire = recorder(world)

    report = push_now(client)

    assert report.needs_attention == 0, report.as_dict()
    recorded = wire.bodies("/add-payment")[0]["payments"][0]
    assert recorded["amount"] == {"amount": "7.00"}
    order = world.wix_order(online["id"])
    assert order["paymentStatus"] == "PAID" and order["balanceSummary"]["balance"]["amount"] == "0"
