"""The payment report's table as the page shows it: its columns, and every session's cells —
each number with the link to the rows behind it (the drill-down, same query, that session,
that number). A month is some 300 sessions × 21 numbers, so the rows are drawn by a Jinja2
template (``templates/jinja2/reports/session_rows.html``), as the roster's rows are, and each
link is the session's query joined to the metric's name rather than a URL reversed per cell.
The drill-down's rows as an export are here too (:func:`export_table`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import quote

from django.template import engines
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from markupsafe import Markup, escape

from bookings_app.money import format_money
from bookings_app.selectors.reports import METHOD_LABELS, METRIC_BY_NAME, METRICS, Figures, Metric, Report
from bookings_app.selectors.reports_facts import METHODS
from bookings_app.selectors.reports_rows import DrillRow
from bookings_app.services import exports

# (heading, metric names): the table's column groups, left to right.
COLUMN_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Bookings", ("booked", "people", "confirmed", "not_yet", "cancelled")),
    ("Money", ("due", "collected")),
    ("Paid in full", ("paid_cash", "paid_card", "paid_check", "paid_online", "paid_plan", "paid_other")),
    ("Not paid in full", ("part", "unpaid", "written_off", "refunded", "free", "nothing_due")),
    ("Attendance", ("attended", "no_show", "unmarked")),
)
COLUMNS = tuple(name for _, names in COLUMN_GROUPS for name in names)
_GROUP_STARTS = frozenset(names[0] for _, names in COLUMN_GROUPS)
# Shorter words for the table's narrow columns (the full ones are their titles).
_TABLE_LABELS = {"not_yet": "Not yet", "part": "Part", "nothing_due": "None due", "unmarked": "Unmarked"}


@dataclass(frozen=True)
class Column:
    metric: str
    label: str
    hint: str
    group_start: bool


def columns() -> list[Column]:
    """The table's numeric columns, left to right."""
    out = []
    for name in COLUMNS:
        metric = METRIC_BY_NAME[name]
        hint = metric.hint or (metric.label if name in _TABLE_LABELS else "")
        out.append(Column(name, _TABLE_LABELS.get(name, metric.label), hint, name in _GROUP_STARTS))
    return out


# The report's totals, in the cards above the table: (heading, metric names).
SUMMARY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Bookings", ("booked", "people", "confirmed", "not_yet", "cancelled")),
    (
        "How they stand",
        ("paid_cash", "paid_card", "paid_check", "paid_online", "paid_plan", "paid_other", *COLUMN_GROUPS[3][1]),
    ),
    ("Attendance", ("attended", "no_show", "unmarked")),
    ("Money", ("due", "collected", *(f"collected_{m.lower()}" for m in METHODS))),
)
_SHOWN_WHEN_ZERO = frozenset(COLUMNS) - {"paid_other", "written_off"}
_SUMMARY_LABELS = {
    **{f"paid_{m.lower()}": f"Paid · {METHOD_LABELS[m].lower()}" for m in METHODS if m != "PLAN"},
    "paid_plan": "Plan",
    **{f"collected_{m.lower()}": f"by {METHOD_LABELS[m].lower()}" for m in METHODS},
}


class Cell:
    """One number with the link to its rows. ``css``: the table cell's classes (every cell is a
    number): dimmed when 0, a rule before each column group. Slotted and made once per cell:
    a month's table has 6,000 of them."""

    __slots__ = ("css", "href", "metric", "text", "zero")

    def __init__(self, *, metric: str, text: str, href: str, zero: bool) -> None:
        self.metric, self.text, self.href, self.zero = metric, text, href, zero
        self.css = " ".join(c for c, on in (("zero", zero), ("group-start", metric in _GROUP_STARTS)) if on)

    @property
    def label(self) -> str:
        return _SUMMARY_LABELS.get(self.metric) or METRIC_BY_NAME[self.metric].label

    @property
    def hint(self) -> str:
        return METRIC_BY_NAME[self.metric].hint

    @property
    def minor(self) -> bool:
        """A breakdown of the line above it (money collected by one method)."""
        return self.metric.startswith("collected_")


def cells(figures: Figures, *, link: str, currency: str, names: tuple[str, ...] = COLUMNS) -> list[Cell]:
    """``figures`` as cells; ``link`` is the drill-down URL with the query, ending in ``show=``."""
    out = []
    for name in names:
        value = figures[name]
        text = format_money(value, currency) if isinstance(value, Decimal) else f"{value:,}"
        out.append(Cell(metric=name, text=text, href=link + name, zero=not value))
    return out


def cells_by_name(figures: Figures, *, link: str, currency: str) -> dict[str, Cell]:
    """Every metric of ``figures`` as a cell, by metric name (the report's totals)."""
    return {c.metric: c for c in cells(figures, link=link, currency=currency, names=tuple(m.name for m in METRICS))}


def summary(totals: dict[str, Cell]) -> list[tuple[str, list[Cell]]]:
    """The totals' cards: (heading, cells), leaving out a way nobody paid by that is rarely one."""
    return [
        (heading, [totals[n] for n in names if not totals[n].zero or n in _SHOWN_WHEN_ZERO or n == "collected"])
        for heading, names in SUMMARY_GROUPS
    ]


