"""The roster keeping itself current in headless Chromium: the refresh while rows wait for Wix
never puts back a row as it was before a tap; long names stay in their cell; after "Sync now"
the page shows what the sync brought. Screens are saved under test-artifacts/."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import Booking, Contact, DeskAction, Session
from tests import factories
from tests.browser.conftest import close_db_connections, needs_chromium, screenshot, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def waiting_class() -> dict[str, object]:
    """A class in an hour: Ann owes £12, Bo's cash waits for Wix (so the roster refreshes)."""
    session = factories.SessionFactory(
        start=timezone.now() + timedelta(hours=1), title="Lake swim", capacity=20, service__price=Decimal("12.00")
    )
    ann = factories.BookingFactory(
        session=session,
        contact=factories.ContactFactory(first_name="Ann", last_name="Archer"),
        payment_status="NOT_PAID",
    )
    bo = factories.BookingFactory(
        session=session, contact=factories.ContactFactory(first_name="Bo", last_name="Baker"), payment_status="PAID"
    )
    factories.DeskActionFactory(booking=bo)
    Booking.objects.filter(pk=bo.pk).update(pending_sync=True)
    return {"session": session, "ann": ann, "bo": bo}


def _wait_until(page, condition, *, seconds: float = 15) -> None:
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "waited in vain"
        page.wait_for_timeout(100)


@pytest.mark.django_db(transaction=True)
def test_a_tap_during_a_slow_refresh_is_not_undone_by_it(tablet, desk_password, waiting_class):
    from playwright.sync_api import Error, expect

    page = tablet
    session: Session = waiting_class["session"]
    ann: Booking = waiting_class["ann"]
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")
    row = page.locator(f"#roster-row-{ann.pk}")
    expect(row.get_by_role("button", name="Cash £12.00")).to_be_visible()

    # The 6-second refresh goes out and is slow: its answer is read now, before the tap, and
    # held back. Ann's phone changes meanwhile, so that answer does carry her row.
    held = []

    def hold_the_refresh(route) -> None:
        if route.request.headers.get("hx-trigger") == "roster-rows" and not held:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route(lambda url: f"/sessions/{session.ref}/" in url, hold_the_refresh)
    Contact.objects.filter(pk=ann.contact_id).update(phone="+44 7700 900999")
    _wait_until(page, lambda: bool(held))
    stale_list = page.request.get(f"/sessions/{session.ref}/", headers={"HX-Request": "true"}).text()

    # Ann pays cash while the refresh is out: her row says so at once, with its Undo.
    row.get_by_role("button", name="Cash £12.00").click()
    expect(row.locator("tr.info")).to_contain_text("Paid")
    expect(row.get_by_role("button", name="Undo payment")).to_be_visible()
    tapped = row.get_attribute("data-version")
    row.locator("form.undo").evaluate("form => { form.tapped = true; }")  # to know it again

    def as_the_tap_left_it() -> None:
        # Checked at once, not waited for: the next refresh would mend a row put back.
        assert "Paid" in row.locator("tr.info").inner_text()
        assert row.get_by_role("button", name="Undo payment").is_visible()
        assert int(row.get_attribute("data-version")) >= int(tapped)

    # …then the old answer arrives. The row stays as the tap left it.
    route, response = held[0]
    try:
        route.fulfill(response=response)
    except Error:
        pass  # the page gave up on it when the tap went out: nothing to deliver
    page.wait_for_timeout(300)
    as_the_tap_left_it()

    # An older copy of the row sent out of band (a refresh's changed rows) is ignored too.
    text = response.text().replace(' hx-swap-oob="true"', "")
    stale = text[text.index(f'<tbody id="roster-row-{ann.pk}"') :]
    stale = stale[: stale.index("</tbody>") + len("</tbody>")].replace("<tbody ", '<tbody hx-swap-oob="true" ', 1)
    assert f'data-version="{tapped}"' not in stale and "Cash £12.00" in stale
    page.evaluate("html => htmx.swap('#roster-rows', html, {swapStyle: 'none'})", stale)
    as_the_tap_left_it()

    # …and so is a whole list read before the tap (here: a search answer that took its time).
    page.unroute_all(behavior="ignoreErrors")
    page.route(
        lambda url: f"/sessions/{session.ref}/?q=" in url,
        lambda route: route.fulfill(status=200, body=stale_list, content_type="text/html; charset=utf-8"),
    )
    with page.expect_response(lambda r: "?q=" in r.url):
        page.locator("#roster-q").fill("a")
    page.wait_for_timeout(300)
    as_the_tap_left_it()
    assert row.locator("form.undo").evaluate("form => form.tapped === true")  # the same Undo, counting down
    row.evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "roster-tap-kept-over-slow-refresh").exists()
    page.unroute_all(behavior="ignoreErrors")


