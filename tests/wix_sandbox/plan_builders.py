"""Builders for pricing plans and sold plans, in the shapes the sandbox stores.

``make_plan`` defines a plan that covers some Bookings services; ``sell_plan`` sells it to a
member the way Create Offline Order does (plan order + program + pool + balance). Use them to
arrange a test, then act through the HTTP surface (``builders.call``)::

    plan = make_plan(sandbox, "10 Swim Pass", 10, [service["id"]], "90")
    sold = sell_plan(sandbox, member, plan, credits_left=2)
    sold["pool"]["id"]  # the membership id eCommerce charges (balance id == pool id)

Below them, the request bodies and answer checks the Pricing Plans, Benefit Programs and plan-rule
tests share.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.wix_sandbox.builders import call
from wix_sandbox import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.common import touch
from wix_sandbox.handlers import plans


def make_plan(
    sb: Sandbox,
    name: str = "10 Swim Pass",
    credits: int | None = 10,
    service_ids: list[str] | None = None,
    price: str = "90",
    *,
    pricing_model: dict[str, Any] | None = None,
    public: bool = True,
    archived: bool = False,
) -> dict[str, Any]:
    """A plan covering ``service_ids`` with ``credits`` sessions per purchase (``None`` = unlimited).

    Valid 3 months from purchase unless ``pricing_model`` says otherwise (any Wix pricing model,
    e.g. ``{"singlePaymentUnlimited": True}``). Like Wix, the covered services then list the plan
    in ``payment.pricingPlanIds`` with ``payment.options.pricingPlan`` true.
    Returns the stored plan (it carries the sandbox-only ``programDefinition`` the API never returns).
    """
    with sb.state.transaction():
        plan = plans.plan_create(
            sb,
            name=name,
            price=price,
            credits=credits,
            service_ids=list(service_ids or []),
            pricing_model=pricing_model,
            public=public,
        )
        if archived:
            plan = {**plan, "archived": True, "public": False}
            sb.state.put("plans", plan)
    return plan


def sell_plan(
    sb: Sandbox,
    member: dict[str, Any],
    plan: dict[str, Any],
    credits_left: int | None = None,
    *,
    start: datetime | None = None,
    paid: bool = True,
) -> dict[str, Any]:
    """Sell ``plan`` to ``member`` as an offline order (paid by default) and return what it provisioned.

    Returns ``{"order", "program", "pool", "balance"}`` (the plan has one pool). ``credits_left``
    sets the balance's available credits, as if some sessions were already used; ``start`` (aware)
    starts the order in the past or future instead of now.
    """
    with sb.state.transaction():
        order = plans.order_create(sb, plan_id=plan["id"], member_id=member["id"], start_date=start, paid=paid)
        program = sb.state.find("programs", lambda p: p.get("externalId") == order["id"])[0]
        pool = sb.state.find("pools", lambda p: p.get("programId") == program["id"])[0]
        if credits_left is not None:
            balance = sb.state.edit("balances", pool["id"])
            assert balance is not None
            balance["amount"]["available"] = str(credits_left)
            sb.state.put("balances", touch(sb, balance))
        balance = sb.state.get("balances", pool["id"])
    return {"order": order, "program": program, "pool": pool, "balance": balance}


# -- what the Pricing Plans, Benefit Programs and plan-rule tests share ---------------------------------

NS = "@wix/pricing-plans"
ORDERS = "/pricing-plans/v2/orders"
OFFLINE = "/pricing-plans/v2/checkout/orders/offline"
REDEEM = "/benefit-programs/v1/benefits/redeem"


def code(body: dict[str, Any]) -> str:
    return body["details"]["applicationError"]["code"]


def violations(body: dict[str, Any]) -> list[str]:
    return [v["field"] for v in body["details"]["validationError"]["fieldViolations"]]


def available(sb: Sandbox, pool_id: str) -> str:
    status, body = call(sb, "GET", f"/benefit-programs/v1/balances/{pool_id}")
    assert status == 200
    return body["balance"]["amount"]["available"]


def item(service_id: str) -> dict[str, str]:
    return {"externalId": service_id, "providerAppId": BOOKINGS_APP_ID, "category": ""}


def redeem_body(pool: dict[str, Any], service_id: str, key: str = "k-1", **extra: Any) -> dict[str, Any]:
    return {
        "poolId": pool["id"],
        "itemReference": item(service_id),
        "benefitKey": pool["details"]["benefits"][0]["benefitKey"],
        "idempotencyKey": key,
        "beneficiary": pool["beneficiary"],
        "namespace": NS,
        **extra,
    }


def count(sb: Sandbox, coll: str) -> int:
    return sb.state.count(coll)
