"""A settle and a check in all taken back as one, in headless Chromium: settle with one
confirmation, undo the whole settle, settle again (every row as it was between); check everyone
in and undo it with one button; a manager reverses a settle Wix has. Screens under test-artifacts/."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import Attendance, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import desk
from tests import factories
from tests.browser.conftest import needs_chromium, screenshot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]

Status = DeskAction.Status


def _evening() -> datetime:
    return datetime.combine(timezone.localdate(), time(19), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def long_undo(settings) -> None:
    """A minute to undo in: the browser's clicks must not race the 8-second window."""
    settings.DESK_UNDO_SECONDS = 60


@pytest.fixture
def evening_class() -> dict[str, Booking]:
    """Eight people: three members with credit, Hal marked to pay later, Flo part paid £5 cash,
    Ed paid online, two to pay at the desk."""
    session = factories.SessionFactory(
        start=_evening(), title="Evening swim", capacity=12, service__price=Decimal("12.00"), service__currency="GBP"
    )
    people: dict[str, Booking] = {}
    for i, name in enumerate(
        ["Ann Archer", "Bo Baker", "Cy Cole", "Ed Eve", "Flo Fox", "Gus Gray", "Hal Hill", "Ida Ivy"]
    ):
        first, last = name.split()
        people[first] = factories.BookingFactory(
            session=session,
            contact=factories.ContactFactory(first_name=first, last_name=last),
            payment_status="PAID" if first == "Ed" else "NOT_PAID",
        )
        if i < 3:
            factories.BenefitBalanceFactory(
                member=factories.MemberFactory(contact=people[first].contact),
                remaining_credits=Decimal("5"),
                covered_service_ids=[session.service.wix_id],
                name="10-swim pass",
            )
    clerk = factories.UserFactory(username="earlier-desk")
    desk.pay_later(user=clerk, booking=people["Hal"], idempotency_key="hal-later")
    desk.payment_record(
        user=clerk, booking=people["Flo"], method="CASH", amount=Decimal("5"), idempotency_key="flo-part"
    )
    return people


def _state(session: Session) -> dict:
    """What a settle changes, to compare before it and after its undo."""
    return {
        "bookings": sorted(
            Booking.objects.filter(session=session).values_list(
                "pk", "payment_status", "selected_payment_option", "pending_sync"
            )
        ),
        "attendance": sorted(Attendance.objects.filter(session=session).values_list("booking_id", "status")),
        "credits": sorted(BenefitBalance.objects.values_list("pk", "remaining_credits")),
    }


@pytest.mark.django_db(transaction=True)
def test_settle_with_one_confirmation_undo_it_and_settle_again(tablet, desk_password, evening_class, long_undo):
    from playwright.sync_api import expect

    page = tablet
    people = evening_class
    session = people["Ann"].session
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")
    page.get_by_role("link", name="Settle roster").click()
    page.wait_for_url(f"**/sessions/{session.ref}/settle/")

    def choices() -> dict[str, str]:
        return {
            first: page.locator(f"#settle-{b.pk} input[type=radio]:checked").get_attribute("value")
            for first, b in people.items()
        }

    # What the desk chose before stands: Hal stays "owes", Flo pays the rest (£7) the way she began.
    suggested = choices()
    assert suggested == {
        "Ann": "plan",
        "Bo": "plan",
        "Cy": "plan",
        "Ed": "paid",
        "Flo": "cash",
        "Gus": "cash",
        "Hal": "owes",
        "Ida": "cash",
    }
    expect(page.locator(f"#settle-{people['Hal'].pk}")).to_contain_text("Marked to pay later")
    expect(page.locator(f"#settle-{people['Flo'].pk}")).to_contain_text("Cash £7.00")
    page.locator(f"#settle-{people['Gus'].pk} label.seg-card").click()
    between = _state(session)

    # Commit all asks first, with the totals in words and one Confirm.
    page.get_by_role("button", name="Commit all").first.click()
    summary = page.locator(".confirm-summary")
    expect(summary).to_have_text(
        "Record £19.00 cash from 2 people, £12.00 by card from 1 person, charge 3 plans, 1 owes £12.00, "
        "check in 8 of 8."
    )
    expect(page.get_by_role("button", name="Confirm")).to_have_count(1)
    assert not DeskAction.objects.exclude(batch_id="").exists()
    assert screenshot(page, "settle-1-confirm").exists()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/sessions/{session.ref}/")

    # One Undo for the whole settle; none on the rows.
    undo = page.get_by_role("button", name="Undo settle")
    expect(undo).to_have_count(1)
    expect(page.locator(".batch-undo")).to_contain_text("£19.00 cash from 2 people")
    expect(page.locator("#roster-rows tbody.booking .undo-button")).to_have_count(2)  # Hal's and Flo's own, earlier
    expect(page.locator(".head-count")).to_contain_text("8 of 8 in")
    assert screenshot(page, "settle-2-settled-one-undo").exists()
    batch = DeskAction.objects.exclude(batch_id="").first().batch_id

    undo.click()
    expect(page.locator("#roster-rows-message")).to_contain_text("Undone: settle")
    expect(page.locator(".head-count")).to_contain_text("0 of 8 in")
    expect(page.get_by_role("button", name="Undo settle")).to_have_count(0)
    assert screenshot(page, "settle-3-undone").exists()
    assert _state(session) == between
    assert set(DeskAction.objects.filter(batch_id=batch).values_list("status", flat=True)) == {Status.UNDONE}

    # Settle again: every row as it was between (Gus's card was a tap, not saved).
    page.get_by_role("link", name="Settle roster").click()
    page.wait_for_url(f"**/sessions/{session.ref}/settle/")
    assert choices() == suggested
    page.get_by_role("button", name="Commit all").first.click()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/sessions/{session.ref}/")
    expect(page.locator("#messages")).to_contain_text("Settled 8 participants")
    assert DeskAction.objects.filter(kind="PLAN_CHARGE", status=Status.QUEUED).count() == 3
    assert DeskAction.objects.filter(kind="PAY_LATER").count() == 1  # Hal's, once
    assert BenefitBalance.objects.filter(remaining_credits=Decimal("4")).count() == 3


