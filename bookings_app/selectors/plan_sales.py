"""What selling a plan at the desk reads: the plans the mirror has seen sold (their price and
credits — Plans V3 carries no credits), the customer's booking on the session they came for, and
the desk's recent sales. A fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Member, PlanOrder, Session
from bookings_app.selectors.queries import session_roster_q
from bookings_app.selectors.sessions import day_bounds


@dataclass(frozen=True)
class KnownPlan:
    """A plan as the mirror knows it from the orders and pools of members who bought it."""

    plan_id: str
    name: str
    price: Decimal | None
    currency: str
    credits: Decimal | None  # per purchase; None: unlimited, or not known
    unlimited: bool | None  # None: no pool of it is mirrored, so not known


def plans_known() -> dict[str, KnownPlan]:
    """Plan id → what the mirror knows of it: the name and price its latest mirrored order names,
    the credits a mirrored pool of it was provisioned with. Two queries."""
    named: dict[str, tuple[str, Decimal | None, str]] = {}
    for plan_id, name, price, currency in (
        PlanOrder.objects.exclude(wix_id=None)
        .exclude(plan_id="")
        .order_by("start", "pk")
        .values_list("plan_id", "plan_name", "raw__planPrice", "raw__pricing__prices__0__price__currency")
    ):
        named[plan_id] = (name, _decimal(price), currency if isinstance(currency, str) else "")
    credits: dict[str, tuple[Decimal | None, bool]] = {}
    for plan_id, total, unlimited in (
        BenefitBalance.objects.exclude(wix_id=None)
        .order_by("pk")
        .values_list("raw__pool__programDefinition__externalId", "total_credits", "unlimited")
    ):
        if isinstance(plan_id, str) and plan_id:
            credits[plan_id] = (total, unlimited)
    known = {}
    for plan_id in named.keys() | credits.keys():
        name, price, currency = named.get(plan_id, ("", None, ""))
        total, unlimited = credits.get(plan_id, (None, None))
        known[plan_id] = KnownPlan(plan_id, name, price, currency, total, unlimited)
    return known


def customer_get(*, contact_id: int | None) -> Contact | None:
    return Contact.objects.filter(pk=contact_id).first() if contact_id is not None else None


def member_of(*, contact_id: int) -> Member | None:
    """The site member a contact is (pricing plans are sold to members only), if the mirror knows one."""
    return Member.objects.filter(contact_id=contact_id).exclude(wix_id=None).first()


def visit_bookings(*, session: Session, contact_ids: list[int]) -> dict[int, Booking]:
    """Contact pk → their place on ``session``'s roster (the earliest, when they hold several). One query."""
    found: dict[int, Booking] = {}
    for booking in (
        Booking.objects.filter(
            session_roster_q(session), contact_id__in=contact_ids, status__in=Booking.ROSTER_STATUSES
        )
        .select_related("contact", "service", "session")
        .order_by("-pk")
    ):
        found[booking.contact_id] = booking
    return found


def plan_sales_recent(*, limit: int = 20) -> list[DeskAction]:
    """The desk's plan sales of today (the business's day), newest first, each with the visit
    charges that wait on it (``dependents``). Two queries."""
    since, _ = day_bounds(timezone.localdate())
    return list(
        DeskAction.objects.filter(kind=DeskAction.Kind.PLAN_SALE, created_at__gte=since)
        .select_related("contact", "created_by", "session")
        .prefetch_related("dependents")
        .order_by("-created_at", "-pk")[:limit]
    )


def plan_sale_balances(*, sales: list[DeskAction]) -> dict[int, BenefitBalance]:
    """Sale pk → the plan's balance on the desk (waiting for Wix, or Wix's pool once synced). One query."""
    wanted = {sale.pk: sale.steps.get("balance_pk") or sale.params.get("balance_pk") for sale in sales}
    found = BenefitBalance.objects.in_bulk([pk for pk in wanted.values() if pk])
    return {sale_pk: found[pk] for sale_pk, pk in wanted.items() if pk in found}


def plan_sale_get(*, action_id: int) -> DeskAction | None:
    return DeskAction.objects.filter(pk=action_id, kind=DeskAction.Kind.PLAN_SALE).select_related("contact").first()


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None
