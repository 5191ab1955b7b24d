"""Pricing Plans ↔ Benefit Programs: a sold plan is a benefit program whose state follows the plan order.

Selling a plan provisions, as in Wix, a benefit *program* for the buyer (namespace
``@wix/pricing-plans``) holding one *pool* per pool definition of the plan; each pool has a
*balance* of credits (balance id == pool id): :func:`provision`.

Plan orders move with the sandbox clock: PENDING → ACTIVE at ``startDate``, a new cycle (credits
renewed) at each subscription cycle, ENDED at ``endDate``; the order's program and pools follow its
status. :func:`advance` applies what is due; a ``meta`` row remembers the next due moment so that is
cheap.

Who calls what: Pricing Plans orders (``handlers/plans/plan_orders.py``) provision and date a new
order; every plan-order and Benefit Programs request, and the plan-credit rule
(``plan_credits.py``), calls :func:`advance` first.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from wix_sandbox.app import Sandbox
from wix_sandbox.common import iso, stamp_new, touch

NAMESPACE = "@wix/pricing-plans"
_NEXT_BOUNDARY = "pricing_plans_next_boundary"
# Order status → status of its program and pools.
_POOL_STATUS = {"PENDING": "PENDING", "ACTIVE": "ACTIVE", "PAUSED": "PAUSED", "ENDED": "ENDED", "CANCELED": "ENDED"}


# -- plan order dates and cycles ---------------------------------------------------------------------


def parse_dt(value: str) -> datetime:
    """A plan order timestamp as an aware datetime (naive means UTC)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


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


def pricing_model(pricing: dict[str, Any]) -> tuple[str, dict[str, Any] | bool]:
    """The plan's pricing model: ``(subscription | singlePaymentForDuration | singlePaymentUnlimited, its value)``."""
    for key in ("subscription", "singlePaymentForDuration", "singlePaymentUnlimited"):
        if key in pricing:
            return key, pricing[key]
    return "singlePaymentUnlimited", True


def _cycle_unit(pricing: dict[str, Any]) -> tuple[int, str] | None:
    kind, value = pricing_model(pricing)
    if kind == "subscription":
        cycle = value.get("cycleDuration") or {}
        return int(cycle.get("count") or 1), cycle.get("unit") or "MONTH"
    if kind == "singlePaymentForDuration":
        return int(value.get("count") or 1), value.get("unit") or "MONTH"
    return None


def end_date(start: datetime, pricing: dict[str, Any]) -> datetime | None:
    """When an order starting at ``start`` ends; ``None`` if it runs until cancelled."""
    kind, value = pricing_model(pricing)
    unit = _cycle_unit(pricing)
    if unit is None:
        return None
    if kind == "subscription":
        cycles = int(value.get("cycleCount") or 0)
        return _add_period(start, unit[1], unit[0] * cycles) if cycles else None
    return _add_period(start, unit[1], unit[0])


