"""A sold plan's program and pools follow its order through the clock (``rules/plan_programs.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.plan_builders import OFFLINE, ORDERS, REDEEM, available, code, make_plan, redeem_body, sell_plan
from wix_sandbox import Sandbox


def test_offline_order_starting_later_is_pending_until_its_start(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    start = "2026-12-01T00:00:00.000Z"
    _, body = call(
        sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "startDate": start}
    )
    order = body["order"]
    # The order's program (externalId = order id), then its pool: both filters are documented.
    _, programs = call(
        sandbox, "POST", "/benefit-programs/v1/programs/query", {"query": {"filter": {"externalId": order["id"]}}}
    )
    _, pools = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/pools/query",
        {"query": {"filter": {"programId": programs["programs"][0]["id"]}}},
    )
    pool = pools["pools"][0]

    assert order["status"] == "PENDING" and "currentCycle" not in order
    assert pool["status"] == "PENDING"
    status, rejected = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    assert (status, code(rejected)) == (428, "POOL_NOT_ACTIVE")

    sandbox_clock[0] = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    _, later = call(sandbox, "GET", f"{ORDERS}/{order['id']}")
    assert later["order"]["status"] == "ACTIVE"
    assert later["order"]["currentCycle"]["index"] == 1
    status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    assert status == 200


def test_an_order_ends_at_its_end_date_and_its_pool_with_it(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    sandbox_clock[0] = datetime(2027, 2, 21, 9, 0, tzinfo=UTC)
    _, order = call(sandbox, "GET", f"{ORDERS}/{sold['order']['id']}")
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"id": sold["pool"]["id"]}}}
    )

    assert order["order"]["status"] == "ENDED"
    assert "currentCycle" not in order["order"]
    assert pools["pools"][0]["status"] == "ENDED"
    status, body = call(sandbox, "POST", REDEEM, redeem_body(sold["pool"], desk["service"]["id"]))
    assert (status, code(body)) == (428, "POOL_NOT_ACTIVE")


def test_an_order_started_long_ago_is_already_ended(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    _, body = call(
        sandbox,
        "POST",
        OFFLINE,
        {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "startDate": "2026-01-10T10:00:00Z"},
    )

    assert body["order"]["status"] == "ENDED"
    assert body["order"]["endDate"] == "2026-04-10T10:00:00.000Z"


def test_a_plan_valid_until_canceled_has_no_end_date(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    forever = make_plan(
        sandbox, "Lifetime", 20, [desk["service"]["id"]], "500", pricing_model={"singlePaymentUnlimited": True}
    )

    order = sell_plan(sandbox, desk["member"], forever)["order"]

    assert "endDate" not in order
    assert order["currentCycle"] == {"index": 1, "startedDate": order["startDate"]}


def test_a_monthly_subscription_refills_its_credits_each_cycle(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    monthly = make_plan(
        sandbox,
        "4 Swims a Month",
        4,
        [desk["service"]["id"]],
        "30",
        pricing_model={"subscription": {"cycleDuration": {"count": 1, "unit": "MONTH"}, "cycleCount": 3}},
    )
    sold = sell_plan(sandbox, desk["member"], monthly, credits_left=1)
    assert sold["order"]["autoRenewCanceled"] is False
    assert sold["order"]["endDate"] == "2027-02-21T09:00:00.000Z"

    sandbox_clock[0] = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    _, order = call(sandbox, "GET", f"{ORDERS}/{sold['order']['id']}")

    assert order["order"]["currentCycle"] == {
        "index": 2,
        "startedDate": "2026-12-21T09:00:00.000Z",
        "endedDate": "2027-01-21T09:00:00.000Z",
    }
    assert available(sandbox, sold["pool"]["id"]) == "4"
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"id": sold["pool"]["id"]}}}
    )
    assert pools["pools"][0]["renewalCount"] == 1
    # The refill is a balance change, so it is a transaction (Balance.lastTransactionId).
    _, txs = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/transactions/query",
        {"query": {"filter": {"pool.id": sold["pool"]["id"], "createdDate": {"$gte": "2026-12-25T09:00:00.000Z"}}}},
    )
    (refill,) = txs["transactions"]
    assert (refill["source"], refill["target"], refill["amount"]) == ("EXTERNAL", "AVAILABLE", "3")
    _, balance = call(sandbox, "GET", f"/benefit-programs/v1/balances/{sold['pool']['id']}")
    assert balance["balance"]["lastTransactionId"] == refill["id"]
