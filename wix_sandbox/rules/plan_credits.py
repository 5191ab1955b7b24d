"""eCommerce ↔ Benefit Programs: plan credits, taken when a benefit is redeemed and given back when cancelled.

Redeeming a benefit moves credits from the pool balance's AVAILABLE side to EXTERNAL and records a
*transaction*; cancelling the redemption records the reverse transaction and gives the credits back.

The sandbox's answer to the UNCONFIRMED "what is a membership id": the benefit-programs pool id
(balance id == pool id), which is what ``membershipOptions.eligibleMemberships[].id`` carries.

Who calls what:

- Benefit Programs (``handlers/plans/benefit_programs.py``) answers Check Eligibility, Eligible
  Pools, Redeem, Cancel Redemption and Change Balance with :func:`evaluate`, :func:`redeem`,
  :func:`redemption_by_key`, :func:`cancel_redemption` and :func:`change_balance`.
- eCommerce membership charging (``handlers/ecom_checkout.py``, ``handlers/ecom_payments.py``)
  offers, charges and voids plan credits with :func:`eligible_memberships`,
  :func:`charge_membership` and :func:`void_membership_charge` only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox
from wix_sandbox.common import iso, stamp_new, touch
from wix_sandbox.errors import SandboxError, not_found, precondition
from wix_sandbox.query import sort_items
from wix_sandbox.rules.plan_programs import NAMESPACE, advance, pool_info
from wix_sandbox.rules.plan_programs import credits_text as _credits


def member_of(beneficiary: Any) -> str | None:
    """The member id of a ``beneficiary`` object, if it names a member."""
    return beneficiary.get("memberId") if isinstance(beneficiary, dict) else None


# -- eligibility -------------------------------------------------------------------------------------


def _covered(sb: Sandbox, pool: dict[str, Any], benefit: dict[str, Any]) -> set[str]:
    """External ids of the items in the benefit's item set (service ids for Bookings)."""
    plan = sb.state.get("plans", (pool.get("programDefinition") or {}).get("externalId"))
    if plan is None or "programDefinition" not in plan:
        return set()
    for pool_definition in plan["programDefinition"]["poolDefinitions"]:
        items = pool_definition["itemSets"].get(benefit.get("itemSetId") or "")
        if items is not None:
            return set(items)
    return set()


