"""Phase 3 in ecom mode: a lost payment or plan charge is found on the order, not made twice; a
Wix without the bulk mark-as-paid route gets the orders paid one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import DeskAction
from bookings_app.services import desk
from bookings_app.services.push import money_ecom
from tests.services.conftest import World, key
from tests.services.push.conftest import Trouble, push_now, roster, settle, trouble_client

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


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


def test_a_lost_membership_charge_is_found_in_the_order_transactions(world: World, desk_user) -> None:
    sam = world.customer("Sam", credits=3)
    online = world.online_booking(sam)
    world.mirror(sam)
    desk.plan_charge(user=desk_user, booking=world.booking(online), balance=world.balance(sam), idempotency_key=key())
    client = trouble_client(world, Trouble(world, "/charge-memberships", "lost"))
    push_now(client)
    push_now(client, ignore_backoff=True)
    assert DeskAction.objects.get(kind="PLAN_CHARGE").status == Status.SYNCED
    assert world.wix_credits(sam) == "2"


def test_when_wix_does_not_route_bulk_mark_as_paid_orders_are_paid_one_by_one(
    world: World, desk_user, monkeypatch
) -> None:
    # The bulk endpoint's public path is UNCONFIRMED: a Wix that answers it with 404 must not
    # leave the desk's cash stuck.
    from wix_sandbox import app as sandbox_app

    monkeypatch.setattr(money_ecom, "_BULK_MARK_PAID_MISSING", False)
    real_match = sandbox_app.Sandbox._match

    def without_bulk_mark_paid(self, method, path):  # noqa: ANN001, ANN202
        return None if "bulk/payments-collector/mark-as-paid" in path else real_match(self, method, path)

    monkeypatch.setattr(sandbox_app.Sandbox, "_match", without_bulk_mark_paid)
    roster(world, n=3, plans=0, orders=True)
    world.mirror()
    settle(world, desk_user, owes=0)

    report = world.push()

    assert report.needs_attention == 0, report.as_dict()
    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    assert sum(1 for b in world.sb.state.all("bookings") if b["paymentStatus"] == "PAID") == 3
    assert money_ecom._BULK_MARK_PAID_MISSING
    paths = [path for _method, path, _status in world.sb.call_log]
    assert sum("/mark-as-paid" in p and "/bulk/" not in p for p in paths) == 3