@pytest.mark.django_db(transaction=True)
def test_the_refresh_brings_only_what_changed_and_wix_s_answer_shows(tablet, desk_password, waiting_class):
    from playwright.sync_api import expect

    page = tablet
    session: Session = waiting_class["session"]
    bo: Booking = waiting_class["bo"]
    answers = []
    page.on(
        "response",
        lambda r: answers.append(r) if r.request.headers.get("hx-trigger") == "roster-rows" else None,
    )
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")
    bo_row = page.locator(f"#roster-row-{bo.pk}")
    expect(bo_row).to_contain_text("waiting for Wix")

    _wait_until(page, lambda: bool(answers), seconds=15)  # nothing changed yet: 204
    assert answers[0].status == 204 and answers[0].request.headers["x-roster-rows"].count(".") == 2

    DeskAction.objects.filter(booking=bo).update(status=DeskAction.Status.SYNCED)  # Wix has it
    DeskAction.refresh_pending(bo.pk)
    expect(bo_row).not_to_contain_text("waiting for Wix", timeout=15_000)
    assert answers[-1].status == 200 and "Ann Archer" not in answers[-1].text()
    assert screenshot(page, "roster-refreshed-row-confirmed-by-wix").exists()


@pytest.mark.django_db(transaction=True)
def test_a_long_name_stops_at_the_edge_of_its_cell(tablet, desk_password):
    from playwright.sync_api import expect

    page = tablet
    session = factories.SessionFactory(start=timezone.now() + timedelta(hours=1), title="Long names")
    first, last = ("Wolfeschlegelsteinhausenbergerdorff" * 5)[:151], "Featherstonehaugh Featherstonehaugh Cholmondeley"
    booking = factories.BookingFactory(
        session=session, contact=factories.ContactFactory(first_name=first, last_name=last)
    )
    assert len(f"{first} {last}") == 200
    factories.BookingFactory(session=session, contact=factories.ContactFactory(first_name="Ann", last_name="Short"))
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    name = page.locator(f"#booking-{booking.pk} .who .name")
    expect(page.locator(f"#booking-{booking.pk} .who .name-link")).to_have_attribute(
        "title", re.compile(rf"^{re.escape(f'{first} {last}')}( · |$)")
    )  # the whole name (then the phone and email)
    cell = page.locator(f"#booking-{booking.pk} td.who").bounding_box()
    box = name.bounding_box()
    assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
    assert box["height"] < 40  # one line, cut short with an ellipsis
    assert name.evaluate("el => el.scrollWidth > el.clientWidth")
    assert screenshot(page, "roster-long-name").exists()


@pytest.mark.django_db(transaction=True)
def test_after_sync_now_the_page_shows_what_the_sync_brought(tablet):
    from playwright.sync_api import expect

    page = tablet
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-manager", password="browser-manager-2026", roles=["Manager"])
    seed_demo(wix.get_sandbox())  # Wix has the swim club; the mirror has nothing yet
    sign_in(page, username="browser-manager", password="browser-manager-2026")
    expect(page.locator("#session-list")).to_contain_text("No sessions on this day.")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-widget")).to_contain_text("waiting for the background worker")
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", stdout=io.StringIO())
    close_db_connections()

    expect(page.locator("#session-list li.session").first).to_be_visible(timeout=15_000)
    expect(page.locator("#sync-widget")).to_contain_text("Synced")
    assert page.evaluate("window.__sameDocument") is True  # swapped in, not reloaded
    assert screenshot(page, "today-after-sync-now").exists()
