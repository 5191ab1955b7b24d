"""Selling a plan's reads (``selectors/plan_sales.py``): what the mirror knows of each plan, the
customer's visit, today's sales — a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import Booking, DeskAction
from tests import factories

pytestmark = pytest.mark.django_db


def _sold(plan_id: str, *, name: str, price: str, credits: str | None, currency: str = "GBP") -> None:
    order = factories.PlanOrderFactory(
        plan_id=plan_id,
        plan_name=name,
        raw={"planPrice": price, "pricing": {"prices": [{"price": {"currency": currency}}]}},
    )
    factories.BenefitBalanceFactory(
        member=order.member,
        plan_order=order,
        total_credits=None if credits is None else Decimal(credits),
        unlimited=credits is None,
        raw={"pool": {"programDefinition": {"externalId": plan_id}}},
    )


def test_plans_known_from_the_orders_and_pools_mirrored_in_two_queries(django_assert_num_queries):
    for _ in range(3):
        _sold("pass", name="10-Swim Pass", price="100", credits="10")
    _sold("unlimited", name="Unlimited Monthly", price="65", credits=None)
    factories.PlanOrderFactory(plan_id="no-pool-yet", plan_name="Taster", raw={"planPrice": "5"})
    factories.PlanOrderFactory(plan_id="mine", plan_name="Desk sale", wix_id=None)  # not in Wix yet

    with django_assert_num_queries(2):
        known = selectors.plans_known()

    assert set(known) == {"pass", "unlimited", "no-pool-yet"}
    assert (known["pass"].price, known["pass"].currency, known["pass"].credits) == (Decimal("100"), "GBP", 10)
    assert (known["unlimited"].unlimited, known["unlimited"].credits) == (True, None)
    assert (known["no-pool-yet"].price, known["no-pool-yet"].unlimited) == (Decimal("5"), None)


def test_the_visit_is_the_customers_place_on_the_session_in_one_query(django_assert_num_queries):
    session = factories.SessionFactory()
    mine = factories.BookingFactory(session=session)
    factories.BookingFactory(session=session, contact=mine.contact, status=Booking.Status.CANCELED)
    other = factories.BookingFactory(session=session)
    elsewhere = factories.BookingFactory(contact=other.contact)

    with django_assert_num_queries(1):
        visits = selectors.visit_bookings(session=session, contact_ids=[mine.contact_id, other.contact_id])

    assert visits == {mine.contact_id: mine, other.contact_id: other}
    assert elsewhere.pk not in {b.pk for b in visits.values()}


def _sale() -> DeskAction:
    return factories.DeskActionFactory(
        kind=DeskAction.Kind.PLAN_SALE, booking=None, session=None, contact=factories.ContactFactory()
    )


def test_todays_sales_newest_first_with_their_visits_in_two_queries(django_assert_num_queries):
    yesterday = _sale()
    DeskAction.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=1, hours=1))
    sales = [_sale() for _ in range(3)]
    factories.DeskActionFactory(kind=DeskAction.Kind.PLAN_CHARGE, depends_on=sales[0])
    factories.DeskActionFactory(kind=DeskAction.Kind.PAYMENT)

    with django_assert_num_queries(2):
        found = selectors.plan_sales_recent()
        visits = [list(s.dependents.all()) for s in found]

    assert [s.pk for s in found] == [s.pk for s in reversed(sales)]
    assert [len(v) for v in visits] == [0, 0, 1]
