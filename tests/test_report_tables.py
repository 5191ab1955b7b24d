"""The payment report's table (``bookings_app.report_tables``): a row per session, its numbers
written in Python, the same HTML as when every cell was drawn by the template from
:func:`report_tables.cells` (:data:`REFERENCE_ROWS`, kept here as the reference): the roster
link, the session's words, and each number's text, classes and link to its rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.template import engines

from bookings_app import report_tables
from bookings_app.models import Service, Session, StaffMember
from bookings_app.selectors.reports import Figures, Report, RowFilters, SessionLine
from bookings_app.selectors.reports_facts import Scope
from tests.report_html import tokens

D = Decimal
LONDON = ZoneInfo("Europe/London")
ROWS_URL, ROSTER_URL = "rows/", "/sessions/__ref__/"

# templates/jinja2/reports/session_rows.html when it drew every number from report_tables.cells().
REFERENCE_ROWS = Path(__file__).parent / "data" / "report_reference" / "session_rows.html"


def _session(pk: int, *, wix_id: str, title: str, hour: int, staff: str | None, status: str = "CONFIRMED") -> Session:
    service = Service(pk=100 + pk, name="Swim & Sauna", currency="GBP")
    session = Session(
        pk=pk,
        wix_id=wix_id,
        service=service,
        title=title,
        start=datetime(2026, 11, 16 + pk, hour, 30, tzinfo=LONDON),
        status=status,
    )
    session.staff = StaffMember(pk=200 + pk, name=staff) if staff is not None else None
    return session


def _report(currency: str = "GBP") -> Report:
    big = Figures(
        {
            "booked": 1234,
            "people": 1300,
            "confirmed": 1000,
            "cancelled": 34,
            "due": D("66.00"),
            "collected": D("1702.50"),
            "paid_cash": 12,
            "paid_card": 0,
            "part": 3,
            "no_show": 7,
        }
    )
    lines = [
        # A Wix id that needs quoting in a URL, a staff member.
        SessionLine(_session(1, wix_id="ev/1 x", title="Dawn swim", hour=7, staff="Cora O'Coach"), big),
        # No title (the service's name), no staff, not yet in Wix (the roster by our pk).
        SessionLine(_session(2, wix_id="", title="", hour=19, staff=None), Figures({"booked": 2, "due": D("0.00")})),
        # Cancelled; a staff member without a name; nothing at all.
        SessionLine(_session(3, wix_id="ev-3", title="<Late> swim", hour=21, staff="", status="CANCELED"), Figures()),
    ]
    total = Figures()
    for line in lines:
        total.add(line.figures)
    start = datetime(2026, 11, 16, tzinfo=LONDON)
    return Report(
        scope=Scope(start=start, end=start),
        filters=RowFilters(),
        lines=lines,
        total=total,
        days=[],
        currency=currency,
    )


def _reference(report: Report, query: str) -> str:
    lines = []
    for line in report.lines:
        session = line.session
        link = f"{ROWS_URL}?{query}{'&' if query else ''}session={session.pk}&show="
        lines.append(
            {
                "session": session,
                "roster": ROSTER_URL.replace("__ref__", quote(session.ref, safe="")),
                "cells": report_tables.cells(line.figures, link=link, currency=report.currency),
            }
        )
    return engines["jinja2"].env.from_string(REFERENCE_ROWS.read_text()).render({"lines": lines})


def test_the_rows_are_what_the_cells_drew():
    for currency, query in (("GBP", ""), ("CHF", "service=3&method=CASH"), ("", "status=CONFIRMED&q=a%27b")):
        report = _report(currency)

        html = report_tables.session_rows_html(report=report, rows_url=ROWS_URL, query=query, roster_url=ROSTER_URL)

        assert tokens(html) == tokens(_reference(report, query)), (currency, query)


def test_a_rows_links_and_numbers_exactly():
    html = str(
        report_tables.session_rows_html(report=_report(), rows_url=ROWS_URL, query="staff=2", roster_url=ROSTER_URL)
    )
    first, second, third = html.strip().split("\n<tr")

    assert first.startswith(
        '<tr><th scope="row" class="report-session"><a href="/sessions/ev%2F1%20x/">Dawn swim</a>\n'
        '<span class="muted small">Tue 17 Nov 07:30 · Cora O&#39;Coach</span></th>'
    )
    link = "rows/?staff=2&amp;session=1&amp;show="
    # The first column of a group ruled off; a zero dimmed; thousands and money written out.
    assert f'<td class="group-start"><a href="{link}booked">1,234</a></td>' in first
    assert f'<td><a href="{link}people">1,300</a></td>' in first
    assert f'<td class="zero"><a href="{link}not_yet">0</a></td>' in first
    assert f'<td class="group-start"><a href="{link}due">£66.00</a></td>' in first
    assert f'<td><a href="{link}collected">£1,702.50</a></td>' in first
    assert f'<td class="zero"><a href="{link}paid_card">0</a></td>' in first
    assert f'<td class="zero group-start"><a href="{link}attended">0</a></td>' in first
    assert first.count("<td") == len(report_tables.COLUMNS) == 22
    # The service's name for a session without a title, the roster by our pk, no staff.
    assert second.startswith(
        '><th scope="row" class="report-session"><a href="/sessions/2/">Swim &amp; Sauna</a>\n'
        '<span class="muted small">Wed 18 Nov 19:30</span></th>'
    )
    assert '<td class="zero group-start"><a href="rows/?staff=2&amp;session=2&amp;show=due">£0.00</a></td>' in second
    # Cancelled, marked twice; its title escaped; a nameless staff member still a " · ".
    assert third.startswith(
        ' class="is-cancelled"><th scope="row" class="report-session"><a href="/sessions/ev-3/">&lt;Late&gt; swim</a>\n'
        '<span class="muted small">Thu 19 Nov 21:30 ·  · cancelled</span></th>'
    )
    assert third.count('class="zero') == 22


def test_a_number_is_written_once_whatever_its_type():
    texts: dict[tuple[type, object], str] = {}
    figures = Figures({"booked": 0, "due": D("0"), "collected": D("0.00")})

    html = str(report_tables._cells_html(figures, href="x?show=", currency="GBP", texts=texts))

    # 0 bookings and £0 are equal numbers, but not the same words.
    assert '<a href="x?show=booked">0</a>' in html and '<a href="x?show=due">£0.00</a>' in html
    assert texts == {(int, 0): "0", (D, D("0")): "£0.00"}
