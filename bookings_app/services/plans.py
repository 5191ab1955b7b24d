"""The plans the desk can sell (:func:`plans_for_sale`): Wix's plans (Query Plans V3, asked with the
short interactive timeout and kept for a couple of minutes), with what the mirror knows of each —
the credits a pass gives, the services it covers. When Wix does not answer, the plans the mirror
has seen sold.

Neither Plans V2 nor V3 says how many sessions a plan gives: credits are Benefit Programs' and
appear when a plan is sold (CONTRACT.md §13.2). A plan nobody in the mirror has bought yet is
offered with its credits "set by Wix when it starts".

Plans are sold to site members: :func:`member_find` asks Wix for the member a contact is when the
mirror knows none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.db import transaction

from bookings_app import selectors
from bookings_app.models import Contact, Member
from bookings_app.services.mirror.balances import plan_coverage
from bookings_app.services.mirror.members import members_write
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.wix import WixClient, WixError
from bookings_app.wix import members as wix_members
from bookings_app.wix import pricing_plans as wix_plans

logger = logging.getLogger(__name__)

CACHE_KEY = "desk:plans-for-sale:v1"
CACHE_SECONDS = 120  # a new plan made in the dashboard shows at the desk within two minutes
PAGE = 100  # Query Plans V3: cursorPaging.limit ≤ 100
MAX_PAGES = 3


@dataclass(frozen=True)
class PlanOffer:
    """A plan the desk can sell, and what selling it gives."""

    plan_id: str
    name: str
    price: Decimal | None  # None: not a flat price (customer-chosen), or unknown
    currency: str
    credits: Decimal | None  # sessions per purchase; None: unlimited or not known (see ``unlimited``)
    unlimited: bool | None  # None: not known until Wix provisions the first pool of it
    covered_service_ids: tuple[str, ...] = ()  # Wix service ids; empty: not known
    description: str = ""

    @property
    def credits_known(self) -> bool:
        return self.unlimited is True or self.credits is not None

    def covers(self, service_wix_id: str | None) -> bool | None:
        """Whether the plan pays for that service: None when the mirror does not know its coverage."""
        if not self.covered_service_ids:
            return None
        return service_wix_id in self.covered_service_ids


@dataclass
class PlanCatalogue:
    offers: list[PlanOffer] = field(default_factory=list)
    wix_unreachable: bool = False  # Wix did not answer: the plans the mirror has seen sold

    def get(self, plan_id: str) -> PlanOffer | None:
        return next((o for o in self.offers if o.plan_id == plan_id), None)


def plans_for_sale(*, wix: WixClient | None) -> PlanCatalogue:
    """The plans to offer, by name. Wix is asked (at most once per ``CACHE_SECONDS``) when ``wix``
    is given; its failures are swallowed (the mirror's plans, ``wix_unreachable``). Raises nothing."""
    plans: list[dict[str, Any]] | None = cache.get(CACHE_KEY)
    unreachable = False
    if plans is None and wix is not None:
        try:
            plans = _wix_plans(wix)
        except WixError as exc:
            logger.info("plans for sale: Wix unreachable (%s); the mirror's plans", exc)
            unreachable = True
        else:
            cache.set(CACHE_KEY, plans, CACHE_SECONDS)
    known = selectors.plans_known()
    coverage = plan_coverage()
    if plans is None:
        offers = [
            PlanOffer(
                plan_id=k.plan_id,
                name=k.name or "Plan",
                price=k.price,
                currency=k.currency,
                credits=k.credits,
                unlimited=k.unlimited,
                covered_service_ids=tuple(coverage.get(k.plan_id, ())),
            )
            for k in known.values()
            if k.name
        ]
        return PlanCatalogue(offers=sorted(offers, key=_by_name), wix_unreachable=unreachable)
    offers = []
    for plan in plans:
        mirrored = known.get(plan["id"])
        offers.append(
            PlanOffer(
                plan_id=plan["id"],
                name=plan.get("name") or "Plan",
                price=_flat_price(plan),
                currency=plan.get("currency") or (mirrored.currency if mirrored else ""),
                credits=mirrored.credits if mirrored else None,
                unlimited=mirrored.unlimited if mirrored else None,
                covered_service_ids=tuple(coverage.get(plan["id"], ())),
                description=plan.get("description") or "",
            )
        )
    return PlanCatalogue(offers=sorted(offers, key=_by_name))


def member_find(*, contact: Contact, wix: WixClient) -> Member | None:
    """The site member ``contact`` is: the mirror's, else asked of Wix (Query Members by contact
    id, one call) and written into the mirror — a member the sync has not read yet. None when
    they are only a contact, or Wix does not answer. Raises nothing."""
    member = selectors.member_of(contact_id=contact.pk)
    if member is not None or not contact.wix_id:
        return member
    try:
        answer = wix_members.query_members(
            wix, query={"filter": {"contactId": contact.wix_id}, "paging": {"limit": 1}}, fieldsets=["FULL"]
        )
    except WixError as exc:
        logger.info("member lookup: Wix unreachable (%s)", exc)
        return None
    found = [m for m in answer.get("members") or [] if m.get("id") and m.get("contactId") == contact.wix_id]
    if not found:
        return None
    with transaction.atomic():
        members_write(MirrorRun(wix=wix, actor="desk"), found[:1])
    return selectors.member_of(contact_id=contact.pk)


def plans_forget() -> None:
    """Drop the kept list (tests; after a plan changed in Wix)."""
    cache.delete(CACHE_KEY)


def _wix_plans(wix: WixClient) -> list[dict[str, Any]]:
    """Every plan Wix lists, archived ones left out, trimmed to what an offer needs. Raises ``WixError``."""
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {"cursorPaging": {"limit": PAGE}}
    for _ in range(MAX_PAGES):
        answer = wix_plans.query_plans(wix, query=query)
        found.extend(answer.get("plans") or [])
        cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
        if not cursor:
            break
        query = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}
    keep = ("id", "name", "description", "currency", "pricingVariants")
    # ``archived`` / ``status`` are not Plans V3 fields (a deleted plan is gone); the sandbox
    # sends them for plans archived in V2, which Create Offline Order refuses.
    return [
        {k: p.get(k) for k in keep}
        for p in found
        if p.get("id") and not p.get("archived") and (p.get("status") or "ACTIVE") == "ACTIVE"
    ]


def _flat_price(plan: dict[str, Any]) -> Decimal | None:
    for variant in plan.get("pricingVariants") or []:
        for strategy in variant.get("pricingStrategies") or []:
            amount = (strategy.get("flatRate") or {}).get("amount")
            if amount is not None:
                try:
                    return Decimal(str(amount))
                except (InvalidOperation, ValueError):
                    return None
    return None


def _by_name(offer: PlanOffer) -> tuple[str, str]:
    return (offer.name.casefold(), offer.plan_id)
