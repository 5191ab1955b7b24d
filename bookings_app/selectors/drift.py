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
longer reads them, so nothing here could mend them. Each kind is one count (:func:`drift_counts`,
what the header shows) and one page of cases, oldest first (:func:`drift_sections`, keyset-paged
on (since, pk): a narrow query a kind, the pages' rows — one query for the kinds read from desk
actions, one for each other kind — and at most three more lookups for the pages' words in
``selectors.drift_cases``), so the number of queries does not grow with the data. The header's
count (:func:`drift_total_cached`) is kept for ``TOTAL_CACHE_SECONDS`` (the page of every kind,
which counts them all anyway, leaves its own total there: :func:`drift_total_keep`); a fix
forgets it (:func:`drift_forget`).

The first page's narrow queries are compiled once per connection and run again with each read's
moments (``selectors.drift_sql``).

On the bench's season (50,000 bookings; ``bench/pages.py``) the slowest kinds are "paid in Wix"
(no index narrows orders paid but not on their booking: it goes through the week's paid orders,
a few thousand, to their bookings) and "came but did not pay" (every check-in of the week). The
first reads indexes only (0019_drift_indexes): the paid orders by their time, with the columns
the query needs (a plain index on the order's payment status or update time made it slower:
SQLite then read the wide order rows one by one), an order's lines with their bookings, and the
bookings not shown paid — as a list of ids (``_unsettled``), not a join: SQLite joined a
booking's wide row for every paid line (17 ms of the page's SQL, 8 ms as a list). "Came but did
not pay" checks the same list first on SQLite. The desk's actions are read by (status, update
time) (0020_drift_action_index): the last week's, not every synced action of the season.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
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
    When,
)
from django.db.models import Window as SqlWindow
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In, LessThanOrEqual
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    DeskAction,
    OrderLineItem,
    Service,
    Session,
    WriteOff,
)
from bookings_app.selectors import drift_cases, drift_sql
from bookings_app.selectors.drift_cases import (
    ACTION_KINDS,
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
from bookings_app.selectors.queries import plan_paid_lines

Kind = DeskAction.Kind
Status = DeskAction.Status

TOTAL_CACHE_KEY = "bookings_app:drift-total"
TOTAL_CACHE_SECONDS = 60
PAGE_SIZE = 25  # cases of one kind per page
OVERVIEW_SIZE = 5  # cases of each kind on the page of every kind

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
    # An unpaid order the sync read after Wix took the payment, or any once the grace is over: one
    # correlated EXISTS (two, OR'ed, made PostgreSQL hash every unpaid order of the season first).
    settled_long_ago = LessThanOrEqual(OuterRef("updated_at"), Value(w.grace))
    unpaid = orders.filter(
        Q(order__synced_at__gt=OuterRef("updated_at")) | Q(settled_long_ago),
        order__payment_status__in=UNPAID_ORDER,
    )
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
        .filter(Q(Exists(unpaid)) | no_order)
        .annotate(since=F("updated_at"))
    )


def _unsettled(column: str) -> In:
    """``column`` (a booking's id) is one of the bookings not shown paid and not being changed by
    the desk: read from the partial index ``booking_unsettled`` alone (17,000 ids on the bench's
    season, gathered in about three milliseconds on SQLite), never from the wide booking rows. On
    SQLite the column is written ``+column``, so the planner does not drive the query from that
    list instead (the unsettled bookings of the whole season to their lines: slower)."""
    settled = _AmongConstants("payment_status", Booking.SETTLED_PAYMENT_STATUSES)
    unsettled = Booking.objects.filter(pending_sync=False).exclude(settled).order_by().values("pk")
    return In(_NotIndexed(F(column)), unsettled)


class _AmongConstants(Func):
    """``column IN ('A', 'B')`` with the values written into the SQL, as the partial index's
    condition has them: SQLite uses a partial index only when the query's terms match its
    condition's, and a bound parameter matches a constant in ``=`` but not in an IN list."""

    output_field = BooleanField()

    def __init__(self, column: str, values: tuple[str, ...]) -> None:
        if not all(re.fullmatch(r"[A-Z_]+", v) for v in values):
            raise ValueError(f"not a status: {values!r}")  # written into the SQL: plain words only
        self.values = tuple(values)
        super().__init__(F(column))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        constants = ", ".join(f"'{v}'" for v in self.values)
        return f"{column} IN ({constants})", params


