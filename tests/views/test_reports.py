"""The payment report's pages: a manager sees the week worked out by hand (``report_world``), every
number links to rows whose total is that number, every row to its roster; the front desk gets
403; a query the form cannot read is a 400 with its reason (never a 500); the export is the
drill-down's rows, with a formula-injection attempt neutralised."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from html import unescape
from urllib.parse import urljoin

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bookings_app import date_ranges, selectors
from bookings_app.selectors.reports import RowFilters
from tests import factories
from tests.selectors import report_world
from tests.selectors.report_world import LONDON, week_scope

WEEK = {"start": "2026-11-16", "end": "2026-11-22"}


@pytest.fixture
def world(db) -> report_world.World:
    return report_world.build()


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(datetime(2026, 11, 21, 9, 0, tzinfo=LONDON), tick=False)


def _links(html: str, page: str = "/reports/") -> list[str]:
    """The page's links, as absolute paths."""
    return [urljoin(page, unescape(h)) for h in re.findall(r'href="([^"]+)"', html)]


# --- permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reports", "report_rows", "report_rows_export"])
def test_the_front_desk_may_not_see_the_report(desk_client, name):
    assert desk_client.get(reverse(name), {**WEEK, "show": "booked", "format": "csv"}).status_code == 403


@pytest.mark.parametrize("name", ["reports", "report_rows"])
def test_a_manager_may(manager_client, name):
    assert manager_client.get(reverse(name), {**WEEK, "show": "booked"}).status_code == 200


def test_the_report_is_in_the_managers_navigation(client, manager_user, desk_user):
    client.force_login(manager_user)
    assert 'href="/reports/"' in client.get(reverse("today")).content.decode()
    client.force_login(desk_user)
    assert 'href="/reports/"' not in client.get(reverse("today")).content.decode()


# --- the page --------------------------------------------------------------------------------------------


def test_the_report_shows_the_weeks_figures_with_links(manager_client, world):
    response = manager_client.get(reverse("reports"), WEEK)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Mon 16 Nov 2026 – Sun 22 Nov 2026" in html
    assert "No-shows who did not pay" in html
    for session in (world.dawn, world.evening, world.course_1, world.course_2):
        assert reverse("roster", args=[session.ref]) in html
    assert reverse("roster", args=[world.late.ref]) not in html
    links = [h for h in _links(html) if h.startswith(reverse("report_rows"))]
    assert len(links) > 100
    assert f"{reverse('report_rows')}?start=2026-11-16&end=2026-11-22&show=no_show_unpaid" in links
    assert "<svg" in html and '<title id="chart-title">' in html and '<desc id="chart-desc">' in html


def test_the_chart_and_its_table_show_the_days_money_with_links(manager_client, world):
    html = manager_client.get(reverse("reports"), WEEK).content.decode()

    def cell(show: str, text: str, css: str = "num") -> str:
        return f'<td class="{css}"><a href="rows/?start=2026-11-16&amp;end=2026-11-16&amp;show={show}">{text}</a></td>'

    # Monday's money by every way (the dawn swim's), then in all; a day with none is dimmed.
    assert (
        '<tr><th scope="row">Mon 16 Nov</th>'
        + cell("collected_cash", "£186.00")
        + cell("collected_card", "£156.00")
        + cell("collected_check", "£60.00")
        + cell("collected_online", "£60.00")
        + cell("collected_plan", "£180.00")
        + cell("collected_other", "£60.00")
        + cell("collected", "£702.00")
        + "</tr>"
    ) in html
    sunday = "rows/?start=2026-11-22&amp;end=2026-11-22&amp;show=collected_cash"
    assert f'<td class="num zero"><a href="{sunday}">£0.00</a></td>' in html
    assert len(re.findall(r'<tr><th scope="row">\w{3} \d+ Nov</th>', html)) == 7  # a row a day
    assert html.count('<th scope="row" class="report-session">') == 4  # a row a session
    # Each bar segment links to the same rows as its figure.
    assert ('<a href="rows/?start=2026-11-16&amp;end=2026-11-16&amp;show=collected_cash" tabindex="-1"><rect ') in html
    assert "<title>Mon 16 Nov · Cash £186.00</title>" in html
    # A session's row: its roster, its words, its numbers each linked to their rows.
    assert (
        f'<a href="{reverse("roster", args=[world.dawn.ref])}">Dawn swim</a>\n'
        '<span class="muted small">Mon 16 Nov 07:00 · Cora Coach</span></th>'
        f'<td class="group-start"><a href="rows/?session={world.dawn.pk}&amp;show=booked">108</a></td>'
    ) in html
    assert f'<td><a href="rows/?session={world.dawn.pk}&amp;show=collected">£702.00</a></td>' in html


