"""The report's drill-down: the rows behind one of its numbers — the facts rows of the report's
scope and filters that meet the number's metric (``selectors.reports.Metric``) — a page at a
time, with totals over all of them (so the list's total is the report's number), and every one
of them for an export, read in chunks.

Three things are shown side by side on every row and never merged into one word: the booking's
status, its payment status (Wix's words, with how it stands: paid by which way, part paid…)
and the attendance at the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from bookings_app.models import Attendance, Booking
from bookings_app.selectors import reports_facts as facts
from bookings_app.selectors.reports import WAY_LABELS, Metric, RowFilters
from bookings_app.selectors.reports_cache import money_value

PER_PAGE = 50
_COLUMNS = (*facts.COLUMNS, *facts.DISPLAY_COLUMNS)
_MONEY = ("due", *(f"c_{m.lower()}" for m in facts.METHODS), "collected")
_STATUS_LABELS = dict(Booking.Status.choices)
_PAYMENT_LABELS = {**dict(Booking.PaymentStatus.choices), Booking.PaymentStatus.UNDEFINED: "Not paid"}
_ATTENDANCE_LABELS = dict(Attendance.Status.choices)


@dataclass
class DrillRow:
    """One booking at one session, as the drill-down shows it."""

    values: dict[str, Any]
    amount: Decimal | None  # what the metric sums of this row (None: the metric counts rows)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def name(self) -> str:
        return f"{self.values['first_name'] or ''} {self.values['last_name'] or ''}".strip() or "(no name)"

    @property
    def session_ref(self) -> str:
        """The roster URL's session: the Wix event id, else our pk."""
        return self.values["session_wix_id"] or str(self.values["sess"])

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    @property
    def payment_label(self) -> str:
        return _PAYMENT_LABELS.get(self.payment_status, self.payment_status)

    @property
    def way_label(self) -> str:
        return WAY_LABELS.get(self.way, self.way)

    @property
    def attendance_label(self) -> str:
        return _ATTENDANCE_LABELS.get(self.att, self.att)


@dataclass(frozen=True)
class DrillTotals:
    rows: int
    people: int
    due: Decimal
    collected: Decimal
    measure: Decimal | int  # the metric's number: what the report shows


@dataclass
class DrillPage:
    metric: Metric
    rows: list[DrillRow]
    totals: DrillTotals
    page: int
    pages: int


def drill_page(
    *, scope: facts.Scope, filters: RowFilters, metric: Metric, page: int = 1, per_page: int = PER_PAGE
) -> DrillPage:
    """Page ``page`` of the rows behind ``metric`` (by session start, then surname), and the
    totals of all of them — one query: the totals are window sums over every row, taken before
    the page is cut. A page past the last is the last (one more query); an empty list has one."""
    sql, params = facts.facts_sql(scope, display=True)
    where = f"{filters.where()} AND {metric.condition}"
    totals_sql = (
        f"COUNT(*) OVER (), SUM(f.people) OVER (), SUM(f.due) OVER (), SUM(f.collected) OVER (),"
        f" SUM({metric.measure_sql}) OVER ()"
    )
    query = f"{_rows_sql(sql, where, extra=totals_sql)} LIMIT %s OFFSET %s"
    page = max(page, 1)
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, per_page, (page - 1) * per_page))
        found = cursor.fetchall()
        if not found and page > 1:  # past the last page: count, then read the last one
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) f WHERE {where}", params)  # noqa: S608
            page = max(1, -(-cursor.fetchone()[0] // per_page))
            cursor.execute(query, (*params, per_page, (page - 1) * per_page))
            found = cursor.fetchall()
    width = len(_COLUMNS)
    count, people, due, collected, measure = found[0][width:] if found else (0, 0, 0, 0, 0)
    totals = DrillTotals(
        rows=count or 0,
        people=int(people or 0),
        due=money_value(due),
        collected=money_value(collected),
        measure=money_value(measure) if metric.is_money else int(measure or 0),
    )
    rows = [_row(values[:width], metric) for values in found]
    return DrillPage(metric=metric, rows=rows, totals=totals, page=page, pages=max(1, -(-totals.rows // per_page)))


def drill_rows_all(*, scope: facts.Scope, filters: RowFilters, metric: Metric, chunk: int = 2000) -> Iterator[DrillRow]:
    """Every row behind ``metric``, in the drill-down's order, read ``chunk`` rows at a time (a
    server-side cursor on PostgreSQL): constant memory however many there are."""
    sql, params = facts.facts_sql(scope, display=True)
    where = f"{filters.where()} AND {metric.condition}"
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(_rows_sql(sql, where), params)
        while batch := cursor.fetchmany(chunk):
            for values in batch:
                yield _row(values, metric)
    finally:
        cursor.close()


def _rows_sql(sql: str, where: str, extra: str = "") -> str:
    columns = ", ".join(f"f.{c}" for c in _COLUMNS) + (f", {extra}" if extra else "")
    order = "f.start, f.last_name, f.first_name, f.booking_id, f.sess"
    return f"SELECT {columns} FROM ({sql}) f WHERE {where} ORDER BY {order}"  # noqa: S608 - our constants


def _row(values: tuple[Any, ...], metric: Metric) -> DrillRow:
    row = dict(zip(_COLUMNS, values, strict=True))
    for name in _MONEY:
        row[name] = money_value(row[name])
    row["start"] = _aware(row["start"])
    amount = row[metric.measure] if metric.is_money else None
    return DrillRow(values=row, amount=amount)


def _aware(value: Any) -> datetime | None:
    """A session start as the database gave it from a subquery (SQLite: text in UTC)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
