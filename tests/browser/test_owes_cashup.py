"""A manager in headless Chromium: finds who still owes for last week, settles two people ticked
together (a summary to confirm, one undo), then all of a third person's with one button; opens
the cash-up from Today, counts this morning's swim in notes and coins, counts again as totals,
signs it off and finds it read-only. Screens under test-artifacts/ (owes-*, cashup-*)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import CashUp, DeskAction
from bookings_app.services import desk
from tests import factories
from tests.browser.conftest import needs_chromium, shots, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def long_undo(settings) -> None:
    settings.DESK_UNDO_SECONDS = 60


@pytest.fixture
def manager_password() -> str:
    import io

    from django.core.management import call_command

    password = "browser-manager-2026"
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-manager", password=password, roles=["Manager"])
    return password


def _local(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def club() -> dict:
    """Last week: Ann owes for Monday and Wednesday, Bob and Cy for Monday. This morning's open-water
    swim (7:00): a clerk took £12 cash from Dee and £12 by card from Eli."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    service = factories.ServiceFactory(name="Open water swim", price=Decimal("12.00"), currency="GBP")
    mon = factories.SessionFactory(service=service, start=_local(monday, 7), title="Open water swim")
    wed = factories.SessionFactory(
        service=service, start=_local(monday + timedelta(days=2), 7), title="Open water swim"
    )
    morning = factories.SessionFactory(service=service, start=_local(today, 7), title="Open water swim")
    people = {}
    for first, last in (("Ann", "Archer"), ("Bob", "Baker"), ("Cy", "Cole"), ("Dee", "Dunn"), ("Eli", "Ek")):
        people[first] = factories.ContactFactory(
            first_name=first, last_name=last, email=f"{first.lower()}@example.com", phone=f"+44 7700 90{len(people)}"
        )
    bookings = {
        "ann_mon": factories.BookingFactory(session=mon, contact=people["Ann"]),
        "ann_wed": factories.BookingFactory(session=wed, contact=people["Ann"]),
        "bob": factories.BookingFactory(session=mon, contact=people["Bob"]),
        "cy": factories.BookingFactory(session=mon, contact=people["Cy"]),
    }
    clerk = factories.UserFactory(username="morning-desk")
    for first, method in (("Dee", "CASH"), ("Eli", "CARD")):
        booking = factories.BookingFactory(session=morning, contact=people[first])
        desk.payment_record(
            user=clerk, booking=booking, method=method, amount=Decimal("12"), idempotency_key=f"morning-{first}"
        )
    return {"morning": morning, **bookings}