class _NotIndexed(Func):
    """A column that SQLite's planner must not look up by its indexes (``+column``; the column
    itself elsewhere)."""

    template = "%(expressions)s"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def _paid_in_wix(w: Window) -> QuerySet[OrderLineItem]:
    # From the week's paid orders (``order_paid_since``) to their lines, each line's booking
    # checked against the unsettled ones: joining the bookings read a wide row per paid line.
    return (
        OrderLineItem.objects.filter(_unsettled("booking_id"), order__payment_status="PAID")
        .exclude(order__status="CANCELED")
        .annotate(since=Coalesce("order__wix_updated_at", "order__synced_at"))
        .filter(since__gte=w.since)
    )


def _attended_unpaid(w: Window) -> QuerySet[Attendance]:
    # Charged to a plan (``queries.charged_to_plan_q``): for a booking not settled, only a plan
    # payment on its order can say so (the rule's other half asks for a settled one).
    on_plan = plan_paid_lines(OuterRef("booking_id"))
    # The sessions first (their start is indexed), then their attendance by (session, status).
    ended = Session.objects.filter(start__gte=w.since, start__lte=w.now, end__lte=w.now).values("pk")
    attended = (
        Attendance.objects.filter(
            status=Attendance.Status.ATTENDED,
            session_id__in=ended,
            booking__payment_status__in=UNPAID_BOOKING,
            booking__pending_sync=False,
            booking__service__price__gt=0,
        )
        .exclude(booking__status__in=GONE)
        .exclude(Exists(on_plan))
        # A manager wrote off what they owe: decided, not drift (``models.write_offs``).
        .exclude(Exists(WriteOff.objects.filter(booking_id=OuterRef("booking_id"), reversed_at__isnull=True)))
        .annotate(since=F("session__end"))
    )
    if connection.vendor == "sqlite":
        # Each check-in of the week first against the unsettled bookings' ids (an index alone):
        # only those left read their booking's wide row and look for a plan payment. PostgreSQL
        # plans the joins well itself, and is slower for the extra semi-join.
        attended = attended.filter(_unsettled("booking_id"))
    return attended


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
    # A session's own bookings, plus — for a course session — the course's (booked onto the
    # schedule, no session): two sums, each read from an index, rather than one subquery with an OR.
    # Oldest session first ("since" is its start); when the last place was overbooked is read for
    # the page's rows only (``drift_cases.related``).
    active = Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES).order_by()
    own = active.filter(session_id=OuterRef("pk"))
    course = active.filter(session__isnull=True, service_id=OuterRef("service_id"))
    booked = _sum(own) + Case(When(service__type=Service.Type.COURSE, then=_sum(course)), default=Value(0))
    return (
        Session.objects.filter(start__gte=w.since)
        .exclude(status__in=("CANCELLED", "CANCELED"))
        .annotate(places=Coalesce("capacity", "service__default_capacity"), booked=booked)
        .filter(places__isnull=False, booked__gt=F("places"))
        .annotate(since=F("start"))
    )


def _sum(bookings: QuerySet[Booking]) -> Coalesce:
    """SUM(total_participants) of ``bookings`` as a scalar subquery (no GROUP BY), 0 when none."""
    total = bookings.values(total=Func(F("total_participants"), function="SUM", output_field=IntegerField()))
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


