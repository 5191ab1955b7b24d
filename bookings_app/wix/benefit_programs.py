"""Benefit Programs: the credits a pricing plan grants, and spending them (CONTRACT.md §13.2).

Pricing Plans provision pools under namespace ``@wix/pricing-plans``; a pool's balance id equals
its pool id. Redeeming only moves the balance — it marks no booking or order paid.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param
from .ids import PRICING_PLANS_NAMESPACE

POOLS = "/benefit-programs/v1/pools"
BENEFITS = "/benefit-programs/v1/benefits"
BALANCES = "/benefit-programs/v1/balances"


def query_pools(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter{"beneficiary.memberId", status, namespace}, cursorPaging}`` →
    ``{pools[{id, status, beneficiary, details{benefits[], creditConfiguration}, programDefinition}],
    metadata}``.
    """
    return wix.post(f"{POOLS}/query", {"query": query or {}}, idempotent=True)


def get_eligible_benefits(
    wix: WixClient,
    *,
    item_reference: dict[str, Any],
    namespace: str = PRICING_PLANS_NAMESPACE,
    count: int | None = None,
    target_date: str | None = None,
    beneficiary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Which of the beneficiary's pools can pay for ``item_reference{externalId: <serviceId>,
    providerAppId: <Bookings app id>}``. Returns ``{eligibleBenefits[{poolId, benefitKey,
    itemReference, price}]}``.
    """
    body = compact(
        {
            "itemReference": item_reference,
            "count": count,
            "targetDate": target_date,
            "beneficiary": beneficiary,
            "namespace": namespace,
        }
    )
    return wix.post(f"{POOLS}/eligible-pools", body, idempotent=True)


def check_benefit_eligibility(
    wix: WixClient,
    *,
    pool_id: str,
    item_reference: dict[str, Any],
    namespace: str = PRICING_PLANS_NAMESPACE,
    benefit_key: str | None = None,
    count: int | None = None,
    target_date: str | None = None,
    beneficiary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Whether one pool can pay for an item. Returns ``{result{eligibleBenefit? | notEnoughBalance? |
    policyExpressionEvaluatedToFalse? | …}}``.
    """
    body = compact(
        {
            "poolId": pool_id,
            "itemReference": item_reference,
            "benefitKey": benefit_key,
            "count": count,
            "targetDate": target_date,
            "beneficiary": beneficiary,
            "namespace": namespace,
        }
    )
    return wix.post(f"{POOLS}/check-eligibility", body, idempotent=True)


def redeem_benefit(
    wix: WixClient,
    *,
    pool_id: str,
    item_reference: dict[str, Any],
    benefit_key: str,
    idempotency_key: str,
    namespace: str = PRICING_PLANS_NAMESPACE,
    count: int | None = None,
    target_date: str | None = None,
    beneficiary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Spend credits from a pool. Returns ``{transactionId}``.

    Raises ``WixPreconditionFailed`` (NOT_ENOUGH_BALANCE, POOL_NOT_ACTIVE,
    POLICY_EXPRESSION_EVALUATED_TO_FALSE), ``WixNotFound`` (POOL_NOT_FOUND), ``WixConflict``
    (BENEFIT_ALREADY_REDEEMED: this idempotency key was already spent — the redemption happened).
    """
    if not idempotency_key:
        raise ValueError("idempotency_key is required: it is what makes a retried redemption safe")
    body = compact(
        {
            "poolId": pool_id,
            "itemReference": item_reference,
            "benefitKey": benefit_key,
            "count": count,
            "targetDate": target_date,
            "idempotencyKey": idempotency_key,
            "beneficiary": beneficiary,
            "namespace": namespace,
        }
    )
    # Wix refuses a second redemption with the same idempotencyKey (BENEFIT_ALREADY_REDEEMED), so a
    # repeat after a lost answer can never spend twice: safe to retry.
    return wix.post(f"{BENEFITS}/redeem", body, idempotent=True)


def cancel_redemption(wix: WixClient, *, transaction_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
    """Give a redemption's credits back. Returns ``{transactionId}``. Raises ``WixNotFound``
    (TRANSACTION_NOT_FOUND), ``WixPreconditionFailed`` (REDEMPTION_ALREADY_CANCELED,
    NOT_LATEST_TRANSACTION).
    """
    body = compact({"transactionId": transaction_id, "idempotencyKey": idempotency_key})
    return wix.post(f"{BENEFITS}/cancel-redemption", body, idempotent=False)


def get_balance(wix: WixClient, *, pool_id: str) -> dict[str, Any]:
    """Returns ``{balance{id (= pool id), beneficiary, amount{available, reserved} (decimal strings)}}``."""
    return wix.get(f"{BALANCES}/{path_param(pool_id, 'pool_id')}")


def list_balances(
    wix: WixClient,
    *,
    pool_ids: list[str] | None = None,
    cursor_paging: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Returns ``{balances[], metadata}`` for the given pools (repeated ``poolIds`` keys)."""
    return wix.get(BALANCES, params={"poolIds": pool_ids, "cursorPaging": cursor_paging})


def query_balances(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, cursorPaging}`` → ``{balances[], metadata}``."""
    return wix.post(f"{BALANCES}/query", {"query": query or {}}, idempotent=True)


def query_programs(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, cursorPaging}`` → ``{programs[{id, externalId, status, beneficiary}], metadata}``."""
    return wix.post("/benefit-programs/v1/programs/query", {"query": query or {}}, idempotent=True)


def query_transactions(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Redemption history: ``query{filter, sort, cursorPaging}`` → ``{transactions[], metadata}``."""
    return wix.post("/benefit-programs/v1/transactions/query", {"query": query or {}}, idempotent=True)