class SessionRow(NamedTuple):
    """What a row of the table shows of its session (``templates/jinja2/reports/session_rows.html``)."""

    roster: str  # the session's roster URL
    name: str  # its title, else its service's name
    when: str  # "Sat 5 Dec 17:30", in the business's time zone
    staff: str | None  # the staff member's name (None: no staff member)
    cancelled: bool
    cells_html: Markup  # the numbers, a linked <td> each (:func:`_cells_html`)


def session_rows_html(*, report: Report, rows_url: str, query: str, roster_url: str) -> SafeString:
    """The table's body: a row per session. ``rows_url`` is the drill-down's URL (relative to the
    report's, to keep a month's 6,000 links short), ``query`` the report's query string without
    its days, ``roster_url`` a roster URL whose session ref is ``__ref__``."""
    template = engines["jinja2"].env.get_template("reports/session_rows.html")
    texts: dict[tuple[type, object], str] = {}  # a number written once, whatever rows show it
    zone = timezone.get_current_timezone()
    # The session by our pk, and no range (the session's day is its range): a month's table has
    # 6,000 of these links, and a Wix id is three times longer than our pk.
    link = str(escape(f"{rows_url}?{query}{'&' if query else ''}session="))  # escaped once, for every row
    lines = []
    for line in report.lines:
        session = line.session
        staff = session.staff
        lines.append(
            SessionRow(
                roster=roster_url.replace("__ref__", quote(session.ref, safe="")),
                name=session.title or session.service.name,
                when=f"{session.start.astimezone(zone):%a %-d %b %H:%M}",
                staff=None if staff is None else staff.name,
                cancelled=session.is_cancelled,
                cells_html=_cells_html(
                    line.figures, href=f"{link}{session.pk}&amp;show=", currency=report.currency, texts=texts
                ),
            )
        )
    return mark_safe(template.render({"lines": lines}))  # noqa: S308 - rendered autoescaped


def _cell_parts(name: str) -> tuple[str, object, tuple[str, str], tuple[str, str]]:
    """A column's cell, before and after its link and text (for a non-zero number, then a zero:
    the classes ``Cell.css`` gives them; the metric's name ends the link), with the column's
    name and what a session without the figure has (0, or £0 of money: ``Figures[name]``)."""
    metric = METRIC_BY_NAME[name]
    ends = []
    for zero in (False, True):
        css = " ".join(c for c, on in (("zero", zero), ("group-start", name in _GROUP_STARTS)) if on)
        ends.append(("<td" + (f' class="{css}"' if css else "") + '><a href="', f'{name}">'))
    return name, Decimal("0") if metric.is_money else 0, ends[0], ends[1]


_CELL_PARTS = tuple(_cell_parts(name) for name in COLUMNS)


def _cells_html(
    figures: Figures, *, href: str, currency: str, texts: dict[tuple[type, object], str] | None = None
) -> Markup:
    """A session's cells as HTML, as :func:`cells` gives them (``<td class=…><a href=…>text</a></td>``
    each): written here, a month's table being some 6,000 of them. ``href`` is the row's link,
    escaped already, ending in ``show=``; a number's text is written and escaped once for the
    table (``texts``, shared by the rows: (type, value) → its text); the metrics' names and the
    classes are our own words."""
    if texts is None:
        texts = {}
    values = figures.values
    out = []
    for name, default, (start, end), (zero_start, zero_end) in _CELL_PARTS:
        value = values.get(name, default)
        # Keyed by the type too: 0 and £0.00 are equal numbers but not the same text.
        key = (value.__class__, value)
        text = texts.get(key)
        if text is None:
            money = isinstance(value, Decimal)
            text = texts[key] = str(escape(format_money(value, currency) if money else f"{value:,}"))
        if value:
            out.append(f"{start}{href}{end}{text}</a></td>")
        else:
            out.append(f"{zero_start}{href}{zero_end}{text}</a></td>")
    return Markup("".join(out))  # noqa: S704 - the link and the text escaped above, the rest our own words


EXPORT_HEADERS = (
    "Session date",
    "Time",
    "Session",
    "Service",
    "First name",
    "Last name",
    "Booking status",
    "Payment status",
    "How it stands",
    "Attendance",
    "People",
    "Due",
    "Collected",
    *(f"Collected by {METHOD_LABELS[m].lower()}" for m in METHODS),
    "Booking id",
    "Session id",
)


def export_table(*, rows: Iterable[DrillRow], metric: Metric, first_day: date, last_day: date) -> exports.Table:
    """The drill-down's rows as an export (``services.exports``): one line per booking at a session,
    the three states side by side, read lazily from ``rows``."""

    def lines() -> Iterator[tuple[object, ...]]:
        for row in rows:
            start = timezone.localtime(row.start) if row.start else None
            yield (
                start.date() if start else None,
                f"{start:%H:%M}" if start else "",
                row.title,
                row.service_name,
                row.first_name,
                row.last_name,
                row.status_label,
                row.payment_label,
                row.way_label,
                row.attendance_label,
                row.people,
                row.due,
                row.collected,
                *(row.values[f"c_{m.lower()}"] for m in METHODS),
                row.booking_id,
                row.session_ref,
            )

    name = f"payments-{metric.name.replace('_', '-')}-{first_day:%Y-%m-%d}-to-{last_day:%Y-%m-%d}"
    return exports.Table(name=name, headers=EXPORT_HEADERS, rows=lines(), sheet_title=metric.label)