def test_a_number_links_to_rows_that_add_up_to_it(manager_client, world):
    html = manager_client.get(reverse("reports"), WEEK).content.decode()
    report = selectors.report_read(scope=week_scope(), filters=RowFilters())
    dawn = next(line for line in report.lines if line.session == world.dawn)
    link = next(h for h in _links(html) if f"session={world.dawn.pk}&" in h and h.endswith("&show=collected"))

    rows_page = manager_client.get(link)
    rows_html = rows_page.content.decode()

    assert rows_page.status_code == 200
    # 13 of the 18 ways bring money in: £10 each but part paid (£4) and part paid at the desk (£3)
    assert dawn.figures["collected"] == (11 * 10 + 4 + 3) * 6 == Decimal("702.00")
    assert "£702.00" in rows_html and "78 bookings" in rows_html
    assert rows_html.count('class="drill-row"') == 50  # a page; the rest on the next
    assert "Page 1 of 2" in rows_html


def test_every_row_links_to_its_roster_and_shows_the_three_states(manager_client, world):
    response = manager_client.get(reverse("report_rows"), {**WEEK, "show": "no_show_unpaid"})
    html = response.content.decode()
    booking = world.bookings[("CONFIRMED", "part")]

    assert f"{reverse('roster', args=[world.dawn.ref])}#roster-row-{booking.pk}" in html
    row = html[html.index(f'data-booking="{booking.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Confirmed" in row and "Partly paid" in row and "Part paid" in row and "No-show" in row
    assert reverse("customer_card", args=[booking.contact_id]) in row


def test_a_cancelled_rows_roster_link_shows_cancelled_bookings(manager_client, world):
    html = manager_client.get(
        reverse("report_rows"), {**WEEK, "show": "cancelled", "status": "CANCELED"}
    ).content.decode()
    booking = world.bookings[("CANCELED", "cash")]

    assert f"{reverse('roster', args=[world.dawn.ref])}?cancelled=1#roster-row-{booking.pk}" in html


def test_the_presets(manager_client, world, frozen):
    this_week = manager_client.get(reverse("reports"), {"range": "this_week"}).content.decode()
    last_week = manager_client.get(reverse("reports"), {"range": "last_week"}).content.decode()
    this_month = manager_client.get(reverse("reports")).content.decode()

    assert "Mon 16 Nov 2026 – Sun 22 Nov 2026" in this_week and "Dawn swim" in this_week
    assert "Mon 9 Nov 2026 – Sun 15 Nov 2026" in last_week and "Dawn swim" not in last_week
    assert "Sun 1 Nov 2026 – Mon 30 Nov 2026" in this_month and "Late swim" in this_month
    assert re.search(r'aria-current="page">This month<', this_month)
    assert re.search(r'aria-current="page">This week<', this_week)


def test_the_presets_are_the_other_manager_screens_own(manager_client, world, frozen):
    """The report and the owes list work a preset out in one place (``date_ranges``)."""
    today = timezone.localdate()
    for preset, _ in date_ranges.PRESETS:
        if preset == "custom":
            continue
        days = date_ranges.preset_range(preset, today)
        html = manager_client.get(reverse("reports"), {"range": preset}).content.decode()
        assert f"{days.first:%a} {days.first.day} {days.first:%b %Y} – " in html, preset
        assert f" – {days.last:%a} {days.last.day} {days.last:%b %Y}" in html, preset
    last_month = manager_client.get(reverse("reports"), {"range": "last_month"}).content.decode()
    assert "Thu 1 Oct 2026 – Sat 31 Oct 2026" in last_month and "Dawn swim" not in last_month


def test_filters_narrow_the_page(manager_client, world):
    html = manager_client.get(reverse("reports"), {**WEEK, "service_type": "COURSE"}).content.decode()

    assert "Learn to swim" in html and "Dawn swim" not in html


@pytest.mark.parametrize("dates", [WEEK, {"start": "2026-11-22", "end": "2026-11-16"}], ids=["shown", "refused"])
def test_the_filters_show_what_the_query_chose(manager_client, world, dates):
    swim, coach = world.dawn.service, world.dawn.staff
    query = {**dates, "service": swim.pk, "staff": coach.pk, "method": "CASH", "attendance": ""}

    html = manager_client.get(reverse("reports"), query).content.decode()

    assert f'<option value="{swim.pk}" selected>{swim.name}</option>' in html
    assert f'<option value="{coach.pk}" selected>{coach.name}</option>' in html
    assert '<option value="CASH" selected>Cash</option>' in html
    assert '<option value="CARD">Card</option>' in html
    # "Any" of a filter the query gave empty is chosen; of one it did not give, none is.
    assert html.count(" selected>") == 4
    assert '<option value="" selected>' in html[html.index('name="attendance"') :]


def test_the_drilldown_names_its_filters(manager_client, world):
    html = manager_client.get(
        reverse("report_rows"), {**WEEK, "show": "booked", "staff": world.evening.staff_id, "method": "CARD"}
    ).content.decode()

    assert "Ned Night" in html and "Paid by: <strong>Card</strong>" in html


# --- bad queries: 400 with the reason, never a 500 --------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01", "end": "2026-12-02"}, "Enter a date as YYYY-MM-DD."),
        ({"start": "2026-12-05", "end": "2026-12-01"}, "The last day is before the first."),
        ({"start": "2026-01-01", "end": "2026-12-31"}, "Choose at most 93 days"),
        ({"range": "custom", "start": "2026-12-01"}, "Choose both days of the range."),
        ({"range": "fortnight"}, "Select a valid choice."),
        ({"service": "abc"}, "Select a valid choice."),
        ({"service": "424242"}, "Select a valid choice."),
        ({"service": "99999999999999999999999"}, "Select a valid choice."),
        ({"staff": "-1"}, "Select a valid choice."),
        ({"session": "no-such-event"}, "There is no such session."),
        ({"status": "MAYBE"}, "Select a valid choice."),
        ({"payment_status": "'; DROP TABLE x;--"}, "Select a valid choice."),
        ({"method": "BITCOIN"}, "Select a valid choice."),
        ({"attendance": "LATE"}, "Select a valid choice."),
        ({"service_type": "WORKSHOP"}, "Select a valid choice."),
    ],
)
def test_a_query_the_form_cannot_read_is_refused_with_its_reason(manager_client, db, params, message):
    for name, extra in (("reports", {}), ("report_rows", {"show": "booked"})):
        response = manager_client.get(reverse(name), {**params, **extra})
        assert response.status_code == 400, (name, params)
        assert message in unescape(response.content.decode()), (name, params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "This field is required."),
        ({"show": "everything"}, "Select a valid choice."),
        ({"show": "booked", "page": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"show": "booked", "page": "two"}, "Enter a whole number."),
    ],
)
def test_the_drilldown_needs_a_number_and_a_page_it_can_read(manager_client, db, params, message):
    response = manager_client.get(reverse("report_rows"), params)

    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_post_is_not_allowed(manager_client, db):
    assert manager_client.post(reverse("reports")).status_code == 405