def evaluate(
    sb: Sandbox,
    *,
    pool_id: str,
    item_ref: dict[str, Any],
    benefit_key: str | None,
    count: int,
    member_id: str | None,
    namespace: str | None,
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Check Benefit Eligibility's answer: ``(result type, its options, the benefit that fits)``."""
    pool = sb.state.get("pools", pool_id)
    if pool is None or (namespace and pool.get("namespace") != namespace):
        return "POOL_NOT_FOUND", {"poolId": pool_id}, None
    if pool["status"] != "ACTIVE":
        return "POOL_NOT_ACTIVE", {"poolId": pool_id, "poolStatus": pool["status"]}, None
    benefits = pool["details"].get("benefits") or []
    if benefit_key is not None:
        benefits = [b for b in benefits if b.get("benefitKey") == benefit_key]
        if not benefits:
            return "BENEFIT_NOT_FOUND", {"poolId": pool_id, "benefitKey": benefit_key}, None
    if member_id and member_of(pool.get("beneficiary")) != member_id:
        return (
            "POLICY_EXPRESSION_EVALUATED_TO_FALSE",
            {
                "poolId": pool_id,
                "itemReference": item_ref,
                "failureDetails": [{"code": "BENEFICIARY_MISMATCH", "message": "The pool belongs to another member"}],
            },
            None,
        )
    fitting = next(
        (
            b
            for b in benefits
            if b.get("providerAppId") == item_ref.get("providerAppId")
            and item_ref.get("externalId") in _covered(sb, pool, b)
        ),
        None,
    )
    if fitting is None:
        return (
            "POLICY_EXPRESSION_EVALUATED_TO_FALSE",
            {
                "poolId": pool_id,
                "itemReference": item_ref,
                "failureDetails": [
                    {"code": "ITEM_NOT_COVERED", "message": "The pool's benefits don't cover this item"}
                ],
            },
            None,
        )
    balance = sb.state.get("balances", pool_id) or {"amount": {"available": "0"}}
    available = Decimal(balance["amount"]["available"])
    requested = Decimal(fitting.get("price") or "0") * count
    if available < requested:
        return (
            "NOT_ENOUGH_BALANCE",
            {
                "poolId": pool_id,
                "itemReference": item_ref,
                "availableBalance": _credits(available),
                "requestedBalance": _credits(requested),
            },
            None,
        )
    eligible = {
        "poolId": pool_id,
        "benefitKey": fitting.get("benefitKey", ""),
        "itemReference": item_ref,
        "price": fitting.get("price") or "0",
    }
    return "ELIGIBLE", {"eligibleBenefits": [eligible]}, fitting


# -- taking credits and giving them back -------------------------------------------------------------


_REDEEM_ERRORS = {
    "POOL_NOT_FOUND": 404,
    "BENEFIT_NOT_FOUND": 404,
    "POOL_NOT_ACTIVE": 428,
    "POLICY_EXPRESSION_EVALUATED_TO_FALSE": 428,
    "NOT_ENOUGH_BALANCE": 428,
}

_REDEEM_MESSAGES = {
    "POOL_NOT_FOUND": "Pool not found",
    "BENEFIT_NOT_FOUND": "The pool has no benefit with this key",
    "POOL_NOT_ACTIVE": "The pool is not active",
    "POLICY_EXPRESSION_EVALUATED_TO_FALSE": "The benefit can't be redeemed for this item",
    "NOT_ENOUGH_BALANCE": "Not enough credits left in the pool",
}


def redeem(
    sb: Sandbox,
    *,
    pool_id: str,
    item_ref: dict[str, Any],
    benefit_key: str | None,
    count: int,
    member_id: str | None,
    namespace: str | None,
    idempotency_key: str,
) -> dict[str, Any]:
    """Take ``price × count`` credits from the pool's balance; returns the new transaction."""
    result, options, benefit = evaluate(
        sb,
        pool_id=pool_id,
        item_ref=item_ref,
        benefit_key=benefit_key,
        count=count,
        member_id=member_id,
        namespace=namespace,
    )
    if result != "ELIGIBLE" or benefit is None:
        raise SandboxError(_REDEEM_ERRORS[result], result, _REDEEM_MESSAGES[result], options)
    pool = sb.state.get("pools", pool_id)
    balance = sb.state.edit("balances", pool_id)
    assert pool is not None and balance is not None
    amount = Decimal(benefit.get("price") or "0") * count
    item: dict[str, Any] = {
        "externalId": item_ref.get("externalId"),
        "category": item_ref.get("category") or "",
        "itemSetId": benefit.get("itemSetId"),
        "providerAppId": item_ref.get("providerAppId"),
    }
    if item_ref.get("externalId") and (service := sb.state.get("services", item_ref["externalId"])):
        item["displayName"] = service.get("name")
    tx = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "pool": pool_info(pool),
            "amount": _credits(amount),
            "source": "AVAILABLE",
            "target": "EXTERNAL",
            "idempotencyKey": idempotency_key,
            "beneficiary": dict(pool["beneficiary"]),
            "status": "COMPLETED",
            "details": {
                "item": item,
                "itemCount": count,
                "effectiveDate": iso(sb.state.now()),
                "reason": "Redemption",
                "benefitKey": benefit.get("benefitKey"),
            },
        },
    )
    sb.state.put("benefit_transactions", tx)
    balance["amount"]["available"] = _credits(Decimal(balance["amount"]["available"]) - amount)
    balance["lastTransactionId"] = tx["id"]
    sb.state.put("balances", touch(sb, balance))
    return tx


def redemption_by_key(sb: Sandbox, pool_id: str, idempotency_key: str) -> dict[str, Any] | None:
    """The redemption of ``pool_id`` made with ``idempotency_key``, if there is one."""
    found = sb.state.find(
        "benefit_transactions",
        lambda t: (
            t.get("idempotencyKey") == idempotency_key
            and t["pool"]["id"] == pool_id
            and t.get("source") == "AVAILABLE"
            and t.get("target") == "EXTERNAL"
        ),
    )
    return found[0] if found else None


def _reversal_of(sb: Sandbox, transaction_id: str) -> dict[str, Any] | None:
    found = sb.state.find("benefit_transactions", lambda t: t.get("relatedTransactionId") == transaction_id)
    return found[0] if found else None


# The ``details.reason`` of transactions that are not redemptions (a redemption's is "Redemption").
BALANCE_CHANGE = "Balance change"
_NOT_REDEMPTIONS = (BALANCE_CHANGE, "Renewal")


