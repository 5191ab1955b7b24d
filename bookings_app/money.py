"""Money at the desk: what is still due on a booking, which plan can pay for it, the plan to
suggest, reading an amount staff typed, and the one way the app writes an amount.

Two amount-due rules live here, on purpose side by side and sharing their primitives
(:func:`list_price`, :func:`inflight_reduction`, :func:`base_payment_status`, …):

* the **desk's** (:func:`due`, :func:`amounts_due`, :func:`due_from_roster`): what a desk action
  may still take, judged under the booking's row lock by ``services.desk``;
* the **roster's** (:func:`roster_due`, then :func:`roster_due_less_desk`): what a roster row
  shows and offers to take ("Cash £12.00").

They differ in a few corners (cancelled orders, plan charges and refunds on their way, money
taken before a payment status changed): see each function. Nothing here imports a service or a
selector, so both can use it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bookings_app.models import BenefitBalance, Booking, DeskAction, OrderLineItem, Service

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus

ZERO = Decimal("0")
CENT = Decimal("0.01")
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
# Later money actions on a booking wait for the earlier ones: Wix sees them in the order staff
# made them. Those still on their way are what the desk's amount due counts as "in flight".
CHAINED_KINDS = (*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS)


# --- writing and reading amounts -----------------------------------------------------------------


def format_money(amount: Decimal | int | str | None, currency: str = "") -> str:
    """The app's one way of writing an amount: "£1,234.00", "-£5.00", "1,234.00 CHF" (a
    currency without a symbol), "1,234.00" (no currency), "" (None)."""
    if amount is None:
        return ""
    currency = (currency or "").strip().upper()
    value = Decimal(str(amount)).quantize(CENT)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.2f}"
    if currency in SYMBOLS:
        return f"{sign}{SYMBOLS[currency]}{text}"
    return f"{sign}{text} {currency}" if currency else f"{sign}{text}"


# A comma in a typed amount: thousands ("1,234.50") where every group after one has three
# figures, else a decimal comma ("12,50", "7,5") where one or two figures follow the only one.
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")


def parse_amount(value: Any) -> Decimal | None:
    """An amount staff typed ("12", "£1,234.50", "12,50"), or None when it is not a whole number
    of pence or its comma could mean either thousands or pence ("1,2,3", "1.234,50")."""
    if value is None or value == "":
        return None
    text = str(value).strip().lstrip("£€$").strip()
    if "," in text:
        if _DECIMAL_COMMA.fullmatch(text):
            text = text.replace(",", ".")
        elif _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        else:
            return None
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return None
    return amount


# --- plans -----------------------------------------------------------------------------------------


def plan_problem(
    booking: Booking, balance: BenefitBalance, member: Any, *, already_used: int = 0
) -> tuple[str, str] | None:
    """Why ``balance`` can't pay for ``booking`` (code, message), or None. ``already_used``:
    credits of it a batch has already promised to other rows. A booking of N participants needs
    N credits: the push redeems ``count`` = N (Redeem Benefit takes price × count)."""
    if member is None or member.contact_id != booking.contact_id:
        return "plan_not_eligible", f"{balance.name or 'This plan'} belongs to someone else."
    return _service_problem(balance, booking.service, member, already_used=already_used, needed=credits_needed(booking))


def credits_needed(booking: Booking) -> int:
    """Credits a plan charge of ``booking`` takes: one per participant (Redeem Benefit ``count``)."""
    return max(booking.total_participants or 1, 1)


def balance_covers(balance: BenefitBalance, service: Service, *, participants: int = 1) -> bool:
    """Whether one of the customer's own plan balances can pay for ``service`` now, for
    ``participants`` people: the same rule as :func:`plan_problem` (active, in Wix, covering the
    service, with credit)."""
    return _service_problem(balance, service, balance.member, needed=max(participants, 1)) is None


def _service_problem(
    balance: BenefitBalance, service: Service, member: Any, *, already_used: int = 0, needed: int = 1
) -> tuple[str, str] | None:
    name = balance.name or "This plan"
    if (balance.status or "").upper() != "ACTIVE":
        return "plan_not_eligible", f"{name} is not active ({(balance.status or 'unknown').lower()})."
    covered = balance.covered_service_ids or []
    # An empty list means the mirror doesn't know the plan's coverage; Wix decides when pushed.
    if covered and service.wix_id not in covered:
        return "plan_not_eligible", f"{name} doesn't cover {service.name}."
    if not balance.wix_id or not member.wix_id:
        return "plan_not_eligible", f"{name} isn't in Wix yet."
    left = (balance.remaining_credits or ZERO) - already_used
    if not balance.unlimited and left < needed:
        if needed > 1 and left >= 1:
            return "no_credits", f"{name} has {left:g} credit{'s' if left != 1 else ''} left; {needed} are needed."
        return "no_credits", f"No credits left on {name}."
    return None


def best_balance(booking: Booking, balances: list[BenefitBalance]) -> BenefitBalance | None:
    """The plan to suggest: unlimited first, then the pass that runs out soonest."""
    fitting = [b for b in balances if plan_problem(booking, b, b.member) is None]
    if not fitting:
        return None

    def rank(b: BenefitBalance) -> tuple[int, datetime, Decimal, int]:
        end = b.plan_order.end if b.plan_order and b.plan_order.end else datetime.max.replace(tzinfo=UTC)
        return (0 if b.unlimited else 1, end, b.remaining_credits or ZERO, b.pk)

    return min(fitting, key=rank)


# --- primitives of both amount-due rules -----------------------------------------------------------


def list_price(booking: Booking) -> Decimal:
    """The service's price for everyone on the booking: what is due with no order mirrored."""
    return (booking.service.price or ZERO) * booking.total_participants


