"""Pricing Plans (plans, plan orders) and the Benefit Programs that carry a plan's sessions (CONTRACT.md §13–14).

Selling a plan provisions, as in Wix, a benefit *program* for the buyer (namespace
``@wix/pricing-plans``) holding one *pool* per pool definition of the plan; each pool has a
*balance* of credits (balance id == pool id). Redeeming a benefit moves credits from the balance's
AVAILABLE side to EXTERNAL and records a *transaction*; cancelling the redemption records the
reverse transaction and gives the credits back.

Which services a plan covers lives, in Wix, in benefit-program definitions, pool definitions and
items (item sets) that no endpoint used here serves. The sandbox keeps that definition on the plan
under ``programDefinition`` and never returns it (:func:`plan_out`); a pool finds its coverage
through ``pool.programDefinition.externalId`` (= plan id) and its benefit's ``itemSetId``, so a
change to the plan's coverage reaches pools already sold, as items do in Wix.

Plan orders move with the sandbox clock: PENDING → ACTIVE at ``startDate``, a new cycle (credits
renewed) at each subscription cycle, ENDED at ``endDate``. :func:`_advance` applies what is due
before every request of this module; a ``meta`` row remembers the next due moment so that is cheap.
"""

from __future__ import annotations

import base64
import calendar
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import iso, money_str, stamp_new, touch
from wix_sandbox.errors import (
    SandboxError,
    ValidationFailed,
    invalid,
    not_found,
    precondition,
    require,
    violation,
)
from wix_sandbox.query import run_query, sort_items
from wix_sandbox.routing import route

NAMESPACE = "@wix/pricing-plans"
ORDER_STATUSES = ("UNDEFINED", "DRAFT", "PENDING", "ACTIVE", "PAUSED", "ENDED", "CANCELED")
PAYMENT_STATUSES = ("UNDEFINED", "PAID", "REFUNDED", "FAILED", "UNPAID", "PENDING", "NOT_APPLICABLE")
MAX_ORDERS_LIMIT = 50
_NEXT_BOUNDARY = "pricing_plans_next_boundary"
# Order status → status of its program and pools.
_POOL_STATUS = {"PENDING": "PENDING", "ACTIVE": "ACTIVE", "PAUSED": "PAUSED", "ENDED": "ENDED", "CANCELED": "ENDED"}
_INTERNAL_PLAN_KEYS = ("programDefinition",)


# -- small helpers ------------------------------------------------------------------------------


