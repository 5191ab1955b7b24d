"""Booking-only plan charges (``services/push/money_booking_only.py``): Redeem Benefit with one item
per participant, and a redeem whose answer was lost found again in Query Transactions — whatever
Wix answers a repeated idempotency key — before anything is sent twice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bookings_app.models import Booking, DeskAction
from bookings_app.services import desk
from bookings_app.wix import bookings
from bookings_app.wix.dates import wix_timestamp
from tests.services.conftest import World, event_service_id, key
from tests.services.push.conftest import Trouble, push_now, trouble_client
from tests.wix_sandbox.builders import call
from tests.wix_sandbox.plan_builders import redeem_body
from wix_sandbox.handlers.plans import benefit_programs as benefit_handlers
from wix_sandbox.transport import SandboxTransport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("booking_only")]

Status = DeskAction.Status
REDEEM = "/benefit-programs/v1/benefits/redeem"
TRANSACTIONS = "/benefit-programs/v1/transactions/query"


class Recording(httpx.BaseTransport):
    """Another transport, with each request's path and JSON body kept."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, json.loads(request.content) if request.content else {}))
        return self.inner.handle_request(request)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.sent if p == path]


class LaggingSearch(httpx.BaseTransport):
    """The sandbox, whose Query Transactions lists nothing the first ``times`` times (Wix's search
    not caught up with a redemption yet)."""

    def __init__(self, inner: httpx.BaseTransport, times: int) -> None:
        self.inner, self.times = inner, times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.times and request.url.path == TRANSACTIONS:
            self.times -= 1
            empty = {"transactions": [], "metadata": {"count": 0, "cursors": {}, "hasNext": False}}
            return httpx.Response(200, json=empty, request=request)
        return self.inner.handle_request(request)


def group_booking(world: World, person: dict[str, Any], participants: int) -> Booking:
    """``person`` booked tomorrow's class online for ``participants`` people, to pay in person (no
    eCommerce order), mirrored."""
    made = bookings.create_booking(
        world.wix,
        booking={
            "bookedEntity": {
                "slot": {"serviceId": event_service_id(world.sb, world.event), "eventId": world.event["id"]}
            },
            "contactDetails": {"contactId": person["contact"]["id"]},
            "totalParticipants": participants,
            "selectedPaymentOption": "OFFLINE",
            "status": "CONFIRMED",
        },
    )["booking"]
    world.mirror(person)
    return world.booking(made)


def plan_charge(world: World, desk_user, person: dict[str, Any], booking: Booking) -> DeskAction:
    return desk.plan_charge(user=desk_user, booking=booking, balance=world.balance(person), idempotency_key=key())


def redemptions(world: World, action: DeskAction) -> list[dict[str, Any]]:
    return [t for t in world.sb.state.all("benefit_transactions") if t.get("idempotencyKey") == action.idempotency_key]


def test_a_group_booking_redeems_one_item_per_participant(world: World, desk_user) -> None:
    mia = world.customer("Mia", credits=5)
    booking = group_booking(world, mia, 3)
    action = plan_charge(world, desk_user, mia, booking)
    wire = Recording(SandboxTransport(world.sb))

    push_now(trouble_client(world, wire))

    (redeem,) = wire.bodies(REDEEM)
    # RedeemBenefitRequest.count: "Amount of items to redeem" (@min 1).
    assert redeem["count"] == 3
    assert redeem["poolId"] == mia["sold"]["pool"]["id"] and redeem["idempotencyKey"] == action.idempotency_key
    assert world.wix_credits(mia) == "2"
    action.refresh_from_db()
    assert action.status == Status.SYNCED
    (tx,) = redemptions(world, action)
    assert action.steps["redemption_id"] == tx["id"] and tx["details"]["itemCount"] == 3
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_a_group_booking_with_too_few_credits_in_wix_needs_attention(world: World, desk_user) -> None:
    mia = world.customer("Mia", credits=5)
    booking = group_booking(world, mia, 3)
    action = plan_charge(world, desk_user, mia, booking)
    with world.sb.state.transaction():  # used elsewhere since the mirror read it
        balance = world.sb.state.edit("balances", mia["sold"]["pool"]["id"])
        balance["amount"]["available"] = "2"
        world.sb.state.put("balances", balance)

    world.push()

    action.refresh_from_db()
    assert action.status == Status.NEEDS_ATTENTION and action.error_code == "NOT_ENOUGH_BALANCE"
    assert world.wix_credits(mia) == "2"
    assert world.wix_booking(booking)["paymentStatus"] != "PAID"


def test_a_lost_redeem_answer_is_found_in_query_transactions_not_sent_again(world: World, desk_user) -> None:
    mia = world.customer("Mia", credits=5)
    booking = group_booking(world, mia, 2)
    action = plan_charge(world, desk_user, mia, booking)
    wire = Recording(Trouble(world, REDEEM, "lost"))
    client = trouble_client(world, wire)

    push_now(client)  # the credits are taken, the answer never comes
    action.refresh_from_db()
    assert action.status == Status.QUEUED and "redemption_id" not in action.steps
    assert action.steps["redeem_sent"]["pool_ids"] == [mia["sold"]["pool"]["id"]]
    push_now(client, ignore_backoff=True)

    action.refresh_from_db()
    assert action.status == Status.SYNCED
    assert len(wire.bodies(REDEEM)) == 1  # looked up, not sent again
    (lookup,) = wire.bodies(TRANSACTIONS)
    # Only TransactionQuerySpec fields: pool.id and createdDate; idempotencyKey is matched on the page.
    assert set(lookup["query"]["filter"]) == {"pool.id", "createdDate"}
    assert lookup["query"]["filter"]["pool.id"] == {"$in": [mia["sold"]["pool"]["id"]]}
    assert lookup["query"]["filter"]["createdDate"]["$gte"] < action.steps["redeem_sent"]["at"]
    (tx,) = redemptions(world, action)
    assert action.steps["redemption_id"] == tx["id"]
    assert world.wix_credits(mia) == "3"
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


