"""Selling a plan at the desk (``services/desk/plan_sales.py``): the plan is on the desk at once
("waiting for Wix", with its credits), a visit it pays for waits on the sale, undo drops both,
and bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import AuditEntry, BenefitBalance, Booking, DeskAction, PlanOrder
from bookings_app.services import desk, plans
from bookings_app.services.errors import BookingError
from bookings_app.services.plans import PlanOffer
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced
from tests.services.push.conftest import Trouble, recorder, trouble_client
from tests.wix_sandbox.plan_builders import make_plan

pytestmark = pytest.mark.django_db

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus


def offer(world: World, **changes) -> PlanOffer:
    """The world's 10 Swim Pass as the desk offers it (credits known from a mirrored pass)."""
    base = PlanOffer(
        plan_id=world.plan["id"],
        name="10 Swim Pass",
        price=Decimal("90"),
        currency="GBP",
        credits=Decimal("10"),
        unlimited=False,
        covered_service_ids=(world.service["id"],),
    )
    return PlanOffer(**{**base.__dict__, **changes})


def member_booked(world: World, first: str = "Ada"):
    """A member with no plan, booked online into tomorrow's class to pay in person."""
    person = world.customer(first, member=True)
    wix_booking = world.online_booking(person)
    world.mirror(person)
    return person, world.booking(wix_booking)


def nothing_written() -> None:
    assert not DeskAction.objects.filter(kind__in=(Kind.PLAN_SALE, Kind.PLAN_CHARGE)).exists()
    assert not PlanOrder.objects.filter(wix_id=None).exists()
    assert not BenefitBalance.objects.filter(wix_id=None).exists()


def test_a_plan_sold_with_todays_visit_shows_at_once_and_the_visit_waits_for_the_sale(world: World, desk_user):
    ada, booking = member_booked(world)

    sale = desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world),
        method="CASH",
        idempotency_key=key(),
        visit=booking,
    )

    assert (sale.kind, sale.status, sale.booking_id) == (Kind.PLAN_SALE, Status.QUEUED, None)
    assert sale.params["method"] == "CASH" and sale.params["price"] == "90"
    balance = BenefitBalance.objects.get(pk=sale.params["balance_pk"])
    assert (balance.wix_id, balance.status, balance.total_credits, balance.remaining_credits) == (
        None,
        "PROVISIONING",
        10,
        9,
    )
    assert balance.plan_order.plan_id == world.plan["id"] and balance.plan_order.wix_id is None
    charge = DeskAction.objects.get(kind=Kind.PLAN_CHARGE)
    assert charge.depends_on_id == sale.pk and charge.booking_id == booking.pk
    assert charge.params["balance_id"] == balance.pk and charge.params["pool_id"] == ""
    booking.refresh_from_db()
    assert (booking.payment_status, booking.selected_payment_option, booking.pending_sync) == (
        PS.PAID,
        Booking.PaymentOption.MEMBERSHIP,
        True,
    )
    assert AuditEntry.objects.filter(action="plan.sale", summary__contains="took £90.00 cash").exists()


def test_the_sale_and_the_visit_reach_wix_in_one_push(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world),
        method="CARD",
        idempotency_key=key(),
        visit=booking,
    )

    world.push()

    assert_all_synced()
    sale.refresh_from_db()
    order = world.sb.state.get("plan_orders", sale.steps["order_id"])
    assert (order["type"], order["lastPaymentStatus"], order["status"]) == ("OFFLINE", "PAID", "ACTIVE")
    assert world.sb.state.get("balances", sale.steps["pool_id"])["amount"]["available"] == "9"
    balance = BenefitBalance.objects.get(pk=sale.params["balance_pk"])  # the desk's row, now Wix's pool
    assert (balance.wix_id, balance.status, balance.remaining_credits) == (sale.steps["pool_id"], "ACTIVE", 9)
    assert balance.plan_order.wix_id == order["id"]
    assert PlanOrder.objects.filter(member=balance.member).count() == 1
    booking.refresh_from_db()
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"
    assert not booking.pending_sync


def test_a_plan_sold_on_its_own_needs_no_booking(world: World, desk_user):
    ada = world.customer("Ada", member=True)
    world.mirror(ada)

    sale = desk.plan_sale(
        user=desk_user, contact=world.contact(ada), offer=offer(world), method="CHECK", idempotency_key=key()
    )
    world.push()

    assert_all_synced()
    assert not DeskAction.objects.filter(kind=Kind.PLAN_CHARGE).exists()
    balance = BenefitBalance.objects.get(wix_id=DeskAction.objects.get(pk=sale.pk).steps["pool_id"])
    assert balance.remaining_credits == 10


def test_a_plan_whose_credits_the_mirror_does_not_know_gets_them_from_wix(world: World, desk_user):
    ada, booking = member_booked(world)

    desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world, credits=None, unlimited=None),
        method="CASH",
        idempotency_key=key(),
        visit=booking,
    )
    balance = BenefitBalance.objects.get(wix_id=None)
    assert balance.remaining_credits is None
    world.push()

    assert_all_synced()
    balance.refresh_from_db()
    assert (balance.total_credits, balance.remaining_credits) == (10, 9)