def current_cycle(order: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The cycle an ACTIVE order is in at ``now``: ``{index, startedDate, endedDate?}``."""
    start = parse_dt(order["startDate"])
    unit = _cycle_unit(order["pricing"])
    if unit is None:
        return {"index": 1, "startedDate": order["startDate"]}
    if pricing_model(order["pricing"])[0] != "subscription":
        return {"index": 1, "startedDate": order["startDate"], "endedDate": order["endDate"]}
    index = int((order.get("currentCycle") or {}).get("index") or 1)
    while _add_period(start, unit[1], unit[0] * index) <= now:
        index += 1
    cycle_end = _add_period(start, unit[1], unit[0] * index)
    if order.get("endDate"):
        cycle_end = min(cycle_end, parse_dt(order["endDate"]))
    return {
        "index": index,
        "startedDate": iso(_add_period(start, unit[1], unit[0] * (index - 1))),
        "endedDate": iso(cycle_end),
    }


# -- moving with the sandbox clock -------------------------------------------------------------------


def boundary(order: dict[str, Any]) -> datetime | None:
    """When this order next changes by itself (starts, renews or ends); ``None`` if never."""
    if order["status"] == "PENDING":
        return parse_dt(order["startDate"])
    if order["status"] == "ACTIVE":
        ended = (order.get("currentCycle") or {}).get("endedDate") or order.get("endDate")
        return parse_dt(ended) if ended else None
    return None


def note_boundary(sb: Sandbox, moment: datetime | None) -> None:
    """Bring the next due moment forward to ``moment`` if that is sooner."""
    mark = sb.state.get("meta", _NEXT_BOUNDARY)
    if mark is None or moment is None:
        return  # no mark yet: the next advance scans every order anyway
    if mark["value"] is None or parse_dt(mark["value"]) > moment:
        sb.state.put("meta", {"id": _NEXT_BOUNDARY, "value": iso(moment)})


def advance(sb: Sandbox) -> None:
    """Apply every start, renewal and end that the sandbox clock has reached."""
    now = sb.state.now()
    mark = sb.state.get("meta", _NEXT_BOUNDARY)
    if mark is not None and (mark["value"] is None or parse_dt(mark["value"]) > now):
        return
    upcoming: datetime | None = None
    for order in sb.state.all("plan_orders"):
        moment = boundary(order)
        if moment is not None and moment <= now:
            order = roll(sb, order, now)
            moment = boundary(order)
        if moment is not None and (upcoming is None or moment < upcoming):
            upcoming = moment
    value = iso(upcoming) if upcoming else None
    if mark is None or mark["value"] != value:
        sb.state.put("meta", {"id": _NEXT_BOUNDARY, "value": value})


def roll(sb: Sandbox, order: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Move one order to where it is at ``now`` (started, renewed, ended), its program and pools with it."""
    o = sb.state.edit("plan_orders", order["id"])
    assert o is not None
    before_status = o["status"]
    before_index = int((o.get("currentCycle") or {}).get("index") or 0)
    if o["status"] == "PENDING" and parse_dt(o["startDate"]) <= now:
        o["status"] = "ACTIVE"
    if o["status"] == "ACTIVE":
        if o.get("endDate") and parse_dt(o["endDate"]) <= now:
            o["status"] = "ENDED"
            o.pop("currentCycle", None)
        else:
            o["currentCycle"] = current_cycle(o, now)
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


def credits_text(value: Decimal) -> str:
    """A credit amount the way balances and transactions write it: a decimal string, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def balance_set(sb: Sandbox, pool: dict[str, Any], value: str, *, key: str, reason: str) -> None:
    """Set a pool's available credits to ``value``, recording the change as a transaction.

    Every change of a balance is a transaction: the SDK's ``Balance.lastTransactionId`` is "the
    transaction associated with the most recent change to the balance", and Set "creates no
    transaction" only when the value stays the same (benefit-programs_balances ``SetOptions``).
    """
    balance = sb.state.edit("balances", pool["id"])
    if balance is None:
        return
    before = Decimal(balance["amount"]["available"])
    delta = Decimal(value) - before
    if delta:
        tx = stamp_new(
            sb,
            {
                "id": sb.state.new_id(),
                "pool": pool_info(pool),
                "amount": credits_text(abs(delta)),
                "source": "EXTERNAL" if delta > 0 else "AVAILABLE",
                "target": "AVAILABLE" if delta > 0 else "EXTERNAL",
                "idempotencyKey": key,
                "beneficiary": dict(pool["beneficiary"]),
                "status": "COMPLETED",
                "details": {"effectiveDate": iso(sb.state.now()), "reason": reason},
            },
        )
        sb.state.put("benefit_transactions", tx)
        balance["lastTransactionId"] = tx["id"]
    balance["amount"]["available"] = credits_text(Decimal(value))
    sb.state.put("balances", touch(sb, balance))


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
        sb.state.put("pools", touch(sb, edited))
        if renewals:
            credit = (edited["details"].get("creditConfiguration") or {}).get("amount")
            if credit is not None:
                # No rollover is configured: a renewed cycle starts from the plan's credits.
                key = f"renewal:{edited['id']}:{edited['renewalCount']}"
                balance_set(sb, edited, credit, key=key, reason="Renewal")


# -- provisioning a sold plan ------------------------------------------------------------------------


def pool_info(pool: dict[str, Any]) -> dict[str, Any]:
    """The ``poolInfo`` a balance and a transaction carry about their pool."""
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


def provision(sb: Sandbox, order: dict[str, Any], plan: dict[str, Any]) -> None:
    """Enroll the buyer: one program for the order, one pool (and balance) per pool definition."""
    definition = plan["programDefinition"]
    status = _POOL_STATUS[order["status"]]
    beneficiary = {"memberId": order["buyer"]["memberId"]}
    program = stamp_new(
        sb,
        {
            "id": sb.state.new_id(),
            "beneficiary": beneficiary,
            "programDefinitionId": definition["id"],
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
                "poolInfo": pool_info(pool),
            },
        )
        sb.state.put("balances", balance)