@pytest.mark.parametrize("answer", benefit_handlers.REPEAT_ANSWERS)
def test_a_repeated_redeem_is_adopted_whatever_wix_answers(world: World, desk_user, answer: str) -> None:
    """The lookup misses the lost redemption (search lagging), so the redeem goes out again with the
    same key; Wix's answer to the repeat is UNCONFIRMED: the same transactionId, 409
    BENEFIT_ALREADY_REDEEMED, or a bare 409. Each way the one redemption is adopted."""
    benefit_handlers.redeem_repeat_set(world.sb, answer)
    mia = world.customer("Mia", credits=5)
    booking = group_booking(world, mia, 2)
    action = plan_charge(world, desk_user, mia, booking)
    wire = Recording(LaggingSearch(Trouble(world, REDEEM, "lost"), times=1))
    client = trouble_client(world, wire)

    push_now(client)
    push_now(client, ignore_backoff=True)

    action.refresh_from_db()
    assert action.status == Status.SYNCED, (action.status, action.last_error)
    assert len(wire.bodies(REDEEM)) == 2
    assert len(wire.bodies(TRANSACTIONS)) == (1 if answer == benefit_handlers.REPEAT_SAME_TRANSACTION else 2)
    (tx,) = redemptions(world, action)
    assert action.steps["redemption_id"] == tx["id"]
    assert world.wix_credits(mia) == "3"
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def test_a_repeat_refused_before_the_search_shows_it_waits_for_the_search(world: World, desk_user) -> None:
    mia = world.customer("Mia", credits=5)
    booking = group_booking(world, mia, 1)
    action = plan_charge(world, desk_user, mia, booking)
    wire = Recording(LaggingSearch(Trouble(world, REDEEM, "lost"), times=2))
    client = trouble_client(world, wire)

    push_now(client)
    # Not listed, sent again: BENEFIT_ALREADY_REDEEMED, and still not listed.
    push_now(client, ignore_backoff=True, max_rounds=1)
    action.refresh_from_db()
    assert action.status == Status.QUEUED and "redemption_id" not in action.steps
    assert "redeemed already" in action.last_error
    push_now(client, ignore_backoff=True)

    action.refresh_from_db()
    assert action.status == Status.SYNCED
    assert len(wire.bodies(REDEEM)) == 2
    (tx,) = redemptions(world, action)
    assert action.steps["redemption_id"] == tx["id"]
    assert world.wix_credits(mia) == "4"


def test_the_lookup_pages_through_the_pools_transactions(world: World, desk_user) -> None:
    mia = world.customer("Mia", credits=200)
    booking = group_booking(world, mia, 1)
    action = plan_charge(world, desk_user, mia, booking)
    wire = Recording(Trouble(world, REDEEM, "lost"))
    client = trouble_client(world, wire)
    push_now(client)
    # 150 other redemptions of the pool, listed before this one: it is on the second page.
    pool = mia["sold"]["pool"]
    for n in range(150):
        status, _ = call(world.sb, "POST", REDEEM, redeem_body(pool, world.service["id"], key=f"other-{n}"))
        assert status == 200
    (mine,) = redemptions(world, action)
    with world.sb.state.transaction():
        later = wix_timestamp(world.sb.state.now() + timedelta(minutes=1))
        world.sb.state.put("benefit_transactions", {**mine, "createdDate": later})

    push_now(client, ignore_backoff=True)

    action.refresh_from_db()
    assert action.status == Status.SYNCED
    assert action.steps["redemption_id"] == mine["id"]
    first, second = wire.bodies(TRANSACTIONS)  # 151 transactions: two pages of 100
    assert first["query"]["cursorPaging"] == {"limit": 100}
    assert set(second["query"]) == {"cursorPaging"} and second["query"]["cursorPaging"]["cursor"]
    assert len(wire.bodies(REDEEM)) == 1


def test_undoing_a_booking_only_plan_charge_gives_the_credits_back_with_change_balance(
    world: World, desk_user, manager_user
) -> None:
    sam = world.customer("Sam", credits=3)
    online = world.online_booking(sam, order=False)
    world.mirror(sam)
    charge = desk.plan_charge(
        user=desk_user, booking=world.booking(online), balance=world.balance(sam), idempotency_key=key()
    )
    world.push()
    assert world.wix_credits(sam) == "2"
    undo = desk.action_reverse(user=manager_user, action=DeskAction.objects.get(pk=charge.pk), idempotency_key=key())
    wire = Trouble(world, "/change", "lost")
    client = trouble_client(world, wire)

    push_now(client)  # Change Balance went through; its answer was lost
    push_now(client, ignore_backoff=True)

    undo.refresh_from_db()
    assert undo.status == Status.SYNCED
    assert world.wix_credits(sam) == "3"  # once, not twice
    sent = wire.bodies("/benefit-programs/v1/balances/")
    assert len(sent) == 2 and sent[0] == sent[1]
    assert sent[0]["type"] == "ADJUST" and sent[0]["adjustOptions"] == {"value": "1"}
    assert sent[0]["idempotencyKey"] == undo.idempotency_key
    assert not wire.bodies("/cancel-redemption")
    assert world.wix_booking(world.booking(online))["paymentStatus"] == "NOT_PAID"