def test_the_same_form_twice_sells_once(world: World, desk_user):
    ada, booking = member_booked(world)
    token = key()

    first = desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world),
        method="CASH",
        idempotency_key=token,
        visit=booking,
    )
    again = desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world),
        method="CASH",
        idempotency_key=token,
        visit=booking,
    )

    assert first.pk == again.pk
    assert DeskAction.objects.filter(kind=Kind.PLAN_SALE).count() == 1
    assert DeskAction.objects.filter(kind=Kind.PLAN_CHARGE).count() == 1
    assert BenefitBalance.objects.filter(wix_id=None).count() == 1


def test_undo_drops_the_sale_and_the_visit_and_wix_never_hears_of_them(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = desk.plan_sale(
        user=desk_user,
        contact=world.contact(ada),
        offer=offer(world),
        method="CASH",
        idempotency_key=key(),
        visit=booking,
    )

    desk.action_undo(user=desk_user, action=sale)
    world.push()

    assert set(DeskAction.objects.values_list("kind", "status")) == {
        (Kind.PLAN_SALE, Status.UNDONE),
        (Kind.PLAN_CHARGE, Status.UNDONE),
    }
    assert (
        not PlanOrder.objects.filter(wix_id=None).exists() and not BenefitBalance.objects.filter(wix_id=None).exists()
    )
    booking.refresh_from_db()
    assert (booking.payment_status, booking.pending_sync) == (PS.NOT_PAID, False)
    assert not [o for o in world.sb.state.all("plan_orders") if o["buyer"]["memberId"] == ada["member"]["id"]]


def test_too_late_to_undo_once_the_window_has_passed(world: World, desk_user, settings):
    settings.DESK_UNDO_SECONDS = 0
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    sale = desk.plan_sale(
        user=desk_user, contact=world.contact(ada), offer=offer(world), method="CASH", idempotency_key=key()
    )

    with pytest.raises(BookingError) as excinfo:
        desk.action_undo(user=desk_user, action=sale)

    assert excinfo.value.code == "too_late_to_undo"


def test_a_contact_who_is_not_a_member_is_told_so_and_nothing_changes(world: World, desk_user):
    jo = world.customer("Jo")
    world.mirror(jo)

    with pytest.raises(BookingError) as excinfo:
        desk.plan_sale(
            user=desk_user, contact=world.contact(jo), offer=offer(world), method="CASH", idempotency_key=key()
        )

    assert excinfo.value.code == "not_a_member"
    assert "not a member of the website" in excinfo.value.message
    nothing_written()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("someone_elses_visit", "plan_not_eligible"),
        ("plan_not_covering_it", "plan_not_eligible"),
        ("fewer_credits_than_people", "no_credits"),
        ("visit_already_paid", "already_paid"),
        ("cancelled_visit", "booking_cancelled"),
        ("no_price", "plan_invalid"),
        ("bad_method", "method_invalid"),
    ],
)
def test_a_sale_that_cannot_pay_for_the_visit_changes_nothing(world: World, desk_user, case: str, code: str):
    ada, booking = member_booked(world)
    contact, sold, method = world.contact(ada), offer(world), "CASH"
    if case == "someone_elses_visit":
        _, booking = member_booked(world, "Bea")
    elif case == "plan_not_covering_it":
        sold = offer(world, covered_service_ids=("another-service",))
    elif case == "fewer_credits_than_people":
        Booking.objects.filter(pk=booking.pk).update(total_participants=3)
        sold = offer(world, credits=Decimal("2"))
    elif case == "visit_already_paid":
        Booking.objects.filter(pk=booking.pk).update(payment_status=PS.PAID)
        booking.line_items.all().delete()
    elif case == "cancelled_visit":
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELED)
    elif case == "no_price":
        sold = offer(world, price=None)
    else:
        method = "IOU"
    booking.refresh_from_db()

    with pytest.raises(BookingError) as excinfo:
        desk.plan_sale(user=desk_user, contact=contact, offer=sold, method=method, idempotency_key=key(), visit=booking)

    assert excinfo.value.code == code
    nothing_written()


def test_plans_for_sale_come_from_wix_with_the_credits_the_mirror_knows(world: World):
    sam = world.customer("Sam", credits=4)  # bought the pass: the mirror learns it gives 10
    world.mirror(sam)
    make_plan(world.sb, "Old Pass", 5, [world.service["id"]], "40", archived=True)
    plans.plans_forget()

    catalogue = plans.plans_for_sale(wix=world.wix)

    assert not catalogue.wix_unreachable
    (swim_pass,) = catalogue.offers
    assert (swim_pass.name, swim_pass.price, swim_pass.currency) == ("10 Swim Pass", Decimal("90"), "GBP")
    assert (swim_pass.credits, swim_pass.unlimited, swim_pass.covers(world.service["id"])) == (10, False, True)


def test_plans_for_sale_without_wix_are_the_plans_the_mirror_has_seen_sold(world: World):
    sam = world.customer("Sam", credits=4)
    world.mirror(sam)
    plans.plans_forget()
    down = trouble_client(world, Trouble(world, "/pricing-plans/v3/plans", "503", times=10))

    catalogue = plans.plans_for_sale(wix=down)

    assert catalogue.wix_unreachable
    assert [(o.name, o.price, o.credits, o.currency) for o in catalogue.offers] == [
        ("10 Swim Pass", Decimal("90"), 10, "GBP")
    ]


def test_plans_for_sale_ask_wix_once_in_a_while(world: World):
    plans.plans_forget()
    client, transport = recorder(world)

    plans.plans_for_sale(wix=client)
    plans.plans_for_sale(wix=client)

    assert len([r for r in transport.sent if "/pricing-plans/v3/plans" in r.url.path]) == 1
