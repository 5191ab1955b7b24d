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

from bookings_app.models import Service, Session
from bookings_app.selectors import reports_cache
from bookings_app.selectors import reports_facts as facts
from bookings_app.selectors.precompiled import ids_in
from bookings_app.selectors.report_metrics import (
    METHOD_LABELS,
    METRIC_BY_NAME,
    METRICS,
    WAY_LABELS,
    Metric,
    metrics_add,
)
from bookings_app.selectors.reports_cache import METHOD_BITS
from bookings_app.selectors.reports_facts import Scope, lit

__all__ = [  # the metrics are report_metrics', named here too for the report's readers
    "MAX_DAYS",
    "METHOD_LABELS",
    "METRICS",
    "METRIC_BY_NAME",
    "WAY_LABELS",
    "DayMoney",
    "Figures",
    "Metric",
    "Report",
    "RowFilters",
    "SessionLine",
    "report_currency",
    "report_read",
]
MAX_DAYS = 93  # a quarter: the longest range the report adds up at once


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
    collected per day by method. Each session's numbers are kept, fresh (``selectors.reports_cache``:
    a few queries, and one facts query for the sessions something changed at since): as they
    are without row filters; with them, added up from the kept groups the filters keep. Then
    the sessions, and the currency."""
    if filters == RowFilters():  # every row: each session's numbers as kept
        raw = {sess: sums for sess, sums in reports_cache.session_groups(scope, sums=True).items() if sums}
    else:
        raw = _filtered(reports_cache.session_groups(scope), filters)
    by_session = {sess: _figures(values) for sess, values in raw.items()}
    sessions = (
        Session.objects.filter(ids_in("pk", by_session))
        .select_related("service", "staff")
        .only(*_SESSION_FIELDS)
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


def _filtered(kept: dict[int, list[list[Any]]], filters: RowFilters) -> dict[int, dict[str, Any]]:
    """Each session's numbers from the kept groups the filters keep (sessions with none left
    out); the groups of one (status, way, att) added up first, each metric then once per those."""
    found: dict[int, dict[str, Any]] = {}
    for sess, groups in kept.items():
        by_words: dict[tuple[str, str, str], list[int]] = {}
        for group in groups:
            if not filters.keeps(group):
                continue
            words = (group[0], group[1], group[2])
            before = by_words.get(words)
            by_words[words] = group[5:] if before is None else [a + b for a, b in zip(before, group[5:], strict=True)]
        if by_words:
            sums = found[sess] = {}
            for words, values in by_words.items():
                metrics_add(sums, words, values)
    return found


def _figures(sums: dict[str, Any]) -> Figures:
    """The running sums as figures: money from cents, counts as they are."""
    figures = Figures()
    for name, value in sums.items():
        figures.values[name] = _money(value) if name in _MONEY_METRICS else value
    return figures


_MONEY_METRICS = frozenset(m.name for m in METRICS if m.is_money)
_money = functools.lru_cache(maxsize=4096)(reports_cache.money)  # the same few amounts, again and again
# What the report shows of a session (its row, its day, its roster link).
_SESSION_FIELDS = ("wix_id", "title", "start", "end", "status", "timezone", "service__name", "staff__name")


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
