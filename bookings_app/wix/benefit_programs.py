"""Benefit Programs: the credits a pricing plan grants, and spending them (CONTRACT.md §13.2).

Pricing Plans provision pools under namespace ``@wix/pricing-plans``; a pool's balance id equals
its pool id. Redeeming only moves the balance — it marks no booking or order paid.

Request shapes are the SDK's (``@wix/auto_sdk_benefit-programs_{pools,balances,programs,
transactions}``, ``build/cjs/index.typings.d.ts``); field names are REST's (the SDK renames
``_id``/``_createdDate`` to ``id``/``createdDate`` on the wire). A query may filter only on the
fields its package's ``*QuerySpec`` lists — each query function names them.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param
from .ids import PRICING_PLANS_NAMESPACE

POOLS = "/benefit-programs/v1/pools"
BENEFITS = "/benefit-programs/v1/benefits"
BALANCES = "/benefit-programs/v1/balances"


def query_pools(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, sort, cursorPaging{limit ≤100}}`` → ``{pools[{id, status, beneficiary,
    details{benefits[], creditConfiguration}, programDefinition, program}], metadata}``.

    Filterable (PoolQuerySpec): ``id, createdDate, beneficiary, beneficiary.memberId,
    beneficiary.wixUserId, namespace, poolDefinitionId, programDefinitionId, programId, status``;
    ``details.benefits.itemSetId`` / ``.providerAppId`` with ``$hasSome``/``$hasAll`` only.
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
    providerAppId: <Bookings app id>}``, ``count`` (@min 1) of them. Returns ``{eligibleBenefits[
    {poolId, benefitKey, itemReference, price}]}``.

    SDK GetEligibleBenefitsRequest: ``itemReference{externalId, providerAppId}`` and ``namespace``
    required; ``count``, ``targetDate``, ``beneficiary`` optional.
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
    """Whether one pool can pay for an item (SDK CheckBenefitEligibilityRequest). Returns
    ``{result{benefitResults[{type: ELIGIBLE_BENEFIT | NOT_ENOUGH_BALANCE | …,
    eligibleBenefitOptions? | notEnoughBalanceOptions? | …}]}}``.
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
    """Spend ``count`` items' worth of credits (price × count) from a pool. Returns ``{transactionId}``.

    SDK RedeemBenefitRequest: ``poolId``, ``itemReference{externalId, providerAppId}``,
    ``benefitKey``, ``idempotencyKey`` (@maxLength 200) and ``namespace`` required; ``count``
    ("Amount of items to redeem", @min 1; a booking of N participants redeems N), ``targetDate``,
    ``beneficiary`` optional.

    Raises ``WixPreconditionFailed`` (NOT_ENOUGH_BALANCE {poolId, availableBalance,
    requestedBalance}, POOL_NOT_ACTIVE, POLICY_EXPRESSION_EVALUATED_TO_FALSE), ``WixNotFound``
    (POOL_NOT_FOUND, BENEFIT_NOT_FOUND), ``WixConflict`` (BENEFIT_ALREADY_REDEEMED).

    Not retried here: the key is "used to recognize repeated attempts to make the same request",
    but what Wix answers a repeat is UNCONFIRMED (the same ``transactionId``, a 409
    BENEFIT_ALREADY_REDEEMED, or a bare 409). So a lost answer surfaces as
    ``WixUnavailable(maybe_applied=True)`` and the caller looks the redemption up in Query
    Transactions before sending it again (``services.push.money_booking_only``).
    """
    if not idempotency_key:
        raise ValueError("idempotency_key is required: it is what makes a retried redemption safe")
    if count is not None and count < 1:
        raise ValueError("count is at least 1 (RedeemBenefitRequest.count @min 1)")
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
    return wix.post(f"{BENEFITS}/redeem", body, idempotent=False)


