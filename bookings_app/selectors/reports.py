"""The manager's payment report: per session and in total, how many booked, how they stand (paid
by which way, part paid, unpaid, refunded, free), who came, and the money due and collected —
counted in the database from the facts rows (``selectors.reports_facts``), one query grouped by
session, whatever the range holds.

Every figure is a :class:`Metric`: a condition on the facts rows and what it counts or sums. The
report adds up each metric's rows per session; the drill-down (``selectors.reports_rows``) lists
the rows of one metric under the same conditions — so its totals are the report's number.

The chart's figures (collected per day by method) are the per-session figures added up by the
day the session is on, in the business's time zone.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from bookings_app.models import Attendance, Booking, Payment, Service, Session
from bookings_app.selectors import reports_cache
from bookings_app.selectors import reports_facts as facts
from bookings_app.selectors.reports_cache import METHOD_BITS
from bookings_app.selectors.reports_facts import Scope, lit

CENT = Decimal("0.01")
MAX_DAYS = 93  # a quarter: the longest range the report adds up at once


@dataclass(frozen=True)
class Metric:
    """One figure: the rows it stands for — those whose ``status``, ``way`` and ``att`` are among
    the ones given (any, when none are) — and what it adds up of them: ``measure`` ("" counts
    them; ``people`` or a money column sums it). A money figure's rows are those with some of
    it (``f.<measure> <> 0``): the rows behind "£120 collected by cash" are those that paid cash.

    The report adds up every metric from rows grouped by those three words (:func:`matches`);
    the drill-down lists the rows of one with the same conditions in SQL (:attr:`condition`)."""

    name: str
    label: str
    status: tuple[str, ...] = ()
    way: tuple[str, ...] = ()
    att: tuple[str, ...] = ()
    measure: str = ""
    hint: str = ""

    @property
    def is_money(self) -> bool:
        return self.measure not in ("", "people")

    @property
    def measure_sql(self) -> str:
        return f"f.{self.measure}" if self.measure else "1"

    @property
    def condition(self) -> str:
        """The metric's rows as SQL over a facts row ``f`` (only our own constants)."""
        parts = [f"f.{name} IN ({lit(*values)})" for name, values in self._words() if values]
        if self.is_money:
            parts.append(f"f.{self.measure} <> 0")
        return " AND ".join(parts) or "1 = 1"

    def matches(self, status: str, way: str, att: str) -> bool:
        words = zip(self._words(), (status, way, att), strict=True)
        return all(not values or value in values for (_, values), value in words)

    def _words(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return (("status", self.status), ("way", self.way), ("att", self.att))


A = Attendance.Status
METHOD_LABELS = dict(Payment.Method.choices)
_NO_SHOW_UNPAID = {"att": (A.NOT_ATTENDED,), "way": (facts.UNPAID, facts.PART)}

METRICS: tuple[Metric, ...] = (
    Metric("booked", "Booked", hint="Every booking of the sessions, whatever its status"),
    Metric("people", "People", measure="people", hint="The participants of those bookings"),
    Metric("confirmed", "Confirmed", status=(Booking.Status.CONFIRMED,)),
    Metric("not_yet", "Not yet confirmed", status=facts.NOT_YET, hint="Pending, created, waiting list"),
    Metric("cancelled", "Cancelled", status=facts.CANCELLED, hint="Cancelled or declined"),
    *(
        Metric(
            f"paid_{m.lower()}", METHOD_LABELS[m], way=(m,), hint=f"Paid in full, most by {METHOD_LABELS[m].lower()}"
        )
        for m in (facts.CASH, facts.CARD, facts.CHECK, facts.ONLINE, facts.OTHER)
    ),
    Metric("paid_plan", "Plan", way=(facts.PLAN,), hint="Charged to a pricing plan (class pass, membership)"),
    Metric("part", "Part paid", way=(facts.PART,)),
    Metric("unpaid", "Unpaid", way=(facts.UNPAID,), hint="Holding a place with nothing paid"),
    Metric(
        "written_off",
        "Written off",
        way=(facts.WRITTEN_OFF,),
        hint="Not paid, and a manager wrote off what it owes: not to be collected, not counted unpaid",
    ),
    Metric("refunded", "Refunded", way=(facts.REFUNDED,)),
    Metric("free", "Free", way=(facts.FREE,)),
    Metric("nothing_due", "Nothing due", way=(facts.NOTHING,), hint="Cancelled, declined or waiting, nothing paid"),
    Metric("attended", "Attended", att=(A.ATTENDED,)),
    Metric("no_show", "No-show", att=(A.NOT_ATTENDED,)),
    Metric(
        "unmarked",
        "Not marked",
        status=Booking.ACTIVE_STATUSES,
        att=(A.NOT_SET,),
        hint="Holding a place, attendance not marked",
    ),
    Metric("due", "Due", measure="due", hint="Still to collect from bookings holding a place"),
    Metric("collected", "Collected", measure="collected", hint="Money in, every way"),
    *(Metric(f"collected_{m.lower()}", METHOD_LABELS[m], measure=f"c_{m.lower()}") for m in facts.METHODS),
    Metric("no_show_unpaid", "No-shows who did not pay", **_NO_SHOW_UNPAID, hint="No-show, unpaid or part paid"),
    Metric("no_show_unpaid_due", "Owed by no-shows", **_NO_SHOW_UNPAID, measure="due"),
)
METRIC_BY_NAME = {m.name: m for m in METRICS}
# What the report sums per group of rows: the measures of the metrics (as the kept groups hold them).
_MEASURES = reports_cache.MEASURES
WAY_LABELS = {
    **{way: f"Paid · {METHOD_LABELS[way].lower()}" for way in facts.METHODS if way != facts.PLAN},
    facts.PLAN: "Plan",
    facts.PART: "Part paid",
    facts.UNPAID: "Unpaid",
    facts.WRITTEN_OFF: "Written off",
    facts.REFUNDED: "Refunded",
    facts.FREE: "Free",
    facts.NOTHING: "Nothing due",
}


@dataclass(frozen=True)
class RowFilters:
    """Filters on the rows themselves (the session filters are the :class:`Scope`'s)."""

    status: str = ""
    payment_status: str = ""
    attendance: str = ""
    method: str = ""  # some money in by it (or, a plan, charged to one)

    def where(self) -> str:
        """The filters as SQL over a facts row ``f`` (only our constants, validated by the form)."""
        parts = ["1 = 1"]
        if self.status:
            parts.append(f"f.status = {lit(self.status)}")
        if self.payment_status:
            parts.append(f"f.payment_status = {lit(self.payment_status)}")
        if self.attendance:
            parts.append(f"f.att = {lit(self.attendance)}")
        if self.method:
            parts.append(f"(f.c_{self.method.lower()} <> 0 OR f.way = {lit(self.method)})")
        return " AND ".join(parts)

    def keeps(self, group: list[Any]) -> bool:
        """Whether a kept group's rows (``reports_cache``: status, way, att, payment status,
        methods, …) are the rows :meth:`where` keeps."""
        status, way, att, payment_status, methods = group[:5]
        return (
            (not self.status or status == self.status)
            and (not self.payment_status or payment_status == self.payment_status)
            and (not self.attendance or att == self.attendance)
            and (not self.method or bool(methods & METHOD_BITS[self.method]) or way == self.method)
        )


@dataclass
class Figures:
    """A metric name → its number (an int, or a Decimal of money)."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name, Decimal("0") if METRIC_BY_NAME[name].is_money else 0)

    def add(self, other: Figures) -> None:
        for name, value in other.values.items():
            self.values[name] = self.values.get(name, 0) + value


@dataclass
class SessionLine:
    session: Session
    figures: Figures


@dataclass
class DayMoney:
    day: date
    by_method: dict[str, Decimal]  # Payment.Method value → collected

    @property
    def total(self) -> Decimal:
        return sum(self.by_method.values(), Decimal("0"))

    @property
    def amounts(self) -> list[tuple[str, Decimal]]:
        """(method, collected) in the report's order of methods."""
        return [(m, self.by_method.get(m, Decimal("0"))) for m in facts.METHODS]


@dataclass
class Report:
    scope: Scope
    filters: RowFilters
    lines: list[SessionLine]
    total: Figures
    days: list[DayMoney]
    currency: str


def report_read(*, scope: Scope, filters: RowFilters) -> Report:
    """The report of ``scope``'s sessions: every metric per session and in total, and the money
    collected per day by method. Each session's facts rows come counted and summed by the words
    a report filters on, kept and fresh (``selectors.reports_cache``: a few queries, and one facts
    query for the sessions something changed at since); the filters keep some of those groups,
    and each metric adds up some of what is kept. Then the sessions, and the currency."""
    raw: dict[int, dict[str, Any]] = defaultdict(dict)
    keeps = filters.keeps
    for sess, groups in reports_cache.session_groups(scope).items():
        for group in groups:
            if keeps(group):
                _add(raw[sess], (group[0], group[1], group[2]), group[5:])
    by_session = {sess: _figures(values) for sess, values in raw.items()}
    sessions = (
        Session.objects.filter(pk__in=by_session)
        .select_related("service", "staff")
        .defer("raw", "service__raw", "staff__raw")
        .order_by("start", "pk")
    )
    lines = [SessionLine(session=s, figures=by_session[s.pk]) for s in sessions]
    total = Figures()
    for line in lines:
        total.add(line.figures)
    return Report(
        scope=scope,
        filters=filters,
        lines=lines,
        total=total,
        days=_days(lines, scope),
        currency=report_currency(),
    )


def report_currency() -> str:
    """The currency the report writes amounts in: the one most services are sold in. One query."""
    most = (
        Service.objects.exclude(currency="")
        .values("currency")
        .annotate(n=Count("pk"))
        .order_by("-n", "currency")
        .values_list("currency", flat=True)
        .first()
    )
    return most or ""


@functools.cache
def _metrics_of(words: tuple[str, str, str]) -> tuple[tuple[str, int], ...]:
    """What a group of rows with these (status, way, att) adds to: (metric name, the index of
    its measure among the group's values — 0 is the count, then :data:`_MEASURES`)."""
    return tuple((m.name, _MEASURES.index(m.measure) + 1 if m.measure else 0) for m in METRICS if m.matches(*words))


def _add(sums: dict[str, Any], words: tuple[str, str, str], values: list[Any]) -> None:
    """Add a group of rows (its count, then its sums of :data:`_MEASURES`, as the database gave
    them) to the metrics' running sums; :func:`_figures` makes numbers of them once, at the end."""
    for name, index in _metrics_of(words):
        sums[name] = sums.get(name, 0) + (values[index] or 0)


def _figures(sums: dict[str, Any]) -> Figures:
    """The running sums as figures: money from cents, counts as they are."""
    figures = Figures()
    for name, value in sums.items():
        figures.values[name] = reports_cache.money(value) if METRIC_BY_NAME[name].is_money else int(value)
    return figures


def _days(lines: list[SessionLine], scope: Scope) -> list[DayMoney]:
    """Money collected per day of the range (every day, empty ones too) by method."""
    by_day: dict[date, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(facts.METHODS, Decimal("0")))
    for line in lines:
        day = timezone.localdate(line.session.start)
        for method in facts.METHODS:
            by_day[day][method] += line.figures[f"collected_{method.lower()}"]
    days, day = [], scope.first_day
    while day <= scope.last_day:
        days.append(DayMoney(day=day, by_method=by_day[day]))
        day += timedelta(days=1)
    return days
