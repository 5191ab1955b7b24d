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
from wix_sandbox.handlers.plans import benefit_programs as benefit_handlers

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

    assert check(full["id"], swim) == {
        "benefitResults": [
            {
                "type": "ELIGIBLE_BENEFIT",
                "eligibleBenefitOptions": {
                    "poolId": full["id"],
                    "benefitKey": full["details"]["benefits"][0]["benefitKey"],
                    "itemReference": item(swim),
                    "price": "1",
                },
            }
        ]
    }

    def result(pool_id: str, service_id: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        (only,) = check(pool_id, service_id, **extra)["benefitResults"]
        options = [v for k, v in only.items() if k != "type"]
        assert len(options) == 1  # one of the oneof options, the one the type names
        return only["type"], options[0]

    assert result(empty["id"], swim) == (
        "NOT_ENOUGH_BALANCE",
        {"poolId": empty["id"], "itemReference": item(swim), "availableBalance": "0", "requestedBalance": "1"},
    )
    assert result(full["id"], swim, count=11)[1]["requestedBalance"] == "11"
    assert result(full["id"], massage["id"])[0] == "POLICY_EXPRESSION_EVALUATED_TO_FALSE"
    assert result(later["id"], swim) == ("POOL_NOT_ACTIVE", {"poolId": later["id"], "poolStatus": "PENDING"})
    assert result(full["id"], swim, benefitKey="nope") == (
        "BENEFIT_NOT_FOUND",
        {"poolId": full["id"], "benefitKey": "nope"},
    )
    assert result("nope", swim) == ("POOL_NOT_FOUND", {"poolId": "nope"})


def test_check_eligibility_requires_pool_item_and_namespace(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CHECK, {"itemReference": item("s"), "namespace": NS})
    item_status, item_body = call(sandbox, "POST", CHECK, {"poolId": "p", "namespace": NS})
    ns_status, ns_body = call(sandbox, "POST", CHECK, {"poolId": "p", "itemReference": item("s")})

    assert (status, violations(body)) == (400, ["poolId"])
    assert (item_status, violations(item_body)) == (400, ["itemReference"])
    assert (ns_status, violations(ns_body)) == (400, ["namespace"])


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


def test_redeem_requires_pool_item_benefit_idempotency_key_and_namespace(sandbox: Sandbox) -> None:
    complete = {"poolId": "p", "itemReference": item("s"), "benefitKey": "b", "idempotencyKey": "k", "namespace": NS}

    status, body = call(sandbox, "POST", REDEEM, {})
    count_status, count_body = call(sandbox, "POST", REDEEM, {**complete, "count": 0})
    long_status, long_body = call(sandbox, "POST", REDEEM, {**complete, "idempotencyKey": "k" * 201})

    assert status == 400
    assert violations(body) == ["poolId", "itemReference", "benefitKey", "idempotencyKey", "namespace"]
    assert (count_status, violations(count_body)) == (400, ["count"])
    assert (long_status, violations(long_body)) == (400, ["idempotencyKey"])


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

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"], "idempotencyKey": "v-1"})

    assert status == 200
    assert available(sandbox, pool["id"]) == "10"
    reverse = sandbox.state.get("benefit_transactions", body["transactionId"])
    assert (reverse["source"], reverse["target"], reverse["amount"]) == ("EXTERNAL", "AVAILABLE", "1")
    assert reverse["relatedTransactionId"] == redeemed["transactionId"]
    assert reverse["idempotencyKey"] == "v-1"


def test_cancel_redemption_twice_or_of_a_non_redemption_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, redeemed = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    _, canceled = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"], "idempotencyKey": "v-1"})

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"], "idempotencyKey": "v-2"})
    rev_status, rev_body = call(
        sandbox, "POST", CANCEL, {"transactionId": canceled["transactionId"], "idempotencyKey": "v-3"}
    )

    assert (status, code(body)) == (428, "REDEMPTION_ALREADY_CANCELED")
    # RedemptionAlreadyCanceled: {cancellationTransactionId}.
    assert body["details"]["applicationError"]["data"] == {"cancellationTransactionId": canceled["transactionId"]}
    assert (rev_status, code(rev_body)) == (428, "TRANSACTION_NOT_CANCELABLE")
    assert available(sandbox, pool["id"]) == "10"


def test_cancel_redemption_of_an_unknown_transaction_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CANCEL, {"transactionId": "nope", "idempotencyKey": "v-1"})
    missing_status, missing = call(sandbox, "POST", CANCEL, {})
    keyless_status, keyless = call(sandbox, "POST", CANCEL, {"transactionId": "nope"})

    assert (status, code(body)) == (404, "TRANSACTION_NOT_FOUND")
    # CancelRedemptionRequest: transactionId and idempotencyKey are both required.
    assert (missing_status, violations(missing)) == (400, ["transactionId", "idempotencyKey"])
    assert (keyless_status, violations(keyless)) == (400, ["idempotencyKey"])


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


