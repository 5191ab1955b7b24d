"""The front desk in headless Chromium: a walk-in paid in cash and checked in, pushed to the
sandbox; and a whole roster settled in one commit. Each checked screen is saved under
test-artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import Attendance, Booking, Contact, DeskAction, Session
from bookings_app.services import push, sync
from tests import factories
from tests.browser.conftest import close_db_connections, needs_chromium, screenshot, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def swim_club() -> Session:
    """The demo swim club in the sandbox, mirrored by a full sync; returns today's big class."""
    seed_demo(wix.get_sandbox())
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    today = timezone.localdate()
    classes = Session.objects.filter(start__date=today, service__type="CLASS")
    return max(classes, key=lambda s: s.bookings.count())


def _walk_in_candidate(session: Session) -> Contact:
    """A customer Wix knows who is not on this class yet."""
    booked = Booking.objects.filter(session=session).values_list("contact_id", flat=True)
    return Contact.objects.exclude(pk__in=booked).exclude(wix_id=None).exclude(last_name="").order_by("pk").first()


@pytest.mark.django_db(transaction=True)
def test_walk_in_paid_cash_and_checked_in_reaches_wix(tablet, desk_password, swim_club):
    from playwright.sync_api import expect

    page = tablet
    session = swim_club
    walk_in = _walk_in_candidate(session)
    sign_in(page, username="browser-desk", password=desk_password)

    # Today → the class roster
    page.locator("#session-list a.session-link", has_text=session.title).first.click()
    page.wait_for_url(f"**/sessions/{session.ref}/")
    expect(page.locator("#session-header")).to_contain_text(session.title)

    # Add walk-in: search as you type, pick the customer
    page.get_by_text("+ Add walk-in").click()
    search = page.locator("#walk-in-q")
    expect(search).to_be_focused()
    search.press_sequentially(walk_in.full_name, delay=30)
    hit = page.locator("#walk-in-results .hit", has_text=walk_in.full_name).first
    expect(hit).to_be_visible()
    hit.get_by_role("button", name="Just add").click()

    row = page.locator(f"#roster-rows tbody.booking:has(strong:text-is('{walk_in.full_name}'))")
    expect(row).to_be_visible()
    expect(row).to_contain_text("waiting for Wix")
    expect(page.locator("#walk-in-panel")).not_to_have_attribute("open", "")
    booking = Booking.objects.get(session=session, contact=walk_in)
    assert booking.wix_id is None and booking.pending_sync

    # Pay cash, then check in — each one tap, answered at once
    row.get_by_role("button", name="Cash £").click()
    expect(row.locator("tr.info")).to_contain_text("Paid")
    expect(row.locator("tr.info")).to_contain_text("Cash")
    expect(row.get_by_role("button", name="Undo payment")).to_be_visible()
    row.get_by_role("button", name=f"Check in {walk_in.full_name}", exact=True).click()
    expect(row).to_contain_text("Checked in")
    expect(row).to_contain_text("waiting for Wix")
    expect(page.locator("#session-header")).to_contain_text("In")
    row.evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "1-walk-in-paid-checked-in").exists()

    # The worker pushes to Wix (synchronously here); the roster notices on its own.
    with wix.get_wix_client() as client:
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.needs_attention == 0, report.as_dict()
    expect(row.locator("tr.info")).not_to_contain_text("waiting for Wix", timeout=15_000)
    expect(row.locator("tr.info")).to_contain_text("Paid")
    expect(row.locator("tr.info")).to_contain_text("Cash")
    expect(row.locator("tr.info")).to_contain_text("Checked in")
    row.evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "2-walk-in-synced").exists()

    booking.refresh_from_db()
    assert booking.wix_id and not booking.pending_sync
    assert set(DeskAction.objects.filter(booking=booking).values_list("status", flat=True)) == {"SYNCED"}
    in_wix = wix.get_sandbox().state.get("bookings", booking.wix_id)
    assert in_wix["contactDetails"]["contactId"] == walk_in.wix_id


