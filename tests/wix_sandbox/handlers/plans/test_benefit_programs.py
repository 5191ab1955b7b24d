"""Benefit Programs: pools, balances, programs; eligibility, redemption (``handlers/plans/benefit_programs.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.plan_builders import (
    NS,
    REDEEM,
    available,
    code,
    count,
    item,
    make_plan,
    redeem_body,
    sell_plan,
    violations,
)
from wix_sandbox import Sandbox

CANCEL = "/benefit-programs/v1/benefits/cancel-redemption"
ELIGIBLE = "/benefit-programs/v1/pools/eligible-pools"
CHECK = "/benefit-programs/v1/pools/check-eligibility"


def test_query_pools_finds_a_members_active_pools(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    mine = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    sell_plan(sandbox, other, desk["plan"])
    query = {
        "filter": {"beneficiary.memberId": desk["member"]["id"], "status": "ACTIVE", "namespace": NS},
        "cursorPaging": {"limit": 10},
    }

    status, body = call(sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": query})

    assert status == 200
    assert [p["id"] for p in body["pools"]] == [mine["id"]]
    assert body["metadata"]["count"] == 1 and body["metadata"]["hasNext"] is False


def test_query_pools_pages_with_cursors(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    first = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    second = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    _, page1 = call(sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"cursorPaging": {"limit": 1}}})
    cursor = page1["metadata"]["cursors"]["next"]
    _, page2 = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"cursorPaging": {"limit": 1, "cursor": cursor}}}
    )

    assert {page1["pools"][0]["id"], page2["pools"][0]["id"]} == {first["id"], second["id"]}
    assert page1["metadata"]["hasNext"] is True and page2["metadata"]["hasNext"] is False


def test_eligible_pools_lists_the_pool_that_covers_the_service(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    body = {
        "itemReference": item(desk["service"]["id"]),
        "beneficiary": {"memberId": desk["member"]["id"]},
        "namespace": NS,
    }

    status, result = call(sandbox, "POST", ELIGIBLE, body)

    assert status == 200
    assert result["eligibleBenefits"] == [
        {
            "poolId": pool["id"],
            "benefitKey": pool["details"]["benefits"][0]["benefitKey"],
            "itemReference": item(desk["service"]["id"]),
            "price": "1",
        }
    ]


def test_eligible_pools_leaves_out_other_services_other_members_and_empty_pools(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)
    sell_plan(sandbox, other, desk["plan"])

    def eligible(service_id: str, member_id: str, **extra: Any) -> list[dict[str, Any]]:
        body = {"itemReference": item(service_id), "beneficiary": {"memberId": member_id}, "namespace": NS, **extra}
        return call(sandbox, "POST", ELIGIBLE, body)[1]["eligibleBenefits"]

    assert eligible(desk["service"]["id"], desk["member"]["id"]) == []  # the member's pool is empty
    assert eligible(massage["id"], other["id"]) == []  # not covered
    assert len(eligible(desk["service"]["id"], other["id"])) == 1
    assert eligible(desk["service"]["id"], other["id"], count=11) == []  # more than is left


def test_eligible_pools_without_an_item_reference_is_invalid(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", ELIGIBLE, {"beneficiary": {"memberId": desk["member"]["id"]}, "namespace": NS})

    assert (status, code(body)) == (400, "INVALID_ITEM_REFERENCE")


def test_check_eligibility_answers_each_result_type(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    full = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    empty = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)["pool"]
    later = sell_plan(sandbox, desk["member"], desk["plan"], start=sandbox_clock[0] + timedelta(days=3))["pool"]
    swim = desk["service"]["id"]

    def check(pool_id: str, service_id: str, **extra: Any) -> dict[str, Any]:
        status, body = call(
            sandbox, "POST", CHECK, {"poolId": pool_id, "itemReference": item(service_id), "namespace": NS, **extra}
        )
        assert status == 200
        return body["result"]

    assert check(full["id"], swim)["type"] == "ELIGIBLE"
    assert check(full["id"], swim)["eligibleOptions"]["eligibleBenefits"][0]["poolId"] == full["id"]
    assert check(empty["id"], swim)["notEnoughBalanceOptions"] == {
        "poolId": empty["id"],
        "itemReference": item(swim),
        "availableBalance": "0",
        "requestedBalance": "1",
    }
    assert check(full["id"], massage["id"])["type"] == "POLICY_EXPRESSION_EVALUATED_TO_FALSE"
    assert check(later["id"], swim)["poolNotActiveOptions"] == {"poolId": later["id"], "poolStatus": "PENDING"}
    assert check(full["id"], swim, benefitKey="nope")["benefitNotFoundOptions"] == {
        "poolId": full["id"],
        "benefitKey": "nope",
    }
    assert check("nope", swim)["poolNotFoundOptions"] == {"poolId": "nope"}


def test_check_eligibility_requires_pool_and_item(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CHECK, {"itemReference": item("s")})
    item_status, item_body = call(sandbox, "POST", CHECK, {"poolId": "p"})

    assert (status, violations(body)) == (400, ["poolId"])
    assert (item_status, violations(item_body)) == (400, ["itemReference"])


def test_redeem_takes_one_credit_and_records_the_transaction(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    assert status == 200
    assert available(sandbox, pool["id"]) == "9"
    _, balance = call(sandbox, "GET", f"/benefit-programs/v1/balances/{pool['id']}")
    assert balance["balance"]["lastTransactionId"] == body["transactionId"]
    _, txs = call(
        sandbox, "POST", "/benefit-programs/v1/transactions/query", {"query": {"filter": {"pool.id": pool["id"]}}}
    )
    (tx,) = txs["transactions"]
    assert tx["id"] == body["transactionId"]
    assert (tx["amount"], tx["source"], tx["target"], tx["status"]) == ("1", "AVAILABLE", "EXTERNAL", "COMPLETED")
    assert tx["idempotencyKey"] == "k-1"
    assert tx["details"]["item"]["externalId"] == desk["service"]["id"]
    assert tx["details"]["itemCount"] == 1


def test_redeem_several_items_takes_that_many_credits(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], count=3))

    assert status == 200
    assert available(sandbox, pool["id"]) == "7"


def test_redeem_again_with_the_same_idempotency_key_charges_nothing(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    assert (status, code(body)) == (409, "BENEFIT_ALREADY_REDEEMED")
    assert body["details"]["applicationError"]["data"] == {"poolId": pool["id"], "idempotencyKey": "booking-42"}
    assert available(sandbox, pool["id"]) == "9"
    assert count(sandbox, "benefit_transactions") == 1


def test_redeem_from_an_empty_pool_is_not_enough_balance_and_changes_nothing(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    assert (status, code(body)) == (428, "NOT_ENOUGH_BALANCE")
    assert body["details"]["applicationError"]["data"]["availableBalance"] == "0"
    assert available(sandbox, pool["id"]) == "0"
    assert count(sandbox, "benefit_transactions") == 0


def test_redeem_for_a_service_the_plan_does_not_cover_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, massage["id"]))

    assert (status, code(body)) == (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_for_another_members_pool_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(
        sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], beneficiary={"memberId": other["id"]})
    )

    assert (status, code(body)) == (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_from_an_unknown_pool_or_benefit_is_not_found(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, {**redeem_body(pool, desk["service"]["id"]), "poolId": "nope"})
    key_status, key_body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], benefitKey="nope"))
    ns_status, ns_body = call(
        sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], namespace="@acme/loyalty")
    )

    assert (status, code(body)) == (404, "POOL_NOT_FOUND")
    assert (key_status, code(key_body)) == (404, "BENEFIT_NOT_FOUND")
    assert (ns_status, code(ns_body)) == (404, "POOL_NOT_FOUND")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_requires_pool_item_benefit_and_idempotency_key(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", REDEEM, {})
    count_status, count_body = call(
        sandbox,
        "POST",
        REDEEM,
        {"poolId": "p", "itemReference": item("s"), "benefitKey": "b", "idempotencyKey": "k", "count": 0},
    )

    assert status == 400
    assert violations(body) == ["poolId", "itemReference", "benefitKey", "idempotencyKey"]
    assert (count_status, violations(count_body)) == (400, ["count"])


def test_an_unlimited_plan_never_runs_out(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    unlimited = make_plan(sandbox, "Unlimited Swims", None, [desk["service"]["id"]], "120")
    sold = sell_plan(sandbox, desk["member"], unlimited)
    pool = sold["pool"]

    for n in range(25):
        status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key=f"swim-{n}"))
        assert status == 200

    assert "creditConfiguration" not in pool["details"]
    assert pool["details"]["benefits"][0]["price"] == "0"
    assert available(sandbox, pool["id"]) == "0"
    assert "creditAmount" not in sold["balance"]["poolInfo"]


def test_cancel_redemption_gives_the_credit_back(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, redeemed = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})

    assert status == 200
    assert available(sandbox, pool["id"]) == "10"
    reverse = sandbox.state.get("benefit_transactions", body["transactionId"])
    assert (reverse["source"], reverse["target"], reverse["amount"]) == ("EXTERNAL", "AVAILABLE", "1")
    assert reverse["relatedTransactionId"] == redeemed["transactionId"]


def test_cancel_redemption_twice_or_of_a_non_redemption_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, redeemed = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    _, canceled = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})
    rev_status, rev_body = call(sandbox, "POST", CANCEL, {"transactionId": canceled["transactionId"]})

    assert (status, code(body)) == (428, "REDEMPTION_ALREADY_CANCELED")
    assert (rev_status, code(rev_body)) == (428, "TRANSACTION_NOT_CANCELABLE")
    assert available(sandbox, pool["id"]) == "10"


def test_cancel_redemption_of_an_unknown_transaction_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CANCEL, {"transactionId": "nope"})
    missing_status, missing = call(sandbox, "POST", CANCEL, {})

    assert (status, code(body)) == (404, "TRANSACTION_NOT_FOUND")
    assert (missing_status, violations(missing)) == (400, ["transactionId"])


def test_balances_list_by_pool_ids_and_query(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    first = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    second = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=3)["pool"]

    _, listed = call(sandbox, "GET", "/benefit-programs/v1/balances", poolIds=[second["id"]])
    _, queried = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/balances/query",
        {"query": {"filter": {"beneficiary.memberId": desk["member"]["id"]}}},
    )

    assert [(b["id"], b["amount"]["available"]) for b in listed["balances"]] == [(second["id"], "3")]
    assert listed["metadata"] == {"count": 1, "cursors": {"next": None, "prev": None}, "hasNext": False}
    assert {b["id"] for b in queried["balances"]} == {first["id"], second["id"]}


def test_get_balance_of_an_unknown_pool_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/benefit-programs/v1/balances/nope")

    assert (status, code(body)) == (404, "BALANCE_NOT_FOUND")


def test_query_programs_by_beneficiary(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    _, body = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/programs/query",
        {"query": {"filter": {"beneficiary.memberId": desk["member"]["id"]}}},
    )

    assert [p["id"] for p in body["programs"]] == [sold["program"]["id"]]
    assert body["programs"][0]["programDefinition"]["externalId"] == desk["plan"]["id"]
