"""The payment report's chart: money collected per day, one stacked bar a day, one colour per
method — drawn as inline SVG by the server, no script and no chart library. This module does the
geometry; the template only places what it is given.

The same figures are a table under the chart (the accessible way to read them, and every number
there is a link to its rows, as each bar segment is): :func:`day_table`. A month is some 180 bar
segments and 31 × 7 linked numbers, so both are drawn by a Jinja2 template
(``templates/jinja2/reports/chart.html``, :func:`chart_html`), as the report's table is, with
every label, amount and link written once here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.template import engines
from django.utils.safestring import SafeString, mark_safe
from markupsafe import Markup, escape

from bookings_app.money import SYMBOLS, format_money
from bookings_app.selectors.reports import METHOD_LABELS, DayMoney

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 30
# One colour per method, told apart without colour too: the legend's order is the stack's order.
COLOURS = {
    "CASH": "#2e7d32",
    "CARD": "#116dff",
    "CHECK": "#8e44ad",
    "ONLINE": "#b35900",
    "PLAN": "#00838f",
    "OTHER": "#6b7785",
}


@dataclass(frozen=True)
class Segment:
    method: str
    x: float
    y: float
    width: float
    height: float
    amount: Decimal
    title: str
    href: str

    @property
    def colour(self) -> str:
        return COLOURS[self.method]


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    label: str


@dataclass
class Chart:
    title: str
    description: str
    segments: list[Segment] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[DayLabel] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM
    empty: bool = True


def chart_build(*, days: list[DayMoney], currency: str, link: str, methods: tuple[str, ...]) -> Chart:
    """The chart of ``days``. ``link`` is the drill-down URL with the report's query, ending in
    ``&``: a segment links to ``start=<day>&end=<day>&show=collected_<method>`` after it."""
    total = sum((d.total for d in days), Decimal("0"))
    by_method = {m: sum((d.by_method.get(m, Decimal("0")) for d in days), Decimal("0")) for m in methods}
    span = f"{days[0].day:%-d %b} to {days[-1].day:%-d %b %Y}" if days else ""
    parts = [f"{METHOD_LABELS[m].lower()} {format_money(v, currency)}" for m, v in by_method.items() if v]
    chart = Chart(
        title=f"Money collected per day, {span}",
        description=(
            f"Stacked bars, one a day, by how it was paid. In all {format_money(total, currency)}"
            + (f": {', '.join(parts)}." if parts else ".")
            + " The same figures are in the table below."
        ),
        legend=[(METHOD_LABELS[m], COLOURS[m]) for m in methods],
    )
    if not days:
        return chart
    top = _nice_ceiling(max((d.total for d in days), default=Decimal("0")))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(days)
    bar = max(slot * 0.7, 1.0)
    for step in range(5):
        value = top * step / 4
        chart.ticks.append(Tick(y=round(chart.baseline - plot_height * step / 4, 1), label=_short(value, currency)))
    every = max(1, math.ceil(len(days) / 16))
    width = round(bar, 1)
    texts: dict[Decimal, str] = {}  # an amount written once, however many segments show it
    for i, day in enumerate(days):
        x = LEFT + slot * i + (slot - bar) / 2
        if i % every == 0:
            chart.labels.append(
                DayLabel(x=round(x + bar / 2, 1), label=f"{day.day:%-d %b}" if i == 0 else f"{day.day:%-d}")
            )
        if top <= 0:
            continue
        x = round(x, 1)
        y = chart.baseline
        when = href = ""  # the day's words and link, written once for its segments
        for method in methods:
            amount = day.by_method.get(method, Decimal("0"))
            if amount <= 0:
                continue
            if not when:
                when, iso = f"{day.day:%a %-d %b}", f"{day.day:%Y-%m-%d}"
                href = f"{link}start={iso}&end={iso}&show=collected_"
            if amount not in texts:
                texts[amount] = format_money(amount, currency)
            height = float(amount / top) * plot_height
            y -= height
            chart.segments.append(
                Segment(
                    method=method,
                    x=x,
                    y=round(y, 1),
                    width=width,
                    height=round(height, 1),
                    amount=amount,
                    title=f"{when} · {METHOD_LABELS[method]} {texts[amount]}",
                    href=f"{href}{method.lower()}",
                )
            )
            chart.empty = False
    return chart


@dataclass(frozen=True)
class DayRow:
    label: str  # "Mon 16 Nov"
    cells_html: Markup  # the day's amounts by method, then its total: a linked <td> each


@dataclass(frozen=True)
class DayTable:
    labels: list[str]  # the methods' names, the columns after the day
    rows: list[DayRow]


def day_table(*, days: list[DayMoney], currency: str, link: str, methods: tuple[str, ...]) -> DayTable:
    """The chart's figures as a table: a row a day, the amount collected by each method and in
    all, each a link to its rows (``link`` as for :func:`chart_build`). A zero by a method is
    dimmed; the day's total never is."""
    href = escape(link)
    ends = [(m, f'&amp;show=collected_{m.lower()}">') for m in methods]
    texts: dict[Decimal, str] = {}  # an amount written once, however many days show it

    def text(amount: Decimal) -> str:
        if amount not in texts:
            texts[amount] = escape(format_money(amount, currency))
        return texts[amount]

    rows = []
    for day in days:
        iso = f"{day.day:%Y-%m-%d}"
        start = f"{href}start={iso}&amp;end={iso}"
        by_method = day.by_method
        cells = []
        for method, end in ends:
            amount = by_method.get(method, Decimal("0"))
            cells.append(f'<td class="num{"" if amount else " zero"}"><a href="{start}{end}{text(amount)}</a></td>')
        cells.append(f'<td class="num"><a href="{start}&amp;show=collected">{text(day.total)}</a></td>')
        # The link and the amounts escaped above; the rest our own words.
        rows.append(DayRow(label=f"{day.day:%a %-d %b}", cells_html=Markup("".join(cells))))  # noqa: S704
    return DayTable(labels=[METHOD_LABELS[m] for m in methods], rows=rows)


