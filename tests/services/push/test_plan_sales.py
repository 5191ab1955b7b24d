"""Phase 3a, plan sales (``services/push/plan_sales.py``): Create Offline Order (paid) and the new
pool read into the mirror — three calls — with the visit charged to it in the same push; a lost
answer is found among the member's orders, never sold twice; refusals need staff."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bookings_app.models import BenefitBalance, Booking, DeskAction, PlanOrder
from bookings_app.services import desk, mirror, push
from bookings_app.services.errors import BookingError
from bookings_app.wix import WixClient
from bookings_app.wix.client import ApiKeyAuth
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced
from tests.services.desk.test_plan_sales import member_booked, offer
from tests.services.push.conftest import Recorder, Trouble, push_now, recorder, trouble_client
from tests.services.push.test_faults import VirtualClock
from tests.wix_sandbox.plan_builders import make_plan
from wix_sandbox import Faults, Sandbox
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db

Kind = DeskAction.Kind
Status = DeskAction.Status
OFFLINE = "/pricing-plans/v2/checkout/orders/offline"


def sell(world: World, desk_user, person: dict[str, Any], *, visit: Booking | None = None, **changes) -> DeskAction:
    return desk.plan_sale(
        user=desk_user,
        contact=world.contact(person),
        offer=offer(world, **changes),
        method="CASH",
        idempotency_key=key(),
        visit=visit,
    )


def orders_of(world: World, person: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in world.sb.state.all("plan_orders") if o["buyer"]["memberId"] == person["member"]["id"]]


def paths(transport: Trouble) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in transport.sent]


def test_a_sale_costs_three_calls_and_its_visit_is_charged_in_the_same_push(world: World, desk_user):
    ada, booking = member_booked(world)
    sell(world, desk_user, ada, visit=booking)
    client, transport = recorder(world)

    report = push_now(client)

    assert_all_synced()
    pool_id = DeskAction.objects.get(kind=Kind.PLAN_SALE).steps["pool_id"]
    sale_calls = [p for p in paths(transport) if "pricing-plans" in p or "pools/query" in p or "/balances/" in p]
    assert sale_calls[:3] == [
        f"POST {OFFLINE}",
        "POST /benefit-programs/v1/pools/query",
        f"GET /benefit-programs/v1/balances/{pool_id}",
    ]
    assert transport.bodies(OFFLINE) == [{"planId": world.plan["id"], "memberId": ada["member"]["id"], "paid": True}]
    assert report.calls_by_operation["create_offline_plan_order"] == 1
    assert report.calls_by_operation["query_pools"] == 1 and report.calls_by_operation["get_balance"] == 1
    assert "mark_plan_order_as_paid" not in report.calls_by_operation
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_a_lost_answer_is_found_among_the_members_orders_and_the_plan_is_not_sold_twice(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = sell(world, desk_user, ada, visit=booking)
    transport = Trouble(world, OFFLINE, "lost")
    client = trouble_client(world, transport)

    push_now(client)
    sale.refresh_from_db()
    assert sale.status == Status.QUEUED and sale.steps.get("sent_at") and not sale.steps.get("order_id")
    assert len(orders_of(world, ada)) == 1  # Wix made it; the answer never came
    push_now(client, ignore_backoff=True)

    assert_all_synced()
    assert len(orders_of(world, ada)) == 1
    assert len(transport.bodies(OFFLINE)) == 1
    assert any("/pricing-plans/v2/orders" in r.url.path and r.method == "GET" for r in transport.sent)
    sale.refresh_from_db()
    assert sale.steps["order_id"] == orders_of(world, ada)[0]["id"]
    assert world.sb.state.get("balances", sale.steps["pool_id"])["amount"]["available"] == "9"


def test_two_lost_sales_of_the_same_plan_to_one_member_adopt_one_order_each(world: World, desk_user):
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    first, second = sell(world, desk_user, ada), sell(world, desk_user, ada)
    client = trouble_client(world, Trouble(world, OFFLINE, "lost", times=2))

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert_all_synced()
    first.refresh_from_db()
    second.refresh_from_db()
    assert len(orders_of(world, ada)) == 2
    assert first.steps["order_id"] != second.steps["order_id"]
    assert first.steps["pool_id"] != second.steps["pool_id"]
    assert BenefitBalance.objects.filter(member__wix_id=ada["member"]["id"]).count() == 2


def test_an_order_made_before_the_sale_is_never_taken_for_it(world: World, desk_user):
    ada = world.customer("Ada", member=True, credits=3)  # bought the pass last month, online
    world.mirror(ada)
    sale = sell(world, desk_user, ada)
    DeskAction.objects.filter(pk=sale.pk).update(steps={"sent_at": "2030-01-01T00:00:00.000Z"})

    push_now(world.wix)

    assert_all_synced()
    assert len(orders_of(world, ada)) == 2  # the sale's was made: the older order was not adopted


def test_a_timeout_before_wix_did_anything_sends_the_order_once_more(world: World, desk_user):
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    sell(world, desk_user, ada)
    transport = Trouble(world, OFFLINE, "503")
    client = trouble_client(world, transport)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert_all_synced()
    assert len(orders_of(world, ada)) == 1


def test_a_pool_wix_has_not_provisioned_yet_is_looked_for_later_without_selling_again(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = sell(world, desk_user, ada, visit=booking)
    transport = Hidden(world)
    client = trouble_client(world, transport)

    push_now(client)
    sale.refresh_from_db()
    charge = DeskAction.objects.get(kind=Kind.PLAN_CHARGE)
    assert sale.status == Status.QUEUED and sale.steps["order_id"] and "still setting up" in sale.last_error
    assert charge.status == Status.QUEUED  # waits on the sale
    transport.hide = False
    push_now(client, ignore_backoff=True)

    assert_all_synced()
    assert len(orders_of(world, ada)) == 1 and len(transport.bodies(OFFLINE)) == 1
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_an_order_wix_answers_unpaid_is_marked_as_paid(world: World, desk_user):
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    sale = sell(world, desk_user, ada)
    client = trouble_client(world, Unpaid(world))

    report = push_now(client)

    assert_all_synced()
    sale.refresh_from_db()
    assert world.sb.state.get("plan_orders", sale.steps["order_id"])["lastPaymentStatus"] == "PAID"
    assert report.calls_by_operation["mark_plan_order_as_paid"] == 1


def test_a_member_wix_no_longer_has_needs_attention_and_remove_drops_the_sale_and_its_visit(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = sell(world, desk_user, ada, visit=booking)
    with world.sb.state.transaction():
        world.sb.state.delete("members", ada["member"]["id"])

    world.push()

    sale.refresh_from_db()
    assert (sale.status, sale.error_code) == (Status.NEEDS_ATTENTION, "MEMBER_DOESNT_EXIST")
    assert "no longer a site member" in sale.message
    assert DeskAction.objects.get(kind=Kind.PLAN_CHARGE).status == Status.QUEUED
    desk.action_resolve(user=desk_user, action=sale, choice="remove")

    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.REMOVED}
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.NOT_PAID and not booking.pending_sync
    assert not BenefitBalance.objects.filter(wix_id=None).exists()


def test_an_archived_plan_needs_attention_with_a_plain_message(world: World, desk_user):
    old = make_plan(world.sb, "Old Pass", 5, [world.service["id"]], "40", archived=True)
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    sale = sell(world, desk_user, ada, plan_id=old["id"], name="Old Pass")

    world.push()

    sale.refresh_from_db()
    assert (sale.status, sale.error_code) == (Status.NEEDS_ATTENTION, "PLAN_ARCHIVED")
    assert sale.message == "Old Pass is archived in Wix and can't be sold — remove the sale and give the money back."
    assert not sale.steps.get("sent_at")


def test_a_sale_wix_has_made_cannot_be_removed_from_the_desk(world: World, desk_user):
    ada = world.customer("Ada", member=True)
    world.mirror(ada)
    sale = sell(world, desk_user, ada)
    DeskAction.objects.filter(pk=sale.pk).update(
        status=Status.NEEDS_ATTENTION, steps={"order_id": "made-in-wix"}, error_code="internal_error"
    )

    with pytest.raises(BookingError) as excinfo:
        desk.action_resolve(user=desk_user, action=sale, choice="remove")

    assert excinfo.value.code == "choice_invalid"
    assert DeskAction.objects.get(pk=sale.pk).status == Status.NEEDS_ATTENTION


def test_a_sync_that_mirrored_the_new_plan_first_is_merged_not_doubled(world: World, desk_user):
    ada, booking = member_booked(world)
    sale = sell(world, desk_user, ada, visit=booking)
    transport = Hidden(world)
    client = trouble_client(world, transport)
    push_now(client)  # the order is made; its pool is not visible yet
    transport.hide = False
    mirror.member_plans_refresh(wix=world.wix, member_ids=[ada["member"]["id"]], actor="test")  # a webhook, say
    assert BenefitBalance.objects.filter(member__wix_id=ada["member"]["id"]).count() == 2

    push_now(client, ignore_backoff=True)

    assert_all_synced()
    sale.refresh_from_db()
    (balance,) = BenefitBalance.objects.filter(member__wix_id=ada["member"]["id"])
    (plan_order,) = PlanOrder.objects.filter(member__wix_id=ada["member"]["id"])
    assert (balance.wix_id, balance.plan_order_id) == (sale.steps["pool_id"], plan_order.pk)
    assert balance.remaining_credits == Decimal("9")
    charge = DeskAction.objects.get(kind=Kind.PLAN_CHARGE)
    assert charge.params["balance_id"] == balance.pk and charge.params["pool_id"] == balance.wix_id


# --- transports that make trouble ---------------------------------------------------------------


class Hidden(Trouble):
    """The sandbox, but a member's pools are not there yet (``hide``): Wix still provisioning."""

    def __init__(self, world: World) -> None:
        super().__init__(world, "", "none", times=0)
        self.hide = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.hide and request.url.path.endswith("/pools/query"):
            return httpx.Response(200, json={"pools": [], "pagingMetadata": {"count": 0}}, request=request)
        return response


