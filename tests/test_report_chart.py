"""The payment report's chart (``bookings_app.report_chart``): its geometry for a few days worked
out once, and its HTML — the SVG and the table of its figures, now drawn by a Jinja2 template and
Python — the same as the Django template that drew it before (:data:`DJANGO_CHART`, kept here as
the reference): every link, number, title and class."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import engines

from bookings_app import report_chart
from bookings_app.selectors.reports import METHOD_LABELS, DayMoney
from bookings_app.selectors.reports_facts import METHODS
from tests.report_html import tokens

D = Decimal
LINK = "rows/?service=3&"
# Three days: two ways on the first, nothing on the second, a plan (and a £0 of other) on the third.
DAYS = [
    DayMoney(date(2026, 11, 16), {"CASH": D("30.00"), "CARD": D("12.50")}),
    DayMoney(date(2026, 11, 17), {}),
    DayMoney(date(2026, 11, 18), {"PLAN": D("100.00"), "OTHER": D("0.00"), "CASH": D("0")}),
]

# templates/reports/chart.html as it was, in Django's template language.
DJANGO_CHART = Path(__file__).parent / "data" / "report_reference" / "chart.html"


def _django_chart(days: list[DayMoney], currency: str, link: str) -> str:
    context = {
        "chart": report_chart.chart_build(days=days, currency=currency, link=link, methods=METHODS),
        "report": SimpleNamespace(days=days, currency=currency),
        "methods": [(m, METHOD_LABELS[m]) for m in METHODS],
        "day_link": link,
    }
    return engines["django"].from_string(DJANGO_CHART.read_text()).render(context)


def test_three_days_geometry_labels_and_links():
    chart = report_chart.chart_build(days=DAYS, currency="GBP", link=LINK, methods=METHODS)

    assert chart.title == "Money collected per day, 16 Nov to 18 Nov 2026"
    assert chart.description == (
        "Stacked bars, one a day, by how it was paid. In all £142.50: cash £30.00, card £12.50, plan £100.00."
        " The same figures are in the table below."
    )
    # The axis tops at £100 (the biggest day), 218 px high.
    assert [(t.y, t.label) for t in chart.ticks] == [
        (230.0, "£0"),
        (175.5, "£25"),
        (121.0, "£50"),
        (66.5, "£75"),
        (12.0, "£100"),
    ]
    assert [(d.x, d.label) for d in chart.labels] == [(172.0, "16 Nov"), (388.0, "17"), (604.0, "18")]
    # No segment for a day or a way with nothing collected.
    assert [(s.method, s.x, s.y, s.width, s.height, s.title, s.href, s.colour) for s in chart.segments] == [
        (
            "CASH",
            96.4,
            164.6,
            151.2,
            65.4,
            "Mon 16 Nov · Cash £30.00",
            "rows/?service=3&start=2026-11-16&end=2026-11-16&show=collected_cash",
            "#2e7d32",
        ),
        (
            "CARD",
            96.4,
            137.4,
            151.2,
            27.2,
            "Mon 16 Nov · Card £12.50",
            "rows/?service=3&start=2026-11-16&end=2026-11-16&show=collected_card",
            "#116dff",
        ),
        (
            "PLAN",
            528.4,
            12.0,
            151.2,
            218.0,
            "Wed 18 Nov · Plan £100.00",
            "rows/?service=3&start=2026-11-18&end=2026-11-18&show=collected_plan",
            "#00838f",
        ),
    ]
    assert not chart.empty


def test_the_day_tables_rows_exactly():
    table = report_chart.day_table(days=DAYS, currency="GBP", link=LINK, methods=METHODS)

    assert table.labels == ["Cash", "Card", "Cheque", "Online", "Plan", "Other"]
    assert [row.label for row in table.rows] == ["Mon 16 Nov", "Tue 17 Nov", "Wed 18 Nov"]

    def cell(day: str, show: str, text: str, css: str = "num") -> str:
        href = f"rows/?service=3&amp;start={day}&amp;end={day}&amp;show={show}"
        return f'<td class="{css}"><a href="{href}">{text}</a></td>'

    zero = "num zero"
    assert str(table.rows[0].cells_html) == "".join(
        [
            cell("2026-11-16", "collected_cash", "£30.00"),
            cell("2026-11-16", "collected_card", "£12.50"),
            cell("2026-11-16", "collected_check", "£0.00", zero),
            cell("2026-11-16", "collected_online", "£0.00", zero),
            cell("2026-11-16", "collected_plan", "£0.00", zero),
            cell("2026-11-16", "collected_other", "£0.00", zero),
            cell("2026-11-16", "collected", "£42.50"),
        ]
    )
    # A day with nothing: every way dimmed, its total (£0.00) never.
    assert str(table.rows[1].cells_html).endswith(cell("2026-11-17", "collected", "£0.00"))
    assert str(table.rows[1].cells_html).count('class="num zero"') == 6


@pytest.mark.parametrize(
    ("days", "currency", "link"),
    [
        (DAYS, "GBP", LINK),
        # A currency without a symbol (and one needing escaping), no filters in the link.
        (DAYS, "A&B", "rows/?"),
        # A month, every way on some days, a refund (less than nothing is not drawn).
        (
            [
                DayMoney(
                    date(2026, 12, 1 + i),
                    {m: D(f"{(i * 37 + j * 11) % 90}.{(i * 13) % 100:02d}") for j, m in enumerate(METHODS)}
                    | ({"CARD": D("-5.00")} if i == 3 else {}),
                )
                for i in range(31)
            ],
            "GBP",
            "rows/?staff=2&method=CASH&",
        ),
        # Nothing collected: no bars, and no table.
        ([DayMoney(date(2026, 11, 16), {}), DayMoney(date(2026, 11, 17), {"CASH": D("0.00")})], "GBP", LINK),
        ([], "GBP", LINK),
    ],
    ids=["three days", "no symbol", "a month", "nothing collected", "no days"],
)
def test_the_chart_renders_as_the_django_template_did(days, currency, link):
    html = report_chart.chart_html(days=days, currency=currency, link=link, methods=METHODS)

    assert tokens(html) == tokens(_django_chart(days, currency, link))


def test_the_bars_are_the_segments_links():
    chart = report_chart.chart_build(days=DAYS, currency="GBP", link=LINK, methods=METHODS)

    html = str(report_chart.bars_html(chart.segments))

    assert html.startswith(
        '<a href="rows/?service=3&amp;start=2026-11-16&amp;end=2026-11-16&amp;show=collected_cash" tabindex="-1">'
        '<rect x="96.4" y="164.6" width="151.2" height="65.4" fill="#2e7d32"><title>Mon 16 Nov · Cash £30.00</title>'
        "</rect></a>"
    )
    assert html.count("<rect ") == 3