def inflight_by_booking(booking_ids: Iterable[int]) -> dict[int, list[DeskAction]]:
    """Booking pk → its money actions still on their way to Wix, oldest first. One query."""
    out: dict[int, list[DeskAction]] = defaultdict(list)
    for action in DeskAction.objects.filter(
        booking_id__in=list(booking_ids), kind__in=CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).order_by("pk"):
        out[action.booking_id].append(action)
    return out


def inflight_reduction(actions: list[DeskAction], *, gross: Decimal) -> Decimal:
    """How much of ``gross`` the desk actions still on their way to Wix already settle: their
    payments, or all of it once a plan charge is among them."""
    taken = ZERO
    for action in actions:
        if action.kind == Kind.PAYMENT:
            taken += Decimal(action.params.get("amount") or "0")
        elif action.kind == Kind.PLAN_CHARGE:
            taken = gross
    return taken


def base_payment_status(booking: Booking, inflight: list[DeskAction]) -> str:
    """The booking's payment status before the desk actions still on their way."""
    if not inflight:
        return booking.payment_status
    first = inflight[0].before.get("booking") or {}
    return first.get("payment_status", booking.payment_status)


def synced_paid(booking: Booking, synced: dict[int, Decimal] | None) -> Decimal:
    """What the desk took for ``booking`` that is in Wix already (its SYNCED payments):
    from ``synced`` (:func:`synced_payments`), else one query."""
    if synced is not None:
        return synced.get(booking.pk, ZERO)
    paid = (
        DeskAction.objects.filter(booking=booking, kind=Kind.PAYMENT, status=Status.SYNCED)
        .values_list("params", flat=True)
        .iterator()
    )
    return sum((Decimal(p.get("amount") or "0") for p in paid), ZERO)


def synced_payments(bookings: Iterable[Booking], inflight: dict[int, list[DeskAction]]) -> dict[int, Decimal]:
    """:func:`synced_paid` for every part-paid booking of ``bookings`` in one query (none when
    no booking was part paid)."""
    part_paid = [b.pk for b in bookings if base_payment_status(b, inflight.get(b.pk, [])) == PS.PARTIALLY_PAID]
    paid: dict[int, Decimal] = defaultdict(Decimal)
    if part_paid:
        for booking_id, params in DeskAction.objects.filter(
            booking_id__in=part_paid, kind=Kind.PAYMENT, status=Status.SYNCED
        ).values_list("booking_id", "params"):
            paid[booking_id] += Decimal(params.get("amount") or "0")
    return paid


# --- the desk's rule -------------------------------------------------------------------------------


def amounts_due(bookings: list[Booking], *, inflight: dict[int, list[DeskAction]] | None = None) -> dict[int, Decimal]:
    """Booking pk → what a desk action may still take, counting desk payments not in Wix yet.
    Two queries (three when a booking was part paid; ``inflight``, from
    :func:`inflight_by_booking`, saves one). Orders Wix cancelled do not count."""
    return amounts_due_and_orders(bookings, inflight=inflight)[0]


def amounts_due_and_orders(
    bookings: list[Booking], *, inflight: dict[int, list[DeskAction]] | None = None
) -> tuple[dict[int, Decimal], dict[int, dict[int, Decimal]]]:
    """:func:`amounts_due`, and booking pk → its orders (order pk → balance) that it read."""
    ids = [b.pk for b in bookings]
    wanted = set(ids)
    orders: dict[int, dict[int, Decimal]] = defaultdict(dict)
    on_order: dict[int, set[int]] = defaultdict(set)  # every booking on those orders, theirs too
    # Every line of the orders these bookings are on, in one query: their own, and the other
    # bookings an order also pays for.
    for booking_id, order_id, balance in (
        OrderLineItem.objects.filter(order__in=OrderLineItem.objects.filter(booking_id__in=ids).values("order_id"))
        .exclude(order__status="CANCELED")
        .values_list("booking_id", "order_id", "order__balance")
    ):
        if booking_id in wanted:
            orders[booking_id][order_id] = balance
        if booking_id is not None:
            on_order[order_id].add(booking_id)
    if inflight is None:
        inflight = inflight_by_booking(ids)
    synced = synced_payments([b for b in bookings if b.pk not in orders], inflight)
    others = _others_paying(orders, on_order, inflight)
    dues = {b.pk: due(b, orders.get(b.pk), inflight.get(b.pk, []), synced) - others.get(b.pk, ZERO) for b in bookings}
    return dues, orders