def _local(hour: int) -> datetime:
    return datetime.combine(timezone.localdate(), time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def mixed_class() -> dict[str, object]:
    """A 10-person class: 4 members with plan credit, 1 paid online, 5 to pay at the desk
    (one of them a no-show already)."""
    session = factories.SessionFactory(
        start=_local(18), title="Sunset swim", capacity=12, service__price=Decimal("12.00"), service__currency="GBP"
    )
    names = [
        "Ann Archer",
        "Bo Baker",
        "Cy Cole",
        "Di Dunn",
        "Ed Eve",
        "Flo Fox",
        "Gus Gray",
        "Hal Hill",
        "Ida Ivy",
        "Jo Jay",
    ]
    people = {}
    for i, name in enumerate(names):
        first, last = name.split()
        contact = factories.ContactFactory(first_name=first, last_name=last)
        booking = factories.BookingFactory(
            session=session, contact=contact, payment_status="PAID" if i == 4 else "NOT_PAID"
        )
        if i < 4:
            factories.BenefitBalanceFactory(
                member=factories.MemberFactory(contact=contact),
                remaining_credits=Decimal("5"),
                covered_service_ids=[session.service.wix_id],
                name="10-swim pass",
            )
        people[first] = booking
    factories.AttendanceFactory(booking=people["Jo"], session=session, status=Attendance.Status.NOT_ATTENDED)
    return {"session": session, "people": people}


@pytest.mark.django_db(transaction=True)
def test_settle_a_mixed_roster_change_one_row_and_commit(tablet, desk_password, mixed_class):
    from playwright.sync_api import expect

    page = tablet
    session: Session = mixed_class["session"]
    people: dict[str, Booking] = mixed_class["people"]
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    page.get_by_role("link", name="Settle roster").click()
    page.wait_for_url(f"**/sessions/{session.ref}/settle/")

    def total(kind: str) -> str:
        return page.locator(f'[data-total="{kind}"]').text_content()

    def count(kind: str) -> str:
        return page.locator(f'[data-count="{kind}"]').text_content()

    # The suggestions: plan for the 4 members, cash for the 5 who owe, Ed already paid.
    assert (count("plan"), total("cash"), count("cash"), total("owes")) == ("4", "£60.00", "5", "£0.00")
    assert count("check_in") == "9"  # Jo was marked a no-show: not suggested for check-in
    expect(page.locator(f"#settle-{people['Ann'].pk} input[value=plan]")).to_be_checked()
    expect(page.locator(f"#settle-{people['Ed'].pk} input[value=paid]")).to_be_checked()

    # One tap changes a row: Flo owes instead of paying cash; Gus pays by card. Totals follow.
    page.locator(f"#settle-{people['Flo'].pk} label.seg-owes").click()
    page.locator(f"#settle-{people['Gus'].pk} label.seg-card").click()
    assert (total("cash"), total("owes"), total("card")) == ("£36.00", "£12.00", "£12.00")
    expect(page.locator(f"#settle-{people['Flo'].pk}")).to_have_class("settle-row is-changed")
    assert screenshot(page, "3-settle-changed").exists()

    page.get_by_role("button", name="Commit all").first.click()
    expect(page.locator(".confirm-summary")).to_contain_text("Record £36.00 cash from 3 people")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/sessions/{session.ref}/")
    expect(page.locator("#messages")).to_contain_text("Settled 10 participants")

    def info(first: str):
        return page.locator(f"#booking-{people[first].pk}")

    expect(info("Ann")).to_contain_text("Plan")
    expect(info("Hal")).to_contain_text("Paid")
    expect(info("Hal")).to_contain_text("Cash")
    expect(info("Gus")).to_contain_text("Card")
    expect(info("Flo")).to_contain_text("Not paid")
    for first in ("Ann", "Hal", "Flo", "Gus"):
        expect(info(first)).to_contain_text("waiting for Wix")
        expect(info(first)).to_contain_text("Checked in")
    expect(info("Jo")).to_contain_text("No-show")
    expect(page.locator(".head-count")).to_contain_text("9 of 10 in")
    assert screenshot(page, "4-settled-roster").exists()

    assert DeskAction.objects.filter(kind="PLAN_CHARGE").count() == 4
    assert DeskAction.objects.filter(kind="PAYMENT").count() == 4
    assert DeskAction.objects.filter(kind="PAY_LATER").count() == 1
    assert timezone.now() - DeskAction.objects.latest("pk").created_at < timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_row_actions_plan_later_part_payment_and_no_show(tablet, desk_password, mixed_class):
    """The buttons of a row share one form and post to their own actions; part payment is a
    form of its own, so Enter in the amount takes the part, and "Card" beside the due amount
    takes all that is left whatever is typed in the amount."""
    from playwright.sync_api import expect

    page = tablet
    session: Session = mixed_class["session"]
    people: dict[str, Booking] = mixed_class["people"]
    Booking.objects.filter(pk=people["Hal"].pk).update(payment_status="UNDEFINED")
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    def row(first: str):
        return page.locator(f"#roster-row-{people[first].pk}")

    def more(first: str):
        """The row's "⋯" menu, opened: the less common actions."""
        row(first).get_by_label(f"More actions for {people[first].contact.full_name}").click()
        return row(first).locator("details.more .menu")

    row("Ann").get_by_role("button", name="Plan · 5 left").click()
    expect(row("Ann").locator("td.paid")).to_contain_text("Plan")  # the badge (the line has a Plan button)
    expect(row("Ann").get_by_role("button", name="Undo charge to plan")).to_be_visible()

    more("Hal").get_by_role("button", name="Pay later").click()
    expect(row("Hal").get_by_role("button", name="Undo pay later")).to_be_visible()

    more("Flo").get_by_role("link", name="Part payment").click()  # fetches the row with its prompt open
    amount = row("Flo").locator("input[name=amount]")
    expect(amount).to_be_focused()
    amount.fill("5")
    assert screenshot(page, "5-part-payment-prompt").exists()
    amount.press("Enter")
    expect(row("Flo").locator("tr.info")).to_contain_text("£7.00")
    expect(row("Flo").get_by_role("button", name="Cash £7.00")).to_be_visible()
    more("Flo").get_by_role("link", name="Part payment").click()
    row("Flo").locator("input[name=amount]").fill("3")
    row("Flo").locator("tr.info").get_by_role("button", name="Card from Flo Fox", exact=True).click()
    expect(row("Flo").locator("tr.info")).to_contain_text("Paid")

    more("Gus").get_by_role("button", name="No-show").click()
    expect(row("Gus").locator("td.att")).to_contain_text("No-show")  # the badge (the menu has a No-show button)
    row("Flo").evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "5-row-actions").exists()

    assert DeskAction.objects.get(booking=people["Ann"]).kind == "PLAN_CHARGE"
    assert DeskAction.objects.get(booking=people["Hal"]).kind == "PAY_LATER"
    flo = DeskAction.objects.filter(booking=people["Flo"]).order_by("pk")
    assert [(a.params["method"], a.params["amount"]) for a in flo] == [("CASH", "5.00"), ("CARD", "7.00")]
    gus = DeskAction.objects.get(booking=people["Gus"])
    assert (gus.kind, gus.params["status"]) == ("ATTENDANCE", "NOT_ATTENDED")