def _parse_dt(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _credits(value: Decimal) -> str:
    """A credit amount the way balances write it: a decimal string without trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _add_period(dt: datetime, unit: str, count: int) -> datetime:
    if unit == "DAY":
        return dt + timedelta(days=count)
    if unit == "WEEK":
        return dt + timedelta(weeks=count)
    months = count * (12 if unit == "YEAR" else 1)
    year, month0 = divmod(dt.month - 1 + months, 12)
    year += dt.year
    day = min(dt.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.replace(year=year, month=month0 + 1, day=day)


def _stable_id(*parts: str) -> str:
    """An id derived from others, for sub-objects that Wix stores but the sandbox renders."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "wix-sandbox:" + ":".join(parts)))


def _int_param(req: SandboxRequest, name: str, default: int) -> int:
    raw = req.param(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationFailed([violation(name, f"{name} must be an integer", "FORMAT")]) from exc


def _enum_params(req: SandboxRequest, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = req.params(name)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationFailed([violation(name, f"{bad[0]} is not a valid {name} value", "INVALID_ENUM_VALUE")])
    return values


def _member_of(beneficiary: Any) -> str | None:
    return beneficiary.get("memberId") if isinstance(beneficiary, dict) else None


# -- plans --------------------------------------------------------------------------------------


def plan_create(
    sb: Sandbox,
    *,
    name: str,
    price: str,
    credits: int | None,
    service_ids: list[str],
    pricing_model: dict[str, Any] | None = None,
    description: str = "",
    perks: list[str] | None = None,
    public: bool = True,
    unit_display_name: str = "Sessions",
) -> dict[str, Any]:
    """Store a pricing plan that covers ``service_ids`` and return it (the stored shape, internals included).

    ``credits`` is the number of sessions per purchase (per cycle for subscriptions), ``None`` for
    unlimited. ``pricing_model`` is one Wix pricing model, e.g. ``{"singlePaymentForDuration":
    {"count": 3, "unit": "MONTH"}}`` (the default), ``{"singlePaymentUnlimited": True}`` or
    ``{"subscription": {"cycleDuration": {"count": 1, "unit": "MONTH"}, "cycleCount": 0}}``.
    There is no Create Plan endpoint in the sandbox: builders and the demo seed call this.
    """
    model = pricing_model or {"singlePaymentForDuration": {"count": 3, "unit": "MONTH"}}
    plan_id = sb.state.new_id()
    item_set_id = sb.state.new_id()
    benefit: dict[str, Any] = {
        "benefitKey": sb.state.new_id(),
        "itemSetId": item_set_id,
        # Pricing Plans prices a limited Bookings benefit at 1 credit a session and an unlimited
        # one at 0 (official "create pricing plans" recipe), so unlimited never runs out.
        "price": "1" if credits is not None else "0",
        "providerAppId": BOOKINGS_APP_ID,
        "displayName": name,
    }
    details: dict[str, Any] = {"benefits": [benefit]}
    if credits is not None:
        details["creditConfiguration"] = {"amount": str(credits), "unitDisplayName": unit_display_name}
    plan: dict[str, Any] = {
        "id": plan_id,
        "name": name,
        "description": description,
        "perks": {"values": list(perks or [])},
        "pricing": {**model, "price": {"value": money_str(price), "currency": sb.currency}},
        "public": public,
        "archived": False,
        "primary": False,
        "hasOrders": False,
        "slug": name.lower().replace(" ", "-"),
        "maxPurchasesPerBuyer": 0,
        # Wix's default; the sandbox does not enforce it for offline orders (an owner action).
        "allowFutureStartDate": False,
        "buyerCanCancel": True,
        "termsAndConditions": "",
        # UNCONFIRMED: Wix keeps this in Benefit Programs definitions/items, not on the plan; the
        # sandbox stores it here (never returned) because it serves no definition endpoints.
        "programDefinition": {
            "id": sb.state.new_id(),
            "externalId": plan_id,
            "namespace": NAMESPACE,
            "displayName": name,
            "poolDefinitions": [
                {
                    "id": sb.state.new_id(),
                    "displayName": name,
                    "details": details,
                    "itemSets": {item_set_id: list(service_ids)},
                }
            ],
        },
    }
    stamp_new(sb, plan, revision=False)
    sb.state.put("plans", plan)
    # Connecting a plan to a service is what makes Wix list it on the service (and flips
    # payment.options.pricingPlan on), so the service and the plan agree from the start.
    for service_id in service_ids:
        service = sb.state.edit("services", service_id)
        if service is None:
            continue
        payment = service.setdefault("payment", {})
        if plan_id not in payment.setdefault("pricingPlanIds", []):
            payment["pricingPlanIds"].append(plan_id)
        payment.setdefault("options", {})["pricingPlan"] = True
        sb.state.put("services", touch(sb, service))
    return plan


def plan_out(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as Plans V2 returns it."""
    return {k: v for k, v in plan.items() if k not in _INTERNAL_PLAN_KEYS}


def plan_v3_out(plan: dict[str, Any]) -> dict[str, Any]:
    """The same plan in the Plans V3 shape (``pricingVariants``, ``visibility``, ``perks[{id, description}]``)."""
    pricing = plan["pricing"]
    terms: dict[str, Any] = {"startType": "ON_PURCHASE"}
    if "subscription" in pricing:
        sub = pricing["subscription"]
        cycle = sub.get("cycleDuration") or {}
        terms["billingCycle"] = {"period": cycle.get("unit"), "count": cycle.get("count") or 1}
        if sub.get("cycleCount"):
            terms["endType"] = "CYCLES_COMPLETED"
            terms["cyclesCompletedDetails"] = {"billingCycleCount": sub["cycleCount"]}
        else:
            terms["endType"] = "UNTIL_CANCELLED"
    elif "singlePaymentForDuration" in pricing:
        duration = pricing["singlePaymentForDuration"]
        terms["billingCycle"] = {"period": duration.get("unit"), "count": duration.get("count") or 1}
        terms["endType"] = "CYCLES_COMPLETED"
        terms["cyclesCompletedDetails"] = {"billingCycleCount": 1}
    else:
        terms["endType"] = "UNTIL_CANCELLED"
    variant: dict[str, Any] = {
        "id": _stable_id(plan["id"], "variant"),
        "name": plan["name"],
        "billingTerms": terms,
        "pricingStrategies": [{"flatRate": {"amount": pricing["price"]["value"]}}],
    }
    if pricing.get("freeTrialDays"):
        variant["freeTrialDays"] = pricing["freeTrialDays"]
    return {
        "id": plan["id"],
        "revision": "1",
        "createdDate": plan["createdDate"],
        "updatedDate": plan["updatedDate"],
        "name": plan["name"],
        "description": plan.get("description", ""),
        "slug": plan.get("slug"),
        "termsAndConditions": plan.get("termsAndConditions", ""),
        "maxPurchasesPerBuyer": plan.get("maxPurchasesPerBuyer", 0),
        "pricingVariants": [variant],
        "perks": [
            {"id": _stable_id(plan["id"], "perk", str(i)), "description": text}
            for i, text in enumerate((plan.get("perks") or {}).get("values", []))
        ],
        "visibility": "PUBLIC" if plan.get("public") else "PRIVATE",
        "buyable": not plan.get("archived"),
        "buyerCanCancel": plan.get("buyerCanCancel", True),
        "status": "ARCHIVED" if plan.get("archived") else "ACTIVE",
        "archived": bool(plan.get("archived")),
        "primary": bool(plan.get("primary")),
        "currency": pricing["price"]["currency"],
    }


def _plan_or_404(sb: Sandbox, plan_id: str | None) -> dict[str, Any]:
    plan = sb.state.get("plans", plan_id)
    if plan is None:
        raise not_found("plan_not_found", "Plan", plan_id or "")
    return plan


@route("GET /pricing-plans/v2/plans")
def list_plans(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    archived = req.param("archived") or "ACTIVE"
    public = req.param("public") or "PUBLIC_AND_HIDDEN"
    if archived not in ("ACTIVE", "ARCHIVED", "ARCHIVED_AND_ACTIVE"):
        raise ValidationFailed([violation("archived", f"{archived} is not a valid value", "INVALID_ENUM_VALUE")])
    if public not in ("PUBLIC_AND_HIDDEN", "PUBLIC", "HIDDEN"):
        raise ValidationFailed([violation("public", f"{public} is not a valid value", "INVALID_ENUM_VALUE")])
    # UNCONFIRMED: default 75 and maximum 100 plans a page.
    limit = _int_param(req, "limit", 75)
    offset = _int_param(req, "offset", 0)
    if not 0 <= limit <= 100:
        raise ValidationFailed([violation("limit", "limit must be between 0 and 100", "MAX")])
    ids = set(req.params("planIds"))
    plans = [
        p
        for p in sb.state.all("plans")
        if (not ids or p["id"] in ids)
        and (archived == "ARCHIVED_AND_ACTIVE" or bool(p.get("archived")) == (archived == "ARCHIVED"))
        and (public == "PUBLIC_AND_HIDDEN" or bool(p.get("public")) == (public == "PUBLIC"))
    ]
    plans = sort_items(plans, [{"fieldName": "createdDate", "order": "ASC"}])
    page = plans[offset : offset + limit]
    return {
        "plans": [plan_out(p) for p in page],
        "pagingMetadata": {"count": len(page), "offset": offset, "total": len(plans), "tooManyToCount": False},
    }


@route("GET /pricing-plans/v2/plans/{id}")
def get_plan(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    return {"plan": plan_out(_plan_or_404(sb, req.path_params["id"]))}


def _v3_query(req: SandboxRequest) -> dict[str, Any]:
    """The ``query`` of a GET Query Plans request, from ``.r`` (base64url JSON) or dotted params."""
    raw = req.param(".r")
    if raw:
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except ValueError as exc:
            raise invalid("INVALID_ARGUMENT", "The .r parameter is not base64url-encoded JSON") from exc
        return dict(data.get("query") or {})
    query: dict[str, Any] = {}
    for key, values in req.query.items():
        if not key.startswith("query.") or not values:
            continue
        path, value = key[len("query.") :], values[0]
        if path in ("filter", "sort"):
            try:
                query[path] = json.loads(value)
            except ValueError as exc:
                raise ValidationFailed([violation(key, f"{key} must be JSON", "FORMAT")]) from exc
        elif path.startswith("filter."):
            query.setdefault("filter", {})[path[len("filter.") :]] = value
        elif path in ("cursorPaging.limit", "paging.limit", "paging.offset"):
            group, field = path.split(".")
            try:
                query.setdefault(group, {})[field] = int(value)
            except ValueError as exc:
                raise ValidationFailed([violation(key, f"{key} must be an integer", "FORMAT")]) from exc
        elif path == "cursorPaging.cursor":
            query.setdefault("cursorPaging", {})["cursor"] = value
    return query


@route("GET /pricing-plans/v3/plans/query")
def query_plans_v3(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    query = _v3_query(req)
    if "paging" not in query:
        query.setdefault("cursorPaging", {})
    plans, meta = run_query(
        [plan_v3_out(p) for p in sb.state.all("plans")],
        query,
        default_limit=50,
        max_limit=100,
        default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    )
    return {"plans": plans, "pagingMetadata": meta}


# -- plan orders ----------------------------------------------------------------------------------


def _model(pricing: dict[str, Any]) -> tuple[str, dict[str, Any] | bool]:
    for key in ("subscription", "singlePaymentForDuration", "singlePaymentUnlimited"):
        if key in pricing:
            return key, pricing[key]
    return "singlePaymentUnlimited", True


def _cycle_unit(pricing: dict[str, Any]) -> tuple[int, str] | None:
    kind, value = _model(pricing)
    if kind == "subscription":
        cycle = value.get("cycleDuration") or {}
        return int(cycle.get("count") or 1), cycle.get("unit") or "MONTH"
    if kind == "singlePaymentForDuration":
        return int(value.get("count") or 1), value.get("unit") or "MONTH"
    return None


def _end_date(start: datetime, pricing: dict[str, Any]) -> datetime | None:
    kind, value = _model(pricing)
    unit = _cycle_unit(pricing)
    if unit is None:
        return None
    if kind == "subscription":
        cycles = int(value.get("cycleCount") or 0)
        return _add_period(start, unit[1], unit[0] * cycles) if cycles else None
    return _add_period(start, unit[1], unit[0])


def _current_cycle(order: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The cycle an ACTIVE order is in at ``now``: ``{index, startedDate, endedDate?}``."""
    start = _parse_dt(order["startDate"])
    unit = _cycle_unit(order["pricing"])
    if unit is None:
        return {"index": 1, "startedDate": order["startDate"]}
    if _model(order["pricing"])[0] != "subscription":
        return {"index": 1, "startedDate": order["startDate"], "endedDate": order["endDate"]}
    index = int((order.get("currentCycle") or {}).get("index") or 1)
    while _add_period(start, unit[1], unit[0] * index) <= now:
        index += 1
    cycle_end = _add_period(start, unit[1], unit[0] * index)
    if order.get("endDate"):
        cycle_end = min(cycle_end, _parse_dt(order["endDate"]))
    return {
        "index": index,
        "startedDate": iso(_add_period(start, unit[1], unit[0] * (index - 1))),
        "endedDate": iso(cycle_end),
    }


def _boundary(order: dict[str, Any]) -> datetime | None:
    """When this order next changes by itself (starts, renews or ends); ``None`` if never."""
    if order["status"] == "PENDING":
        return _parse_dt(order["startDate"])
    if order["status"] == "ACTIVE":
        ended = (order.get("currentCycle") or {}).get("endedDate") or order.get("endDate")
        return _parse_dt(ended) if ended else None
    return None


def _note_boundary(sb: Sandbox, moment: datetime | None) -> None:
    mark = sb.state.get("meta", _NEXT_BOUNDARY)
    if mark is None or moment is None:
        return  # no mark yet: the next _advance scans every order anyway
    if mark["value"] is None or _parse_dt(mark["value"]) > moment:
        sb.state.put("meta", {"id": _NEXT_BOUNDARY, "value": iso(moment)})


def _advance(sb: Sandbox) -> None:
    """Apply every start, renewal and end that the sandbox clock has reached."""
    now = sb.state.now()
    mark = sb.state.get("meta", _NEXT_BOUNDARY)
    if mark is not None and (mark["value"] is None or _parse_dt(mark["value"]) > now):
        return
    upcoming: datetime | None = None
    for order in sb.state.all("plan_orders"):
        moment = _boundary(order)
        if moment is not None and moment <= now:
            order = _roll(sb, order, now)
            moment = _boundary(order)
        if moment is not None and (upcoming is None or moment < upcoming):
            upcoming = moment
    value = iso(upcoming) if upcoming else None
    if mark is None or mark["value"] != value:
        sb.state.put("meta", {"id": _NEXT_BOUNDARY, "value": value})


def _roll(sb: Sandbox, order: dict[str, Any], now: datetime) -> dict[str, Any]:
    o = sb.state.edit("plan_orders", order["id"])
    assert o is not None
    before_status = o["status"]
    before_index = int((o.get("currentCycle") or {}).get("index") or 0)
    if o["status"] == "PENDING" and _parse_dt(o["startDate"]) <= now:
        o["status"] = "ACTIVE"
    if o["status"] == "ACTIVE":
        if o.get("endDate") and _parse_dt(o["endDate"]) <= now:
            o["status"] = "ENDED"
            o.pop("currentCycle", None)
        else:
            o["currentCycle"] = _current_cycle(o, now)
    touch(sb, o)
    sb.state.put("plan_orders", o)
    renewals = 0
    if o["status"] == "ACTIVE" and before_status == "ACTIVE":
        renewals = int(o["currentCycle"]["index"]) - before_index
    _sync_program(sb, o, renewals=max(renewals, 0))
    return o


def _program_of(sb: Sandbox, order_id: str) -> dict[str, Any] | None:
    # UNCONFIRMED: the program's externalId is the plan order id (CONTRACT §17).
    found = sb.state.find("programs", lambda p: p.get("externalId") == order_id and p.get("namespace") == NAMESPACE)
    return found[0] if found else None


def _pools_of(sb: Sandbox, program_id: str) -> list[dict[str, Any]]:
    return sb.state.find("pools", lambda p: p.get("programId") == program_id)


def _sync_program(sb: Sandbox, order: dict[str, Any], *, renewals: int = 0) -> None:
    """Carry the order's status to its program and pools; a new cycle refills each pool's credits."""
    program = _program_of(sb, order["id"])
    if program is None:
        return
    status = _POOL_STATUS.get(order["status"], "ENDED")
    if program["status"] != status:
        edited = sb.state.edit("programs", program["id"])
        assert edited is not None
        edited["status"] = status
        sb.state.put("programs", touch(sb, edited))
    for pool in _pools_of(sb, program["id"]):
        if pool["status"] == status and not renewals:
            continue
        edited = sb.state.edit("pools", pool["id"])
        assert edited is not None
        edited["status"] = status
        if renewals:
            edited["renewalCount"] = int(edited.get("renewalCount") or 0) + renewals
            credit = (edited["details"].get("creditConfiguration") or {}).get("amount")
            if credit is not None:
                # No rollover is configured: a renewed cycle starts from the plan's credits.
                balance = sb.state.edit("balances", pool["id"])
                if balance is not None:
                    balance["amount"]["available"] = credit
                    sb.state.put("balances", touch(sb, balance))
        sb.state.put("pools", touch(sb, edited))


def _pool_info(pool: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": pool["id"],
        "poolDefinitionId": pool["poolDefinitionId"],
        "programDefinitionId": pool["programDefinitionId"],
        "programId": pool["programId"],
        "namespace": pool["namespace"],
    }
    credit = (pool["details"].get("creditConfiguration") or {}).get("amount")
    if credit is not None:
        info["creditAmount"] = credit
    return info


def _provision(sb: Sandbox, order: dict[str, Any], plan: dict[str, Any]) -> None:
    """Enroll the buyer: one program for the order, one pool (and balance) per pool definition."""
    definition = plan["programDefinition"]
    status = _POOL_STATUS[order["status"]]
    beneficiary = {"memberId": order["buyer"]["memberId"]}
    program = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "beneficiary": beneficiary,
            "programDefinition": {"id": definition["id"], "externalId": plan["id"]},
            "externalId": order["id"],
            "status": status,
            "namespace": NAMESPACE,
            "displayName": plan["name"],
        },
    )
    sb.state.put("programs", program)
    for pool_definition in definition["poolDefinitions"]:
        pool = stamp_new(
            sb,
            {
                "id": sb.state.new_id(),
                "poolDefinitionId": pool_definition["id"],
                "poolDefinitionRevision": "1",
                "programDefinitionId": definition["id"],
                "programId": program["id"],
                "status": status,
                "beneficiary": beneficiary,
                "details": json.loads(json.dumps(pool_definition["details"])),
                "displayName": pool_definition["displayName"],
                "namespace": NAMESPACE,
                "programDefinition": {"id": definition["id"], "externalId": plan["id"]},
                "program": {"id": program["id"], "externalId": order["id"]},
                "renewalCount": 0,
            },
        )
        sb.state.put("pools", pool)
        credit = (pool["details"].get("creditConfiguration") or {}).get("amount")
        balance = stamp_new(
            sb,
            {
                "id": pool["id"],
                "beneficiary": beneficiary,
                # UNCONFIRMED: an unlimited pool (no creditConfiguration, benefit price 0) shows "0"
                # available; redeeming costs 0 credits, so it never runs out.
                "amount": {"available": credit if credit is not None else "0", "reserved": "0"},
                "poolInfo": _pool_info(pool),
            },
        )
        sb.state.put("balances", balance)


def order_create(
    sb: Sandbox,
    *,
    plan_id: str,
    member_id: str,
    start_date: datetime | None = None,
    paid: bool = False,
    order_type: str = "OFFLINE",
) -> dict[str, Any]:
    """Sell a plan to a member: store the order and provision its program, pools and balances.

    Raises 404 ``plan_not_found``, 400 (validation rule ``MEMBER_DOESNT_EXIST``), 428 ``PLAN_ARCHIVED``.
    """
    _advance(sb)
    plan = _plan_or_404(sb, plan_id)
    if plan.get("archived"):
        # UNCONFIRMED: the code; archived plans can't be purchased (official recipe).
        raise precondition("PLAN_ARCHIVED", f"Plan {plan_id} is archived and can't be purchased")
    member = sb.state.get("members", member_id)
    if member is None:
        # A validation rule in the SDK (CreateOfflineOrder validation errors): a field violation
        # with violatedRule OTHER and ruleName MEMBER_DOESNT_EXIST.
        problem = {
            **violation("memberId", f"Member {member_id} doesn't exist", "OTHER"),
            "ruleName": "MEMBER_DOESNT_EXIST",
        }
        raise ValidationFailed([problem])
    now = sb.state.now()
    start = start_date or now
    end = _end_date(start, plan["pricing"])
    price_value = plan["pricing"]["price"]["value"]
    free = Decimal(price_value) == 0
    kind, value = _model(plan["pricing"])
    cycles = int(value.get("cycleCount") or 0) if kind == "subscription" else 1
    duration: dict[str, Any] = {"cycleFrom": 1}
    if cycles:
        duration["numberOfCycles"] = cycles
    order: dict[str, Any] = {
        "id": sb.state.new_id(),
        "planId": plan["id"],
        "subscriptionId": sb.state.new_id(),
        "buyer": {"memberId": member["id"], "contactId": member.get("contactId")},
        "pricing": {
            kind: value,
            "prices": [
                {
                    "duration": duration,
                    "price": {
                        "subtotal": price_value,
                        "discount": "0",
                        "total": price_value,
                        "currency": plan["pricing"]["price"]["currency"],
                    },
                }
            ],
        },
        "type": order_type,
        "status": "PENDING" if start > now else "ACTIVE",
        "lastPaymentStatus": "NOT_APPLICABLE" if free else ("PAID" if paid else "UNPAID"),
        "startDate": iso(start),
        "pausePeriods": [],
        "planName": plan["name"],
        "planDescription": plan.get("description", ""),
        "planPrice": price_value,
    }
    if not free:
        order["wixPayOrderId"] = sb.state.new_id()
    if kind == "subscription":
        order["autoRenewCanceled"] = False
    if end is not None:
        order["endDate"] = iso(end)
    if order["status"] == "ACTIVE":
        order["currentCycle"] = _current_cycle(order, now)
    stamp_new(sb, order, revision=False)
    sb.state.put("plan_orders", order)
    _provision(sb, order, plan)
    if not plan.get("hasOrders"):
        edited = sb.state.edit("plans", plan["id"])
        assert edited is not None
        edited["hasOrders"] = True
        sb.state.put("plans", touch(sb, edited))
    _note_boundary(sb, _boundary(order))
    if (moment := _boundary(order)) is not None and moment <= now:
        order = _roll(sb, order, now)  # a start date in the past may already have ended
    return sb.state.get("plan_orders", order["id"]) or order


def _order_or_404(sb: Sandbox, order_id: str) -> dict[str, Any]:
    order = sb.state.get("plan_orders", order_id)
    if order is None:
        # UNCONFIRMED: the code, spelled like this API's plan_not_found.
        raise not_found("order_not_found", "Order", order_id)
    return order


@route("GET /pricing-plans/v2/orders")
def list_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    limit = _int_param(req, "limit", MAX_ORDERS_LIMIT)
    offset = _int_param(req, "offset", 0)
    if limit > MAX_ORDERS_LIMIT:
        raise ValidationFailed([violation("limit", f"limit must be at most {MAX_ORDERS_LIMIT}", "MAX")])
    if limit < 0 or offset < 0:
        raise ValidationFailed([violation("limit" if limit < 0 else "offset", "must not be negative", "MIN")])
    buyers = set(req.params("buyerIds"))
    plans = set(req.params("planIds"))
    statuses = set(_enum_params(req, "orderStatuses", ORDER_STATUSES))
    payments = set(_enum_params(req, "paymentStatuses", PAYMENT_STATUSES))
    auto_renew = req.param("autoRenewCanceled")
    field = req.param("sorting.fieldName") or "createdDate"
    direction = (req.param("sorting.order") or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise ValidationFailed([violation("sorting.order", f"{direction} is not a valid order", "INVALID_ENUM_VALUE")])
    fieldset = req.param("fieldSet")
    if fieldset not in (None, "BASIC", "FULL", "UNKNOWN_SET"):
        raise ValidationFailed([violation("fieldSet", f"{fieldset} is not a valid field set", "INVALID_ENUM_VALUE")])
    orders = [
        o
        for o in sb.state.all("plan_orders")
        if (not buyers or o["buyer"]["memberId"] in buyers)
        and (not plans or o["planId"] in plans)
        and (not statuses or o["status"] in statuses)
        and (not payments or o["lastPaymentStatus"] in payments)
        and (auto_renew is None or bool(o.get("autoRenewCanceled")) == (auto_renew.lower() == "true"))
    ]
    orders = sort_items(orders, [{"fieldName": field, "order": direction}])
    page = orders[offset : offset + limit]
    return {
        "orders": page,
        "pagingMetadata": {"count": len(page), "offset": offset, "total": len(orders), "tooManyToCount": False},
    }


@route("GET /pricing-plans/v2/orders/{id}")
def get_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    return {"order": _order_or_404(sb, req.path_params["id"])}


@route("GET /pricing-plans/v2/member/orders")
def list_member_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    # UNCONFIRMED: this lists the *calling member's* orders; an API key or app token is no member.
    raise SandboxError(403, "PERMISSION_DENIED", "Only a logged-in site member can list their own orders")


@route("POST /pricing-plans/v2/checkout/orders/offline")
def create_offline_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    missing = [f for f in ("planId", "memberId") if not body.get(f)]
    if missing:
        raise ValidationFailed([violation(f, f"{f} is required", "REQUIRED_FIELD") for f in missing])
    start: datetime | None = None
    if body.get("startDate"):
        try:
            start = _parse_dt(str(body["startDate"]))
        except ValueError as exc:
            raise ValidationFailed(
                [violation("startDate", "startDate must be an ISO-8601 timestamp", "FORMAT")]
            ) from exc
    if body.get("couponCode"):
        # UNCONFIRMED: the exact code. The sandbox has no coupons, so every coupon code is unknown.
        raise invalid("ERROR_COUPON_DOES_NOT_EXIST", f"Coupon {body['couponCode']} doesn't exist")
    order = order_create(
        sb, plan_id=body["planId"], member_id=body["memberId"], start_date=start, paid=bool(body.get("paid"))
    )
    return {"order": order}


@route("POST /pricing-plans/v2/orders/{id}/mark-as-paid")
def mark_order_as_paid(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    order = _order_or_404(sb, req.path_params["id"])
    if order["type"] != "OFFLINE":
        # UNCONFIRMED: both codes; the doc only says paid orders and online orders are refused.
        raise precondition("ONLINE_ORDER", "Only offline orders can be marked as paid")
    if order["lastPaymentStatus"] in ("PAID", "NOT_APPLICABLE"):
        raise precondition("ORDER_ALREADY_PAID", f"Order {order['id']} is already paid")
    edited = sb.state.edit("plan_orders", order["id"])
    assert edited is not None
    edited["lastPaymentStatus"] = "PAID"
    sb.state.put("plan_orders", touch(sb, edited))
    return {}


# -- benefit programs: eligibility and redemption ---------------------------------------------------


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


def _evaluate(
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
    if member_id and _member_of(pool.get("beneficiary")) != member_id:
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


def _redeem(
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
    result, options, benefit = _evaluate(
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
    }
    if item_ref.get("externalId") and (service := sb.state.get("services", item_ref["externalId"])):
        item["displayName"] = service.get("name")
    tx = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "pool": _pool_info(pool),
            "amount": _credits(amount),
            "source": "AVAILABLE",
            "target": "EXTERNAL",
            "idempotencyKey": idempotency_key,
            "beneficiary": dict(pool["beneficiary"]),
            "status": "COMPLETED",
            "details": {"item": item, "itemCount": count, "effectiveDate": iso(sb.state.now())},
        },
    )
    sb.state.put("benefit_transactions", tx)
    balance["amount"]["available"] = _credits(Decimal(balance["amount"]["available"]) - amount)
    balance["lastTransactionId"] = tx["id"]
    sb.state.put("balances", touch(sb, balance))
    return tx


def _reversal_of(sb: Sandbox, transaction_id: str) -> dict[str, Any] | None:
    found = sb.state.find("benefit_transactions", lambda t: t.get("relatedTransactionId") == transaction_id)
    return found[0] if found else None


def _cancel_redemption(sb: Sandbox, transaction_id: str) -> dict[str, Any]:
    """Record the reverse of a redemption and give its credits back; returns the new transaction."""
    tx = sb.state.get("benefit_transactions", transaction_id)
    if tx is None:
        raise not_found("TRANSACTION_NOT_FOUND", "Transaction", transaction_id)
    # UNCONFIRMED: both refusals below answer 428 (FAILED_PRECONDITION), as state rules do.
    if tx.get("source") != "AVAILABLE" or tx.get("target") != "EXTERNAL":
        raise precondition(
            "TRANSACTION_NOT_CANCELABLE", "Only a redemption can be canceled", {"transactionId": transaction_id}
        )
    if _reversal_of(sb, transaction_id) is not None:
        raise precondition(
            "REDEMPTION_ALREADY_CANCELED",
            f"Redemption {transaction_id} is already canceled",
            {"transactionId": transaction_id},
        )
    reverse = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "pool": dict(tx["pool"]),
            "amount": tx["amount"],
            "source": "EXTERNAL",
            "target": "AVAILABLE",
            "idempotencyKey": f"{tx['idempotencyKey']}:cancel",
            "relatedTransactionId": transaction_id,
            "beneficiary": dict(tx["beneficiary"]),
            "status": "COMPLETED",
            "details": {**tx["details"], "effectiveDate": iso(sb.state.now())},
        },
    )
    sb.state.put("benefit_transactions", reverse)
    balance = sb.state.edit("balances", tx["pool"]["id"])
    if balance is not None:
        balance["amount"]["available"] = _credits(Decimal(balance["amount"]["available"]) + Decimal(tx["amount"]))
        balance["lastTransactionId"] = reverse["id"]
        sb.state.put("balances", touch(sb, balance))
    return reverse


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
    _advance(sb)
    body = req.body
    item_ref = _item_reference(body, as_validation=False)
    count = _count(body)
    member_id = _member_of(body.get("beneficiary"))
    namespace = body.get("namespace")
    if not member_id:
        # UNCONFIRMED: without a beneficiary Wix uses the caller's identity; an API key has no pools.
        return {"eligibleBenefits": []}
    pools = sb.state.find("pools", lambda p: _member_of(p.get("beneficiary")) == member_id)
    eligible: list[dict[str, Any]] = []
    for pool in sort_items(pools, [{"fieldName": "createdDate", "order": "ASC"}]):
        result, options, _ = _evaluate(
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
    _advance(sb)
    body = req.body
    require("poolId", body.get("poolId"))
    item_ref = _item_reference(body, as_validation=True)
    result, options, _ = _evaluate(
        sb,
        pool_id=body["poolId"],
        item_ref=item_ref,
        benefit_key=body.get("benefitKey"),
        count=_count(body),
        member_id=_member_of(body.get("beneficiary")),
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
    _advance(sb)
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
    tx = _redeem(
        sb,
        pool_id=pool_id,
        item_ref=item_ref,
        benefit_key=body["benefitKey"],
        count=count,
        member_id=_member_of(body.get("beneficiary")),
        namespace=body.get("namespace"),
        idempotency_key=key,
    )
    return {"transactionId": tx["id"]}


@route("POST /benefit-programs/v1/benefits/cancel-redemption")
def cancel_redemption(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    require("transactionId", req.body.get("transactionId"))
    reverse = _cancel_redemption(sb, req.body["transactionId"])
    # UNCONFIRMED response shape (the method is hidden): the id of the reversing transaction.
    return {"transactionId": reverse["id"]}


# -- benefit programs: reads ---------------------------------------------------------------------


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
    _advance(sb)
    pools, meta = _cursor_query(sb, "pools", req.body.get("query"))
    return {"pools": pools, "metadata": meta}


@route("GET /benefit-programs/v1/balances/{poolId}")
def get_balance(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    balance = sb.state.get("balances", req.path_params["poolId"])
    if balance is None:
        # UNCONFIRMED: the code.
        raise not_found("BALANCE_NOT_FOUND", "Balance", req.path_params["poolId"])
    return {"balance": balance}


@route("GET /benefit-programs/v1/balances")
def list_balances(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    paging: dict[str, Any] = {}
    if req.param("cursorPaging.limit"):
        paging["limit"] = _int_param(req, "cursorPaging.limit", 50)
    if req.param("cursorPaging.cursor"):
        paging["cursor"] = req.param("cursorPaging.cursor")
    query: dict[str, Any] = {"cursorPaging": paging}
    if req.params("poolIds"):
        query["filter"] = {"id": {"$in": req.params("poolIds")}}
    balances, meta = _cursor_query(sb, "balances", query)
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/balances/query")
def query_balances(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    balances, meta = _cursor_query(sb, "balances", req.body.get("query"))
    return {"balances": balances, "metadata": meta}


@route("POST /benefit-programs/v1/programs/query")
def query_programs(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    _advance(sb)
    programs, meta = _cursor_query(sb, "programs", req.body.get("query"))
    return {"programs": programs, "metadata": meta}


@route("POST /benefit-programs/v1/transactions/query")
def query_transactions(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    transactions, meta = _cursor_query(sb, "benefit_transactions", req.body.get("query"))
    return {"transactions": transactions, "metadata": meta}


# -- the eCommerce Memberships side (benefits.py) ----------------------------------------------------


def _bookings_item(service_id: str) -> dict[str, Any]:
    return {"externalId": service_id, "providerAppId": BOOKINGS_APP_ID, "category": ""}


def eligible_memberships(
    sb: Sandbox, *, member_id: str, service_id: str, line_item_ids: list[str]
) -> list[dict[str, Any]]:
    """The member's ACTIVE pools that cover ``service_id`` and still have credit, as checkout Memberships."""
    _advance(sb)
    pools = sb.state.find(
        "pools", lambda p: _member_of(p.get("beneficiary")) == member_id and p.get("namespace") == NAMESPACE
    )
    memberships: list[dict[str, Any]] = []
    for pool in sort_items(pools, [{"fieldName": "createdDate", "order": "ASC"}]):
        result, _, _ = _evaluate(
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
    _advance(sb)
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
    tx = _redeem(
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
        _cancel_redemption(sb, transaction_id)
