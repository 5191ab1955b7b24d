"""Selling a plan at the desk in headless Chromium: from today's big class, a 10-visit pass sold
to a member and used for their visit — twice in a row, for two people — then pushed to the
sandbox. Each checked screen is saved under test-artifacts/ (git-ignored)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings_app import money, wix
from bookings_app.models import BenefitBalance, Booking, DeskAction, Member, Session
from bookings_app.services import push, sync
from tests.browser.conftest import needs_chromium, screenshot, sign_in
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


def _members_without_a_plan(session: Session) -> list[Booking]:
    """Bookings on the class, unpaid, of members who hold no live plan: who the desk sells a pass to."""
    members = set(Member.objects.exclude(contact=None).values_list("contact_id", flat=True))
    planned = set(BenefitBalance.objects.filter(status="ACTIVE").values_list("member__contact_id", flat=True))
    found = [
        b
        for b in Booking.objects.filter(session=session, status="CONFIRMED").select_related("contact", "service")
        if b.contact_id in members and b.contact_id not in planned and money.amount_due(b) > 0
    ]
    return sorted(found, key=lambda b: b.contact.full_name)


@pytest.mark.django_db(transaction=True)
def test_sell_a_ten_visit_pass_and_use_it_for_the_visit_twice_in_a_row(tablet, desk_password, swim_club):
    from playwright.sync_api import expect

    page = tablet
    session = swim_club
    buyers = _members_without_a_plan(session)[:2]
    assert len(buyers) == 2, "the demo club has members without a plan on today's class"
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    # The roster's header → Sell a plan
    page.locator("#session-header").get_by_role("link", name="Sell a plan").click()
    page.wait_for_url(f"**/sessions/{session.ref}/sell-plan/")
    stat = page.locator("#session-header .stat", has_text="Unpaid").locator(".stat-value")
    unpaid_before = int(stat.text_content())

    for booking, method, label in ((buyers[0], "Sell · Cash", "cash"), (buyers[1], "Card", "card")):
        name = booking.contact.full_name
        search = page.locator("#sell-q")
        search.fill("")
        search.press_sequentially(name, delay=20)
        hit = page.locator("#sell-results .hit", has_text=name).first
        expect(hit).to_contain_text("Member")
        hit.get_by_role("link", name="Sell a plan · use it today").click()

        panel = page.locator("#sell-panel")
        expect(panel).to_contain_text(name)
        expect(panel).to_contain_text("10 credits")  # the pass other members bought: the mirror knows
        panel.locator("label.plan-choice", has_text="10-Swim Pass").click()
        expect(panel.locator("input[name=use_for_visit]")).to_be_checked()
        if booking == buyers[0]:
            assert screenshot(page, "sell-plan-1-chosen").exists()
        panel.get_by_role("button", name=method).click()

        sold = f"Sold 10-Swim Pass to {name} — took £100.00 {label}."
        expect(page.locator("#sell-body .message.success")).to_contain_text(
            f"{sold} Their visit to {booking.service.name} is paid with it."
        )
        line = page.locator("#plan-sales .sale-line", has_text=name)
        expect(line).to_contain_text("+ today's visit")
        expect(line).to_contain_text("9 left of 10")  # the new pass, with today's visit taken, at once
        expect(line).to_contain_text("waiting for Wix")
        expect(line.get_by_role("button", name="Undo sale")).to_be_visible()
        expect(page.locator("#sell-q")).to_have_value("")

    unpaid = page.locator("#session-header .stat", has_text="Unpaid")
    expect(unpaid).to_contain_text(str(unpaid_before - 2))  # the head count follows each sale
    assert screenshot(page, "sell-plan-2-two-sold").exists()
    assert DeskAction.objects.filter(kind="PLAN_SALE", status="QUEUED").count() == 2
    for booking in buyers:
        booking.refresh_from_db()
        assert booking.payment_status == "PAID" and booking.pending_sync
        pending = BenefitBalance.objects.get(member__contact=booking.contact, wix_id=None)
        assert (pending.status, pending.remaining_credits) == ("PROVISIONING", 9)

    # The worker pushes (synchronously here): each sale, then the visit it pays. The list follows.
    with wix.get_wix_client() as client:
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.needs_attention == 0, report.as_dict()
    assert report.calls_by_operation["create_offline_plan_order"] == 2
    for booking in buyers:
        line = page.locator("#plan-sales .sale-line", has_text=booking.contact.full_name)
        expect(line).to_contain_text("In Wix", timeout=15_000)
        expect(line).to_contain_text("9 left of 10")  # Wix's pool now
    expect(page.locator("#session-header .stat", has_text="Plan")).to_contain_text("2")  # paid by plan in Wix
    assert screenshot(page, "sell-plan-3-in-wix").exists()

    # Back on the roster: both rows paid with the new pass.
    page.get_by_role("link", name="‹ Back to the roster").click()
    page.wait_for_url(f"**/sessions/{session.ref}/")
    for booking in buyers:
        info = page.locator(f"#booking-{booking.pk}")
        expect(info).to_contain_text("Plan")
        expect(info).not_to_contain_text("waiting for Wix")
    page.locator(f"#booking-{buyers[0].pk}").evaluate("el => el.scrollIntoView({block: 'center'})")
    assert screenshot(page, "sell-plan-4-roster").exists()

    sandbox = wix.get_sandbox()
    for booking in buyers:
        booking.refresh_from_db()
        balance = BenefitBalance.objects.get(member__contact=booking.contact)
        assert balance.wix_id and (balance.status, balance.remaining_credits) == ("ACTIVE", 9)
        assert sandbox.state.get("balances", balance.wix_id)["amount"]["available"] == "9"
        order = sandbox.state.get("plan_orders", balance.plan_order.wix_id)
        assert (order["type"], order["lastPaymentStatus"], order["planName"]) == ("OFFLINE", "PAID", "10-Swim Pass")
        assert sandbox.state.get("bookings", booking.wix_id)["paymentStatus"] == "PAID"
    assert set(DeskAction.objects.values_list("status", flat=True)) == {"SYNCED"}
