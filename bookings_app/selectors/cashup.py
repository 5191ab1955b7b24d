"""What the desk took, to count the till against: per session, per staff member, per day.

The expected cash, card and cheque come from the desk's own actions, never from Wix: what staff
recorded taking (``PAYMENT``: cash, card or cheque on a booking; ``PLAN_SALE``: a plan sold at
the desk; ``PACKAGE``: a package paid at once), less what they handed back (``REFUND``: the
reversal of a payment, in the same method). Each is dated by when it was recorded, in the
business's time zone:

* a **session**'s takings are its actions recorded on the session's own day (money taken for
  it another day went into that day's till);
* a **staff member**'s are the actions they recorded that day;
* the **day**'s are every action recorded that day.

What an action means for the till follows its state: undone or removed (taken back before Wix
had it) counts nothing — the money was handed back or never taken — and is listed, struck
through, so the figure can be traced; waiting for Wix, in Wix or refused by Wix (needs
attention) all count: the money is in the till whatever Wix said. A payment reversed later is
still counted on its day; its refund takes the money out on the day of the refund.

Two queries for a cash-up (the actions, and the reversals of its payments); two for a day's
list (the actions, its cash-ups).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils import timezone

from bookings_app.models import CashUp, DeskAction, Service, Session
from bookings_app.selectors.batches import reversed_action_ids
from bookings_app.selectors.sessions import day_bounds

Kind = DeskAction.Kind
Status = DeskAction.Status
METHODS = ("CASH", "CARD", "CHECK")
MONEY_KINDS = (Kind.PAYMENT, Kind.REFUND, Kind.PLAN_SALE, Kind.PACKAGE)
ZERO = Decimal("0")
CENT = Decimal("0.01")
_NOT_COUNTED = (Status.UNDONE, Status.REMOVED)
_NOTES = {
    Status.QUEUED: "waiting for Wix",
    Status.RUNNING: "sending to Wix",
    Status.SYNCED: "in Wix",
    Status.NEEDS_ATTENTION: "Wix refused it: counted (the money was taken)",
    Status.UNDONE: "undone: not counted",
    Status.REMOVED: "removed: not counted",
}


@dataclass(frozen=True)
class CashupScope:
    """Whose takings: a session (on its day), a staff member's on a day, or the whole day."""

    kind: str  # CashUp.Scope
    day: date
    session: Session | None = None
    staff: Any = None  # a user

    @property
    def label(self) -> str:
        if self.kind == CashUp.Scope.SESSION and self.session is not None:
            title = self.session.title or self.session.service.name
            return f"{title}, {self.day:%a} {self.day.day} {self.day:%b}"
        if self.kind == CashUp.Scope.STAFF and self.staff is not None:
            return f"{self.staff.get_username()}, {self.day:%a} {self.day.day} {self.day:%b}"
        return f"The whole day, {self.day:%a} {self.day.day} {self.day:%b %Y}"

    def cashups(self) -> QuerySet[CashUp]:
        found = CashUp.objects.filter(scope=self.kind, day=self.day)
        if self.kind == CashUp.Scope.SESSION:
            return found.filter(session=self.session)
        if self.kind == CashUp.Scope.STAFF:
            return found.filter(staff=self.staff)
        return found


@dataclass
class CashLine:
    """One desk action behind the expected figure (or beside it, when it counts nothing)."""

    action: DeskAction
    what: str
    method: str  # CASH | CARD | CHECK
    amount: Decimal  # signed: a refund takes money out of the till
    counted: bool
    note: str

    @property
    def who(self) -> str:
        contact = self.action.contact or (self.action.booking.contact if self.action.booking else None)
        return str(contact) if contact else ""


@dataclass
class Takings:
    scope: CashupScope
    currency: str
    lines: list[CashLine] = field(default_factory=list)

    def expected(self, method: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.counted and line.method == method), ZERO)

    @property
    def cash(self) -> Decimal:
        return self.expected("CASH")

    @property
    def card(self) -> Decimal:
        return self.expected("CARD")

    @property
    def check(self) -> Decimal:
        return self.expected("CHECK")

    @property
    def total(self) -> Decimal:
        return self.cash + self.card + self.check

    def snapshot(self) -> dict[str, str]:
        """The counted actions and their amounts: kept with a count, compared at sign-off."""
        return {str(line.action.pk): f"{line.method}:{line.amount}" for line in self.lines if line.counted}


def money_of(action: DeskAction) -> tuple[str, str, Decimal] | None:
    """(what, method, signed amount) an action put in or took out of the till, or None."""
    params = action.params or {}
    if action.kind == Kind.PAYMENT:
        what, method, amount = "Payment", params.get("method"), params.get("amount")
        if params.get("instead_of"):
            what = "Cash instead of a plan"
    elif action.kind == Kind.REFUND:
        what, method, amount = "Refund", params.get("method"), params.get("amount")
    elif action.kind == Kind.PLAN_SALE:
        what, method, amount = (
            f"Plan sold: {params.get('plan_name') or 'a plan'}",
            params.get("method"),
            params.get("price"),
        )
    elif action.kind == Kind.PACKAGE:
        what, method, amount = "Package", params.get("pay"), params.get("amount")
    else:
        return None
    method = str(method or "").upper()
    if method not in METHODS:
        return None  # a package on a plan, or paid later: no money at the desk
    value = Decimal(str(amount or "0")).quantize(CENT)
    return what, method, -value if action.kind == Kind.REFUND else value


def _actions(scope: CashupScope) -> QuerySet[DeskAction]:
    start, end = day_bounds(scope.day)
    found = DeskAction.objects.filter(kind__in=MONEY_KINDS, created_at__gte=start, created_at__lt=end)
    if scope.kind == CashUp.Scope.SESSION:
        found = found.filter(session=scope.session)
    elif scope.kind == CashUp.Scope.STAFF:
        found = found.filter(created_by=scope.staff)
    return found


