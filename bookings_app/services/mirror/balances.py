"""Plan credits: Benefit Programs pools and balances -> ``BenefitBalance`` rows of mirrored members."""

from __future__ import annotations

from decimal import Decimal

from bookings_app.models import BenefitBalance, Member, PlanOrder, Service, SyncState
from bookings_app.services.mirror.run import MirrorRun, batches, paged_cursor, write
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, money, text
from bookings_app.wix import benefit_programs
from bookings_app.wix.dates import wix_timestamp_parse
from bookings_app.wix.ids import PRICING_PLANS_NAMESPACE


def balances_of_members(run: MirrorRun, member_ids: set[str]) -> None:
    """The pricing-plan pools of these members, with their balances (the credits left)."""
    run.phase_begin(SyncState.Kind.BALANCES, total=len(member_ids))
    done = 0
    for batch in batches(member_ids):
        pools: list[Json] = []
        for page in paged_cursor(
            run,
            benefit_programs.query_pools,
            "pools",
            {"beneficiary.memberId": {"$in": batch}, "namespace": PRICING_PLANS_NAMESPACE},
        ):
            pools.extend(page)
        balances = _balances_fetch(run, [p["id"] for p in pools])
        write(run, lambda pools=pools, balances=balances: balances_write(run, pools, balances))
        done += len(batch)
        run.phase_progress(SyncState.Kind.BALANCES, done)


def _balances_fetch(run: MirrorRun, pool_ids: list[str]) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for batch in batches(pool_ids):
        for page in paged_cursor(run, benefit_programs.query_balances, "balances", {"id": {"$in": batch}}):
            for balance in page:
                found[balance["id"]] = balance
    return found


def plan_coverage() -> dict[str, list[str]]:
    """Plan id -> Wix ids of the services that list it in ``payment.pricingPlanIds``.

    UNCONFIRMED where Wix exposes coverage: it lives in Benefit Programs item sets, which no API
    used here serves; the services name the plans that cover them, which is the same fact.
    """
    coverage: dict[str, list[str]] = {}
    for wix_id, raw in Service.objects.exclude(wix_id__isnull=True).values_list("wix_id", "raw"):
        for plan_id in ((raw or {}).get("payment") or {}).get("pricingPlanIds") or []:
            coverage.setdefault(plan_id, []).append(wix_id)
    return coverage


def balances_write(run: MirrorRun, pools: list[Json], balances: dict[str, Json]) -> None:
    members = dict(
        Member.objects.filter(wix_id__in={(p.get("beneficiary") or {}).get("memberId") for p in pools}).values_list(
            "wix_id", "pk"
        )
    )
    plan_orders = dict(
        PlanOrder.objects.filter(wix_id__in={(p.get("program") or {}).get("externalId") for p in pools}).values_list(
            "wix_id", "pk"
        )
    )
    coverage = plan_coverage()
    rows = []
    for pool in pools:
        member_pk = members.get((pool.get("beneficiary") or {}).get("memberId") or "")
        if member_pk is None:
            continue
        balance = balances.get(pool["id"]) or {}
        rows.append(balance_row(pool, balance, member_pk, plan_orders, coverage))
    upsert(run, BenefitBalance, rows)


def balance_row(
    pool: Json, balance: Json, member_pk: int, plan_orders: dict[str, int], coverage: dict[str, list[str]]
) -> Row:
    credit = ((pool.get("details") or {}).get("creditConfiguration") or {}).get("amount")
    stamps = [
        t for t in (wix_timestamp_parse(pool.get("updatedDate")), wix_timestamp_parse(balance.get("updatedDate"))) if t
    ]
    plan_id = (pool.get("programDefinition") or {}).get("externalId") or ""
    # A pool and its balance are two Wix entities with revisions of their own: the later
    # updatedDate of the two decides.
    return Row(
        pool["id"],
        None,
        max(stamps) if stamps else None,
        {
            "member_id": member_pk,
            # UNCONFIRMED (CONTRACT.md §13.2): the program's externalId is the plan order id.
            "plan_order_id": plan_orders.get((pool.get("program") or {}).get("externalId") or ""),
            "name": text(pool.get("displayName") or (pool.get("program") or {}).get("displayName"), 400),
            "status": text(pool.get("status"), 16),
            "total_credits": money(credit),
            "remaining_credits": money((balance.get("amount") or {}).get("available")),
            "unlimited": credit is None,
            "covered_service_ids": coverage.get(plan_id, []),
            "raw": {"pool": pool, "balance": balance},
        },
    )


def balance_adopt(
    run: MirrorRun, *, pool: Json, balance: Json, local: BenefitBalance | None, promised: Decimal
) -> BenefitBalance:
    """The pool Wix provisioned for a plan the desk sold, written over the desk's pending balance
    (``local``, made before Wix had the pool) — or, when a sync mirrored the pool meanwhile, into
    that row, the local one dropped. ``promised``: credits desk actions still on their way take
    from it (today's visit, charged once the sale is in Wix), kept off the credits shown. Call
    inside a transaction."""
    member_id = (pool.get("beneficiary") or {}).get("memberId") or ""
    member_pk = Member.objects.filter(wix_id=member_id).values_list("pk", flat=True).first()
    if member_pk is None:
        raise ValueError(f"member {member_id} is not mirrored")
    held = BenefitBalance.objects.filter(wix_id=pool["id"]).first()
    if local is not None and held is not None and held.pk != local.pk:
        local.delete()
        local = None
    program_order = (pool.get("program") or {}).get("externalId") or ""
    plan_orders = dict(PlanOrder.objects.filter(wix_id=program_order).values_list("wix_id", "pk"))
    row = balance_row(pool, balance, member_pk, plan_orders, plan_coverage())
    existing = {pool["id"]: local} if local is not None and local.wix_id is None else None
    result = upsert(run, BenefitBalance, [row], existing=existing)
    adopted = result.objects.get(pool["id"]) or BenefitBalance.objects.get(wix_id=pool["id"])
    if promised and not adopted.unlimited and adopted.remaining_credits is not None:
        adopted.remaining_credits -= promised
        adopted.save(update_fields=["remaining_credits"])
    return adopted