def test_query_programs_by_external_id_not_by_beneficiary(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    _, body = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/programs/query",
        {"query": {"filter": {"externalId": sold["order"]["id"]}}},
    )
    status, refused = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/programs/query",
        {"query": {"filter": {"beneficiary.memberId": desk["member"]["id"]}}},
    )

    assert [p["id"] for p in body["programs"]] == [sold["program"]["id"]]
    assert body["programs"][0]["programDefinition"]["externalId"] == desk["plan"]["id"]
    assert body["programs"][0]["programDefinitionId"] == body["programs"][0]["programDefinition"]["id"]
    # ProgramQuerySpec: createdDate, id, externalId, namespace, programDefinitionId, status.
    assert (status, code(refused)) == (400, "UNSUPPORTED_FILTER_FIELD")


# -- several items, repeats, what the queries may filter on, Change Balance ------------------------------

TRANSACTIONS = "/benefit-programs/v1/transactions/query"
CHANGE = "/benefit-programs/v1/balances/{}/change"


def _price(sandbox: Sandbox, pool: dict[str, Any], price: str) -> None:
    """The pool's benefit costs ``price`` credits an item."""
    with sandbox.state.transaction():
        edited = sandbox.state.edit("pools", pool["id"])
        assert edited is not None
        edited["details"]["benefits"][0]["price"] = price
        sandbox.state.put("pools", edited)


def test_redeem_takes_price_times_count(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _price(sandbox, pool, "2")

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], count=3))

    assert status == 200
    assert available(sandbox, pool["id"]) == "4"
    tx = sandbox.state.get("benefit_transactions", body["transactionId"])
    assert (tx["amount"], tx["details"]["itemCount"]) == ("6", 3)


def test_redeem_more_items_than_the_credits_left_is_not_enough_balance(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=2)["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], count=3))

    # RedeemBenefit's NOT_ENOUGH_BALANCE carries the SDK's NotEnoughBalance data.
    assert (status, code(body)) == (428, "NOT_ENOUGH_BALANCE")
    assert body["details"]["applicationError"]["data"] == {
        "poolId": pool["id"],
        "itemReference": item(desk["service"]["id"]),
        "availableBalance": "2",
        "requestedBalance": "3",
    }
    assert available(sandbox, pool["id"]) == "2"
    assert count(sandbox, "benefit_transactions") == 0


def test_a_repeated_redeem_can_be_answered_each_plausible_way(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, first = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    assert benefit_handlers.redeem_repeat_answer(sandbox) == benefit_handlers.REPEAT_ALREADY_REDEEMED
    benefit_handlers.redeem_repeat_set(sandbox, benefit_handlers.REPEAT_SAME_TRANSACTION)
    same_status, same = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))
    benefit_handlers.redeem_repeat_set(sandbox, benefit_handlers.REPEAT_BARE_CONFLICT)
    bare_status, bare = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    assert (same_status, same) == (200, {"transactionId": first["transactionId"]})
    assert bare_status == 409 and "details" not in bare and bare["message"]
    assert available(sandbox, pool["id"]) == "9"
    assert count(sandbox, "benefit_transactions") == 1


def test_query_transactions_filters_on_documented_fields_only(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="early"))
    sandbox_clock[0] += timedelta(minutes=30)
    since = f"{sandbox_clock[0]:%Y-%m-%dT%H:%M:%S}.000Z"
    call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="late"))

    status, body = call(
        sandbox,
        "POST",
        TRANSACTIONS,
        {"query": {"filter": {"pool.id": {"$in": [pool["id"]]}, "createdDate": {"$gte": since}}}},
    )
    refused_status, refused = call(sandbox, "POST", TRANSACTIONS, {"query": {"filter": {"idempotencyKey": "late"}}})

    assert status == 200
    assert [t["idempotencyKey"] for t in body["transactions"]] == ["late"]
    assert body["transactions"][0]["details"]["benefitKey"] == pool["details"]["benefits"][0]["benefitKey"]
    assert (refused_status, code(refused)) == (400, "UNSUPPORTED_FILTER_FIELD")
    assert refused["details"]["applicationError"]["data"] == {"fields": ["idempotencyKey"]}