def cancel_redemption(wix: WixClient, *, transaction_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
    """Give a redemption's credits back. Returns ``{transactionId}`` (the cancellation's).

    Hidden: no public SDK function (CONTRACT.md §19); the pools package types the request,
    CancelRedemptionRequest ``{transactionId, idempotencyKey}``, both required. Without a key one
    is made from the transaction id: a redemption is cancelled at most once, so the same cancel
    always carries the same key.

    Raises ``WixNotFound`` (TRANSACTION_NOT_FOUND), ``WixPreconditionFailed``
    (REDEMPTION_ALREADY_CANCELED {cancellationTransactionId}, NOT_LATEST_TRANSACTION,
    TRANSACTION_NOT_CANCELABLE).
    """
    body = {"transactionId": transaction_id, "idempotencyKey": idempotency_key or f"cancel-redemption:{transaction_id}"}
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
    """Returns ``{balances[], metadata}`` for the given pools (repeated ``poolIds`` keys; SDK
    ListBalancesRequest.poolIds @maxSize 100)."""
    if pool_ids and len(pool_ids) > 100:
        raise ValueError("at most 100 pool ids a call (ListBalancesRequest.poolIds @maxSize 100)")
    return wix.get(BALANCES, params={"poolIds": pool_ids, "cursorPaging": cursor_paging})


def query_balances(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, sort, cursorPaging}`` → ``{balances[], metadata}``.

    Filterable (BalanceQuerySpec): ``id, createdDate, beneficiary.memberId, beneficiary.wixUserId``
    — not ``updatedDate``: what moved since a moment is read from Query Transactions.
    """
    return wix.post(f"{BALANCES}/query", {"query": query or {}}, idempotent=True)


def change_balance(
    wix: WixClient,
    *,
    pool_id: str,
    idempotency_key: str,
    adjust_by: str | None = None,
    set_to: str | None = None,
    instructing_party: dict[str, Any] | None = None,
    transaction_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Change a pool's available credits: ``adjust_by`` (a decimal string, negative takes) or
    ``set_to``. Returns ``{balance, transactionId}`` (no ``transactionId`` when nothing changed).

    The public way to give credits back (SDK benefit-programs_balances ``changeBalance``,
    permission BENEFIT_PROGRAMS.BALANCE_CHANGE): ChangeBalanceRequest ``{poolId, idempotencyKey
    (required, @maxLength 200), type: ADJUST | SET, adjustOptions{value} | setOptions{value}
    (@decimalValue maxScale 4), instructingParty?, transactionDetails{itemCount?, benefitKey?}?}``.
    The change is not part of a redemption's transaction chain: a later Cancel Redemption of the
    same redemption would give the credits back twice.

    Raises ``WixConflict`` (ALREADY_EXECUTED: this key was used — UNCONFIRMED that a repeat is
    refused rather than answered again), ``WixPreconditionFailed`` (BALANCE_EXCEEDED_LIMITS).
    """
    if not idempotency_key:
        raise ValueError("idempotency_key is required (ChangeBalanceRequest.idempotencyKey)")
    if (adjust_by is None) == (set_to is None):
        raise ValueError("give exactly one of adjust_by and set_to")
    if adjust_by is not None:
        operation: dict[str, Any] = {"type": "ADJUST", "adjustOptions": {"value": adjust_by}}
    else:
        operation = {"type": "SET", "setOptions": {"value": set_to}}
    body = compact(
        {
            "poolId": pool_id,
            "idempotencyKey": idempotency_key,
            **operation,
            "instructingParty": instructing_party,
            "transactionDetails": transaction_details,
        }
    )
    return wix.post(f"{BALANCES}/{path_param(pool_id, 'pool_id')}/change", body, idempotent=False)


def query_programs(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, cursorPaging}`` → ``{programs[{id, externalId, status, beneficiary}], metadata}``.

    Filterable (ProgramQuerySpec): ``id, createdDate, externalId, namespace, programDefinitionId, status``.
    """
    return wix.post("/benefit-programs/v1/programs/query", {"query": query or {}}, idempotent=True)


def query_transactions(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Redemption history: ``query{filter, sort, cursorPaging{limit ≤100}}`` → ``{transactions[{id,
    createdDate, pool{id}, amount, source, target, idempotencyKey, relatedTransactionId, status,
    details}], metadata}``.

    Filterable (TransactionQuerySpec): ``id, createdDate, pool.id, beneficiary.memberId,
    beneficiary.wixUserId, correlationId, details.item.id, relatedTransactionId``, and ``status``
    (not sortable). ``idempotencyKey`` is on every transaction but cannot be filtered on: match it
    on the page.
    """
    return wix.post("/benefit-programs/v1/transactions/query", {"query": query or {}}, idempotent=True)