@pytest.mark.django_db(transaction=True)
def test_check_in_all_has_one_undo(tablet, desk_password, long_undo):
    from playwright.sync_api import expect

    page = tablet
    session = factories.SessionFactory(start=_evening(), title="Big swim", capacity=30)
    factories.BookingFactory.create_batch(24, session=session)
    sign_in(page, username="browser-desk", password=desk_password, next_path=f"/sessions/{session.ref}/")

    page.get_by_role("button", name="Check in all", exact=True).click()  # its confirmation is accepted
    expect(page.locator(".head-count")).to_contain_text("24 of 24 in")
    expect(page.get_by_role("button", name="Undo check-in of 24 people")).to_have_count(1)
    expect(page.locator("#roster-rows .undo-button")).to_have_count(1)
    assert screenshot(page, "check-in-all-one-undo").exists()

    page.get_by_role("button", name="Undo check-in of 24 people").click()
    expect(page.locator(".head-count")).to_contain_text("0 of 24 in")
    expect(page.locator("#roster-rows-message")).to_contain_text("Undone: check-in of 24 people.")
    expect(page.locator("#roster-rows .undo-button")).to_have_count(0)
    assert screenshot(page, "check-in-all-undone").exists()
    assert not Attendance.objects.exists()
    assert not Booking.objects.filter(pending_sync=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_manager_reverses_a_settle_wix_has(tablet, desk_password, evening_class):
    from playwright.sync_api import expect

    page = tablet
    people = evening_class
    session = people["Ann"].session
    rows = {r.booking.contact.first_name: r for r in desk.settle_suggestions(session=session)}
    desk.settle_commit(
        user=factories.UserFactory(),
        session=session,
        rows=[
            desk.SettleChoice(booking_id=rows["Ann"].booking.pk, resolution="plan", balance_id=rows["Ann"].balance.pk),
            desk.SettleChoice(booking_id=rows["Gus"].booking.pk, resolution="cash", check_in=True),
        ],
        idempotency_key="evening-settle",
    )
    DeskAction.objects.filter(batch_id="evening-settle").update(status=Status.SYNCED)
    factories.UserFactory(username="browser-manager", password="browser-manager-2026", roles=["Manager"])
    sign_in(
        page,
        username="browser-manager",
        password="browser-manager-2026",
        next_path=f"/sessions/{session.ref}/settle/",
    )

    page.get_by_role("link", name="Reverse this settle…").click()
    expect(page.locator(".confirm-summary")).to_have_text(
        "Refund £12.00 cash to 1 person and void 1 plan charge (the credit goes back)."
    )
    assert screenshot(page, "settle-reverse-confirm").exists()
    page.get_by_role("button", name="Reverse this settle").click()
    page.wait_for_url(f"**/sessions/{session.ref}/settle/")
    expect(page.locator("#messages")).to_contain_text("Reversed: 2 payments and plan charges on their way to Wix.")
    expect(page.locator(".settle-batches")).to_contain_text("2 reversed")
    assert sorted(DeskAction.objects.filter(kind__in=DeskAction.REVERSAL_KINDS).values_list("kind", flat=True)) == [
        "REFUND",
        "VOID_PLAN_CHARGE",
    ]
