"""A shift change on a shared iPad, in headless Chromium: the session ends (or someone signs in
or out on the device) while a roster is open. A tap then says what happened above the page,
keeps what was typed, and "Sign in again" comes back to the roster with it. Screens are saved
under test-artifacts/ (git-ignored)."""

from __future__ import annotations

import io
from datetime import datetime, time
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session as DjangoSession
from django.core.management import call_command
from django.utils import timezone

from bookings_app.models import Booking, Contact, DeskAction, Session
from tests import factories
from tests.browser.conftest import needs_chromium, screenshot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def evening_class() -> Session:
    start = datetime.combine(timezone.localdate(), time(19), tzinfo=timezone.get_default_timezone())
    session = factories.SessionFactory(
        start=start, title="Night swim", capacity=12, service__price=Decimal("12.00"), service__currency="GBP"
    )
    factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name="Ann", last_name="Archer"))
    return session


def _type_a_new_customer(page, first: str) -> None:
    page.get_by_text("+ Add walk-in").click()
    page.locator("#walk-in-panel summary", has_text="+ New customer").click()
    page.get_by_label("First name").fill(first)
    page.get_by_label("Email").fill(f"{first.lower()}@example.com")


@pytest.mark.django_db(transaction=True)
def test_the_session_ends_a_tap_says_so_keeps_the_typing_and_signing_in_comes_back(
    tablet, desk_password, evening_class
):
    from playwright.sync_api import expect

    page = tablet
    session = evening_class
    roster = f"/sessions/{session.ref}/"
    sign_in(page, username="browser-desk", password=desk_password, next_path=roster)
    _type_a_new_customer(page, "Gwen")

    DjangoSession.objects.all().delete()  # the session ends on the server (expiry, sign-out elsewhere)
    page.locator("#walk-in-new").get_by_role("button", name="Pay later").click()

    banner = page.locator("#session-problem")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("You were signed out")
    expect(banner).to_contain_text("Nothing was changed, and what you typed is still here.")
    expect(page.get_by_label("First name")).to_have_value("Gwen")  # the form was not wiped
    expect(page.locator("#walk-in-panel")).to_have_attribute("open", "")
    assert screenshot(page, "signed-out-banner").exists()
    assert not Contact.objects.filter(first_name="Gwen").exists() and not DeskAction.objects.exists()

    banner.get_by_role("link", name="Sign in again").click()
    page.wait_for_url("**/login/**")
    page.get_by_label("Username").fill("browser-desk")
    page.get_by_label("Password").fill(desk_password)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"**{roster}")  # back on the roster, with what was typed
    expect(page.get_by_label("First name")).to_have_value("Gwen")
    expect(page.get_by_label("Email")).to_have_value("gwen@example.com")
    assert screenshot(page, "signed-out-back-on-the-roster").exists()
    page.locator("#walk-in-new").get_by_role("button", name="Pay later").click()
    expect(page.locator("#roster-rows tbody.booking:has(strong:text-is('Gwen'))")).to_be_visible()
    assert Booking.objects.filter(session=session, contact__first_name="Gwen").count() == 1


@pytest.mark.django_db(transaction=True)
def test_someone_else_signs_in_on_the_device_the_old_page_says_it_is_out_of_date(tablet, desk_password, evening_class):
    """Signing in rotates the CSRF token: a tab opened before posts with the old one (403)."""
    from playwright.sync_api import expect

    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-desk-2", password=desk_password, roles=["Front desk"])
    page = tablet
    session = evening_class
    roster = f"/sessions/{session.ref}/"
    sign_in(page, username="browser-desk", password=desk_password, next_path=roster)
    _type_a_new_customer(page, "Hana")

    other = page.context.new_page()  # the next person signs out and in on the same device
    other.goto("/today/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url("**/login/")
    other.get_by_label("Username").fill("browser-desk-2")
    other.get_by_label("Password").fill(desk_password)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url("**/today/")
    other.close()

    page.locator("#walk-in-new").get_by_role("button", name="Pay later").click()

    banner = page.locator("#session-problem")
    expect(banner).to_contain_text("This page is out of date")
    expect(page.get_by_label("First name")).to_have_value("Hana")
    assert not Contact.objects.filter(first_name="Hana").exists()
    assert screenshot(page, "stale-page-banner").exists()

    banner.get_by_role("link", name="Sign in again").click()  # already signed in: straight back
    page.wait_for_url(f"**{roster}")
    expect(page.get_by_label("First name")).to_have_value("Hana")
    expect(page.locator(".signed-in-as")).to_have_text("browser-desk-2")
