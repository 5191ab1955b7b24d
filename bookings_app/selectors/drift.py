"""The drift watchdog: where the mirror, the desk and Wix disagree (issue 12, item 4).

Seven kinds of case, each one SQL query on the mirror and the desk's ledger — no Wix call:

* ``paid_at_desk`` — the desk took the money (a full payment or a plan charge), Wix accepted it,
  and yet the booking's Wix order (or, with no order, the booking) still says unpaid: once the
  sync has read the order since, or ``DRIFT_GRACE_MINUTES`` after Wix accepted it;
* ``paid_in_wix`` — a Wix order is paid but a booking on it does not show paid (and the desk has
  nothing of it on the way);
* ``attended_unpaid`` — checked in at a session that has ended, with a price, not paid, not on a
  plan, and nothing of the desk's on the way;
* ``plan_credits`` — a plan charge Wix accepted whose balance, as the mirror now reads it, has
  at least the credits it had before the charge (and no void took it back);
* ``stuck_attention`` / ``stuck_waiting`` — a desk action needing attention, or waiting for
  Wix, for longer than ``DRIFT_STUCK_MINUTES``;
* ``over_capacity`` — a session with more people booked than places.

Sessions, payments and charges older than ``DRIFT_LOOKBACK_DAYS`` are history: the sync no
longer reads them, so nothing here could mend them. Each kind is one count (:func:`drift_counts`)
and one page of cases, oldest first (:func:`drift_sections`, keyset-paged on (since, pk)); the
page's related rows come with ``select_related`` and at most one more lookup per kind
(``selectors.drift_cases`` turns them into cases in plain words), so the number of queries does
not grow with the data. The header's count (:func:`drift_total_cached`) is kept
for ``TOTAL_CACHE_SECONDS``; a fix forgets it (:func:`drift_forget`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    DeskAction,
    OrderLineItem,
    Session,
)
from bookings_app.selectors import drift_cases
from bookings_app.selectors.drift_cases import (
    ATTENDED_UNPAID,
    KINDS,
    OVER_CAPACITY,
    PAID_AT_DESK,
    PAID_IN_WIX,
    PLAN_CREDITS,
    PS,
    STUCK_ATTENTION,
    STUCK_WAITING,
    DriftCase,
    DriftKind,
    Window,
)
from bookings_app.selectors.queries import charged_to_plan_q, outer_roster_q

Kind = DeskAction.Kind
Status = DeskAction.Status

TOTAL_CACHE_KEY = "bookings_app:drift-total"
TOTAL_CACHE_SECONDS = 60
PAGE_SIZE = 25

UNPAID_ORDER = ("NOT_PAID", "PARTIALLY_PAID")
UNPAID_BOOKING = (PS.UNDEFINED, PS.NOT_PAID, PS.PARTIALLY_PAID, PS.FAILED)
GONE = (Booking.Status.CANCELED, Booking.Status.DECLINED)


@dataclass
class DriftSection:
    kind: DriftKind
    count: int
    cases: list[DriftCase]
    more: str = ""  # the keyset cursor of the next page ("" when there is none)


# --- one query per kind ----------------------------------------------------------------------------


def _paid_at_desk(w: Window) -> QuerySet[DeskAction]:
    later = DeskAction.objects.filter(
        booking_id=OuterRef("booking_id"),
        pk__gt=OuterRef("pk"),
        kind__in=(*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS),
    ).exclude(status__in=(Status.UNDONE, Status.REMOVED))
    orders = OrderLineItem.objects.filter(booking_id=OuterRef("booking_id")).exclude(order__status="CANCELED")
    unpaid = orders.filter(order__payment_status__in=UNPAID_ORDER)
    read_since = unpaid.filter(order__synced_at__gt=OuterRef("updated_at"))
    no_order = Q(~Exists(orders), booking__payment_status__in=UNPAID_BOOKING) & (
        Q(updated_at__lte=w.grace) | Q(booking__synced_at__gt=F("updated_at"))
    )
    return (
        DeskAction.objects.filter(
            Q(kind=Kind.PAYMENT, params__full=True) | Q(kind=Kind.PLAN_CHARGE),
            status=Status.SYNCED,
            updated_at__gte=w.since,
            booking__pending_sync=False,
        )
        .exclude(booking__status__in=GONE)
        .exclude(Exists(later))
        .filter((Q(updated_at__lte=w.grace) & Exists(unpaid)) | Exists(read_since) | no_order)
        .annotate(since=F("updated_at"))
    )


def _paid_in_wix(w: Window) -> QuerySet[OrderLineItem]:
    return (
        OrderLineItem.objects.filter(order__payment_status="PAID", booking__pending_sync=False)
        .exclude(order__status="CANCELED")
        .exclude(booking__payment_status__in=Booking.SETTLED_PAYMENT_STATUSES)
        .annotate(since=Coalesce("order__wix_updated_at", "order__synced_at"))
        .filter(since__gte=w.since)
    )


def _attended_unpaid(w: Window) -> QuerySet[Attendance]:
    on_plan = Booking.objects.filter(charged_to_plan_q(), pk=OuterRef("booking_id"))
    return (
        Attendance.objects.filter(
            status=Attendance.Status.ATTENDED,
            session__start__gte=w.since,
            session__end__lte=w.now,
            booking__payment_status__in=UNPAID_BOOKING,
            booking__pending_sync=False,
            booking__service__price__gt=0,
        )
        .exclude(booking__status__in=GONE)
        .exclude(Exists(on_plan))
        .annotate(since=F("session__end"))
    )


def _plan_credits(w: Window) -> QuerySet[DeskAction]:
    balance = BenefitBalance.objects.filter(pk=OuterRef("balance_pk"))
    # ``params.reverses`` read as a number, so the comparison is the same on SQLite and PostgreSQL.
    voided = DeskAction.objects.annotate(reverses=Cast(KT("params__reverses"), BigIntegerField())).filter(
        kind=Kind.VOID_PLAN_CHARGE, reverses=OuterRef("pk"), status__in=(*DeskAction.LIVE_STATUSES, Status.SYNCED)
    )
    return (
        DeskAction.objects.filter(kind=Kind.PLAN_CHARGE, status=Status.SYNCED, updated_at__gte=w.since)
        .annotate(
            balance_pk=Cast(KT("params__balance_id"), BigIntegerField()),
            credits_before=Cast(KT("before__credits"), DecimalField(max_digits=10, decimal_places=2)),
        )
        .annotate(
            credits_now=Subquery(balance.values("remaining_credits")[:1]),
            unlimited=Subquery(balance.values("unlimited")[:1]),
        )
        # A JSON null would be read as 0 on SQLite: a charge that kept no count is left out first.
        .filter(before__has_key="credits")
        .exclude(before__credits=None)
        .filter(unlimited=False, credits_now__gte=F("credits_before"))
        .exclude(Exists(voided))
        .annotate(since=F("updated_at"))
    )


def _stuck_attention(w: Window) -> QuerySet[DeskAction]:
    return DeskAction.objects.filter(status=Status.NEEDS_ATTENTION, updated_at__lte=w.stuck).annotate(
        since=F("updated_at")
    )


def _stuck_waiting(w: Window) -> QuerySet[DeskAction]:
    return DeskAction.objects.filter(status__in=(Status.QUEUED, Status.RUNNING), run_after__lte=w.stuck).annotate(
        since=F("run_after")
    )


def _over_capacity(w: Window) -> QuerySet[Session]:
    active = Booking.objects.filter(outer_roster_q(), status__in=Booking.ACTIVE_STATUSES).order_by()
    booked = Coalesce(
        Subquery(
            active.values(total=Func(F("total_participants"), function="SUM", output_field=IntegerField())),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    # MAX as a plain function, not an aggregate: no GROUP BY, one row (as ``booked``'s SUM).
    latest = active.values(
        latest=Func(Coalesce("wix_created_at", "synced_at"), function="MAX", output_field=DateTimeField())
    )
    return (
        Session.objects.filter(start__gte=w.since)
        .exclude(status__in=("CANCELLED", "CANCELED"))
        .annotate(places=Coalesce("capacity", "service__default_capacity"), booked=booked)
        .filter(places__isnull=False, booked__gt=F("places"))
        .annotate(since=Coalesce(Subquery(latest), F("start")))
    )


QUERIES: dict[str, Callable[[Window], QuerySet[Any]]] = {
    PAID_AT_DESK: _paid_at_desk,
    PAID_IN_WIX: _paid_in_wix,
    ATTENDED_UNPAID: _attended_unpaid,
    PLAN_CREDITS: _plan_credits,
    STUCK_ATTENTION: _stuck_attention,
    STUCK_WAITING: _stuck_waiting,
    OVER_CAPACITY: _over_capacity,
}


# --- counts ----------------------------------------------------------------------------------------


def drift_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Kind → how many cases: one count query per kind."""
    w = Window.at(now)
    return {kind: query(w).order_by().count() for kind, query in QUERIES.items()}