def test_pools_and_balances_refuse_fields_their_query_spec_does_not_list(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    def query(path: str, flt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return call(sandbox, "POST", path, {"query": {"filter": flt}})

    pools = "/benefit-programs/v1/pools/query"
    balances = "/benefit-programs/v1/balances/query"
    assert query(pools, {"programId": sold["program"]["id"], "namespace": NS})[0] == 200
    assert query(balances, {"id": {"$in": [sold["pool"]["id"]]}})[0] == 200
    for path, flt in (
        (pools, {"program.externalId": sold["order"]["id"]}),
        (pools, {"displayName": "10 Swim Pass"}),
        (balances, {"updatedDate": {"$gte": "2026-01-01T00:00:00.000Z"}}),
        (balances, {"poolInfo.namespace": NS}),
    ):
        status, body = query(path, flt)
        assert (status, code(body)) == (400, "UNSUPPORTED_FILTER_FIELD"), flt


def test_list_balances_takes_at_most_100_pool_ids(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/benefit-programs/v1/balances", poolIds=[f"p{i}" for i in range(101)])

    assert (status, violations(body)) == (400, ["poolIds"])


def test_eligible_pools_requires_a_namespace(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    body = {"itemReference": item(desk["service"]["id"]), "beneficiary": {"memberId": desk["member"]["id"]}}

    status, answer = call(sandbox, "POST", ELIGIBLE, body)

    assert (status, violations(answer)) == (400, ["namespace"])


def test_change_balance_adjusts_and_records_a_transaction(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=3)["pool"]
    body = {"idempotencyKey": "void-1", "type": "ADJUST", "adjustOptions": {"value": "2"}}

    status, answer = call(sandbox, "POST", CHANGE.format(pool["id"]), {"poolId": pool["id"], **body})

    assert status == 200
    assert answer["balance"]["amount"]["available"] == "5"
    assert answer["balance"]["lastTransactionId"] == answer["transactionId"]
    tx = sandbox.state.get("benefit_transactions", answer["transactionId"])
    assert (tx["source"], tx["target"], tx["amount"], tx["idempotencyKey"]) == ("EXTERNAL", "AVAILABLE", "2", "void-1")
    assert "relatedTransactionId" not in tx  # not part of any redemption's chain
    assert available(sandbox, pool["id"]) == "5"


def test_change_balance_sets_and_takes(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=3)["pool"]
    path = CHANGE.format(pool["id"])

    _, set_to = call(sandbox, "POST", path, {"idempotencyKey": "s-1", "type": "SET", "setOptions": {"value": "8"}})
    _, same = call(sandbox, "POST", path, {"idempotencyKey": "s-2", "type": "SET", "setOptions": {"value": "8"}})
    _, took = call(sandbox, "POST", path, {"idempotencyKey": "a-1", "type": "ADJUST", "adjustOptions": {"value": "-5"}})

    assert set_to["balance"]["amount"]["available"] == "8"
    assert "transactionId" not in same  # the same value: no transaction
    assert took["balance"]["amount"]["available"] == "3"
    tx = sandbox.state.get("benefit_transactions", took["transactionId"])
    assert (tx["source"], tx["target"], tx["amount"]) == ("AVAILABLE", "EXTERNAL", "5")


def test_change_balance_refuses_a_repeat_going_below_zero_and_bad_requests(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=1)["pool"]
    path = CHANGE.format(pool["id"])
    give = {"idempotencyKey": "void-1", "type": "ADJUST", "adjustOptions": {"value": "1"}}
    call(sandbox, "POST", path, give)

    repeat_status, repeat = call(sandbox, "POST", path, give)
    below_status, below = call(
        sandbox, "POST", path, {"idempotencyKey": "t-1", "type": "ADJUST", "adjustOptions": {"value": "-3"}}
    )
    keyless_status, keyless = call(sandbox, "POST", path, {"type": "ADJUST", "adjustOptions": {"value": "1"}})
    mismatch_status, mismatch = call(
        sandbox, "POST", path, {"idempotencyKey": "m-1", "type": "SET", "adjustOptions": {"value": "1"}}
    )
    scale_status, scale = call(
        sandbox, "POST", path, {"idempotencyKey": "d-1", "type": "ADJUST", "adjustOptions": {"value": "0.00001"}}
    )
    unknown_status, unknown = call(sandbox, "POST", CHANGE.format("nope"), {**give, "idempotencyKey": "u-1"})

    assert (repeat_status, code(repeat)) == (409, "ALREADY_EXECUTED")
    assert (below_status, code(below)) == (428, "BALANCE_EXCEEDED_LIMITS")
    assert below["details"]["applicationError"]["data"]["balance"]["available"] == "2"
    assert (keyless_status, violations(keyless)) == (400, ["idempotencyKey"])
    assert (mismatch_status, violations(mismatch)) == (400, ["type"])
    assert (scale_status, violations(scale)) == (400, ["adjustOptions.value"])
    assert (unknown_status, code(unknown)) == (404, "BALANCE_NOT_FOUND")
    assert available(sandbox, pool["id"]) == "2"