def chart_html(*, days: list[DayMoney], currency: str, link: str, methods: tuple[str, ...]) -> SafeString:
    """The chart and its table as HTML (``templates/jinja2/reports/chart.html``): the report's
    "Collected per day" section."""
    chart = chart_build(days=days, currency=currency, link=link, methods=methods)
    context = {
        "chart": chart,
        "bars_html": bars_html(chart.segments),
        "table": day_table(days=days, currency=currency, link=link, methods=methods),
    }
    template = engines["jinja2"].env.get_template("reports/chart.html")
    return mark_safe(template.render(context))  # noqa: S308 - rendered autoescaped


def bars_html(segments: list[Segment]) -> Markup:
    """The bars as SVG: a ``<rect>`` per segment, titled, in a link to its rows. Written here (a
    month is some 180 of them); the links and titles escaped, the numbers and colours our own."""
    return Markup(  # noqa: S704 - escaped where not our own
        "".join(
            f'<a href="{escape(s.href)}" tabindex="-1"><rect x="{s.x}" y="{s.y}" width="{s.width}"'
            f' height="{s.height}" fill="{s.colour}"><title>{escape(s.title)}</title></rect></a>'
            for s in segments
        )
    )


def _nice_ceiling(value: Decimal) -> Decimal:
    """The axis's top: ``value`` rounded up to 1, 2 or 5 times a power of ten (at least 10)."""
    if value <= 10:
        return Decimal("10")
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _short(value: Decimal, currency: str) -> str:
    """An axis label: "£1.5k", "£300", "£0"."""
    if value >= 1000:
        thousands = (value / 1000).quantize(Decimal("0.1")).normalize()
        return f"{SYMBOLS.get((currency or '').upper(), '')}{thousands:f}k"
    return format_money(value, currency).replace(".00", "")
