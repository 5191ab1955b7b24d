"""What the desk sees when Wix work waits, in headless Chromium: the header's warning that desk
actions have waited too long (the worker may have stopped, or a live one is sending them), and
the customer search answering from the mirror at once with "Wix is busy" when the minute's Wix
calls are used up. Screens at the desk and tablet sizes under test-artifacts/."""

from __future__ import annotations

import dataclasses
import time as clock
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import Session
from tests import factories
from tests.browser.conftest import needs_chromium, shots, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def evening_class() -> Session:
    start = datetime.combine(timezone.localdate(), time(19), tzinfo=timezone.get_default_timezone())
    session = factories.SessionFactory(
        start=start, title="Night swim", capacity=12, service__price=Decimal("12.00"), service__currency="GBP"
    )
    for first, last in (("Ann", "Archer"), ("Bo", "Baker")):
        factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first, last_name=last))
    factories.ContactFactory(first_name="Annie", last_name="Nolan", email="annie@example.com")
    return session


@pytest.mark.django_db(transaction=True)
def test_the_header_says_when_desk_actions_wait_too_long_for_wix(tablet, desk_password, evening_class):
    from playwright.sync_api import expect

    factories.SyncStateFactory(kind="bookings", last_success_at=timezone.now() - timedelta(seconds=40))
    for minutes in (4, 9, 14):
        factories.DeskActionFactory(run_after=timezone.now() - timedelta(minutes=minutes))
    page = tablet
    sign_in(page, username="browser-desk", password=desk_password)

    warning = page.locator(".desk-backlog")
    expect(warning).to_contain_text("3 desk actions have waited more than 2 minutes to reach Wix")
    expect(warning).to_contain_text("The background worker may have stopped")
    shots(page, "header-desk-backlog")
    page.reload()  # the count is asked again (kept a few seconds outside tests)
    expect(page.locator(".desk-backlog")).to_contain_text("3 desk actions")
    page.goto(f"/sessions/{evening_class.ref}/")
    expect(page.locator(".desk-backlog")).to_be_visible()
    shots(page, "header-desk-backlog-roster")


@pytest.mark.django_db(transaction=True)
def test_the_header_says_late_desk_actions_are_being_sent_when_wix_answers_and_a_worker_runs(
    tablet, desk_password, evening_class
):
    """Wix is back after an outage and the worker drains the queue (the outage drill's case)."""
    from playwright.sync_api import expect

    factories.SyncStateFactory(kind="bookings", last_success_at=timezone.now() - timedelta(seconds=40))
    for minutes in (4, 9, 14):
        factories.DeskActionFactory(run_after=timezone.now() - timedelta(minutes=minutes))
    factories.WorkerHeartbeatFactory(seen_at=timezone.now())
    page = tablet
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{evening_class.ref}/")

    warning = page.locator(".desk-backlog")
    expect(warning).to_contain_text("3 desk actions have waited more than 2 minutes to reach Wix")
    expect(warning).to_contain_text("Wix answers and the background worker is sending them now")
    expect(warning).not_to_contain_text("may have stopped")
    shots(page, "header-desk-backlog-sending")
    page.reload()  # the same again on the next look
    expect(page.locator(".desk-backlog")).to_contain_text("the background worker is sending them now")


@pytest.mark.django_db(transaction=True)
def test_with_the_wix_budget_used_up_the_search_answers_from_the_desk_and_says_wix_is_busy(
    tablet, desk_password, evening_class, settings, tmp_path
):
    from playwright.sync_api import expect

    from bookings_app import wix

    settings.BASE_DIR = tmp_path
    settings.WIX = dataclasses.replace(settings.WIX, sandbox_faults="latency_ms=0", rate_limit_per_minute=20)
    wix.clear_cached_state()
    window = tmp_path / "var" / wix.RATE_LIMIT_FILE
    window.parent.mkdir(parents=True, exist_ok=True)
    page = tablet
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{evening_class.ref}/")
    now = clock.time()
    window.write_text("".join(f"{now - 0.5 + i / 1000!r}\n" for i in range(20)))  # the minute's calls are spent

    page.get_by_text("+ Add walk-in").click()
    page.locator("#walk-in-q").press_sequentially("Annie", delay=30)

    expect(page.locator("#walk-in-results .hit", has_text="Annie Nolan")).to_be_visible()
    expect(page.locator("#walk-in-results .wix-note")).to_contain_text("Wix is busy right now")
    shots(page, "walk-in-search-wix-busy")

    page.locator("#walk-in-q").fill("")  # and again, as the next customer comes in
    page.locator("#walk-in-q").press_sequentially("Archer", delay=30)
    expect(page.locator("#walk-in-results .hit", has_text="Ann Archer")).to_be_visible()
    expect(page.locator("#walk-in-results .wix-note")).to_contain_text("Wix is busy right now")
    assert wix.get_sandbox().call_log == []  # nothing was sent, both times
    shots(page, "walk-in-search-wix-busy-again")
