"""Phase 3a: ``PLAN_SALE`` — a pricing plan sold at the desk, paid there (CONTRACT.md §13.1).

Per sale, the fewest calls the documented API allows:

1. **Create Offline Order** with ``paid: true`` (``pricing_plans.create_offline_plan_order``) —
   one call sells the plan and records the payment (Mark As Paid is sent only if Wix answers
   the order UNPAID all the same);
2. **Query Pools** of the member (``benefit_programs.query_pools``: the pool the order's program
   holds — ``program.externalId`` = order id, UNCONFIRMED) and **Get Balance** of that pool: the
   new plan and its credits, into the mirror, so the plan pays for a visit at once.

Three calls. A visit charged to the new plan is a ``PLAN_CHARGE`` that waits on the sale; the sale
hands it the pool id before it is marked synced, and the money phase (after this one in every
round) sends it.

Create Offline Order takes no idempotency key. A "sent" marker (the time) is saved before it; if
its answer is lost, the next attempt lists the member's orders of that plan (List Orders by buyer
and plan, newest first) and adopts an offline order made since the marker that no other sale has
taken, rather than selling the plan twice. A pool Wix has not provisioned yet (or still
``PROVISIONING``) is looked for again later, the order is not sent again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import money
from bookings_app.models import BenefitBalance, DeskAction, PlanOrder
from bookings_app.services import mirror
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import message
from bookings_app.services.push.worker import Attention, Later, Push
from bookings_app.wix import WixPreconditionFailed, WixUnavailable, WixValidationError, benefit_programs, pricing_plans
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse
from bookings_app.wix.ids import PRICING_PLANS_NAMESPACE

Kind = DeskAction.Kind
Status = DeskAction.Status

# How far before our "sent" marker an order found after a lost answer may have been made (the two
# clocks disagree a little); an older one is someone else's sale.
CLOCK_SKEW = timedelta(minutes=2)
ORDERS_PAGE = 50  # List Orders: limit ≤ 50
USABLE_POOL_STATUSES = ("ACTIVE", "PENDING")  # PENDING: a plan starting later (not sold so here)


def push_plan_sales(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:
        push.guarded(action, lambda action=action: _sale(push, action))


def _sale(push: Push, action: DeskAction) -> None:
    order = _order(push, action)
    _paid(push, action, order)
    pool, balance = _pool(push, action, order)
    with transaction.atomic():
        run = MirrorRun(wix=None, actor="worker")
        local_order = _local(PlanOrder, action, "plan_order")
        plan_order = mirror.plan_orders.plan_order_adopt(run, order=order, local=local_order)
        waiting = list(
            DeskAction.objects.select_for_update(of=("self",))
            .filter(depends_on=action, kind=Kind.PLAN_CHARGE, status__in=DeskAction.LIVE_STATUSES)
            .select_related("booking")
        )
        promised = sum((Decimal(money.credits_needed(a.booking)) for a in waiting if a.booking), Decimal("0"))
        adopted = mirror.balances.balance_adopt(
            run, pool=pool, balance=balance, local=_local(BenefitBalance, action, "balance"), promised=promised
        )
        if adopted.plan_order_id is None:
            adopted.plan_order = plan_order
            adopted.save(update_fields=["plan_order"])
        for charge in waiting:
            charge.params = {**charge.params, "pool_id": pool["id"], "balance_id": adopted.pk}
            charge.save(update_fields=["params", "updated_at"])
        push.synced(action, order_id=order["id"], pool_id=pool["id"], balance_pk=adopted.pk)


# --- the order ---------------------------------------------------------------------------------


def _order(push: Push, action: DeskAction) -> Json:
    """The plan order of this sale: read again when made on an earlier attempt, adopted when our
    Create Offline Order landed without its answer, else made now."""
    if action.steps.get("order_id"):
        return push.call(pricing_plans.get_plan_order, order_id=action.steps["order_id"])["order"]
    if action.steps.get("sent_at"):
        found = _lost_order(push, action)
        if found is not None:
            push.save_steps(action, order_id=found["id"])
            return found
    push.save_steps(action, sent_at=wix_timestamp(timezone.now()))
    try:
        answer = push.call(
            pricing_plans.create_offline_plan_order,
            plan_id=action.params["plan_id"],
            member_id=action.params["member_id"],
            paid=True,
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, sent_at=None)
        raise
    except WixValidationError as err:
        push.save_steps(action, sent_at=None)
        if any(v.get("ruleName") == "MEMBER_DOESNT_EXIST" for v in err.violations):
            raise Attention("MEMBER_DOESNT_EXIST", message("MEMBER_DOESNT_EXIST", action, err)) from err
        raise
    except Exception:
        push.save_steps(action, sent_at=None)  # refused: nothing was made
        raise
    order = answer["order"]
    push.save_steps(action, order_id=order["id"])
    return order


def _lost_order(push: Push, action: DeskAction) -> Json | None:
    """An offline order of this plan for this member, made since our marker, that no other
    sale has adopted: what our Create Offline Order made before its answer was lost."""
    sent = wix_timestamp_parse(action.steps["sent_at"])
    answer = push.call(
        pricing_plans.list_plan_orders,
        buyer_ids=[action.params["member_id"]],
        plan_ids=[action.params["plan_id"]],
        sorting={"fieldName": "createdDate", "order": "DESC"},
        limit=ORDERS_PAGE,
    )
    taken = _orders_taken(exclude=action.pk)
    found = [
        o
        for o in answer.get("orders") or []
        if o.get("type") == "OFFLINE" and o.get("id") not in taken and _made_since(o, sent)
    ]
    # Oldest first: of two sales whose answers were both lost, the earlier one was sent first.
    found.sort(key=lambda o: o.get("createdDate") or "")
    return found[0] if found else None


def _orders_taken(*, exclude: int) -> set[str]:
    return {
        order_id
        for order_id in DeskAction.objects.filter(kind=Kind.PLAN_SALE)
        .exclude(pk=exclude)
        .values_list("steps__order_id", flat=True)
        if order_id
    }


def _made_since(order: Json, sent: datetime | None) -> bool:
    made = wix_timestamp_parse(order.get("createdDate"))
    return sent is None or made is None or made >= sent - CLOCK_SKEW


def _paid(push: Push, action: DeskAction, order: Json) -> None:
    """``paid: true`` makes the order PAID; should Wix answer it UNPAID all the same, Mark As Paid
    (the one documented other way) — once: a lost answer is read from the order itself."""
    if order.get("lastPaymentStatus") != "UNPAID":
        return
    try:
        push.call(pricing_plans.mark_plan_order_as_paid, order_id=order["id"])
    except WixPreconditionFailed as err:
        # UNCONFIRMED code: the order is paid already (our earlier Mark As Paid landed).
        if err.code != "ORDER_ALREADY_PAID":
            raise
    order["lastPaymentStatus"] = "PAID"


# --- the pool ------------------------------------------------------------------------------------


def _pool(push: Push, action: DeskAction, order: Json) -> tuple[Json, Json]:
    """The pool Wix provisioned for the order, and its balance. Raises ``Later`` while Wix is
    still setting it up."""
    member_id = action.params["member_id"]
    pools: list[Json] = []
    query: dict[str, Any] = {
        "filter": {"beneficiary.memberId": member_id, "namespace": PRICING_PLANS_NAMESPACE},
        "cursorPaging": {"limit": 100},
    }
    while True:
        answer = push.call(benefit_programs.query_pools, query=query)
        pools.extend(answer.get("pools") or [])
        cursor = (((answer.get("pagingMetadata") or answer.get("metadata") or {}).get("cursors")) or {}).get("next")
        if not cursor or not answer.get("pools"):
            break
        query = {"cursorPaging": {"limit": 100, "cursor": cursor}}
    pool = _pool_of(order, pools)
    if pool is None or pool.get("status") not in USABLE_POOL_STATUSES:
        state = "not there yet" if pool is None else f"{pool.get('status')}".lower()
        raise Later(f"Wix is still setting up the credits of plan order {order['id']} ({state})")
    balance = push.call(benefit_programs.get_balance, pool_id=pool["id"]).get("balance") or {}
    return pool, balance


def _pool_of(order: Json, pools: list[Json]) -> Json | None:
    mine = [p for p in pools if (p.get("program") or {}).get("externalId") == order["id"]]
    if mine:
        return mine[0]
    # UNCONFIRMED (CONTRACT.md §17) that a program's externalId is its plan order's id. Else: a pool
    # of this plan made with or after the order that the mirror doesn't hold yet.
    made = wix_timestamp_parse(order.get("createdDate"))
    held = set(BenefitBalance.objects.filter(wix_id__in=[p.get("id") for p in pools]).values_list("wix_id", flat=True))
    later = [
        p
        for p in pools
        if (p.get("programDefinition") or {}).get("externalId") == order.get("planId")
        and p.get("id") not in held
        and (made is None or (wix_timestamp_parse(p.get("createdDate")) or made) >= made - CLOCK_SKEW)
    ]
    return later[0] if len(later) == 1 else None


def _local(model: type[Any], action: DeskAction, name: str) -> Any:
    pk = (action.before or {}).get(name)
    return model.objects.filter(pk=pk).first() if pk else None