def _others_paying(
    orders: dict[int, dict[int, Decimal]], on_order: dict[int, set[int]], inflight: dict[int, list[DeskAction]]
) -> dict[int, Decimal]:
    """Booking pk → desk payments on their way to Wix that other bookings on its orders took (a
    package, an online order for two): they go to the same order, so they settle this booking's
    share of its balance too. No query unless an order holds a booking not asked about."""
    # The bookings asked about have their actions in ``inflight`` already (or none).
    others = {b for booking_ids in on_order.values() if len(booking_ids) > 1 for b in booking_ids} - orders.keys()
    if others:
        inflight = {**inflight, **inflight_by_booking(others)}
    paying: dict[int, Decimal] = {}
    for booking_id, booking_orders in orders.items():
        taken = ZERO
        for order_id in booking_orders:
            for other in on_order.get(order_id, ()):
                if other != booking_id:
                    taken += sum(
                        (
                            Decimal(a.params.get("amount") or "0")
                            for a in inflight.get(other, [])
                            if a.kind == Kind.PAYMENT
                        ),
                        ZERO,
                    )
        if taken:
            paying[booking_id] = taken
    return paying


def amount_due(booking: Booking) -> Decimal:
    """:func:`amounts_due` of one booking."""
    return amounts_due([booking])[booking.pk]


def due(
    booking: Booking,
    orders: dict[int, Decimal] | None,
    inflight: list[DeskAction],
    synced: dict[int, Decimal] | None = None,
) -> Decimal:
    """What is still to pay on ``booking`` (may be 0 or less): its orders' balances (order pk →
    balance), else the list price, less what the desk actions on their way settle. Without an
    order the booking's payment status before those actions decides: paid → 0, part paid → the
    price less the desk payments Wix has (``synced``, from :func:`synced_payments`; else one
    query), anything else → the price."""
    if orders:
        # Wix's truth (as last mirrored), less what the desk took that Wix hasn't heard of yet.
        gross = sum(orders.values(), ZERO)
        return gross - inflight_reduction(inflight, gross=gross)
    price = list_price(booking)
    if not inflight:
        if booking.payment_status in (PS.PAID, PS.EXEMPT):
            return ZERO
        if booking.payment_status == PS.PARTIALLY_PAID:
            return price - synced_paid(booking, synced)
        return price
    # No order: the booking's state before the first action on its way is the base.
    base_status = base_payment_status(booking, inflight)
    if base_status in (PS.PAID, PS.EXEMPT):
        return ZERO
    gross = price
    if base_status == PS.PARTIALLY_PAID:
        gross -= synced_paid(booking, synced)
    return gross - inflight_reduction(inflight, gross=gross)


def due_from_roster(
    booking: Booking,
    *,
    roster_amount: Decimal | None,
    due_from_order: bool,
    charged_to_plan: bool,
    inflight: list[DeskAction],
    synced: dict[int, Decimal] | None = None,
) -> Decimal:
    """The desk's rule for a booking whose roster facts are loaded already (Settle): the order
    balance the roster read (``roster_amount`` from :func:`roster_due`; unlike :func:`due` it
    counts every order, cancelled ones too) less what is on its way; no order: nothing for a
    booking charged to a plan with nothing on its way, else :func:`due`."""
    if due_from_order:
        gross = roster_amount or ZERO
        return gross - inflight_reduction(inflight, gross=gross)
    if charged_to_plan and not inflight:
        return ZERO
    return due(booking, None, inflight, synced)


# --- the roster's rule -----------------------------------------------------------------------------


def roster_due(*, booking: Booking, order_balances: list[Decimal], settled: bool) -> Decimal | None:
    """What a roster row shows as due, from the mirror alone: the balance of every order the
    booking is on (cancelled ones too), else — unless it is settled (paid, exempt, charged to a
    plan) — the list price. None when there is nothing to collect (0 or less, or no price)."""
    if order_balances:
        amount = sum(order_balances, ZERO)
    elif not settled and booking.service.price:
        amount = list_price(booking)
    else:
        return None
    return amount if amount > 0 else None


def roster_due_less_desk(
    amount: Decimal | None,
    *,
    due_from_order: bool,
    unsynced_paid: Decimal,
    synced_paid: Decimal,
    plan_on_its_way: bool = False,
) -> Decimal | None:
    """:func:`roster_due` less the desk's payments: those not in Wix yet always, and those Wix has
    too when the amount is the list price (an order's balance counts them already). Unlike the
    desk's rule it takes off every synced payment whatever the payment status (a refunded one
    too). A plan charge on its way (``plan_on_its_way``: queued or being sent) leaves nothing
    due: it pays the whole booking, and until Wix has it the order's balance still says
    otherwise. None when nothing is left."""
    if amount is None or plan_on_its_way:
        return None
    taken = unsynced_paid + (ZERO if due_from_order else synced_paid)
    if not taken:
        return amount
    left = amount - taken
    return left if left > 0 else None