QUERIES: dict[str, Callable[[Window], QuerySet[Any]]] = {
    PAID_AT_DESK: _paid_at_desk,
    PAID_IN_WIX: _paid_in_wix,
    ATTENDED_UNPAID: _attended_unpaid,
    PLAN_CREDITS: _plan_credits,
    STUCK_ATTENTION: _stuck_attention,
    STUCK_WAITING: _stuck_waiting,
    OVER_CAPACITY: _over_capacity,
}
# The model each kind's cases are read from.
QUERY_MODELS: dict[str, type[Any]] = {
    **dict.fromkeys(ACTION_KINDS, DeskAction),
    PAID_IN_WIX: OrderLineItem,
    ATTENDED_UNPAID: Attendance,
    OVER_CAPACITY: Session,
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


def drift_total_keep(total: int) -> None:
    """The page of every kind has just counted every case (``total``): the header shows that
    number for the next ``TOTAL_CACHE_SECONDS`` rather than counting them all again."""
    cache.set(TOTAL_CACHE_KEY, total, TOTAL_CACHE_SECONDS)


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


# What a kind's words need of its query's annotations, read with the page's pks and times.
_CARRIED: dict[str, tuple[str, ...]] = {
    PLAN_CREDITS: ("credits_before", "credits_now"),
    OVER_CAPACITY: ("booked", "places"),
}


def drift_sections(
    *, kind: str | None = None, after: tuple[datetime, int] | None = None, now: datetime | None = None
) -> list[DriftSection]:
    """Every kind with its count and its first ``OVERVIEW_SIZE`` cases (oldest first); with
    ``kind``, that kind alone, ``PAGE_SIZE`` at a time from ``after`` (see :func:`cursor_parse`).

    One narrow query per kind, however many cases — the page's pks and times (and the few
    figures its words need), oldest first, with the kind's count alongside as a window function
    (a separate count past the first page) — then the pages' rows by pk, with what their words
    need joined in: one query for every kind read from desk actions, one for each other kind.
    Sorting only pks and times rather than the wide joined rows, and reading those rows by pk
    without the kind's filters again, is what keeps a kind with a thousand cases fast."""
    w = Window.at(now)
    size = PAGE_SIZE if kind is not None else OVERVIEW_SIZE
    heads: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    more: dict[str, bool] = {}
    for code, query in QUERIES.items():
        if kind is not None and code != kind:
            continue
        fields = ("pk", "since", *_CARRIED.get(code, ()))
        if after is not None and kind is not None:
            base = query(w)
            counts[code] = base.order_by().count()
            narrow = base.order_by("since", "pk").filter(Q(since__gt=after[0]) | Q(since=after[0], pk__gt=after[1]))
            head = list(narrow.values_list(*fields)[: size + 1])
        else:
            head = drift_sql.narrow_rows((code, size), w, partial(_first_page, query, fields, size))
            counts[code] = head[0][-1] if head else 0
        heads[code] = [dict(zip(fields, row, strict=False)) for row in head[:size]]
        more[code] = len(head) > size
    pages = _pages(heads, w)
    sections = []
    for code, cases in pages.items():
        cursor = _cursor(cases[-1]) if more[code] and cases else ""
        sections.append(DriftSection(kind=KINDS[code], count=counts[code], cases=cases, more=cursor))
    return sections


def _first_page(
    query: Callable[[Window], QuerySet[Any]], fields: tuple[str, ...], size: int, w: Window
) -> QuerySet[Any]:
    """A kind's first ``size + 1`` pks and times, oldest first, each with the kind's count."""
    narrow = query(w).order_by("since", "pk").annotate(total=SqlWindow(Count("pk")))
    return narrow.values_list(*fields, "total")[: size + 1]


def _pages(heads: dict[str, list[dict[str, Any]]], w: Window) -> dict[str, list[DriftCase]]:
    """Kind → its cases, from its ``head`` (oldest first, as given): the rows read by pk — one
    query for all the kinds read from desk actions (``drift_cases.ACTION_KINDS``), one for each
    other kind with cases — with the times and figures the narrow query carried."""
    groups: dict[tuple[type[Any], str], list[str]] = {}
    for code, head in heads.items():
        if head:
            shape = ACTION_KINDS[0] if code in ACTION_KINDS else code  # rows joined alike
            groups.setdefault((QUERY_MODELS[code], shape), []).append(code)
    rows: dict[str, dict[int, Any]] = {}
    for (model, shape), codes in groups.items():
        pks = sorted({h["pk"] for code in codes for h in heads[code]})
        make = partial(_related_rows, shape, model)
        read = {row.pk: row for row in drift_sql.page_rows((shape,), pks, make)}
        for code in codes:
            rows[code] = read
    pages: dict[str, list[DriftCase]] = {}
    taken: set[tuple[type[Any], int]] = set()
    for code, head in heads.items():
        found = []
        for carried in head:
            row = rows.get(code, {}).get(carried["pk"])
            if row is None:
                continue
            if (type(row), row.pk) in taken:  # a desk action that is a case of two kinds: a row each
                row = copy.copy(row)
            taken.add((type(row), row.pk))
            for name, value in carried.items():
                if name != "pk":
                    setattr(row, name, value)
            found.append(row)
        pages[code] = drift_cases.build(code, found, w)
    return pages


def _related_rows(shape: str, model: type[Any], pks: list[int]) -> QuerySet[Any]:
    return drift_cases.related(shape, model.objects.filter(pk__in=pks))


def drift_case_get(*, kind: str, pk: int, now: datetime | None = None) -> DriftCase | None:
    """One case, if it still stands (a fix's page re-reads it after acting)."""
    if kind not in QUERIES or not 0 < pk < 2**63:
        return None
    w = Window.at(now)
    fields = ("pk", "since", *_CARRIED.get(kind, ()))
    head = [dict(zip(fields, row, strict=True)) for row in QUERIES[kind](w).filter(pk=pk).values_list(*fields)]
    built = _pages({kind: head}, w)[kind]
    return built[0] if built else None
