"""Benefit Programs: pools, balances, programs and transactions; eligibility and redemption (CONTRACT.md §14).

Credits are taken and given back by ``rules/plan_credits.py``; a pool's status follows its plan
order (``rules/plan_programs.py``).
"""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import int_param
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, require, violation
from wix_sandbox.query import run_query, sort_items
from wix_sandbox.routing import route
from wix_sandbox.rules import plan_credits, plan_programs


def _item_reference(body: dict[str, Any], *, as_validation: bool) -> dict[str, Any]:
    """The request's ``itemReference``; missing parts are a validation error or ``INVALID_ITEM_REFERENCE``."""
    ref = body.get("itemReference")
    ref = ref if isinstance(ref, dict) else {}
    missing = [f"itemReference.{f}" for f in ("externalId", "providerAppId") if not ref.get(f)]
    if missing:
        if as_validation:
            fields = ["itemReference"] if not ref else missing
            raise ValidationFailed([violation(f, f"{f} is required", "REQUIRED_FIELD") for f in fields])
        raise invalid("INVALID_ITEM_REFERENCE", "itemReference needs externalId and providerAppId")
    return {k: ref[k] for k in ("externalId", "category", "providerAppId") if k in ref}


def _count(body: dict[str, Any]) -> int:
    raw = body.get("count")
    if raw in (None, ""):
        return 1
    try:
        count = int(raw)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise ValidationFailed([violation("count", "count must be at least 1", "MIN")])
    return count


@route("POST /benefit-programs/v1/pools/eligible-pools")
def get_eligible_benefits(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    item_ref = _item_reference(body, as_validation=False)
    count = _count(body)
    member_id = plan_credits.member_of(body.get("beneficiary"))
    namespace = body.get("namespace")
    if not member_id:
        # UNCONFIRMED: without a beneficiary Wix uses the caller's identity; an API key has no pools.
        return {"eligibleBenefits": []}
    pools = sb.state.find("pools", lambda p: plan_credits.member_of(p.get("beneficiary")) == member_id)
    eligible: list[dict[str, Any]] = []
    for pool in sort_items(pools, [{"fieldName": "createdDate", "order": "ASC"}]):
        result, options, _ = plan_credits.evaluate(
            sb,
            pool_id=pool["id"],
            item_ref=item_ref,
            benefit_key=None,
            count=count,
            member_id=member_id,
            namespace=namespace,
        )
        if result == "ELIGIBLE":
            eligible.extend(options["eligibleBenefits"])
    return {"eligibleBenefits": eligible}


@route("POST /benefit-programs/v1/pools/check-eligibility")
def check_benefit_eligibility(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    require("poolId", body.get("poolId"))
    item_ref = _item_reference(body, as_validation=True)
    result, options, _ = plan_credits.evaluate(
        sb,
        pool_id=body["poolId"],
        item_ref=item_ref,
        benefit_key=body.get("benefitKey"),
        count=_count(body),
        member_id=plan_credits.member_of(body.get("beneficiary")),
        namespace=body.get("namespace"),
    )
    key = {
        "ELIGIBLE": "eligibleOptions",
        "NOT_ENOUGH_BALANCE": "notEnoughBalanceOptions",
        "POLICY_EXPRESSION_EVALUATED_TO_FALSE": "policyExpressionEvaluatedToFalseOptions",
        "POOL_NOT_ACTIVE": "poolNotActiveOptions",
        "BENEFIT_NOT_FOUND": "benefitNotFoundOptions",
        "POOL_NOT_FOUND": "poolNotFoundOptions",
    }[result]
    return {"result": {"type": result, key: options}}


@route("POST /benefit-programs/v1/benefits/redeem")
def redeem_benefit(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    missing = [f for f in ("poolId", "itemReference", "benefitKey", "idempotencyKey") if not body.get(f)]
    if missing:
        raise ValidationFailed([violation(f, f"{f} is required", "REQUIRED_FIELD") for f in missing])
    item_ref = _item_reference(body, as_validation=True)
    count = _count(body)
    pool_id, key = body["poolId"], body["idempotencyKey"]
    repeated = sb.state.find(
        "benefit_transactions",
        lambda t: t.get("idempotencyKey") == key and t["pool"]["id"] == pool_id and t.get("source") == "AVAILABLE",
    )
    if repeated:
        # UNCONFIRMED: a retry with the same key is refused with the SDK's BenefitAlreadyRedeemed
        # error ({poolId, idempotencyKey}; the doc page lists one 409) rather than answered again.
        raise SandboxError(
            409,
            "BENEFIT_ALREADY_REDEEMED",
            f"A redemption with idempotency key {key} already exists",
            {"poolId": pool_id, "idempotencyKey": key},
        )
    tx = plan_credits.redeem(
        sb,
        pool_id=pool_id,
        item_ref=item_ref,
        benefit_key=body["benefitKey"],
        count=count,
        member_id=plan_credits.member_of(body.get("beneficiary")),
        namespace=body.get("namespace"),
        idempotency_key=key,
    )
    return {"transactionId": tx["id"]}


@route("POST /benefit-programs/v1/benefits/cancel-redemption")
def cancel_redemption(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    require("transactionId", req.body.get("transactionId"))
    reverse = plan_credits.cancel_redemption(sb, req.body["transactionId"])
    # UNCONFIRMED response shape (the method is hidden): the id of the reversing transaction.
    return {"transactionId": reverse["id"]}


def _cursor_query(sb: Sandbox, coll: str, query: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    query = dict(query) if isinstance(query, dict) else {}
    if "paging" not in query:
        query.setdefault("cursorPaging", {})
    # UNCONFIRMED: maximum page size 100 (the default of 50 is documented).
    return run_query(
        sb.state.all(coll),
        query,
        default_limit=50,
        max_limit=100,
        default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    )


# Benefit Programs name the paging field `metadata` (SDK typings: QueryPoolsResponse.metadata,
# ListBalancesResponse.metadata, …), unlike Pricing Plans' `pagingMetadata`.
@route("POST /benefit-programs/v1/pools/query")
def query_pools(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    pools, meta = _cursor_query(sb, "pools", req.body.get("query"))
    return {"pools": pools, "metadata": meta}


@route("GET /benefit-programs/v1/balances/{poolId}")
def get_balance(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    balance = sb.state.get("balances", req.path_params["poolId"])
    if balance is None:
        # UNCONFIRMED: the code.
        raise not_found("BALANCE_NOT_FOUND", "Balance", req.path_params["poolId"])
    return {"balance": balance}


@route("GET /benefit-programs/v1/balances")
def list_balances(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    paging: dict[str, Any] = {}
    if req.param("cursorPaging.limit"):
        paging["limit"] = int_param(req, "cursorPaging.limit", 50)
    if req.param("cursorPaging.cursor"):
        paging["cursor"] = req.param("cursorPaging.cursor")
    query: dict[str, Any] = {"cursorPaging": paging}
    if req.params("poolIds"):
        query["filter"] = {"id": {"$in": req.params("poolIds")}}
    balances, meta = _cursor_query(sb, "balances", query)
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/balances/query")
def query_balances(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    balances, meta = _cursor_query(sb, "balances", req.body.get("query"))
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/programs/query")
def query_programs(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    programs, meta = _cursor_query(sb, "programs", req.body.get("query"))
    return {"programs": programs, "metadata": meta}


@route("POST /benefit-programs/v1/transactions/query")
def query_transactions(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    transactions, meta = _cursor_query(sb, "benefit_transactions", req.body.get("query"))
    return {"transactions": transactions, "metadata": meta}
