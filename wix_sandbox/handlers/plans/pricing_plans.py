"""Pricing Plans: plans, in the V2 shape and through the V3 query (CONTRACT.md §13).

Which services a plan covers lives, in Wix, in benefit-program definitions, pool definitions and
items (item sets) that no endpoint used here serves. The sandbox keeps that definition on the plan
under ``programDefinition`` and never returns it (:func:`plan_out`); a pool finds its coverage
through ``pool.programDefinition.externalId`` (= plan id) and its benefit's ``itemSetId``, so a
change to the plan's coverage reaches pools already sold, as items do in Wix.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import int_param, money_str, stamp_new, touch
from wix_sandbox.errors import ValidationFailed, invalid, not_found, violation
from wix_sandbox.query import run_query, sort_items
from wix_sandbox.routing import route
from wix_sandbox.rules.plan_programs import NAMESPACE

_INTERNAL_PLAN_KEYS = ("programDefinition",)


def _stable_id(*parts: str) -> str:
    """An id derived from others, for sub-objects that Wix stores but the sandbox renders."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "wix-sandbox:" + ":".join(parts)))


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


def plan_or_404(sb: Sandbox, plan_id: str | None) -> dict[str, Any]:
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
    limit = int_param(req, "limit", 75)
    offset = int_param(req, "offset", 0)
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
    return {"plan": plan_out(plan_or_404(sb, req.path_params["id"]))}


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
