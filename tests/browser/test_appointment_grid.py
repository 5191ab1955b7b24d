"""The appointment week grid at two desks in headless Chromium (two browser contexts): desk A
books a free time from the grid; desk B's grid, left open, shows it taken within one refresh, and
B's booking from its older page is refused — twice in a row, for two times. Desk A works at
1366×768, desk B on a portrait tablet (768×1024); neither page scrolls sideways. Screens are
saved under test-artifacts/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import Booking, DeskAction
from tests import factories
from tests.browser.conftest import close_db_connections, needs_chromium, screenshot, sign_in
from tests.selectors.appointment_world import Spa, build_spa

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(autouse=True)
def fresh_availability() -> Iterator[None]:
    selectors.appointment_availability_forget()
    yield
    selectors.appointment_availability_forget()


@pytest.fixture
def spa() -> Spa:
    """The spa from this week's Monday for three weeks; the test books next Monday."""
    today = timezone.localdate()
    spa = build_spa(first_monday=today - timedelta(days=today.weekday()), weeks=3)
    for first, last in (("Ann", "Archer"), ("Bea", "Baker"), ("Cal", "Cooper"), ("Dee", "Dyer")):
        factories.ContactFactory(first_name=first, last_name=last, email=f"{first.lower()}@example.com")
    return spa


@pytest.fixture
def two_desks(desk_chromium, live_server) -> Iterator[tuple[object, object]]:
    """Desk A at 1366×768 and desk B at 768×1024, each its own browser context (own session)."""
    contexts = [
        desk_chromium.new_context(viewport=size, base_url=live_server.url)
        for size in ({"width": 1366, "height": 768}, {"width": 768, "height": 1024})
    ]
    errors: list[str] = []
    pages = []
    for context in contexts:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()
    close_db_connections()
    assert not errors, f"JavaScript errors: {errors}"


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _slot_name(monday, hour: int) -> str:
    return f"Book Sports Massage with Maya Thompson on {monday:%A} {monday.day} {monday:%B} at {hour:02d}:00"


@pytest.mark.django_db(transaction=True)
def test_a_time_booked_at_one_desk_is_taken_on_the_other_within_one_refresh_twice(
    two_desks, desk_password, spa: Spa
) -> None:
    from playwright.sync_api import expect

    desk_a, desk_b = two_desks
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    grid_path = f"/appointments/week/?service={spa.massage.pk}&week={monday:%Y-%m-%d}"
    for page in (desk_a, desk_b):
        sign_in(page, username="browser-desk", password=desk_password, next_path="/today/")
    desk_a.get_by_role("link", name="Appointments week").click()
    desk_a.get_by_role("link", name="Sports Massage").click()
    desk_a.get_by_role("link", name="Next week ›").click()
    desk_a.wait_for_url(f"**{grid_path}")
    desk_b.goto(grid_path)

    for n, (hour, customer) in enumerate(((9, "Ann Archer"), (10, "Bea Baker")), start=1):
        name = _slot_name(monday, hour)
        expect(desk_b.get_by_role("link", name=name)).to_be_visible()
        stale_href = desk_b.get_by_role("link", name=name).get_attribute("href")
        if n == 1:
            _no_sideways_scroll(desk_a)
            _no_sideways_scroll(desk_b)
            assert screenshot(desk_a, "appointment-grid-1366").exists()
            assert screenshot(desk_b, "appointment-grid-768").exists()
            # The tablet looks at the second person: the grid scrolls inside its box.
            desk_b.locator(".appt-scroll").evaluate("box => { box.scrollLeft = box.scrollWidth; }")
            expect(desk_b.locator(".appt-person-name", has_text="Ravi Patel")).to_be_in_viewport()

        # Desk A: the free time → the customer → Cash.
        desk_a.get_by_role("link", name=name).click()
        expect(desk_a.get_by_role("heading", name="3 Customer and payment")).to_be_visible()
        desk_a.get_by_label("Find the customer").press_sequentially(customer.split()[1], delay=20)
        hit = desk_a.locator("#appointment-customers .hit", has_text=customer)
        hit.get_by_role("button", name="Book · Cash £40.00").click()
        expect(desk_a.locator("#messages")).to_contain_text(
            f"Added {customer} — paid cash — Sports Massage, {hour:02d}:00."
        )

        # Desk B, untouched: within one refresh the time is shown taken and no longer offered.
        taken = desk_b.get_by_role("link", name=f"Booked: {customer}, Sports Massage with Maya Thompson")
        expect(taken).to_be_visible(timeout=4_000 + 4_000)
        expect(desk_b.get_by_role("link", name=name)).to_have_count(0)
        expect(desk_b.locator(".appt-summary")).to_contain_text(f"{n} booked")
        if n == 1:
            # The refresh kept where the grid was scrolled.
            assert desk_b.locator(".appt-scroll").evaluate("box => box.scrollLeft") > 0
            expect(desk_b.locator(".appt-person-name", has_text="Ravi Patel")).to_be_in_viewport()
            assert screenshot(desk_b, "appointment-grid-768-taken-scrolled").exists()
            desk_b.locator(".appt-scroll").evaluate("box => { box.scrollLeft = 0; }")
            assert screenshot(desk_b, "appointment-grid-768-taken").exists()

        # Desk B's older link to that time: the book step, then a clear refusal with the week again.
        desk_b.goto(stale_href)
        desk_b.get_by_label("Find the customer").press_sequentially("Cooper" if n == 1 else "Dyer", delay=20)
        desk_b.locator("#appointment-customers .hit").first.get_by_role("button", name="Book · Cash £40.00").click()
        expect(desk_b.locator(".appt-message")).to_contain_text("Just booked at another desk — pick another time.")
        expect(desk_b.locator(".appt-message")).to_contain_text(f"Maya Thompson is already booked at {hour:02d}:00.")
        expect(
            desk_b.get_by_role("link", name=f"Booked: {customer}, Sports Massage with Maya Thompson")
        ).to_be_visible()
        _no_sideways_scroll(desk_b)
        if n == 1:
            assert screenshot(desk_b, "appointment-409-768").exists()

        desk_a.goto(grid_path)
        expect(desk_a.get_by_role("link", name=name)).to_have_count(0)

    assert Booking.objects.filter(service=spa.massage, status="CONFIRMED").count() == 2
    assert sorted(b.contact.full_name for b in Booking.objects.filter(service=spa.massage)) == [
        "Ann Archer",
        "Bea Baker",
    ]
    assert DeskAction.objects.filter(kind="WALK_IN").count() == 2


@pytest.mark.django_db(transaction=True)
def test_next_available_opens_the_book_step_and_the_staff_filter_narrows_the_grid(
    tablet, desk_password, spa: Spa
) -> None:
    from playwright.sync_api import expect

    page = tablet
    sign_in(
        page, username="browser-desk", password=desk_password, next_path=f"/appointments/week/?service={spa.massage.pk}"
    )
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Ravi Patel").click()
    expect(page.locator(".appt-week-title")).to_contain_text("Ravi Patel")
    expect(page.get_by_role("link", name="Book Sports Massage with Maya Thompson")).to_have_count(0)
    page.get_by_role("link", name="Next available with Ravi Patel").click()
    expect(page.get_by_role("heading", name="3 Customer and payment")).to_be_visible()
    expect(page.locator(".chosen").nth(1)).to_contain_text("with Ravi Patel")
