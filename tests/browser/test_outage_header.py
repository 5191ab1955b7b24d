"""In headless Chromium: the header says Wix is unreachable as soon as a Wix call went unanswered;
a page's own refreshes are marked as such (they do not keep an idle desk signed in); a NUL byte
in a link is a readable 400 page. Screens go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import SyncState
from tests import factories
from tests.browser.conftest import needs_chromium, shots, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def morning_class():
    start = datetime.combine(timezone.localdate(), time(7), tzinfo=timezone.get_default_timezone())
    session = factories.SessionFactory(start=start, title="Dawn swim", service__price=Decimal("12.00"))
    factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name="Ann", last_name="Archer"))
    factories.SyncStateFactory(kind="bookings", last_success_at=timezone.now() - timedelta(seconds=40))
    return session


@pytest.mark.django_db(transaction=True)
def test_the_header_says_wix_is_unreachable_from_the_first_unanswered_call(tablet, desk_password, morning_class):
    from playwright.sync_api import expect

    page = tablet
    sign_in(page, username="browser-desk", password=desk_password)
    expect(page.locator(".sync-status")).to_contain_text("Synced")
    expect(page.locator(".sync-warning")).to_have_count(0)

    # The worker's first push attempt got no answer, 20 seconds into the outage; no sync has failed yet.
    SyncState.objects.create(
        kind=SyncState.Kind.WIX_CALLS,
        last_success_at=timezone.now() - timedelta(seconds=30),
        last_error_at=timezone.now() - timedelta(seconds=10),
        last_error="the connection was refused",
    )
    for _ in range(2):  # each screen twice in a row
        page.goto(f"/sessions/{morning_class.ref}/")
        expect(page.locator(".sync-status")).to_contain_text("Wix unreachable")
        warning = page.locator(".sync-warning")
        expect(warning).to_contain_text("Wix is not answering (the connection was refused)")
        expect(warning).to_contain_text("desk actions will wait and reach Wix when it is back")
    shots(page, "outage-header-roster")

    SyncState.objects.filter(kind=SyncState.Kind.WIX_CALLS).update(last_success_at=timezone.now())  # answered again
    page.goto("/today/")
    expect(page.locator(".sync-status")).to_contain_text("Synced")
    expect(page.locator(".sync-warning")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_a_pages_own_requests_are_marked_and_a_persons_are_not(tablet, desk_password, morning_class):
    page = tablet
    sign_in(page, username="browser-desk", password=desk_password)
    seen: list[tuple[str, str | None]] = []
    page.on("request", lambda request: seen.append((request.url, request.headers.get("x-desk-background"))))

    with page.expect_response(lambda r: "/today/" in r.url and r.request.headers.get("hx-request") == "true"):
        page.locator("#today-filters select").first.select_option(index=0)  # a person's change
    with page.expect_response(lambda r: "/today/?by=poll" in r.url):
        page.evaluate("htmx.ajax('GET', '/today/?by=poll', {target: '#session-list', swap: 'none'})")  # no event

    by_person = [header for url, header in seen if "/today/" in url and "by=poll" not in url]
    by_page = [header for url, header in seen if "by=poll" in url]
    assert by_person and by_person[-1] is None
    assert by_page == ["1"]


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_in_a_link_is_a_readable_400_page(tablet, desk_password, morning_class):
    from playwright.sync_api import expect

    page = tablet
    sign_in(page, username="browser-desk", password=desk_password)
    for _ in range(2):
        response = page.goto("/today/?q=a%00b")
        assert response is not None and response.status == 400
        expect(page.locator("h1")).to_have_text("Not understood")
        expect(page.locator("main")).to_contain_text("a NUL byte")
        expect(page.get_by_role("link", name="Back to Today")).to_be_visible()
    shots(page, "bad-input-400")
