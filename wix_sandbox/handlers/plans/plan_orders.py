"""Pricing Plans orders: selling a plan offline, listing orders, marking them paid (CONTRACT.md §13).

A new order provisions its benefit program and moves with the sandbox clock (``rules/plan_programs.py``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import int_param, is_guid, iso, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, invalid, not_found, precondition, violation
from wix_sandbox.handlers.plans.pricing_plans import plan_or_404
from wix_sandbox.query import sort_items
from wix_sandbox.routing import route
from wix_sandbox.rules import plan_programs

ORDER_STATUSES = ("UNDEFINED", "DRAFT", "PENDING", "ACTIVE", "PAUSED", "ENDED", "CANCELED")
PAYMENT_STATUSES = ("UNDEFINED", "PAID", "REFUNDED", "FAILED", "UNPAID", "PENDING", "NOT_APPLICABLE")
MAX_ORDERS_LIMIT = 50
# Management List Orders: "`sort.fieldName` supports `endDate` and `createdDate`" (SDK doc).
SORT_FIELDS = ("createdDate", "endDate")
MAX_COUPON_CODE = 20  # CreateOfflineOrderRequest.couponCode: @minLength 1 @maxLength 20


def _guid_violations(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """A FORMAT violation for each ``@format GUID`` field (or list of them) holding something else."""
    problems = []
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        if any(v is not None and not is_guid(v) for v in values):
            problems.append(violation(name, f"{name} must be a GUID", "FORMAT"))
    return problems


def _enum_params(req: SandboxRequest, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = req.params(name)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationFailed([violation(name, f"{bad[0]} is not a valid {name} value", "INVALID_ENUM_VALUE")])
    return values


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
    plan_programs.advance(sb)
    plan = plan_or_404(sb, plan_id)
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
    end = plan_programs.end_date(start, plan["pricing"])
    price_value = plan["pricing"]["price"]["value"]
    free = Decimal(price_value) == 0
    kind, value = plan_programs.pricing_model(plan["pricing"])
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
        order["currentCycle"] = plan_programs.current_cycle(order, now)
    stamp_new(sb, order, revision=False)
    sb.state.put("plan_orders", order)
    plan_programs.provision(sb, order, plan)
    if not plan.get("hasOrders"):
        edited = sb.state.edit("plans", plan["id"])
        assert edited is not None
        edited["hasOrders"] = True
        sb.state.put("plans", touch(sb, edited))
    plan_programs.note_boundary(sb, plan_programs.boundary(order))
    if (moment := plan_programs.boundary(order)) is not None and moment <= now:
        order = plan_programs.roll(sb, order, now)  # a start date in the past may already have ended
    return sb.state.get("plan_orders", order["id"]) or order


def _order_or_404(sb: Sandbox, order_id: str) -> dict[str, Any]:
    order = sb.state.get("plan_orders", order_id)
    if order is None:
        # UNCONFIRMED: the code, spelled like this API's plan_not_found.
        raise not_found("order_not_found", "Order", order_id)
    return order


@route("GET /pricing-plans/v2/orders")
def list_orders(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    plan_programs.advance(sb)
    limit = int_param(req, "limit", MAX_ORDERS_LIMIT)
    offset = int_param(req, "offset", 0)
    if limit > MAX_ORDERS_LIMIT:
        raise ValidationFailed([violation("limit", f"limit must be at most {MAX_ORDERS_LIMIT}", "MAX")])
    if limit < 1:
        # ListOrdersRequest.limit: @min 1.
        raise ValidationFailed([violation("limit", "limit must be at least 1", "MIN")])
    if offset < 0:
        raise ValidationFailed([violation("offset", "must not be negative", "MIN")])
    problems = _guid_violations({"buyerIds": req.params("buyerIds"), "planIds": req.params("planIds")})
    if problems:
        raise ValidationFailed(problems)
    buyers = set(req.params("buyerIds"))
    plans = set(req.params("planIds"))
    statuses = set(_enum_params(req, "orderStatuses", ORDER_STATUSES))
    payments = set(_enum_params(req, "paymentStatuses", PAYMENT_STATUSES))
    auto_renew = req.param("autoRenewCanceled")
    field = req.param("sorting.fieldName") or "createdDate"
    if field not in SORT_FIELDS:
        # UNCONFIRMED: refused rather than ignored; the SDK names the rule invalid_sort_field.
        problem = violation("sorting.fieldName", f"Can't sort orders by {field}", "OTHER")
        raise ValidationFailed([{**problem, "ruleName": "invalid_sort_field"}])
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
    plan_programs.advance(sb)
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
    # planId, memberId and submissionId are @format GUID; paid a boolean; couponCode 1–20 characters.
    problems = _guid_violations(
        {"planId": body["planId"], "memberId": body["memberId"], "submissionId": body.get("submissionId")}
    )
    if body.get("paid") is not None and not isinstance(body["paid"], bool):
        problems.append(violation("paid", "paid must be a boolean", "FORMAT"))
    coupon = body.get("couponCode")
    if coupon is not None and not (isinstance(coupon, str) and 1 <= len(coupon) <= MAX_COUPON_CODE):
        problems.append(violation("couponCode", f"couponCode must be 1 to {MAX_COUPON_CODE} characters", "MAX_LENGTH"))
    if problems:
        raise ValidationFailed(problems)
    start: datetime | None = None
    if body.get("startDate"):
        try:
            start = plan_programs.parse_dt(str(body["startDate"]))
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
    plan_programs.advance(sb)
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
