"""Multi-service packages at the front desk in headless Chromium: a three-service spa package
(massage → facial → manicure) for a new customer paid in cash, seen on its page and on its three
appointment sessions (Today marks them), taken to Wix by the worker; a second package right after
for a found customer (the services put in another order with the buttons, pay later); then that
one cancelled. At 1366×768 and on a portrait tablet (768×1024); no page scrolls sideways. Screens
are saved under test-artifacts/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bookings_app.models import Booking, DeskAction, Package
from tests.browser.conftest import close_db_connections, needs_chromium, screenshot, sign_in
from tests.services.package_world import Spa, build_spa

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def spa() -> Iterator[Spa]:
    world = build_spa()
    yield world
    world.wix.close()


@pytest.fixture
def desk_page(desk_chromium, live_server) -> Iterator[object]:
    """A desk PC at 1366×768; fails the test on any JavaScript error; confirm dialogs accepted."""
    context = desk_chromium.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()
    close_db_connections()
    assert not errors, f"JavaScript errors: {errors}"


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.django_db(transaction=True)
def test_a_spa_package_booked_paid_and_seen_then_a_second_one_booked_and_cancelled(
    desk_page, desk_password, spa: Spa
) -> None:
    from playwright.sync_api import expect

    page = desk_page
    day = spa.day
    found = spa.customer("Bea", "Baker")
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/today/?date={day:%Y-%m-%d}")

    # -- 1. A three-service package for a new customer, cash -------------------------------------
    page.get_by_role("link", name="+ Book a package").click()
    expect(page.get_by_role("heading", name="Book a package")).to_be_visible()
    for name in ("Sports Massage", "Express Facial", "Classic Manicure"):
        page.get_by_role("button", name=f"+ {name}").click()
        expect(page.locator(".package-service", has_text=name)).to_be_visible()
    expect(page.locator(".package-total")).to_contain_text("3 services · 135 min · £125.00")
    assert screenshot(page, "package-times-1366").exists()
    _no_sideways_scroll(page)
    page.get_by_role("link", name="Start at 09:00, ends 11:15, The Boathouse Spa").click()
    expect(page.get_by_role("heading", name="3 Customer and payment")).to_be_visible()
    chain = page.locator(".package-chain")
    for times in ("09:00–10:00", "10:00–10:45", "10:45–11:15"):
        expect(chain).to_contain_text(times)
    page.locator("summary", has_text="+ New customer").click()
    page.get_by_label("First name").fill("Ash")
    page.get_by_label("Last name").fill("Newman")
    page.get_by_label("Email").fill("ash.newman@example.com")
    assert screenshot(page, "package-customer-1366").exists()
    page.locator(".new-customer-form").get_by_role("button", name="Book package · Cash £125.00").click()

    expect(page.locator("#messages")).to_contain_text("Booked Ash Newman's package of 3 — paid cash £125.00.")
    expect(page.get_by_role("heading", name="Package for Ash Newman")).to_be_visible()
    expect(page.locator(".package-state")).to_contain_text("Waiting for Wix")
    rows = page.locator(".package-chain tbody tr")
    expect(rows).to_have_count(3)
    _no_sideways_scroll(page)
    assert screenshot(page, "package-page-1366").exists()

    # On Today: the three appointment sessions, each marked as part of a package.
    page.goto(f"/today/?date={day:%Y-%m-%d}")
    marked = page.locator(".session", has=page.locator(".badge.kind-package"))
    expect(marked).to_have_count(3)
    expect(marked.first).to_contain_text("Sports Massage")
    expect(marked.first).to_contain_text("waiting for Wix")
    assert screenshot(page, "package-today-1366").exists()
    marked.first.locator(".session-link").click()
    expect(page.locator("body")).to_contain_text("Ash Newman")

    # The worker takes it to Wix: one multi-service booking, one order of three lines, paid.
    report = spa.push()
    assert report.needs_attention == 0
    (msb,) = spa.wix_msbs()
    (order,) = spa.sb.state.all("orders")
    assert len(order["lineItems"]) == 3 and order["paymentStatus"] == "PAID"
    first = Package.objects.get(contact__email="ash.newman@example.com")
    assert first.wix_id == msb["id"]
    page.goto(f"/packages/{first.pk}/")
    expect(page.locator(".package-state")).to_contain_text("In Wix")

    # -- 2. Right after: a second package for a found customer, another order, pay later --------
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"/today/?date={day:%Y-%m-%d}")
    page.get_by_role("link", name="+ Book a package").click()
    for name in ("Sports Massage", "Classic Manicure", "Express Facial"):
        page.get_by_role("button", name=f"+ {name}").click()
    # The facial comes second: moved up with the keyboard.
    page.get_by_role("button", name="Move Express Facial earlier").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".package-service").nth(1)).to_contain_text("Express Facial")
    page.get_by_role("button", name="Remove Classic Manicure").click()
    expect(page.locator(".package-service")).to_have_count(2)
    page.get_by_role("button", name="+ Classic Manicure").click()
    expect(page.locator(".package-service").nth(2)).to_contain_text("Classic Manicure")
    _no_sideways_scroll(page)
    assert screenshot(page, "package-times-768").exists()
    # 09:00 with Maya is taken now; the first time offered is with Ravi.
    page.locator(".package-starts a").first.click()
    expect(page.get_by_role("heading", name="3 Customer and payment")).to_be_visible()
    page.get_by_label("Find the customer").press_sequentially("Baker", delay=20)
    hit = page.locator("#package-customers .hit", has_text="Bea Baker")
    expect(hit).to_be_visible()
    assert screenshot(page, "package-customer-768").exists()
    hit.get_by_role("button", name="Pay later").click()

    expect(page.locator("#messages")).to_contain_text("Booked Bea Baker's package of 3 — pays later £125.00.")
    second = Package.objects.get(contact=found)
    assert [i.service.name for i in second.items.order_by("position")] == [
        "Sports Massage",
        "Express Facial",
        "Classic Manicure",
    ]
    _no_sideways_scroll(page)
    assert screenshot(page, "package-page-768").exists()

    # -- 3. Cancel the second one (booked here today, nothing paid: the desk may) ----------------
    page.get_by_role("button", name="Cancel package").click()
    expect(page.locator("#messages")).to_contain_text("Cancelled Bea Baker's package: its times are free again.")
    expect(page.locator(".package-state")).to_contain_text("Cancelled")
    assert screenshot(page, "package-cancelled-768").exists()
    assert set(Booking.objects.filter(package_item__package=second).values_list("status", flat=True)) == {"CANCELED"}
    assert not Package.objects.get(pk=first.pk).is_cancelled
    # The first package, paid in cash: only a manager may cancel it.
    page.goto(f"/packages/{first.pk}/")
    expect(page.locator("#package-change")).to_contain_text("Only a manager can cancel this package")
    expect(page.get_by_role("button", name="Cancel package")).to_have_count(0)
    assert DeskAction.objects.filter(kind="PACKAGE").count() == 2
