"""Pricing-plan orders: Wix JSON -> ``PlanOrder`` rows of mirrored members."""

from __future__ import annotations

from bookings_app.models import BenefitBalance, Member, PlanOrder, SyncState
from bookings_app.services.mirror.run import URL_BATCH, MirrorRun, batches, write
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, text
from bookings_app.wix import pricing_plans
from bookings_app.wix.dates import wix_timestamp_parse


def plan_orders_of_members(run: MirrorRun, member_ids: set[str]) -> None:
    """Every plan order these members bought (one call per 50 members and page)."""
    run.phase_begin(SyncState.Kind.PLAN_ORDERS, total=len(member_ids))
    done = 0
    for batch in batches(member_ids, URL_BATCH):
        orders: list[Json] = []
        offset = 0
        while True:
            answer = run.call(pricing_plans.list_plan_orders, buyer_ids=batch, limit=URL_BATCH, offset=offset)
            page = answer.get("orders") or []
            orders.extend(page)
            offset += len(page)
            total = (answer.get("pagingMetadata") or {}).get("total")
            if len(page) < URL_BATCH or (isinstance(total, int) and offset >= total):
                break
        write(run, lambda orders=orders: plan_orders_write(run, orders))
        done += len(batch)
        run.phase_progress(SyncState.Kind.PLAN_ORDERS, done)
    run.phase_end(SyncState.Kind.PLAN_ORDERS)


def plan_orders_write(run: MirrorRun, orders: list[Json]) -> None:
    members = _member_pks(orders)
    upsert(run, PlanOrder, [plan_order_row(o, members) for o in orders])


def plan_order_adopt(run: MirrorRun, *, order: Json, local: PlanOrder | None) -> PlanOrder:
    """Wix's answer for a plan the desk sold, written over the desk's own row (``local``, made
    before Wix gave the order an id) — or, when a sync mirrored the order meanwhile, into that
    row, the local one dropped and its balance moved across. Call inside a transaction."""
    held = PlanOrder.objects.filter(wix_id=order["id"]).first()
    if local is not None and held is not None and held.pk != local.pk:
        BenefitBalance.objects.filter(plan_order=local).update(plan_order=held)
        local.delete()
        local = None
    existing = {order["id"]: local} if local is not None and local.wix_id is None else None
    result = upsert(run, PlanOrder, [plan_order_row(order, _member_pks([order]))], existing=existing)
    return result.objects.get(order["id"]) or PlanOrder.objects.get(wix_id=order["id"])


def _member_pks(orders: list[Json]) -> dict[str, int]:
    ids = {(o.get("buyer") or {}).get("memberId") for o in orders}
    return dict(Member.objects.filter(wix_id__in=ids).values_list("wix_id", "pk"))


def plan_order_row(o: Json, members: dict[str, int]) -> Row:
    return Row(
        o["id"],
        o.get("revision"),
        wix_timestamp_parse(o.get("updatedDate")),
        {
            "member_id": members.get((o.get("buyer") or {}).get("memberId") or ""),
            "plan_id": text(o.get("planId"), 250),
            "plan_name": text(o.get("planName"), 400),
            "status": text(o.get("status") or PlanOrder.Status.UNDEFINED, 16),
            "last_payment_status": text(o.get("lastPaymentStatus"), 32),
            "start": wix_timestamp_parse(o.get("startDate")),
            "end": wix_timestamp_parse(o.get("endDate")),
            "raw": o,
        },
    )
