"""The payment report in headless Chromium, as a manager uses it: the week's report → a number →
the rows behind it (their total is that number) → a row → that booking on its session's roster;
then the same again from the chart's table. Twice in a row, as the house rules ask. Screens under
test-artifacts/ (report-*, report-rows-*)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from tests import factories
from tests.browser.conftest import needs_chromium, shots, sign_in
from tests.selectors import report_world

pytestmark = [pytest.mark.browser, needs_chromium]

WEEK = "/reports/?start=2026-11-16&end=2026-11-22"


@pytest.fixture
def manager_password() -> str:
    password = "browser-manager-2026"
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-manager", password=password, roles=["Manager"])
    return password


def test_report_to_rows_to_roster_twice(tablet, manager_password):
    world = report_world.build()
    booking = world.bookings[("CONFIRMED", "part")]
    sign_in(tablet, username="browser-manager", password=manager_password, next_path=WEEK)

    for run in (1, 2):
        tablet.goto(WEEK)
        summary = tablet.locator(".report-summary")
        assert summary.get_by_text("No-shows who did not pay").is_visible()
        figure = tablet.locator("#no-show-unpaid a.report-big")
        number = figure.inner_text()
        assert number == "7"
        if run == 1:
            shots(tablet, "report")

        figure.click()
        tablet.wait_for_url(re.compile(r"/reports/rows/\?.*show=no_show_unpaid"))
        assert tablet.locator("[data-measure]").inner_text() == number
        assert tablet.locator("tr.drill-row").count() == 7
        row = tablet.locator(f'tr.drill-row[data-booking="{booking.pk}"]')
        # Booking status, payment status and attendance side by side, each its own badge.
        assert row.locator(".badge").all_inner_texts() == ["Confirmed", "Partly paid", "No-show"]
        if run == 1:
            shots(tablet, "report-rows")

        row.get_by_role("link", name=re.compile("^Roster")).click()
        tablet.wait_for_url(re.compile(rf"/sessions/{world.dawn.ref}/#roster-row-{booking.pk}$"))
        assert tablet.locator(f"#roster-row-{booking.pk}").is_visible()
        assert "Part Confirmed" in tablet.locator(f"#roster-row-{booking.pk}").inner_text().replace("\n", " ")


def test_a_session_number_and_a_chart_figure_lead_to_their_rows_twice(tablet, manager_password):
    world = report_world.build()
    sign_in(tablet, username="browser-manager", password=manager_password, next_path=WEEK)

    for _ in range(2):
        tablet.goto(WEEK)
        evening = tablet.locator("tr", has=tablet.get_by_role("link", name="Evening swim"))
        evening.locator("td a").nth(5).click()  # the Money group's first number: due
        tablet.wait_for_url(re.compile(rf"session={world.evening.pk}&show=due"))
        assert tablet.locator("[data-measure]").inner_text() == "£10.00"
        assert tablet.locator("tr.drill-row").count() == 1

        tablet.goto(WEEK)
        tablet.get_by_text("The chart's figures as a table").click()
        cash = tablet.locator(".chart-table tr", has=tablet.get_by_text("Wed 18 Nov")).locator("td a").first
        assert cash.inner_text() == "£30.00"
        cash.click()
        tablet.wait_for_url(re.compile(r"start=2026-11-18&end=2026-11-18&show=collected_cash"))
        assert tablet.locator("[data-measure]").inner_text() == "£30.00"
        assert tablet.locator("tr.drill-row").count() == 3