def cancel_redemption(sb: Sandbox, transaction_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
    """Record the reverse of a redemption and give its credits back; returns the new transaction."""
    tx = sb.state.get("benefit_transactions", transaction_id)
    if tx is None:
        raise not_found("TRANSACTION_NOT_FOUND", "Transaction", transaction_id)
    # UNCONFIRMED: both refusals below answer 428 (FAILED_PRECONDITION), as state rules do.
    redemption = tx.get("source") == "AVAILABLE" and tx.get("target") == "EXTERNAL"
    if not redemption or (tx.get("details") or {}).get("reason") in _NOT_REDEMPTIONS:
        raise precondition(
            "TRANSACTION_NOT_CANCELABLE", "Only a redemption can be canceled", {"transactionId": transaction_id}
        )
    if (reversal := _reversal_of(sb, transaction_id)) is not None:
        # Error data as the SDK's RedemptionAlreadyCanceled: {cancellationTransactionId}.
        raise precondition(
            "REDEMPTION_ALREADY_CANCELED",
            f"Redemption {transaction_id} is already canceled",
            {"cancellationTransactionId": reversal["id"]},
        )
    reverse = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "pool": dict(tx["pool"]),
            "amount": tx["amount"],
            "source": "EXTERNAL",
            "target": "AVAILABLE",
            "idempotencyKey": idempotency_key or f"{tx['idempotencyKey']}:cancel",
            "relatedTransactionId": transaction_id,
            "beneficiary": dict(tx["beneficiary"]),
            "status": "COMPLETED",
            "details": {**tx["details"], "effectiveDate": iso(sb.state.now()), "reason": "Redemption canceled"},
        },
    )
    sb.state.put("benefit_transactions", reverse)
    balance = sb.state.edit("balances", tx["pool"]["id"])
    if balance is not None:
        balance["amount"]["available"] = _credits(Decimal(balance["amount"]["available"]) + Decimal(tx["amount"]))
        balance["lastTransactionId"] = reverse["id"]
        sb.state.put("balances", touch(sb, balance))
    return reverse