@pytest.mark.django_db(transaction=True)
def test_part_payment_without_javascript(desk_chromium, live_server, desk_password, mixed_class):
    """With JavaScript off, "Part payment…" (in the row's menu, a <details>) opens the participant on
    a page of their own; the part payment posts as a plain form and comes back to the roster with the rest still due."""
    from playwright.sync_api import expect

    session: Session = mixed_class["session"]
    flo: Booking = mixed_class["people"]["Flo"]
    context = desk_chromium.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")
        page.locator(f"#roster-row-{flo.pk}").get_by_label("More actions for Flo Fox").click()  # a <details>
        page.locator(f"#roster-row-{flo.pk}").get_by_role("link", name="Part payment").click()
        page.wait_for_url(f"**/bookings/{flo.pk}/?part=1")
        expect(page.get_by_role("heading", name="Flo Fox")).to_be_visible()
        page.get_by_label("Amount").fill("5")
        assert screenshot(page, "6-part-payment-without-javascript").exists()
        page.locator(f"#roster-row-{flo.pk} form.part-pay").get_by_role("button", name="Cash").click()
        page.wait_for_url(f"**/sessions/{session.ref}/#booking-{flo.pk}")  # back on the roster, at Flo
        expect(page.locator("#messages")).to_contain_text("Flo Fox: cash taken.")
        expect(page.locator(f"#booking-{flo.pk}")).to_contain_text("£7.00")
        assert DeskAction.objects.get(booking=flo).params["amount"] == "5.00"
    finally:
        context.close()
        close_db_connections()


