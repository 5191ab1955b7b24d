"""Walk-ins in headless Chromium, several in a row from one page load, as a busy desk adds them:
each one is its own action (a fresh form token after every walk-in), and the customer search
works again after each one. Screens are saved under test-artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import AuditEntry, Booking, Contact, Session
from tests import factories
from tests.browser.conftest import needs_chromium, screenshot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def evening_class() -> Session:
    """A £12 class tonight with two people booked, and two customers the desk knows who are not on it."""
    start = datetime.combine(timezone.localdate(), time(19), tzinfo=timezone.get_default_timezone())
    session = factories.SessionFactory(
        start=start, title="Night swim", capacity=12, service__price=Decimal("12.00"), service__currency="GBP"
    )
    for first, last in (("Ann", "Archer"), ("Bo", "Baker")):
        factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name=first, last_name=last))
    factories.ContactFactory(first_name="Gail", last_name="Gardner", email="gail@example.com")
    factories.ContactFactory(first_name="Hugo", last_name="Hale", email="hugo@example.com")
    return session


def _row(page, name: str):
    return page.locator(f"#roster-rows tbody.booking:has(strong:text-is('{name}'))")


def _new_customer(page, first: str, last: str) -> None:
    from playwright.sync_api import expect

    page.get_by_text("+ Add walk-in").click()
    page.locator("#walk-in-panel summary", has_text="+ New customer").click()
    expect(page.get_by_label("First name")).to_be_focused()
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(f"{first.lower()}@example.com")
    page.locator("#walk-in-new").get_by_role("button", name="Pay later").click()
    expect(_row(page, f"{first} {last}")).to_be_visible()
    expect(page.locator("#walk-in-panel")).not_to_have_attribute("open", "")


def _found_customer(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_text("+ Add walk-in").click()
    search = page.locator("#walk-in-q")
    expect(search).to_be_focused()
    search.press_sequentially(name.split()[0], delay=30)
    hit = page.locator("#walk-in-results .hit", has_text=name)
    expect(hit).to_be_visible()
    hit.get_by_role("button", name="Add · Cash £12.00").click()
    expect(_row(page, name)).to_be_visible()
    expect(page.locator("#walk-in-panel")).not_to_have_attribute("open", "")


@pytest.mark.django_db(transaction=True)
def test_two_new_customers_then_a_found_one_three_walk_ins_from_one_page_load(tablet, desk_password, evening_class):
    """Issue 10: the second new customer from the same page was answered as a repeat of the first."""
    from playwright.sync_api import expect

    page = tablet
    session = evening_class
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    _new_customer(page, "Alpha", "One")
    _new_customer(page, "Beta", "Two")
    _found_customer(page, "Gail Gardner")

    expect(page.locator("#roster-rows-message")).to_contain_text("Added Gail Gardner — paid cash.")
    page.locator("#roster-rows").evaluate("el => el.scrollIntoView({block: 'start'})")
    assert screenshot(page, "walk-in-three-in-a-row").exists()
    added = set(
        Booking.objects.filter(session=session, contact__first_name__in=["Alpha", "Beta", "Gail"]).values_list(
            "contact__first_name", "payment_status"
        )
    )
    assert added == {("Alpha", "NOT_PAID"), ("Beta", "NOT_PAID"), ("Gail", "PAID")}
    assert AuditEntry.objects.filter(action="booking.walk_in").count() == 3
    assert Contact.objects.filter(first_name__in=["Alpha", "Beta"]).count() == 2

    page.reload()
    for name in ("Alpha One", "Beta Two", "Gail Gardner", "Ann Archer", "Bo Baker"):
        expect(_row(page, name)).to_have_count(1)


@pytest.mark.django_db(transaction=True)
def test_two_found_customers_one_after_another_each_search_shows_results(tablet, desk_password, evening_class):
    """Issue 10: after "Add · Cash" for a found customer, the next search sent nothing until a reload."""
    from playwright.sync_api import expect

    page = tablet
    session = evening_class
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    _found_customer(page, "Gail Gardner")
    _found_customer(page, "Hugo Hale")

    expect(page.locator("#roster-rows-message")).to_contain_text("Added Hugo Hale — paid cash.")
    assert screenshot(page, "walk-in-two-found-in-a-row").exists()
    assert set(Booking.objects.filter(session=session).values_list("contact__first_name", flat=True)) == {
        "Ann",
        "Bo",
        "Gail",
        "Hugo",
    }
    page.reload()
    expect(_row(page, "Hugo Hale")).to_have_count(1)
    expect(_row(page, "Gail Gardner")).to_have_count(1)


@pytest.mark.django_db(transaction=True)
def test_a_group_of_three_walks_in_the_cash_button_shows_the_price_of_all(tablet, desk_password, evening_class):
    """Issue 14 (part): ×N participants on the walk-in form."""
    from playwright.sync_api import expect

    page = tablet
    session = evening_class
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    page.get_by_text("+ Add walk-in").click()
    page.locator("#walk-in-q").press_sequentially("Gail", delay=30)
    expect(page.locator('#walk-in-results[data-q="Gail"]')).to_be_attached()  # not a half-typed answer
    hit = page.locator("#walk-in-results .hit", has_text="Gail Gardner")
    people = hit.get_by_label("People")
    expect(people).to_have_value("1")
    people.fill("3")
    cash = hit.get_by_role("button", name="Add · Cash £36.00")
    expect(cash).to_be_visible()
    assert screenshot(page, "walk-in-group-of-three").exists()
    cash.click()

    row = _row(page, "Gail Gardner")
    expect(row).to_contain_text("×3")
    expect(page.locator("#roster-rows-message")).to_contain_text("Added Gail Gardner (3 people) — paid cash.")
    booking = Booking.objects.get(session=session, contact__first_name="Gail")
    assert booking.total_participants == 3 and booking.payment_status == "PAID"


@pytest.mark.django_db(transaction=True)
def test_someone_only_wix_knows_shows_up_a_moment_after_the_desks_own_hits(tablet, desk_password, evening_class):
    """The search answers from the desk at once and asks Wix in a second request: a customer who
    signed up online since the last sync appears under "Also in Wix" and is booked like anyone —
    and the next search, for someone the desk knows, works the same way straight after."""
    from playwright.sync_api import expect

    from bookings_app import wix
    from tests.wix_sandbox.builders import make_contact

    make_contact(wix.get_sandbox(), "Gwen", "Garland", email="gwen.garland@example.com")
    page = tablet
    session = evening_class
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    page.get_by_text("+ Add walk-in").click()
    page.locator("#walk-in-q").press_sequentially("Gwen", delay=30)
    hit = page.locator("#walk-in-results .wix-lookup .hit", has_text="Gwen Garland")
    expect(hit).to_be_visible()
    expect(page.locator("#walk-in-results")).to_contain_text("Also in Wix (new to this desk):")
    expect(page.locator("#walk-in-results")).not_to_contain_text("Looking in Wix too…")
    assert screenshot(page, "walk-in-found-in-wix").exists()
    hit.get_by_role("button", name="Add · Cash £12.00").click()
    expect(_row(page, "Gwen Garland")).to_be_visible()

    _found_customer(page, "Gail Gardner")

    expect(page.locator("#roster-rows-message")).to_contain_text("Added Gail Gardner — paid cash.")
    assert set(
        Booking.objects.filter(session=session, contact__first_name__in=["Gwen", "Gail"]).values_list(
            "contact__first_name", "payment_status"
        )
    ) == {("Gwen", "PAID"), ("Gail", "PAID")}
