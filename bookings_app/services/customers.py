"""The customer at the desk: found (:func:`customer_search`: the mirror first, then optionally
Wix's contacts) or created (:func:`customer_create`: a desk action, pushed to Wix by the worker).

``services.desk`` re-exports both, with :class:`CustomerHit` and :class:`NewCustomer`.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from bookings_app import money, selectors
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Member, normalise_text
from bookings_app.services import ledger, mirror
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError
from bookings_app.wix import WixClient, WixError, WixRateBudgetExhausted
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix import members as wix_members

logger = logging.getLogger(__name__)

# Payment states that leave money owing on a booking that takes a place.
OWING_STATUSES = (Booking.PaymentStatus.NOT_PAID, Booking.PaymentStatus.PARTIALLY_PAID)
MIN_WIX_QUERY = 3
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class CustomerHit:
    contact: Contact
    member: Member | None
    balances: list[BenefitBalance] = field(default_factory=list)  # active, with credit (or unlimited)
    owes: Decimal = Decimal("0")  # what their unpaid and part-paid bookings still owe
    from_wix: bool = False  # found in Wix, not in the mirror before this search
    alerts: list[tuple[str, str]] = field(default_factory=list)  # check-in alerts (kind, label), customer card

    @property
    def is_member(self) -> bool:
        return self.member is not None


class CustomerHits(list[CustomerHit]):
    """The hits, plus whether Wix could be asked (``wix_unreachable``: mirror-only result;
    ``wix_busy``: because the minute's budget of Wix calls was used up, not because Wix is down)."""

    wix_unreachable: bool = False
    wix_busy: bool = False

    @property
    def wix_note(self) -> str:
        """What the screen says under a mirror-only result ("" when Wix answered)."""
        if self.wix_busy:
            return (
                "Wix is busy right now (this minute's calls are used up): these are the customers already on this desk."
            )
        if self.wix_unreachable:
            return "Wix did not answer: these are the customers already on this desk."
        return ""


@dataclass(frozen=True)
class NewCustomer:
    """A customer to create at the desk (``walk_in_book``'s "new customer" form)."""

    first_name: str
    last_name: str = ""
    email: str = ""
    phone: str = ""


def customer_chosen(
    *, user: Any, contact: Contact | None, new_customer: NewCustomer | None, idempotency_key: str
) -> Contact:
    """The customer a desk form books for: the one found, or the new one it names, created with
    the form's key (``-contact``) so the same form sent again makes them once. Call it inside the
    booking's transaction. Raises ``BookingError`` ``contact_invalid`` when there is neither (and
    what ``customer_create`` raises)."""
    if new_customer is not None:
        contact = customer_create(
            user=user,
            first_name=new_customer.first_name,
            last_name=new_customer.last_name,
            email=new_customer.email,
            phone=new_customer.phone,
            idempotency_key=idempotency_key + "-contact",
        )
    if contact is None:
        raise BookingError("Choose a customer.", code="contact_invalid")
    return contact


def customer_create(
    *,
    user: Any,
    first_name: str,
    last_name: str = "",
    email: str = "",
    phone: str = "",
    idempotency_key: str,
) -> Contact:
    """A new customer, usable at once (a local contact); the worker creates it in Wix.

    Raises ``BookingError`` ``contact_invalid`` (a first name and an email or phone are needed,
    the email must look like one) or ``contact_duplicate`` (that email is in the mirror already).
    """
    ledger.require_key(idempotency_key)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, phone = (email or "").strip(), (phone or "").strip()
    if not first_name or not (email or phone):
        raise BookingError("Give a first name and an email address or a phone number.", code="contact_invalid")
    if email and not EMAIL_PATTERN.match(email):
        raise BookingError(f"“{email}” doesn't look like an email address.", code="contact_invalid")
    if phone and sum(ch.isdigit() for ch in phone) < 5:
        raise BookingError(f"“{phone}” doesn't look like a phone number.", code="contact_invalid")
    with transaction.atomic():
        same = {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone}
        existing = ledger.existing(idempotency_key, DeskAction.Kind.CONTACT_CREATE, params=same)
        if existing is not None and existing.contact is not None:
            return existing.contact
        if email and Contact.objects.filter(search_email=email.casefold()).exists():
            other = Contact.objects.filter(search_email=email.casefold()).first()
            raise BookingError(
                f"{other} already has the email {email}: choose them from the search instead.",
                code="contact_duplicate",
            )
        contact = Contact.objects.create(first_name=first_name, last_name=last_name, email=email, phone=phone)
        ledger.new_action(
            user=user,
            kind=DeskAction.Kind.CONTACT_CREATE,
            key=idempotency_key,
            contact=contact,
            params={"first_name": first_name, "last_name": last_name, "email": email, "phone": phone},
        )
        audit_record(
            user=user,
            action="contact.create",
            obj_type="contact",
            obj_id=contact.pk,
            summary=f"Added customer {contact}",
            after={"first_name": first_name, "last_name": last_name, "email": email, "phone": phone},
        )
    return contact


SEARCH_LIMIT = 20


def wix_lookup_wanted(query: str, found: int, *, limit: int = SEARCH_LIMIT) -> bool:
    """Whether a search that found ``found`` customers in the mirror would also ask Wix: fewer
    than a page of hits, for a query of at least three characters."""
    return found < limit and len((query or "").strip()) >= MIN_WIX_QUERY


def customer_search(*, query: str, wix: WixClient | None = None, limit: int = SEARCH_LIMIT) -> CustomerHits:
    """Customers whose name (every word), email or phone matches ``query``, by surname.

    The mirror is searched first. With ``wix`` given, fewer than ``limit`` hits and a query of
    at least three characters, Wix's contacts are asked too (errors are swallowed: the result is
    the mirror's, flagged ``wix_unreachable``); contacts only Wix knew are written into the
    mirror so they can be booked. A fixed number of queries however many hits. Raises nothing.
    """
    hits = CustomerHits()
    query = (query or "").strip()
    if not query:
        return hits
    contacts = selectors.contact_search(query=query, limit=limit)
    found_in_wix: set[int] = set()
    if wix is not None and wix_lookup_wanted(query, len(contacts), limit=limit):
        try:
            extra = _wix_contacts(wix=wix, query=query, limit=limit, known={c.wix_id for c in contacts})
        except WixError as exc:
            logger.info("customer search: Wix unreachable (%s); mirror-only result", exc)
            hits.wix_unreachable = True
            hits.wix_busy = isinstance(exc, WixRateBudgetExhausted)
        else:
            found_in_wix = {c.pk for c in extra}
            contacts = (contacts + extra)[:limit]
    hits.extend(_hits(contacts, from_wix=found_in_wix))
    return hits


def _hits(contacts: list[Contact], *, from_wix: set[int]) -> list[CustomerHit]:
    """Members, live balances, owed amounts and check-in alerts for ``contacts``: four queries."""
    if not contacts:
        return []
    ids = [c.pk for c in contacts]
    members = {m.contact_id: m for m in Member.objects.filter(contact_id__in=ids)}
    balances: dict[int, list[BenefitBalance]] = defaultdict(list)
    live = (
        BenefitBalance.objects.filter(member__contact_id__in=ids, status__iexact="ACTIVE")
        .filter(Q(unlimited=True) | Q(remaining_credits__gt=0))
        .select_related("member", "plan_order")
        .order_by("name", "pk")
    )
    for balance in live:
        balances[balance.member.contact_id].append(balance)
    owes = contact_owes(contact_ids=ids)
    alerts = selectors.customer_alerts(contact_ids=ids)
    return [
        CustomerHit(
            contact=c,
            member=members.get(c.pk),
            balances=balances.get(c.pk, []),
            owes=owes.get(c.pk, Decimal("0")),
            from_wix=c.pk in from_wix,
            alerts=alerts.get(c.pk, []),
        )
        for c in contacts
    ]


# What the desk's rule reads of a booking (``money.due``): no Wix payloads.
_OWES_FIELDS = (
    "contact_id",
    "payment_status",
    "total_participants",
    "service__price",
    "service__currency",
)


def contact_owes(*, contact_ids: list[int]) -> dict[int, Decimal]:
    """Contact pk → what their NOT_PAID / PARTIALLY_PAID bookings owe by the desk's rule
    (``money.amounts_due``: the balance of the orders behind them, else the list price, less the
    desk's payments that Wix has not confirmed yet), so a customer who just paid at the desk is
    not shown as owing. An order shared by two of their bookings counts once. Three queries."""
    bookings = list(
        Booking.objects.filter(
            contact_id__in=contact_ids, payment_status__in=OWING_STATUSES, status__in=Booking.ACTIVE_STATUSES
        )
        .select_related("service")
        .only(*_OWES_FIELDS)
    )
    if not bookings:
        return {}
    due, order_sets = money.amounts_due_and_orders(bookings)
    owes: dict[int, Decimal] = defaultdict(Decimal)
    counted: set[tuple[int, frozenset[int]]] = set()
    for booking in bookings:
        orders = frozenset(order_sets.get(booking.pk, {}))
        if orders:
            if (booking.contact_id, orders) in counted:
                continue
            counted.add((booking.contact_id, orders))
        if due[booking.pk] > 0:
            owes[booking.contact_id] += due[booking.pk]
    return dict(owes)


def _wix_contacts(*, wix: WixClient, query: str, limit: int, known: set[str | None]) -> list[Contact]:
    """Contacts Wix matches for ``query`` that the mirror lacks, written into the mirror (with
    their member, if any). Two Wix calls at most. Raises ``WixError``."""
    word = normalise_text(query).split()[0] if normalise_text(query) else query
    needle = query.strip() if "@" in query or any(ch.isdigit() for ch in query) else word
    # The name filter matches the first word; the whole query is checked locally below.
    flt = {
        "$or": [
            {"info.name.first": {"$startsWith": needle}},
            {"info.name.last": {"$startsWith": needle}},
            {"primaryInfo.email": {"$startsWith": needle}},
            {"primaryInfo.phone": {"$startsWith": needle}},
        ]
    }
    answer = wix_contacts.query_contacts(wix, query={"filter": flt, "paging": {"limit": limit}})
    found = [c for c in answer.get("contacts") or [] if c.get("id") and c["id"] not in known]
    found = [c for c in found if _matches(c, query)]
    if not found:
        return []
    ids = [c["id"] for c in found]
    answer = wix_members.query_members(
        wix, query={"filter": {"contactId": {"$in": ids}}, "paging": {"limit": len(ids)}}, fieldsets=["FULL"]
    )
    members = answer.get("members") or []
    run = mirror.run.MirrorRun(wix=wix, actor="desk")
    with transaction.atomic():
        mirrored = mirror.contacts.contacts_write(run, found)
        # A contact keeps the member the mirror already links to it.
        new_members = [
            m
            for m in members
            if (contact := mirrored.get(m.get("contactId") or "")) is not None
            and not Member.objects.filter(contact=contact).exclude(wix_id=m["id"]).exists()
        ]
        if new_members:
            mirror.members.members_write(run, new_members)
    return [mirrored[c["id"]] for c in found if c["id"] in mirrored]


def _matches(contact: dict[str, Any], query: str) -> bool:
    info = contact.get("info") or {}
    name = info.get("name") or {}
    primary = contact.get("primaryInfo") or {}
    text = normalise_text(f"{name.get('first') or ''} {name.get('last') or ''}")
    words = normalise_text(query).split()
    if words and all(w in text for w in words):
        return True
    lowered = query.strip().casefold()
    if lowered and lowered in (primary.get("email") or "").casefold():
        return True
    digits = "".join(ch for ch in query if ch.isdigit())
    return len(digits) >= 3 and digits in "".join(ch for ch in (primary.get("phone") or "") if ch.isdigit())