@pytest.mark.django_db(transaction=True)
def test_a_plan_charge_wix_refuses_reads_plainly_and_cash_instead_pays_the_order(tablet, desk_password, swim_club):
    """Two people who booked online to pay in person use their pass at the desk; the plan ended in
    Wix meanwhile, so Wix refuses the credit (POOL_NOT_ACTIVE). The row says so in plain words;
    "Take cash instead" pays the booking's Wix order with Add Payments — twice in a row, as a busy
    desk would."""
    from playwright.sync_api import expect

    from bookings_app.models import BenefitBalance
    from bookings_app.wix import bookings as wix_bookings
    from bookings_app.wix import cart
    from bookings_app.wix.ids import BOOKINGS_APP_ID

    page = tablet
    session = swim_club
    sb = wix.get_sandbox()
    booked = set(Booking.objects.filter(session=session).values_list("contact_id", flat=True))
    holders = [
        b
        for b in BenefitBalance.objects.filter(status="ACTIVE", unlimited=False, remaining_credits__gte=1)
        .exclude(member__contact_id__in=booked)
        .exclude(wix_id=None)
        .select_related("member__contact")
        if session.service.wix_id in (b.covered_service_ids or [])
    ][:2]
    assert len(holders) == 2, "the demo club has plan holders not on this class"
    with wix.get_wix_client() as client:
        for balance in holders:
            # Booked online to pay in person: CONFIRMED, with its eCommerce order (an OFFLINE line).
            made = wix_bookings.create_booking(
                client,
                booking={
                    "bookedEntity": {"slot": {"serviceId": session.service.wix_id, "eventId": session.wix_id}},
                    "contactDetails": {"contactId": balance.member.contact.wix_id},
                    "totalParticipants": 1,
                    "selectedPaymentOption": "OFFLINE",
                    "status": "CONFIRMED",
                },
            )["booking"]
            item = {"catalogReference": {"catalogItemId": made["id"], "appId": BOOKINGS_APP_ID}, "quantity": 1}
            cart_id = cart.create_cart(client, channel_type="WEB", catalog_items=[item])["cart"]["id"]
            cart.place_order(client, cart_id=cart_id)
        sync.sync_full(wix=client)
    picked = [(Booking.objects.get(session=session, contact=b.member.contact), b) for b in holders]
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    for booking, balance in picked:
        row = page.locator(f"#roster-row-{booking.pk}")
        row.get_by_role("button", name="Plan").first.click()
        expect(row.locator("td.paid")).to_contain_text("Plan")  # the badge (the line has a Plan button)
        page.wait_for_load_state("networkidle")
        with sb.state.transaction():  # the plan ended in Wix after the desk read it
            pool = sb.state.edit("pools", balance.wix_id)
            pool["status"] = "ENDED"
            sb.state.put("pools", pool)
        with wix.get_wix_client() as client:
            push.push_desk_actions_now(wix=client, ignore_undo_window=True)
        page.reload()
        row = page.locator(f"#roster-row-{booking.pk}")
        expect(row).to_contain_text("Needs attention:")
        expect(row).to_contain_text("is no longer active in Wix — take cash instead?")
        row.evaluate("el => el.scrollIntoView({block: 'center'})")
        assert screenshot(page, "6-plan-refused-by-wix").exists()
        row.get_by_role("button", name="Take cash instead").click()
        expect(row.get_by_role("button", name="Take cash instead")).to_have_count(0)
        expect(row.locator("tr.info")).to_contain_text("Paid")
        page.wait_for_load_state("networkidle")
        with wix.get_wix_client() as client:
            push.push_desk_actions_now(wix=client, ignore_undo_window=True)
        booking.refresh_from_db()
        order = next(
            o
            for o in sb.state.all("orders")
            if any(li["catalogReference"]["catalogItemId"] == booking.wix_id for li in o["lineItems"])
        )
        assert order["paymentStatus"] == "PAID"
        assert sb.state.get("bookings", booking.wix_id)["paymentStatus"] == "PAID"
    page.reload()
    page.locator(f"#roster-row-{picked[-1][0].pk}").evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "6-cash-instead-paid").exists()
    close_db_connections()