def drift_total_cached() -> int:
    """Every case of every kind, for the header: counted at most once a ``TOTAL_CACHE_SECONDS``."""
    total = cache.get(TOTAL_CACHE_KEY)
    if total is None:
        total = sum(drift_counts().values())
        cache.set(TOTAL_CACHE_KEY, total, TOTAL_CACHE_SECONDS)
    return total


def drift_forget() -> None:
    """A fix was made: the header counts again on its next page."""
    cache.delete(TOTAL_CACHE_KEY)


# --- pages of cases --------------------------------------------------------------------------------


def cursor_parse(value: str | None) -> tuple[datetime, int] | None:
    """``"<iso time>|<pk>"`` (what ``DriftSection.more`` holds) → (since, pk); None when unreadable."""
    if not value or "|" not in value or len(value) > 80:
        return None
    moment, _, pk = value.rpartition("|")
    try:
        since = datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        return None
    if timezone.is_naive(since) or not 0 < number < 2**63:
        return None
    return since, number


def _cursor(case: DriftCase) -> str:
    return f"{case.since.isoformat()}|{case.pk}"


def drift_sections(
    *, kind: str | None = None, after: tuple[datetime, int] | None = None, now: datetime | None = None
) -> list[DriftSection]:
    """Every kind with its count and its first page of cases (oldest first); with ``kind``, that
    kind alone, from ``after`` (a cursor, see :func:`cursor_parse`)."""
    w = Window.at(now)
    sections = []
    for code, query in QUERIES.items():
        if kind is not None and code != kind:
            continue
        base = query(w)
        count = base.order_by().count()
        page = base
        if after is not None and kind is not None:
            page = page.filter(Q(since__gt=after[0]) | Q(since=after[0], pk__gt=after[1]))
        rows = list(drift_cases.related(code, page.order_by("since", "pk"))[: PAGE_SIZE + 1]) if count else []
        cases = drift_cases.build(code, rows[:PAGE_SIZE], w)
        more = _cursor(cases[-1]) if len(rows) > PAGE_SIZE else ""
        sections.append(DriftSection(kind=KINDS[code], count=count, cases=cases, more=more))
    return sections


def drift_case_get(*, kind: str, pk: int, now: datetime | None = None) -> DriftCase | None:
    """One case, if it still stands (a fix's page re-reads it after acting)."""
    if kind not in QUERIES or not 0 < pk < 2**63:
        return None
    w = Window.at(now)
    rows = list(drift_cases.related(kind, QUERIES[kind](w).filter(pk=pk)))
    built = drift_cases.build(kind, rows, w)
    return built[0] if built else None
