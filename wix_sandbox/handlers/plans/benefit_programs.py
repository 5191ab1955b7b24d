"""Benefit Programs: pools, balances, programs and transactions; eligibility, redemption and Change
Balance (CONTRACT.md §13.2, §14).

Credits are taken and given back by ``rules/plan_credits.py``; a pool's status follows its plan
order (``rules/plan_programs.py``). Each query refuses a filter on a field its SDK query spec does
not list (``*_FILTERABLE``); the answer to a repeated redeem is a setting (``redeem_repeat_set``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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


def _required(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    """REQUIRED_FIELD for each of ``fields`` the body lacks (the SDK's ``@requiredField`` list)."""
    missing = [f for f in fields if not body.get(f)]
    if missing:
        raise ValidationFailed([violation(f, f"{f} is required", "REQUIRED_FIELD") for f in missing])


def _idempotency_key(body: dict[str, Any]) -> str:
    """The request's ``idempotencyKey`` (required, ``@maxLength 200`` in every Benefit Programs request)."""
    _required(body, ("idempotencyKey",))
    key = str(body["idempotencyKey"])
    if len(key) > 200:
        raise ValidationFailed([violation("idempotencyKey", "at most 200 characters", "MAX_LENGTH")])
    return key


@route("POST /benefit-programs/v1/pools/eligible-pools")
def get_eligible_benefits(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    item_ref = _item_reference(body, as_validation=False)
    # @requiredField options.namespace (SDK getEligibleBenefits).
    _required(body, ("namespace",))
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


# Check Benefit Eligibility answers ``{result: {benefitResults: [{type, <type>Options}]}}`` (SDK
# CheckBenefitEligibilityResponse → EligibilityCheckResult.benefitResults[] BenefitResult; the
# type enum BenefitResultType as the package's index.js lists it).
_RESULT_OPTIONS = {
    "ELIGIBLE_BENEFIT": "eligibleBenefitOptions",
    "NOT_ENOUGH_BALANCE": "notEnoughBalanceOptions",
    "POLICY_EXPRESSION_EVALUATED_TO_FALSE": "policyExpressionEvaluatedToFalseOptions",
    "POOL_NOT_ACTIVE": "poolNotActiveOptions",
    "BENEFIT_NOT_FOUND": "benefitNotFoundOptions",
    "POOL_NOT_FOUND": "poolNotFoundOptions",
}


@route("POST /benefit-programs/v1/pools/check-eligibility")
def check_benefit_eligibility(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    require("poolId", body.get("poolId"))
    item_ref = _item_reference(body, as_validation=True)
    _required(body, ("namespace",))
    result, options, _ = plan_credits.evaluate(
        sb,
        pool_id=body["poolId"],
        item_ref=item_ref,
        benefit_key=body.get("benefitKey"),
        count=_count(body),
        member_id=plan_credits.member_of(body.get("beneficiary")),
        namespace=body.get("namespace"),
    )
    if result == "ELIGIBLE":
        result, options = "ELIGIBLE_BENEFIT", options["eligibleBenefits"][0]
    return {"result": {"benefitResults": [{"type": result, _RESULT_OPTIONS[result]: options}]}}


# What Wix answers a Redeem Benefit that repeats an idempotencyKey it already redeemed on the pool.
# The SDK says only that the key is "used to recognize repeated attempts to make the same request".
REPEAT_ALREADY_REDEEMED = "BENEFIT_ALREADY_REDEEMED"  # 409 with the SDK's BenefitAlreadyRedeemed data
REPEAT_SAME_TRANSACTION = "SAME_TRANSACTION"  # 200 with the first redemption's transactionId
REPEAT_BARE_CONFLICT = "BARE_CONFLICT"  # 409 with no applicationError, nothing to go by
REPEAT_ANSWERS = (REPEAT_ALREADY_REDEEMED, REPEAT_SAME_TRANSACTION, REPEAT_BARE_CONFLICT)
_REPEAT_SETTING = "benefit_programs_redeem_repeat"


def redeem_repeat_answer(sb: Sandbox) -> str:
    """How this sandbox answers a repeated Redeem Benefit (a ``meta`` setting; see :func:`redeem_repeat_set`).

    UNCONFIRMED which answer Wix gives. The default is the stricter of the two the SDK makes
    plausible: 409 ``BENEFIT_ALREADY_REDEEMED`` ({poolId, idempotencyKey}, listed in RedeemBenefit's
    application errors) rather than the first transactionId again — it leaves the caller without
    the transaction id, so it must find its redemption in Query Transactions. A bare 409 (nothing
    documents it) and the same transactionId exist so tests can hold the app to them too.
    """
    setting = sb.state.get("meta", _REPEAT_SETTING)
    return setting["value"] if setting else REPEAT_ALREADY_REDEEMED


def redeem_repeat_set(sb: Sandbox, answer: str) -> None:
    """Make this sandbox answer a repeated Redeem Benefit with ``answer`` (one of ``REPEAT_ANSWERS``)."""
    if answer not in REPEAT_ANSWERS:
        raise ValueError(f"unknown repeat answer {answer!r}")
    with sb.state.transaction():
        sb.state.put("meta", {"id": _REPEAT_SETTING, "value": answer})


class _BareConflict(SandboxError):
    """A 409 whose body says nothing but a message (no ``applicationError``)."""

    def body(self) -> dict[str, Any]:
        return {"message": self.description}


@route("POST /benefit-programs/v1/benefits/redeem")
def redeem_benefit(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    body = req.body
    # RedeemBenefitRequest: poolId, itemReference{externalId, providerAppId}, benefitKey,
    # idempotencyKey and namespace are @requiredField; count @min 1.
    _required(body, ("poolId", "itemReference", "benefitKey", "idempotencyKey", "namespace"))
    item_ref = _item_reference(body, as_validation=True)
    count = _count(body)
    pool_id, key = body["poolId"], _idempotency_key(body)
    repeated = plan_credits.redemption_by_key(sb, pool_id, key)
    if repeated is not None:
        answer = redeem_repeat_answer(sb)
        if answer == REPEAT_SAME_TRANSACTION:
            return {"transactionId": repeated["id"]}
        if answer == REPEAT_BARE_CONFLICT:
            raise _BareConflict(409, "", f"A redemption with idempotency key {key} already exists")
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
    # CancelRedemptionRequest (hidden method, typed in the pools package): transactionId and
    # idempotencyKey are both required.
    _required(req.body, ("transactionId", "idempotencyKey"))
    key = _idempotency_key(req.body)
    reverse = plan_credits.cancel_redemption(sb, req.body["transactionId"], idempotency_key=key)
    # CancelRedemptionResponse: the id of the cancellation transaction (the chain's terminal one).
    return {"transactionId": reverse["id"]}


# The fields each query can filter on, in REST names (the SDK renames ``_id``/``_createdDate`` to
# ``id``/``createdDate`` on the wire): each package's ``*QuerySpec.wql`` fields in
# index.typings.d.ts. Anything else is refused (``query.require_filterable``).
POOL_FILTERABLE = (
    # PoolQuerySpec; the two details.benefits fields only with $hasAll/$hasSome. (The query
    # builder also names programDefinition.id and program.id; the spec does not: left out.)
    "details.benefits.itemSetId",
    "details.benefits.providerAppId",
    "createdDate",
    "id",
    "beneficiary",
    "beneficiary.memberId",
    "beneficiary.wixUserId",
    "namespace",
    "poolDefinitionId",
    "programDefinitionId",
    "programId",
    "status",
)
BALANCE_FILTERABLE = ("createdDate", "id", "beneficiary.memberId", "beneficiary.wixUserId")  # BalanceQuerySpec
PROGRAM_FILTERABLE = ("createdDate", "id", "externalId", "namespace", "programDefinitionId", "status")
TRANSACTION_FILTERABLE = (  # TransactionQuerySpec (status: filter only, no sort)
    "createdDate",
    "id",
    "beneficiary.memberId",
    "beneficiary.wixUserId",
    "correlationId",
    "details.item.id",
    "pool.id",
    "relatedTransactionId",
    "status",
)


def _cursor_query(
    sb: Sandbox, coll: str, query: Any, *, filterable: tuple[str, ...], api: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    query = dict(query) if isinstance(query, dict) else {}
    if "paging" not in query:
        query.setdefault("cursorPaging", {})
    # CursorPaging.limit @max 100; "a default paging limit of 50" (SDK query* docs).
    return run_query(
        sb.state.all(coll),
        query,
        default_limit=50,
        max_limit=100,
        default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
        filterable=filterable,
        api=api,
    )


# Benefit Programs name the paging field `metadata` (SDK typings: QueryPoolsResponse.metadata,
# ListBalancesResponse.metadata, …), unlike Pricing Plans' `pagingMetadata`.
@route("POST /benefit-programs/v1/pools/query")
def query_pools(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    pools, meta = _cursor_query(sb, "pools", req.body.get("query"), filterable=POOL_FILTERABLE, api="Query Pools")
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
    pool_ids = req.params("poolIds")
    if len(pool_ids) > 100:  # ListBalancesRequest.poolIds @maxSize 100
        raise ValidationFailed([violation("poolIds", "at most 100 pool ids", "MAX_SIZE")])
    if pool_ids:
        query["filter"] = {"id": {"$in": pool_ids}}
    balances, meta = _cursor_query(sb, "balances", query, filterable=BALANCE_FILTERABLE, api="List Balances")
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/balances/query")
def query_balances(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    balances, meta = _cursor_query(
        sb, "balances", req.body.get("query"), filterable=BALANCE_FILTERABLE, api="Query Balances"
    )
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/programs/query")
def query_programs(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    programs, meta = _cursor_query(
        sb, "programs", req.body.get("query"), filterable=PROGRAM_FILTERABLE, api="Query Programs"
    )
    return {"programs": programs, "metadata": meta}


@route("POST /benefit-programs/v1/transactions/query")
def query_transactions(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    transactions, meta = _cursor_query(
        sb, "benefit_transactions", req.body.get("query"), filterable=TRANSACTION_FILTERABLE, api="Query Transactions"
    )
    return {"transactions": transactions, "metadata": meta}


@route("POST /benefit-programs/v1/balances/{poolId}/change")
def change_balance(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Change Balance (SDK benefit-programs_balances ``changeBalance``, public): ``{poolId,
    idempotencyKey, type: ADJUST | SET, adjustOptions{value} | setOptions{value}, instructingParty?,
    transactionDetails?}`` → ``{balance, transactionId}``."""
    body = req.body
    key = _idempotency_key(body)
    operation = body.get("type")
    # @requiredField options.operation: the oneof adjustOptions | setOptions, named by ``type``.
    # UNCONFIRMED: whether Wix infers ``type`` from the option given; the sandbox wants both.
    options = body.get({"ADJUST": "adjustOptions", "SET": "setOptions"}.get(str(operation), ""))
    if operation not in ("ADJUST", "SET") or not isinstance(options, dict):
        raise ValidationFailed(
            [violation("type", "type ADJUST with adjustOptions, or SET with setOptions", "ONE_OF_ALIGNMENT")]
        )
    field = f"{'adjustOptions' if operation == 'ADJUST' else 'setOptions'}.value"
    try:
        value = Decimal(str(options.get("value")))
    except InvalidOperation as exc:
        raise ValidationFailed([violation(field, f"{field} must be a decimal string", "FORMAT")]) from exc
    if not value.is_finite() or value != value.quantize(Decimal("0.0001")):  # @decimalValue maxScale 4
        raise ValidationFailed([violation(field, f"{field}: at most 4 decimal places", "DECIMAL_MAX_SCALE")])
    details = body.get("transactionDetails")
    balance, tx = plan_credits.change_balance(
        sb,
        pool_id=req.path_params["poolId"],
        idempotency_key=key,
        operation=operation,
        value=value,
        instructing_party=body.get("instructingParty") if isinstance(body.get("instructingParty"), dict) else None,
        details=details if isinstance(details, dict) else None,
    )
    answer: dict[str, Any] = {"balance": balance}
    if tx is not None:
        answer["transactionId"] = tx["id"]
    return answer