class Unpaid(httpx.BaseTransport):
    """The sandbox, with ``paid`` dropped from Create Offline Order: Wix makes the order UNPAID."""

    def __init__(self, world: World) -> None:
        self.inner = SandboxTransport(world.sb)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(OFFLINE):
            body = json.loads(request.content)
            body.pop("paid", None)
            request = httpx.Request(request.method, request.url, headers=request.headers, json=body)
        return self.inner.handle_request(request)


def test_thirty_sales_with_their_visits_survive_5xx_timeouts_and_lost_answers(world: World, desk_user):
    """Every sale reaches Wix exactly once, and every visit takes exactly one credit, through a Wix
    that fails a fifth of the calls (5xx, timeouts, answers lost after the work was done)."""
    people = []
    for i in range(30):
        person = world.customer(f"Buyer{i:02d}", member=True)
        world.online_booking(person)
        people.append(person)
    world.mirror(*people)
    for person in people:
        booking = Booking.objects.get(contact__wix_id=person["contact"]["id"])
        sell(world, desk_user, person, visit=booking)
    clock = VirtualClock()
    faulty = Sandbox(
        state=world.sb.state,
        faults=Faults(error_5xx_rate=0.1, timeout_rate=0.05, lost_response_rate=0.05, seed=20261205),
        monotonic=clock,
        sleep=clock.sleep,
    )
    transport = Recorder(SandboxTransport(faulty))
    client = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(faulty.api_key, faulty.site_id),
        transport=transport,
        sleep=clock.sleep,
    )

    for _ in range(40):
        if not DeskAction.objects.exclude(status__in=(Status.SYNCED, Status.NEEDS_ATTENTION)).exists():
            break
        push.push_desk_actions_now(wix=client, ignore_undo_window=True, ignore_backoff=True, max_rounds=1)

    assert_all_synced()
    for person in people:
        (order,) = orders_of(world, person)
        assert (order["type"], order["lastPaymentStatus"]) == ("OFFLINE", "PAID")
        (pool,) = [p for p in world.sb.state.all("pools") if p["program"]["externalId"] == order["id"]]
        assert world.sb.state.get("balances", pool["id"])["amount"]["available"] == "9"
        balance = BenefitBalance.objects.get(member__wix_id=person["member"]["id"])
        assert (balance.wix_id, balance.remaining_credits) == (pool["id"], 9)
    assert not Booking.objects.filter(pending_sync=True).exists()
    assert {world.wix_booking(b)["paymentStatus"] for b in Booking.objects.all()} == {"PAID"}
    # The faults did hit the sales: some orders were sent again (5xx) and some looked for (lost).
    assert len(transport.bodies(OFFLINE)) > 30
    assert any(r.method == "GET" and r.url.path == "/pricing-plans/v2/orders" for r in transport.requests)