# --- the export ------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    data = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_export_is_the_rows_behind_the_number(manager_client, world):
    params = {**WEEK, "show": "collected_cash"}
    response = manager_client.get(reverse("report_rows_export"), {**params, "format": "csv"})
    rows = _csv(response)
    every = list(
        selectors.drill_rows_all(
            scope=week_scope(), filters=RowFilters(), metric=selectors.METRIC_BY_NAME["collected_cash"]
        )
    )

    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="payments-collected-cash-2026-11-16-to-2026-11-22.csv"'
    )
    header, body = rows[0], rows[1:]
    assert header[:10] == [
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
    ]
    assert [int(r[-2]) for r in body] == [r.booking_id for r in every]
    cash = header.index("Collected by cash")
    assert sum(Decimal(r[cash]) for r in body) == (10 + 4 + 10 + 3 + 4) * 6 + 30 + 50
    first = body[0]
    assert first[0] == "2026-11-16" and first[1] == "07:00" and first[2] == "Dawn swim"


def test_the_export_neutralises_a_formula_in_a_name(manager_client, world):
    booking = world.bookings[("CONFIRMED", "cash")]
    booking.contact.first_name = '=HYPERLINK("http://evil.example","click")'
    booking.contact.last_name = "+44 calc"
    booking.contact.save()

    body = _csv(manager_client.get(reverse("report_rows_export"), {**WEEK, "show": "paid_cash", "format": "csv"}))[1:]
    row = next(r for r in body if r[-2] == str(booking.pk))

    assert row[4] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert row[5] == "'+44 calc"


def test_the_export_as_xlsx(manager_client, world):
    response = manager_client.get(reverse("report_rows_export"), {**WEEK, "show": "due", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))

    assert response.status_code == 200
    assert rows[0][11] == "Due"
    assert (
        sum(Decimal(str(r[11])) for r in rows[1:])
        == selectors.report_read(scope=week_scope(), filters=RowFilters()).total["due"]
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**WEEK, "show": "booked", "format": "pdf"}, "Exports come as CSV or XLSX"),
        ({**WEEK, "show": "nope", "format": "csv"}, "Select a valid choice."),
        ({"start": "yesterday", "show": "booked", "format": "csv"}, "Enter a date as YYYY-MM-DD."),
    ],
)
def test_an_export_it_cannot_make_is_refused_with_its_reason(manager_client, db, params, message):
    response = manager_client.get(reverse("report_rows_export"), params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_drilldown_offers_the_export_to_who_may_export(manager_client, world):
    html = manager_client.get(reverse("report_rows"), {**WEEK, "show": "paid_cash"}).content.decode()

    assert (
        f"{reverse('report_rows_export')}?start=2026-11-16&amp;end=2026-11-22&amp;show=paid_cash&amp;format=csv" in html
    )


def test_a_session_filter_takes_the_wix_id_or_our_pk(manager_client, world):
    by_wix = manager_client.get(reverse("report_rows"), {**WEEK, "show": "booked", "session": world.evening.wix_id})
    local = factories.SessionFactory(wix_id=None, start=world.evening.start)
    by_pk = manager_client.get(reverse("report_rows"), {**WEEK, "show": "booked", "session": str(local.pk)})

    assert by_wix.status_code == 200 and "5 bookings" in by_wix.content.decode()
    assert by_pk.status_code == 200 and "0 bookings" in by_pk.content.decode()