def cashup_takings(*, scope: CashupScope) -> Takings:
    """Every desk money action of ``scope``, oldest first, and what the till should hold."""
    actions = list(
        _actions(scope)
        .select_related("booking__contact", "booking__service", "contact", "session__service", "created_by")
        .order_by("created_at", "pk")
    )
    payments = {a.booking_id for a in actions if a.kind == Kind.PAYMENT and a.booking_id}
    refunded = reversed_action_ids(booking_ids=payments) if payments else set()
    lines = []
    currencies: dict[str, int] = defaultdict(int)
    for action in actions:
        found = money_of(action)
        if found is None:
            continue
        what, method, amount = found
        note = _NOTES.get(action.status, "")
        if action.pk in refunded and action.status not in _NOT_COUNTED:
            note += "; refunded since (the refund is taken out on its own day)"
        lines.append(
            CashLine(
                action=action,
                what=what,
                method=method,
                amount=amount,
                counted=action.status not in _NOT_COUNTED,
                note=note,
            )
        )
        currency = action.booking.service.currency if action.booking else (action.params or {}).get("currency", "")
        if currency:
            currencies[currency] += 1
    if scope.session is not None:
        currency = scope.session.service.currency
    elif currencies:
        currency = max(currencies, key=currencies.__getitem__)
    else:
        currency = site_currency()
    return Takings(scope=scope, currency=currency, lines=lines)


def site_currency() -> str:
    """The currency most services are sold in (a site sells in one). One query."""
    found = (
        Service.objects.exclude(currency="")
        .values("currency")
        .annotate(n=Count("pk"))
        .order_by("-n", "currency")
        .first()
    )
    return found["currency"] if found else ""


def cashup_get(*, scope: CashupScope) -> CashUp | None:
    """The count made for ``scope``, if any (with who counted and who signed it off). One query."""
    return scope.cashups().select_related("counted_by", "signed_off_by").first()


def cashup_by_pk(*, pk: int) -> CashUp | None:
    return CashUp.objects.filter(pk=pk).select_related("session__service", "staff").first()


# --- a day's cash-ups ------------------------------------------------------------------------------


@dataclass
class DayEntry:
    """One line of a day's cash-ups: a session, a staff member or the day, with what the desk
    took and its count (if any)."""

    scope: CashupScope
    cash: Decimal = ZERO
    card: Decimal = ZERO
    check: Decimal = ZERO
    actions: int = 0
    cashup: CashUp | None = None

    @property
    def total(self) -> Decimal:
        return self.cash + self.card + self.check

    def add(self, method: str, amount: Decimal) -> None:
        name = {"CASH": "cash", "CARD": "card", "CHECK": "check"}[method]
        setattr(self, name, getattr(self, name) + amount)
        self.actions += 1


@dataclass
class DayCashups:
    day: date
    currency: str
    whole_day: DayEntry
    sessions: list[DayEntry]
    staff: list[DayEntry]


def cashup_day_read(*, day: date) -> DayCashups:
    """The day's takings by session and by staff member, and the whole day's, each with its count:
    every session with desk money that day or a count. Three queries (four with a count of a
    session that took no money)."""
    start, end = day_bounds(day)
    whole = DayEntry(scope=CashupScope(CashUp.Scope.DAY, day))
    sessions: dict[int, DayEntry] = {}
    staff: dict[int, DayEntry] = {}
    currencies: dict[str, int] = defaultdict(int)
    for action in (
        DeskAction.objects.filter(kind__in=MONEY_KINDS, created_at__gte=start, created_at__lt=end)
        .exclude(status__in=_NOT_COUNTED)
        .select_related("session__service", "created_by")
        .order_by("created_at", "pk")
    ):
        found = money_of(action)
        if found is None:
            continue
        _, method, amount = found
        whole.add(method, amount)
        if action.session_id and timezone.localdate(action.session.start) == day:
            entry = sessions.setdefault(
                action.session_id, DayEntry(scope=CashupScope(CashUp.Scope.SESSION, day, session=action.session))
            )
            entry.add(method, amount)
            currencies[action.session.service.currency] += 1
        if action.created_by_id:
            entry = staff.setdefault(
                action.created_by_id, DayEntry(scope=CashupScope(CashUp.Scope.STAFF, day, staff=action.created_by))
            )
            entry.add(method, amount)
    counts = list(CashUp.objects.filter(day=day).select_related("session__service", "staff", "signed_off_by"))
    for cashup in counts:
        if cashup.scope == CashUp.Scope.DAY:
            whole.cashup = cashup
        elif cashup.scope == CashUp.Scope.SESSION and cashup.session_id:
            sessions.setdefault(
                cashup.session_id, DayEntry(scope=CashupScope(CashUp.Scope.SESSION, day, session=cashup.session))
            ).cashup = cashup
        elif cashup.scope == CashUp.Scope.STAFF and cashup.staff_id:
            staff.setdefault(
                cashup.staff_id, DayEntry(scope=CashupScope(CashUp.Scope.STAFF, day, staff=cashup.staff))
            ).cashup = cashup
    currency = max(currencies, key=currencies.__getitem__) if currencies else site_currency()
    return DayCashups(
        day=day,
        currency=currency,
        whole_day=whole,
        sessions=sorted(sessions.values(), key=lambda e: (e.scope.session.start, e.scope.session.pk)),
        staff=sorted(staff.values(), key=lambda e: e.scope.staff.get_username()),
    )


def staff_user_get(*, pk: int) -> Any:
    """The user whose takings are counted (one who has left too: their old days), or None."""
    return get_user_model().objects.filter(pk=pk).first()
