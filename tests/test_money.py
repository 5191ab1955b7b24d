"""The money rules and the one money formatter (``bookings_app.money``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app import money
from bookings_app.models import DeskAction
from tests import factories

Kind = DeskAction.Kind


# --- the formatter ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("12"), "GBP", "£12.00"),
        (Decimal("1234"), "GBP", "£1,234.00"),
        (Decimal("1234567.5"), "EUR", "€1,234,567.50"),
        (Decimal("-5"), "GBP", "-£5.00"),
        (Decimal("7.5"), "USD", "$7.50"),
        (Decimal("40"), "AUD", "A$40.00"),
        (Decimal("1234"), "CHF", "1,234.00 CHF"),
        (Decimal("-1234"), "CHF", "-1,234.00 CHF"),
        (Decimal("1234"), "", "1,234.00"),
        (12, "GBP", "£12.00"),
        ("12.5", "GBP", "£12.50"),
        (Decimal("0"), "GBP", "£0.00"),
        (Decimal("-0.001"), "GBP", "£0.00"),  # rounds to nothing: no minus sign
        (Decimal("12"), "gbp", "£12.00"),  # however Wix spelt the currency
        (Decimal("12"), " GBP", "£12.00"),
        (None, "GBP", ""),
    ],
)
def test_format_money_writes_symbol_thousands_and_two_places(amount, currency, text):
    assert money.format_money(amount, currency) == text


def test_the_template_and_jinja_filters_are_the_formatter():
    from django.template import engines

    from bookings_app.templatetags.desk import money as money_filter

    assert money_filter(Decimal("1234"), "GBP") == "£1,234.00"
    assert engines["jinja2"].env.filters["money"] is money.format_money


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12", Decimal("12")),
        ("£1,234.50", Decimal("1234.50")),
        ("1,234", Decimal("1234")),
        ("12,345,678.90", Decimal("12345678.90")),
        (" 7.5 ", Decimal("7.5")),
        (Decimal("3"), Decimal("3")),
        ("12,50", Decimal("12.50")),  # a decimal comma: two figures after it cannot be thousands
        ("12,5", Decimal("12.5")),
        ("£0,99", Decimal("0.99")),
        ("1,23", Decimal("1.23")),
    ],
)
def test_parse_amount_reads_what_staff_type(typed, amount):
    assert money.parse_amount(typed) == amount


@pytest.mark.parametrize(
    "typed", [None, "", "five", "1.234", "NaN", "Infinity", "1,2,3", "12,50.00", "1.234,50", ",50", "12,"]
)
def test_parse_amount_refuses_what_is_not_an_amount(typed):
    assert money.parse_amount(typed) is None


# --- plans -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_plan_problem_and_balance_covers_are_one_rule():
    booking = factories.BookingFactory()
    member = factories.MemberFactory(contact=booking.contact)

    def balance(**fields):
        defaults = {"member": member, "remaining_credits": Decimal("3"), "covered_service_ids": []}
        return factories.BenefitBalanceFactory(**{**defaults, **fields})

    cases = {
        "fits": (balance(), None),
        "not active": (balance(status="ENDED"), "plan_not_eligible"),
        "another service": (balance(covered_service_ids=["other"]), "plan_not_eligible"),
        "not in Wix": (balance(wix_id=None), "plan_not_eligible"),
        "no credit": (balance(remaining_credits=Decimal("0")), "no_credits"),
        "unlimited": (balance(unlimited=True, remaining_credits=None), None),
    }
    for case, (b, code) in cases.items():
        problem = money.plan_problem(booking, b, b.member)
        assert (problem[0] if problem else None) == code, case
        assert money.balance_covers(b, booking.service) is (code is None), case

    stranger = factories.BenefitBalanceFactory(remaining_credits=Decimal("3"), covered_service_ids=[])
    assert money.plan_problem(booking, stranger, stranger.member)[0] == "plan_not_eligible"
    assert money.plan_problem(booking, cases["fits"][0], member, already_used=3)[0] == "no_credits"


@pytest.mark.django_db
def test_a_booking_of_several_participants_needs_a_credit_for_each():
    # The push redeems count = totalParticipants (Redeem Benefit takes price × count).
    booking = factories.BookingFactory(total_participants=3)
    member = factories.MemberFactory(contact=booking.contact)
    three = factories.BenefitBalanceFactory(member=member, remaining_credits=Decimal("3"), covered_service_ids=[])
    two = factories.BenefitBalanceFactory(member=member, remaining_credits=Decimal("2"), covered_service_ids=[])
    unlimited = factories.BenefitBalanceFactory(member=member, unlimited=True, covered_service_ids=[])

    assert money.plan_problem(booking, three, member) is None
    assert money.plan_problem(booking, two, member) == ("no_credits", f"{two.name} has 2 credits left; 3 are needed.")
    assert money.plan_problem(booking, three, member, already_used=1)[0] == "no_credits"
    assert money.plan_problem(booking, unlimited, member) is None
    assert money.balance_covers(two, booking.service) is True  # one participant
    assert money.balance_covers(two, booking.service, participants=3) is False
    assert money.best_balance(booking, [two, three]) == three


@pytest.mark.django_db
def test_best_balance_is_unlimited_first_then_the_pass_that_runs_out_soonest():
    booking = factories.BookingFactory()
    member = factories.MemberFactory(contact=booking.contact)
    few = factories.BenefitBalanceFactory(member=member, remaining_credits=Decimal("2"), covered_service_ids=[])
    many = factories.BenefitBalanceFactory(member=member, remaining_credits=Decimal("9"), covered_service_ids=[])

    assert money.best_balance(booking, [many, few]) == few
    unlimited = factories.BenefitBalanceFactory(member=member, unlimited=True, covered_service_ids=[])
    assert money.best_balance(booking, [many, few, unlimited]) == unlimited
    assert money.best_balance(booking, []) is None


# --- amount due: the desk's rule and the roster's ----------------------------------------------------


@pytest.mark.django_db
def test_the_desk_counts_an_order_balance_less_what_is_on_its_way():
    booking = factories.BookingFactory(payment_status="NOT_PAID")
    factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("12.00"))
    assert money.amount_due(booking) == Decimal("12.00")

    factories.DeskActionFactory(booking=booking, kind=Kind.PAYMENT, params={"amount": "5.00"})
    assert money.amount_due(booking) == Decimal("7.00")


@pytest.mark.django_db
def test_money_taken_for_another_booking_on_the_same_order_counts_for_both():
    """A package (or an online order for two) is one order: cash for the whole of it on one
    booking leaves nothing due on the others while it is on its way to Wix, so the desk cannot
    take it twice; a plan charge pays only its own line."""
    massage = factories.BookingFactory(payment_status="NOT_PAID")
    facial = factories.BookingFactory(payment_status="NOT_PAID", contact=massage.contact)
    alone = factories.BookingFactory(payment_status="NOT_PAID")
    line = factories.OrderLineItemFactory(booking=massage, order__balance=Decimal("125.00"))
    factories.OrderLineItemFactory(booking=facial, order=line.order, line_item_id="line-2")
    factories.OrderLineItemFactory(booking=alone, order__balance=Decimal("12.00"))
    assert money.amounts_due([massage, facial, alone]) == {
        massage.pk: Decimal("125.00"),
        facial.pk: Decimal("125.00"),
        alone.pk: Decimal("12.00"),
    }

    factories.DeskActionFactory(booking=massage, kind=Kind.PAYMENT, params={"amount": "100.00"})
    factories.DeskActionFactory(booking=alone, kind=Kind.PAYMENT, params={"amount": "12.00"})
    assert money.amounts_due([massage, facial, alone]) == {
        massage.pk: Decimal("25.00"),
        facial.pk: Decimal("25.00"),
        alone.pk: Decimal("0.00"),
    }
    assert money.amount_due(facial) == Decimal("25.00")  # asked alone, too


@pytest.mark.django_db
def test_the_desk_ignores_a_cancelled_order_the_roster_does_not():
    booking = factories.BookingFactory(payment_status="NOT_PAID")
    factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("30.00"), order__status="CANCELED")

    assert money.amount_due(booking) == Decimal("12.00")  # the list price: no live order
    assert money.roster_due(booking=booking, order_balances=[Decimal("30.00")], settled=False) == Decimal("30.00")


@pytest.mark.django_db
def test_without_an_order_the_desk_starts_from_the_payment_status():
    price = Decimal("12.00")  # the factories' service price
    assert money.amount_due(factories.BookingFactory(payment_status="PAID")) == 0
    assert money.amount_due(factories.BookingFactory(payment_status="NOT_PAID")) == price
    two = factories.BookingFactory(payment_status="NOT_PAID", total_participants=2)
    assert money.amount_due(two) == 2 * price
    part = factories.BookingFactory(payment_status="PARTIALLY_PAID")
    factories.DeskActionFactory(booking=part, kind=Kind.PAYMENT, status="SYNCED", params={"amount": "4.00"})
    assert money.amount_due(part) == Decimal("8.00")


def test_the_roster_shows_nothing_due_for_a_settled_booking_or_no_price():
    booking = factories.BookingFactory.build(service=factories.ServiceFactory.build(price=Decimal("12.00")))
    assert money.roster_due(booking=booking, order_balances=[], settled=False) == Decimal("12.00")
    assert money.roster_due(booking=booking, order_balances=[], settled=True) is None
    assert money.roster_due(booking=booking, order_balances=[Decimal("0")], settled=False) is None
    free = factories.BookingFactory.build(service=factories.ServiceFactory.build(price=None))
    assert money.roster_due(booking=free, order_balances=[], settled=False) is None


def test_the_roster_takes_off_desk_payments_synced_ones_only_from_the_list_price():
    ten, four, three = Decimal("10"), Decimal("4"), Decimal("3")
    assert money.roster_due_less_desk(ten, due_from_order=False, unsynced_paid=four, synced_paid=three) == 3
    assert money.roster_due_less_desk(ten, due_from_order=True, unsynced_paid=four, synced_paid=three) == 6
    assert money.roster_due_less_desk(ten, due_from_order=False, unsynced_paid=ten, synced_paid=0) is None
    assert money.roster_due_less_desk(None, due_from_order=False, unsynced_paid=four, synced_paid=0) is None
    # a plan charge on its way pays the whole booking, whatever the order's balance still says
    assert (
        money.roster_due_less_desk(ten, due_from_order=True, unsynced_paid=0, synced_paid=0, plan_on_its_way=True)
        is None
    )


@pytest.mark.django_db
def test_the_desk_refuses_to_take_a_shared_order_twice():
    from bookings_app.services import desk
    from bookings_app.services.errors import BookingError

    massage = factories.BookingFactory(payment_status="NOT_PAID")
    facial = factories.BookingFactory(payment_status="NOT_PAID", contact=massage.contact, session=massage.session)
    line = factories.OrderLineItemFactory(booking=massage, order__balance=Decimal("125.00"))
    factories.OrderLineItemFactory(booking=facial, order=line.order, line_item_id="line-2")
    desk.payment_record(user=None, booking=massage, method="CASH", amount=Decimal("125.00"), idempotency_key="k-1")

    with pytest.raises(BookingError) as excinfo:
        desk.payment_record(user=None, booking=facial, method="CASH", amount=Decimal("125.00"), idempotency_key="k-2")
    assert excinfo.value.code == "already_paid"
    assert DeskAction.objects.filter(kind=Kind.PAYMENT).count() == 1
