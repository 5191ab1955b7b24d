"""Pricing Plans: plans and the orders that sell them (CONTRACT.md §13.1).

Plan buyers are site *members* (``buyerIds`` / ``memberId`` are member ids, not contact ids).
Remaining sessions are not on these orders: see :mod:`bookings_app.wix.benefit_programs`.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

ORDERS = "/pricing-plans/v2/orders"
PLANS = "/pricing-plans/v2/plans"
PLANS_V3_QUERY = "/pricing-plans/v3/plans/query"


def list_plan_orders(
    wix: WixClient,
    *,
    buyer_ids: list[str] | None = None,
    plan_ids: list[str] | None = None,
    auto_renew_canceled: bool | None = None,
    order_statuses: list[str] | None = None,
    payment_statuses: list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    sorting: dict[str, str] | None = None,
    field_set: str | None = None,
) -> dict[str, Any]:
    """Plan orders, filtered (lists go out as repeated query keys, ``sorting`` as dotted keys).

    Returns ``{orders[{id, planId, buyer{memberId, contactId}, status, lastPaymentStatus,
    startDate, endDate, planName}], pagingMetadata}``. ``limit`` ≤ 50.
    """
    params = {
        "buyerIds": buyer_ids,
        "planIds": plan_ids,
        "autoRenewCanceled": auto_renew_canceled,
        "orderStatuses": order_statuses,
        "paymentStatuses": payment_statuses,
        "limit": limit,
        "offset": offset,
        "sorting": sorting,
        "fieldSet": field_set,
    }
    return wix.get(ORDERS, params=params)


def get_plan_order(wix: WixClient, *, order_id: str, field_set: str | None = None) -> dict[str, Any]:
    """Returns ``{order}``. Raises ``WixNotFound``."""
    return wix.get(f"{ORDERS}/{path_param(order_id, 'order_id')}", params={"fieldSet": field_set})


def create_offline_plan_order(
    wix: WixClient,
    *,
    plan_id: str,
    member_id: str,
    start_date: str | None = None,
    paid: bool | None = None,
    coupon_code: str | None = None,
    submission_id: str | None = None,
) -> dict[str, Any]:
    """Sell a plan at the desk. Returns ``{order}`` (ACTIVE, or PENDING with a future start;
    lastPaymentStatus UNPAID or PAID). Raises ``WixPreconditionFailed`` (PRICING_PLANS_NOT_INSTALLED),
    ``WixValidationError`` (MEMBER_DOESNT_EXIST), ``WixNotFound``.
    """
    body = compact(
        {
            "planId": plan_id,
            "memberId": member_id,
            "startDate": start_date,
            "paid": paid,
            "couponCode": coupon_code,
            "submissionId": submission_id,
        }
    )
    return wix.post("/pricing-plans/v2/checkout/orders/offline", body, idempotent=False)


def mark_plan_order_as_paid(wix: WixClient, *, order_id: str) -> dict[str, Any]:
    """Record an offline plan order as paid. Returns ``{}``. Raises ``WixPreconditionFailed``
    when it is already paid or is an online order.
    """
    return wix.post(f"{ORDERS}/{path_param(order_id, 'order_id')}/mark-as-paid", {}, idempotent=False)


def list_plans(
    wix: WixClient,
    *,
    plan_ids: list[str] | None = None,
    archived: str | None = None,
    public: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> dict[str, Any]:
    """Returns ``{plans[{id, name, pricing, perks, public, archived}], pagingMetadata}``."""
    params = {"planIds": plan_ids, "archived": archived, "public": public, "limit": limit, "offset": offset}
    return wix.get(PLANS, params=params)


def query_plans(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plans V3 (what replaces the deprecated List Plans V2, whose SDK target removal date was
    2025-12-31). A GET whose ``query`` travels flattened (``query.cursorPaging.limit=100``), so
    keep a filter to plain equalities.

    Returns ``{plans[{id, name, description, pricingVariants[{billingTerms, pricingStrategies
    [{flatRate{amount}}]}], visibility (PUBLIC|PRIVATE), buyable, currency}], pagingMetadata
    {count, cursors{next}, hasNext}}`` — no credits: those are Benefit Programs' (CONTRACT.md §13.2).
    """
    return wix.get(PLANS_V3_QUERY, params={"query": query or {}})


def get_plan(wix: WixClient, *, plan_id: str) -> dict[str, Any]:
    """Returns ``{plan}``. Raises ``WixNotFound``."""
    return wix.get(f"{PLANS}/{path_param(plan_id, 'plan_id')}")