@pytest.mark.django_db(transaction=True)
def test_owes_settle_two_then_a_persons_then_cash_up_a_session_twice(tablet, manager_password, club, long_undo):
    from playwright.sync_api import expect

    page = tablet
    sign_in(page, username="browser-manager", password=manager_password, next_path="/owes/?range=last_week")
    expect(page.locator(".owes-summary")).to_contain_text("3 people owe £48.00")
    expect(page.locator("tbody.debtor")).to_have_count(3)
    shots(page, "owes-1-last-week")

    # Tick Bob and Cy, settle them in cash: a summary first, then one commit with one undo.
    page.locator(f'input[name=booking][value="{club["bob"].pk}"]').check()
    page.locator(f'input[data-person="{club["cy"].contact_id}"]').check()  # all of Cy's: one booking
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.locator(".owes-bulk").get_by_role("button", name="Cash", exact=True).click()
    expect(page.locator(".confirm-summary")).to_have_text("Record £24.00 cash from 2 people.")
    shots(page, "owes-2-confirm")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#messages")).to_contain_text("Settled 2 bookings: £24.00 cash.")
    expect(page.get_by_role("button", name="Undo settle")).to_have_count(1)
    expect(page.locator(".owes-summary")).to_contain_text("1 person owes £24.00")
    shots(page, "owes-3-settled")
    settled = DeskAction.objects.exclude(batch_id="")
    assert len({a.batch_id for a in settled}) == 1
    assert sorted(a.booking_id for a in settled) == sorted([club["bob"].pk, club["cy"].pk])

    # The same screen again: all of Ann's by card with her own button.
    page.locator(f"#debtor-{club['ann_mon'].contact_id}").get_by_role("button", name="Card all").click()
    expect(page.locator("#messages")).to_contain_text("Settled 2 bookings: £24.00 by card.")
    expect(page.locator(".empty")).to_contain_text("Nobody owes anything")
    shots(page, "owes-4-nobody-left")

    # Cash-up: from Today to the day's cash-ups, to this morning's swim.
    page.get_by_role("link", name="Today").click()
    page.locator(".day-header").get_by_role("link", name="Cash-up").click()
    expect(page.locator(".cashup-day")).to_contain_text("Open water swim")
    shots(page, "cashup-1-day")
    page.locator(".cashup-day tbody").nth(1).get_by_role("link", name="Count").first.click()
    expect(page.locator("h1")).to_contain_text("Cash-up")
    expect(page.locator("#figure-cash")).to_contain_text("£12.00")
    expect(page.locator("tr[id^=line-]")).to_have_count(2)

    # First count, in notes and coins: £10 + £1 + 50p + 20p + 20p = £11.90, card £12.
    page.get_by_label("£10", exact=True).fill("1")
    page.get_by_label("£1", exact=True).fill("1")
    page.get_by_label("50p", exact=True).fill("1")
    page.get_by_label("20p", exact=True).fill("2")
    expect(page.locator("[data-pieces-total]")).to_have_text("11.90")
    page.get_by_label("Card (the terminal's total)").fill("12")
    page.get_by_role("button", name="Save the count").click()
    expect(page.locator("#messages")).to_contain_text("Count saved: £0.10 short.")
    expect(page.locator("#figure-total")).to_contain_text("£0.10 short")
    shots(page, "cashup-2-counted-short")

    # Counted again, as totals (the 10p was under the tray): exactly as expected.
    expect(page.locator("[data-pieces-total]")).to_have_text("11.90")  # the count shown again, added up
    for label in ("£10", "£1", "50p", "20p"):
        page.get_by_label(label, exact=True).fill("")
    page.get_by_label("Cash — or just the total").fill("12.00")
    page.get_by_role("button", name="Save the count").click()
    expect(page.locator("#messages")).to_contain_text("Count saved: exactly as expected.")
    page.get_by_role("button", name="Sign off this count").click()
    expect(page.locator("h1 .badge")).to_have_text("Signed off")
    expect(page.get_by_role("button", name="Save the count")).to_have_count(0)
    shots(page, "cashup-3-signed-off")
    cashup = CashUp.objects.get()
    assert cashup.is_signed_off and cashup.counted_cash == Decimal("12.00") and cashup.over_short == 0


@pytest.mark.django_db(transaction=True)
def test_write_off_with_a_reason_take_it_back_and_print_the_reminders(tablet, manager_password, club):
    from playwright.sync_api import expect

    page = tablet
    sign_in(page, username="browser-manager", password=manager_password, next_path="/owes/?range=last_week")
    row = page.locator(f"#owed-{club['bob'].pk}")
    row.get_by_role("link", name="Write off…").click()
    expect(page.locator("h1")).to_contain_text("Write off what this booking owes")
    page.get_by_role("button", name="Write off £12.00").click()  # no reason: the browser asks for one
    expect(page.locator("h1")).to_contain_text("Write off")
    page.get_by_label("Why is it written off?").fill("Moved abroad, agreed with the owner")
    shots(page, "owes-5-write-off")
    page.get_by_role("button", name="Write off £12.00").click()
    expect(page.locator("#messages")).to_contain_text("Written off: 1 booking. Nothing is sent to Wix.")
    expect(page.locator(".owes-summary")).to_contain_text("2 people owe £36.00")

    page.get_by_role("link", name="Written off").click()
    expect(page.locator(".written-off")).to_contain_text("Moved abroad")
    shots(page, "owes-6-written-off")
    page.get_by_role("button", name="Take back").click()
    expect(page.locator("#messages")).to_contain_text("Taken back")
    expect(page.locator(".written-off .badge")).to_contain_text("Taken back")
    page.get_by_role("link", name="‹ The owes list").click()
    expect(page.locator(".owes-summary")).to_contain_text("3 people owe £48.00")

    page.get_by_role("link", name="Print reminder list").click()
    expect(page.locator("tbody.reminder")).to_have_count(3)
    expect(page.locator(".reminders")).to_contain_text("ann@example.com")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    shots(page, "owes-7-reminders-print")
