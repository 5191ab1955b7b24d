"""The customer card in headless Chromium: opened from a walk-in search hit as a panel, for one
person then another (each panel shows its own person, nothing left over from the first), a note
added inside the panel, and the card as a page without JavaScript. Screenshots under
test-artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import AuditEntry, CustomerNote, Session
from tests import factories
from tests.browser.conftest import close_db_connections, needs_chromium, screenshot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def lake_class() -> dict[str, object]:
    """Tonight's open-water class, and two customers not on it yet: Ann (a member with a medical
    alert, an emergency contact and an unpaid visit last week) and Bo (no history at all)."""
    tz = timezone.get_default_timezone()
    tonight = datetime.combine(timezone.localdate(), time(19), tzinfo=tz)
    session = factories.SessionFactory(
        start=tonight, title="Lake swim", capacity=30, service__price=Decimal("12.00"), service__currency="GBP"
    )
    ann = factories.ContactFactory(first_name="Ann", last_name="Lakeside", phone="+44 7700 900123")
    factories.BenefitBalanceFactory(member__contact=ann, name="10-swim pass", remaining_credits=Decimal("3"))
    factories.CustomerNoteFactory(contact=ann, alert="MEDICAL", text="Asthma: inhaler in the red kit bag")
    factories.EmergencyContactFactory(contact=ann, name="Bob Lakeside", phone="+44 7700 900999", relationship="Husband")
    last_week = factories.SessionFactory(service=session.service, start=tonight - timedelta(days=7), title="Lake swim")
    factories.BookingFactory(session=last_week, contact=ann)
    bo = factories.ContactFactory(first_name="Bo", last_name="Lakewood", phone="+44 7700 900456")
    return {"session": session, "ann": ann, "bo": bo}


@pytest.mark.django_db(transaction=True)
def test_the_card_opens_from_a_search_hit_for_one_person_then_another(tablet, desk_password, lake_class):
    from playwright.sync_api import expect

    page = tablet
    session: Session = lake_class["session"]
    ann, bo = lake_class["ann"], lake_class["bo"]
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    page.get_by_text("+ Add walk-in").click()
    search = page.locator("#walk-in-q")

    # Ann: her hit carries the medical alert; "Customer card" opens her card under the hit.
    search.press_sequentially("Lakeside", delay=30)
    # the answer to the whole name, not to a half-typed one still on its way (a slow machine)
    expect(page.locator('#walk-in-results[data-q="Lakeside"]')).to_be_attached()
    hit = page.locator("#walk-in-results .hit", has_text="Ann Lakeside")
    expect(hit.locator(".badge.alert-medical")).to_have_text("Medical")
    hit.get_by_role("link", name="Customer card").click()
    card = hit.locator(".customer-card")
    expect(card).to_be_visible()
    expect(card.locator(".card-name")).to_have_text("Ann Lakeside")
    expect(card).to_contain_text("Asthma: inhaler in the red kit bag")
    expect(card).to_contain_text("Bob Lakeside")
    expect(card).to_contain_text("3 left of 10")
    expect(card).to_contain_text("Owes £12.00")
    expect(card).to_contain_text("Kept in Front Desk, not in Wix")
    expect(card.get_by_role("link", name="+44 7700 900123")).to_have_attribute("href", "tel:+447700900123")
    card.scroll_into_view_if_needed()
    assert screenshot(page, "card-1-ann-from-search-hit").exists()

    # Bo: a new search, his hit, his card — nothing of Ann's in it.
    search.fill("")
    search.press_sequentially("Lakewood", delay=30)
    # the answer to the whole name, not to a half-typed one still on its way (a slow machine)
    expect(page.locator('#walk-in-results[data-q="Lakewood"]')).to_be_attached()
    expect(page.locator("#walk-in-results .hit", has_text="Ann Lakeside")).to_have_count(0)
    hit = page.locator("#walk-in-results .hit", has_text="Bo Lakewood")
    expect(hit.locator(".badge[class*=alert-]")).to_have_count(0)
    hit.get_by_role("link", name="Customer card").click()
    card = hit.locator(".customer-card")
    expect(card.locator(".card-name")).to_have_text("Bo Lakewood")
    expect(card).to_contain_text("No alerts or notes.")
    expect(card).to_contain_text("Nothing owed.")
    expect(card).not_to_contain_text("Asthma")
    expect(card).not_to_contain_text("Bob Lakeside")
    expect(page.locator(".customer-card")).to_have_count(1)

    # A payment alert added inside Bo's panel: the panel redraws itself, still a panel.
    card.get_by_text("+ Add a note or alert").click()
    card.get_by_label("New note").fill("Ask about last month's swims")
    card.locator("label.seg", has_text="Ask about payment").click()
    card.get_by_role("button", name="Add note").click()
    card = hit.locator(".customer-card")
    expect(card).to_contain_text("Note added.")
    expect(card.locator(".card-head .badge.alert-payment")).to_have_text("Ask about payment")
    expect(card.get_by_role("button", name="Close")).to_be_visible()
    card.scroll_into_view_if_needed()
    assert screenshot(page, "card-2-bo-from-search-hit-note-added").exists()

    note = CustomerNote.objects.get(contact=bo)
    assert (note.alert, note.text) == ("PAYMENT", "Ask about last month's swims")
    assert AuditEntry.objects.filter(action="customer_note.add", object_id=str(bo.pk)).count() == 1
    assert not CustomerNote.objects.filter(contact=ann).exclude(alert="MEDICAL").exists()

    # Close empties the panel; the search stays.
    card.get_by_role("button", name="Close").click()
    expect(page.locator(".customer-card")).to_have_count(0)
    expect(hit).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_the_card_is_a_page_without_javascript(desk_chromium, live_server, desk_password, lake_class):
    from playwright.sync_api import expect

    ann = lake_class["ann"]
    context = desk_chromium.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, username="browser-desk", password=desk_password, next_path=f"/customers/{ann.pk}/")
        expect(page.get_by_role("heading", name="Ann Lakeside", level=1)).to_be_visible()
        page.get_by_text("Change", exact=True).click()
        page.get_by_label("Relationship").fill("Partner")
        page.get_by_role("button", name="Save emergency contact").click()
        page.wait_for_url(f"**/customers/{ann.pk}/")
        expect(page.locator("#messages")).to_contain_text("Emergency contact saved.")
        expect(page.locator(".card-emergency")).to_contain_text("Bob Lakeside (Partner)")
        assert screenshot(page, "card-3-page-without-javascript").exists()
    finally:
        context.close()
        close_db_connections()


@pytest.mark.django_db(transaction=True)
def test_the_sign_in_sheet_prints_emergency_contacts_and_alerts(tablet, desk_password, lake_class):
    from playwright.sync_api import expect

    page = tablet
    session: Session = lake_class["session"]
    for contact in (lake_class["ann"], lake_class["bo"]):
        factories.BookingFactory(session=session, contact=contact)
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/print/")

    block = page.locator(".sheet-emergency")
    expect(block).to_contain_text("Bob Lakeside (Husband) · +44 7700 900999")
    expect(block).to_contain_text("Medical: Asthma: inhaler in the red kit bag")
    expect(block).to_contain_text("No emergency contact on file for: Bo Lakewood.")
    block.scroll_into_view_if_needed()
    assert screenshot(page, "card-4-sign-in-sheet-emergency").exists()
