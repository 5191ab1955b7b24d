"""Benefit Programs requests, exactly as sent (``bookings_app/wix/benefit_programs.py``), against the
SDK typings they cite; method, path and retry rules of every function are in test_api_functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookings_app.wix import benefit_programs
from tests.wix.wire import Wire, make_client, ok

ITEM = {"externalId": "svc", "providerAppId": "13d21c63-b5ec-5912-8397-c3a5ddb27a97"}


def sent(fn: Any, **kwargs: Any) -> dict[str, Any]:
    wire = Wire(ok({}))
    client, _ = make_client(wire)
    fn(client, **kwargs)
    (request,) = wire.requests
    return json.loads(request.content) if request.content else {}


def test_redeem_sends_the_count_of_items() -> None:
    body = sent(
        benefit_programs.redeem_benefit,
        pool_id="POOL",
        item_reference=ITEM,
        benefit_key="swim",
        idempotency_key="desk-7",
        count=3,
        beneficiary={"memberId": "MEM"},
    )

    # RedeemBenefitRequest: poolId, itemReference, benefitKey, count (@min 1), idempotencyKey,
    # beneficiary, namespace.
    assert body == {
        "poolId": "POOL",
        "itemReference": ITEM,
        "benefitKey": "swim",
        "count": 3,
        "idempotencyKey": "desk-7",
        "beneficiary": {"memberId": "MEM"},
        "namespace": "@wix/pricing-plans",
    }


@pytest.mark.parametrize("count", [0, -1])
def test_redeem_refuses_a_count_below_one_before_sending(count: int) -> None:
    wire = Wire(ok({}))
    client, _ = make_client(wire)

    with pytest.raises(ValueError, match="at least 1"):
        benefit_programs.redeem_benefit(
            client, pool_id="P", item_reference=ITEM, benefit_key="k", idempotency_key="k", count=count
        )
    assert wire.requests == []


def test_cancel_redemption_always_sends_an_idempotency_key() -> None:
    # CancelRedemptionRequest: transactionId and idempotencyKey are both required.
    assert sent(benefit_programs.cancel_redemption, transaction_id="TX") == {
        "transactionId": "TX",
        "idempotencyKey": "cancel-redemption:TX",
    }
    assert sent(benefit_programs.cancel_redemption, transaction_id="TX", idempotency_key="void-9") == {
        "transactionId": "TX",
        "idempotencyKey": "void-9",
    }


def test_change_balance_adjusts_or_sets() -> None:
    # ChangeBalanceRequest: poolId, idempotencyKey, type ADJUST|SET with adjustOptions|setOptions.
    assert sent(benefit_programs.change_balance, pool_id="POOL", idempotency_key="k", adjust_by="2") == {
        "poolId": "POOL",
        "idempotencyKey": "k",
        "type": "ADJUST",
        "adjustOptions": {"value": "2"},
    }
    assert sent(benefit_programs.change_balance, pool_id="POOL", idempotency_key="k", set_to="10") == {
        "poolId": "POOL",
        "idempotencyKey": "k",
        "type": "SET",
        "setOptions": {"value": "10"},
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"idempotency_key": "", "adjust_by": "1"},
        {"idempotency_key": "k"},
        {"idempotency_key": "k", "adjust_by": "1", "set_to": "1"},
    ],
)
def test_change_balance_refuses_an_incomplete_request_before_sending(kwargs: dict[str, Any]) -> None:
    wire = Wire(ok({}))
    client, _ = make_client(wire)

    with pytest.raises(ValueError):
        benefit_programs.change_balance(client, pool_id="POOL", **kwargs)
    assert wire.requests == []


def test_list_balances_takes_at_most_100_pools() -> None:
    wire = Wire(ok({}))
    client, _ = make_client(wire)

    benefit_programs.list_balances(client, pool_ids=[f"p{i}" for i in range(100)])
    with pytest.raises(ValueError, match="at most 100"):
        benefit_programs.list_balances(client, pool_ids=[f"p{i}" for i in range(101)])
    assert len(wire.requests) == 1
