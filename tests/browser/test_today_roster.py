"""The desk's first minute, in headless Chromium: sign in, read Today, open a roster, filter it.

Runs against pytest-django's live server with Debian's Chromium (driven by Playwright through
``executable_path``; no downloaded browsers). Each screen checked is saved as a screenshot under
test-artifacts/ (git-ignored). Self-contained: its fixtures live in this file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings_app.models import Attendance, Booking, Payment, Session
from tests import factories
from tests.browser.conftest import close_db_connections

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls are
# still synchronous, so Django's async-safety guard would refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-desk-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def chromium() -> Iterator[object]:
    # Started per test and closed after it: Playwright allows one sync driver at a time in a
    # thread, and the other browser modules start their own.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server) -> Iterator[object]:
    """A fresh tablet-sized tab; fails the test on any JavaScript error."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    close_db_connections()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def desk_login() -> tuple[str, str]:
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-desk", password=PASSWORD, roles=["Front desk"])
    return "browser-desk", PASSWORD


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def _person(session: Session, first: str, last: str, **booking: object) -> Booking:
    contact = factories.ContactFactory(
        first_name=first, last_name=last, email=f"{first}.{last}@example.com".lower(), phone=booking.pop("phone", "")
    )
    return factories.BookingFactory(session=session, contact=contact, **booking)


def _paid(booking: Booking, method: str) -> None:
    item = factories.OrderLineItemFactory(
        booking=booking, order__balance=Decimal("0"), order__payment_status="PAID", order__contact=booking.contact
    )
    factories.PaymentFactory(order=item.order, method=method, line_item_id=item.line_item_id)


@pytest.fixture
def todays_sessions() -> dict[str, Session]:
    """Two sessions today. Dawn swim: 6 on the roster (3 paid, 1 on a plan, 2 unpaid; 1 checked
    in) and one cancelled booking that no count includes. Sunset swim: 2, both unpaid."""
    today = timezone.localdate()
    dawn = factories.SessionFactory(start=_local(today, 7), title="Dawn swim", capacity=20)
    sunset = factories.SessionFactory(start=_local(today, 18), title="Sunset swim", capacity=12)
    factories.SessionFactory(start=_local(today + timedelta(days=1), 7), title="Tomorrow swim")

    ann = _person(dawn, "Ann", "Archer", payment_status="PAID", phone="+44 7700 900111")
    _paid(ann, Payment.Method.CASH)
    factories.AttendanceFactory(booking=ann, session=dawn, status=Attendance.Status.ATTENDED)
    bo = _person(dawn, "Bo", "Baker", payment_status="PAID", selected_payment_option="MEMBERSHIP")
    _paid(bo, Payment.Method.PLAN)
    _person(dawn, "Cy", "Cole")
    _person(dawn, "Di", "Dunn")
    _paid(_person(dawn, "Joanne", "Smith", payment_status="PAID"), Payment.Method.CARD)
    _paid(_person(dawn, "Zoë", "Zeta", payment_status="PAID"), Payment.Method.CASH)
    _person(dawn, "Gone", "Away", status=Booking.Status.CANCELED)

    _person(sunset, "Ed", "Eve")
    _person(sunset, "Flo", "Fox")
    return {"dawn": dawn, "sunset": sunset}


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"today-roster-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _stats(row) -> dict[str, str]:
    """A session's figures on Today, label → value (e.g. "Booked" → "6/20")."""
    stats = {}
    for stat in row.locator(".stat").all():
        # text_content, not inner_text: the labels are upper-cased by CSS
        label = stat.locator(".stat-label").text_content().strip()
        stats[label] = "".join(stat.locator(".stat-value").text_content().split())
    return stats


# --- the flow ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_desk_signs_in_sees_todays_counts_and_filters_a_roster(page, desk_login, todays_sessions):
    from playwright.sync_api import expect

    username, password = desk_login
    dawn = todays_sessions["dawn"]

    # Any screen sends a signed-out visitor to the sign-in form, which brings them back.
    page.goto("/today/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/today/")

    # Today: the day's sessions in time order with their figures; other days stay off it.
    sessions = page.locator("#session-list li.session")
    expect(sessions).to_have_count(2)
    expect(page.locator("#session-list h1")).to_contain_text("Today,")
    assert [s.locator(".session-name").text_content() for s in sessions.all()] == ["Dawn swim", "Sunset swim"]
    expect(page.locator("#session-list")).not_to_contain_text("Tomorrow swim")
    dawn_row = sessions.filter(has_text="Dawn swim")
    assert _stats(dawn_row) == {"Booked": "6/20", "Paid": "3", "Plan": "1", "Unpaid": "2", "In": "1"}
    assert _stats(sessions.filter(has_text="Sunset swim")) == {
        "Booked": "2/12",
        "Paid": "0",
        "Plan": "0",
        "Unpaid": "2",
        "In": "0",
    }
    assert _shot(page, "1-today").exists()

    # Into the roster: everyone still booked, by surname, with how they paid.
    dawn_row.get_by_role("link").first.click()
    page.wait_for_url(f"**/sessions/{dawn.ref}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dawn swim")
    rows = page.locator("#roster-rows tr[id^='booking-']")
    expect(rows).to_have_count(6)
    names = [r.locator(".who strong").first.text_content() for r in rows.all()]
    assert names == ["Ann Archer", "Bo Baker", "Cy Cole", "Di Dunn", "Joanne Smith", "Zoë Zeta"]
    expect(page.locator("#roster-rows")).not_to_contain_text("Gone Away")
    expect(rows.filter(has_text="Ann Archer")).to_contain_text("Checked in")
    expect(rows.filter(has_text="Ann Archer")).to_contain_text("Cash")
    expect(rows.filter(has_text="Bo Baker")).to_contain_text("Plan")
    expect(rows.filter(has_text="Cy Cole")).to_contain_text("Not paid")
    assert _shot(page, "2-roster").exists()

    # The instant filter: "/" jumps to the search box; typing narrows the list in place.
    page.evaluate("window.__sameDocument = true")
    page.locator("body").press("/")
    search = page.locator("#roster-q")
    expect(search).to_be_focused()
    search.press_sequentially("smi", delay=40)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Joanne Smith")
    expect(page.locator("#roster-rows")).to_contain_text("1 matching “smi”")
    assert page.evaluate("window.__sameDocument") is True  # swapped by htmx, not a page load
    expect(page).to_have_url(f"{page.url.split('?')[0]}?q=smi&sort=surname")  # the order it is in, kept
    assert _shot(page, "3-roster-filtered").exists()

    # A phone fragment finds the person too; clearing the box brings everyone back.
    search.fill("900111")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ann Archer")
    search.fill("")
    expect(rows).to_have_count(6)
    assert page.evaluate("window.__sameDocument") is True
