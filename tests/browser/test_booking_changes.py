"""Changing bookings at the desk in headless Chromium, as the front desk, on the demo swim club:
reschedule a booking from its change page (opened from the customer card) and find it on the other
session's roster; cancel today's walk-in with the policy shown; move someone from the waiting list
into a freed place — then the worker pushes it all to the sandbox. Screens are saved under
test-artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import Booking, Contact, DeskAction, Session
from bookings_app.services import desk, push, sync
from bookings_app.wix import bookings
from tests.browser.conftest import needs_chromium, screenshot, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def swim_club() -> dict[str, Session]:
    """The demo club, mirrored, with Wes on the waiting list of tomorrow's swim (a place is free):
    today's big swim and tomorrow's."""
    sandbox = wix.get_sandbox()
    seed_demo(sandbox)
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    today = timezone.localdate()
    big = max(Session.objects.filter(start__date=today, service__type="CLASS"), key=lambda s: s.bookings.count())
    tomorrow = Session.objects.get(service=big.service, start__date=today + timedelta(days=1))
    wes = next(c for c in sandbox.state.all("contacts") if c.get("info", {}).get("name", {}).get("first"))
    with wix.get_wix_client() as client:
        made = bookings.create_booking(
            client,
            booking={
                "bookedEntity": {"slot": {"serviceId": big.service.wix_id, "eventId": tomorrow.wix_id}},
                "contactDetails": {"contactId": wes["id"]},
                "totalParticipants": 1,
                "status": "CONFIRMED",
            },
        )["booking"]
        with sandbox.state.transaction():  # Wix's booking widget put them on the waiting list
            stored = sandbox.state.edit("bookings", made["id"])
            stored["status"], stored["revision"] = "WAITING_LIST", "2"
            sandbox.state.put("bookings", stored)
        sync.sync_full(wix=client)
    return {"today": big, "tomorrow": tomorrow}


@pytest.mark.django_db(transaction=True)
def test_reschedule_cancel_and_move_off_the_waiting_list_at_the_desk(tablet, desk_password, swim_club):
    from playwright.sync_api import expect

    page = tablet
    today, tomorrow = swim_club["today"], swim_club["tomorrow"]
    movers = list(
        Booking.objects.filter(session=today, status="CONFIRMED", total_participants=1)
        .select_related("contact")
        .order_by("contact__last_name", "pk")[:2]
    )
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{today.ref}/")

    # Reschedule: the name on the roster → the customer card → the booking's change page → tomorrow.
    for i, booking in enumerate(movers):
        name = booking.contact.full_name
        page.goto(f"/sessions/{today.ref}/")
        page.locator(f"#booking-{booking.pk} .name-link").click()
        page.wait_for_url(f"**/customers/{booking.contact.pk}/")
        visits = page.get_by_role("region", name="Visits")
        visits.locator(f"a.change-link[href*='/bookings/{booking.pk}/change/']").click()
        page.wait_for_url(f"**/sessions/{today.ref}/bookings/{booking.pk}/change/")
        change = page.locator("#booking-change")
        expect(change).to_contain_text(name)
        expect(change).to_contain_text("Customers may move a booking online until 2 hours before the start.")
        expect(change).to_contain_text("Customers may cancel online until 2 hours before the start.")
        if i == 0:
            assert screenshot(page, "booking-change-1-page").exists()
            change.locator("#change-cancel-title").scroll_into_view_if_needed()
            expect(change).to_contain_text("Only a manager can cancel this booking")  # booked online
            expect(change.get_by_role("button", name="Cancel the booking")).to_have_count(0)
            assert screenshot(page, "booking-change-1b-cancel-block").exists()
        choice = change.locator("label.move-choice", has=page.locator(f"input[value='{tomorrow.pk}']"))
        expect(choice).to_contain_text("places left")
        choice.click()
        change.get_by_role("button", name="Move to this session").click()
        page.wait_for_url(f"**/sessions/{tomorrow.ref}/**")
        expect(page.locator("#messages")).to_contain_text(f"Moved {name} to")
        row = page.locator(f"#booking-{booking.pk}")
        expect(row).to_contain_text(name)
        expect(row).to_contain_text("waiting for Wix")
        expect(page.locator(f"#roster-row-{booking.pk}").get_by_role("button", name="Undo reschedule")).to_be_visible()
    page.locator(f"#booking-{movers[1].pk}").evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "booking-change-2-on-the-other-roster").exists()
    page.goto(f"/sessions/{today.ref}/")
    for booking in movers:
        expect(page.locator(f"#booking-{booking.pk}")).to_have_count(0)

    # Cancel a walk-in booked here today, nothing paid: the front desk may.
    walker = Contact.objects.exclude(bookings__session=today).order_by("pk").first()
    walk_in = desk.walk_in_create(user=_desk_user(), contact=walker, session=today, idempotency_key="browser-walk-in-1")
    booked_before = _booked(today)
    page.goto(f"/sessions/{today.ref}/bookings/{walk_in.pk}/change/")
    change = page.locator("#booking-change")
    expect(change).to_contain_text("Nothing has been paid: there is nothing to refund.")
    change.get_by_role("button", name="Cancel the booking").click()  # the confirm dialog is accepted
    expect(page.locator("#messages")).to_contain_text("the place is free")
    expect(page.locator("#booking-change")).to_contain_text("This booking is cancelled.")
    expect(page.locator("#booking-change").get_by_role("button", name="Undo cancel booking")).to_be_visible()
    assert screenshot(page, "booking-change-3-cancelled").exists()
    assert _booked(today) == booked_before - 1

    # The waiting list of tomorrow's swim: a place is free, move Wes in.
    waiting = Booking.objects.get(session=tomorrow, status="WAITING_LIST")
    page.goto(f"/sessions/{tomorrow.ref}/")
    section = page.locator("#waiting-list")
    expect(section).to_contain_text(waiting.contact.full_name)
    expect(section).to_contain_text("free now")
    section.scroll_into_view_if_needed()
    assert screenshot(page, "booking-change-4-waiting-list").exists()
    section.get_by_role("button", name=f"Move {waiting.contact.full_name} into a place").click()
    expect(page.locator("#messages")).to_contain_text("from the waiting list into a place")
    expect(page.locator("#waiting-list")).to_have_count(0)
    expect(page.locator(f"#booking-{waiting.pk}")).to_contain_text("Confirmed")

    # An appointment moves to another free time of its day, asked of Wix.
    spa = (
        Booking.objects.filter(
            session__service__type="APPOINTMENT", session__start__gt=timezone.now(), status="CONFIRMED"
        )
        .select_related("session", "contact")
        .order_by("session__start")
        .first()
    )
    was = spa.session.start
    page.goto(f"/sessions/{spa.session.ref}/bookings/{spa.pk}/change/")
    change = page.locator("#booking-change")
    expect(change).to_contain_text("Please give us 24 hours' notice")
    times = change.locator("label.move-choice")
    expect(times.first).to_be_visible()
    assert screenshot(page, "booking-change-5-appointment").exists()
    times.first.click()
    change.get_by_role("button", name="Move to this time").click()
    expect(page.locator("#messages")).to_contain_text(f"Moved {spa.contact.full_name} to")
    spa.session.refresh_from_db()
    assert spa.session.start != was

    # The worker tells Wix.
    with wix.get_wix_client() as client:
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.needs_attention == 0, report.as_dict()
    sandbox = wix.get_sandbox()
    for booking in movers:
        assert sandbox.state.get("bookings", booking.wix_id)["bookedEntity"]["slot"]["eventId"] == tomorrow.wix_id
    walk_in.refresh_from_db()
    assert sandbox.state.get("bookings", walk_in.wix_id)["status"] == "CANCELED"
    assert sandbox.state.get("bookings", waiting.wix_id)["status"] == "CONFIRMED"
    moved = sandbox.state.get("bookings", spa.wix_id)
    assert moved["bookedEntity"]["slot"]["startDate"].startswith(
        timezone.localtime(spa.session.start).strftime("%Y-%m-%dT%H:%M")
    )
    assert set(DeskAction.objects.values_list("status", flat=True)) == {"SYNCED"}


def _desk_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="browser-desk")


def _booked(session: Session) -> int:
    from bookings_app import selectors

    found = selectors.session_get(ref=session.ref)
    assert found is not None
    return found.booked