def change_balance(
    sb: Sandbox,
    *,
    pool_id: str,
    idempotency_key: str,
    operation: str,
    value: Decimal,
    instructing_party: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Balances' Change Balance: ``ADJUST`` available credits by ``value`` (negative takes) or
    ``SET`` them to ``value``. Returns the balance and the transaction (``None`` when nothing
    changed: "If this is the same as the current value, no transaction is created", SDK
    ``SetOptions.value``).

    Raises 404 ``BALANCE_NOT_FOUND`` (UNCONFIRMED code: the SDK lists none for a missing balance),
    409 ``ALREADY_EXECUTED`` for a repeat of ``idempotency_key`` on this balance, 428
    ``BALANCE_EXCEEDED_LIMITS`` when the credits would go below 0.
    """
    advance(sb)
    balance = sb.state.edit("balances", pool_id)
    pool = sb.state.get("pools", pool_id)
    if balance is None or pool is None:
        raise not_found("BALANCE_NOT_FOUND", "Balance", pool_id)
    repeated = sb.state.find(
        "benefit_transactions",
        lambda t: t["pool"]["id"] == pool_id and t.get("idempotencyKey") == idempotency_key,
    )
    if repeated:
        # UNCONFIRMED what Wix answers a repeated key ("used to recognize repeated attempts"): the
        # sandbox takes the stricter reading, the SDK's ALREADY_EXECUTED error ({idempotencyKey},
        # as Pools' AlreadyExecuted) with no balance and no transaction id; the change stands once.
        raise SandboxError(
            409,
            "ALREADY_EXECUTED",
            f"A balance change with idempotency key {idempotency_key} was already made",
            {"idempotencyKey": idempotency_key},
        )
    before = Decimal(balance["amount"]["available"])
    after = before + value if operation == "ADJUST" else value
    delta = after - before
    if after < 0:
        # UNCONFIRMED: the lower limit. A balance never shows fewer than 0 credits (Redeem refuses
        # with NOT_ENOUGH_BALANCE); the data is the SDK's BalanceExceededLimits.
        raise precondition(
            "BALANCE_EXCEEDED_LIMITS",
            "The balance would go below 0 credits",
            {
                "balance": dict(balance["amount"]),
                "requested": _credits(value),
                "lowerLimit": "0",
                "sourceBalanceType": "AVAILABLE",
                "targetBalanceType": "EXTERNAL",
            },
        )
    if not delta:
        return balance, None
    tx_details: dict[str, Any] = {
        k: v for k, v in (details or {}).items() if k in ("itemCount", "benefitKey") and v is not None
    }
    tx = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "pool": pool_info(pool),
            "amount": _credits(abs(delta)),
            "source": "EXTERNAL" if delta > 0 else "AVAILABLE",
            "target": "AVAILABLE" if delta > 0 else "EXTERNAL",
            "idempotencyKey": idempotency_key,
            "beneficiary": dict(pool["beneficiary"]),
            "status": "COMPLETED",
            "details": {**tx_details, "effectiveDate": iso(sb.state.now()), "reason": BALANCE_CHANGE},
        },
    )
    if instructing_party:
        tx["instructingParty"] = dict(instructing_party)
    sb.state.put("benefit_transactions", tx)
    balance["amount"]["available"] = _credits(after)
    balance["lastTransactionId"] = tx["id"]
    sb.state.put("balances", touch(sb, balance))
    return balance, tx


# -- eCommerce memberships: a pool pays for a booking ------------------------------------------------


def _bookings_item(service_id: str) -> dict[str, Any]:
    return {"externalId": service_id, "providerAppId": BOOKINGS_APP_ID, "category": ""}


def eligible_memberships(
    sb: Sandbox, *, member_id: str, service_id: str, line_item_ids: list[str]
) -> list[dict[str, Any]]:
    """The member's ACTIVE pools that cover ``service_id`` and still have credit, as checkout Memberships."""
    advance(sb)
    pools = sb.state.find(
        "pools", lambda p: member_of(p.get("beneficiary")) == member_id and p.get("namespace") == NAMESPACE
    )
    memberships: list[dict[str, Any]] = []
    for pool in sort_items(pools, [{"fieldName": "createdDate", "order": "ASC"}]):
        result, _, _ = evaluate(
            sb,
            pool_id=pool["id"],
            item_ref=_bookings_item(service_id),
            benefit_key=None,
            count=1,
            member_id=member_id,
            namespace=NAMESPACE,
        )
        if result != "ELIGIBLE":
            continue
        membership: dict[str, Any] = {
            "id": pool["id"],
            "appId": PRICING_PLANS_APP_ID,
            "name": {"original": pool.get("displayName") or ""},
            "lineItemIds": list(line_item_ids),
        }
        total = (pool["details"].get("creditConfiguration") or {}).get("amount")
        if total is not None:
            balance = sb.state.get("balances", pool["id"]) or {"amount": {"available": "0"}}
            membership["credits"] = {
                "total": int(Decimal(total)),
                "remaining": int(Decimal(balance["amount"]["available"])),
            }
        order = sb.state.get("plan_orders", (pool.get("program") or {}).get("externalId"))
        if order is not None and order.get("endDate"):
            membership["expirationDate"] = order["endDate"]
        memberships.append(membership)
    return memberships


def charge_membership(sb: Sandbox, *, member_id: str, membership_id: str, service_id: str, reference: str) -> str:
    """Take one credit from pool ``membership_id`` for ``service_id``; returns the benefit transaction id.

    Charging the same ``reference`` again returns the same transaction while it stands (no second
    credit); after it was voided, a new charge is taken. Raises like Redeem Benefit: 404
    ``POOL_NOT_FOUND``, 428 ``POOL_NOT_ACTIVE`` / ``POLICY_EXPRESSION_EVALUATED_TO_FALSE`` /
    ``NOT_ENOUGH_BALANCE``.
    """
    advance(sb)
    base_key = f"ecom-membership:{reference}"
    earlier = sb.state.find(
        "benefit_transactions",
        lambda t: (
            t["pool"]["id"] == membership_id
            and t.get("source") == "AVAILABLE"
            and str(t.get("idempotencyKey", "")).split("#")[0] == base_key
        ),
    )
    for tx in earlier:
        if _reversal_of(sb, tx["id"]) is None:
            return tx["id"]
    key = base_key if not earlier else f"{base_key}#{len(earlier) + 1}"
    tx = redeem(
        sb,
        pool_id=membership_id,
        item_ref=_bookings_item(service_id),
        benefit_key=None,
        count=1,
        member_id=member_id,
        namespace=NAMESPACE,
        idempotency_key=key,
    )
    return tx["id"]


def void_membership_charge(sb: Sandbox, *, transaction_id: str) -> None:
    """Give the credit of a charge back; voiding twice is a no-op. Raises 404 ``TRANSACTION_NOT_FOUND``."""
    if sb.state.get("benefit_transactions", transaction_id) is None:
        raise not_found("TRANSACTION_NOT_FOUND", "Transaction", transaction_id)
    if _reversal_of(sb, transaction_id) is None:
        cancel_redemption(sb, transaction_id)
