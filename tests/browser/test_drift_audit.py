"""The drift watchdog and the audit trail in headless Chromium, as a manager: the header counts the
cases; fix one (record the payment of someone who came and did not pay), then another (retry a
stuck desk action) — each in place — and find both in the audit trail, filtered to the customer;
export the trail in the background and watch its progress turn into a download. Screens under
test-artifacts/ (drift-*, audit-*, export-*), at the desk and tablet sizes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app.models import Attendance, Booking, DeskAction, ExportJob
from bookings_app.services import export_jobs
from tests import factories
from tests.browser.conftest import needs_chromium, shots, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def manager_password(admin_password) -> str:
    password = "browser-manager-2026"
    factories.UserFactory(username="browser-manager", password=password, roles=["Manager"])
    return password


def came_and_did_not_pay(first: str, last: str) -> Booking:
    session = factories.SessionFactory(
        start=timezone.now() - timedelta(hours=3),
        end=timezone.now() - timedelta(hours=2),
        title="Dawn swim",
        service__price=Decimal("12.00"),
        service__currency="GBP",
    )
    booking = factories.BookingFactory(
        session=session, contact=factories.ContactFactory(first_name=first, last_name=last)
    )
    factories.AttendanceFactory(booking=booking, status=Attendance.Status.ATTENDED)
    return booking


@pytest.mark.django_db(transaction=True)
def test_fix_drift_twice_and_find_both_fixes_in_the_audit_trail(tablet, manager_password, settings):
    from playwright.sync_api import expect

    page = tablet
    ann = came_and_did_not_pay("Ann", "Archer")
    bo = came_and_did_not_pay("Bo", "Baker")
    stuck = factories.DeskActionFactory(
        run_after=timezone.now() - timedelta(hours=1),
        attempts=4,
        last_error="Wix answered 503",
        booking__contact=factories.ContactFactory(first_name="Cy", last_name="Cole"),
    )
    sign_in(page, username="browser-manager", password=manager_password, next_path="/today/")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Drift 3")).to_be_visible()
    page.goto("/drift/")
    expect(page.locator(".drift-kind.has-cases")).to_have_count(2)
    assert all(p.exists() for p in shots(page, "drift-1-cases"))

    table = page.locator(".audit-table")
    # Twice in a row: the drift page, fix a case in place, find the fix in the audit trail.
    for booking, method, count, took in ((ann, "Cash £12.00", 3, "cash"), (bo, "Card", 2, "card")):
        who = str(booking.contact)
        nav.get_by_role("link", name=f"Drift {count}").click()
        page.wait_for_url("**/drift/")
        case = page.locator(f"#case-attended_unpaid-{booking.attendances.get().pk}")
        expect(case).to_contain_text(f"{who} was checked in at Dawn swim")
        case.get_by_role("button", name=f"{method} from {who}").click()
        expect(case).to_contain_text(f"Payment taken from {who}; it is on its way to Wix.")
        expect(case).to_have_class("drift-case card is-fixed")
        if booking is ann:
            assert all(p.exists() for p in shots(page, "drift-2-fixed"))
        nav.get_by_role("link", name="Audit").click()
        page.wait_for_url("**/audit/")
        expect(table.locator("tbody tr").first).to_contain_text(f"Took £12.00 {took} from {who}")
        expect(table.locator("tbody tr").first).to_contain_text("browser-manager")
    assert DeskAction.objects.filter(kind="PAYMENT", created_by__username="browser-manager").count() == 2
    expect(table).to_contain_text("Took £12.00 cash from Ann Archer")

    # The stuck payment: sent again from the drift page, and that too is in the trail.
    nav.get_by_role("link", name="Drift 1").click()
    expect(page.locator("#drift-attended_unpaid")).to_have_count(0)
    cy_case = page.locator(f"#case-stuck_waiting-{stuck.pk}")
    expect(cy_case).to_contain_text("has not reached Wix (4 tries; last answer: Wix answered 503)")
    cy_case.get_by_role("button", name="Retry now").click()
    expect(cy_case).to_contain_text("Sent again: the worker takes it to Wix now.")
    assert all(p.exists() for p in shots(page, "drift-3-retried"))
    nav.get_by_role("link", name="Audit").click()
    expect(table.locator("tbody tr").first).to_contain_text("Sent again now: Payment for Cy Cole (4 tries so far)")
    assert all(p.exists() for p in shots(page, "audit-1-trail"))

    page.get_by_label("Customer").fill("archer")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/audit/?**")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Cash taken")
    expect(table).to_contain_text("Waiting for Wix")
    expect(page.locator(".audit-subject")).to_contain_text("Ann Archer")
    assert all(p.exists() for p in shots(page, "audit-2-filtered"))

    # The roster row's History goes to the booking's own trail.
    page.goto(f"/sessions/{bo.session.ref}/")
    page.get_by_label("More actions for Bo Baker").click()
    page.get_by_role("link", name="History of the booking of Bo Baker (audit trail)").click()
    page.wait_for_url(f"**/audit/?booking={bo.pk}")
    expect(table).to_contain_text("Took £12.00 card from Bo Baker")
    expect(table).not_to_contain_text("Ann Archer")

    # A big export is prepared in the background; its page follows it to the download.
    settings.EXPORT_BACKGROUND_ROWS = 1
    page.goto("/audit/")
    page.get_by_role("link", name="XLSX").click()
    expect(page.locator(".export-offer")).to_contain_text("This export has 3 rows")
    page.get_by_role("button", name="Prepare the XLSX file in the background").click()
    page.wait_for_url("**/exports/*/")
    expect(page.locator("#export-job")).to_contain_text("Waiting for the worker")
    assert all(p.exists() for p in shots(page, "export-1-waiting"))
    export_jobs.export_job_run(job_id=ExportJob.objects.get().pk)  # the worker writes it
    expect(page.get_by_role("link", name="Download audit-")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download audit-").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert all(p.exists() for p in shots(page, "export-2-ready"))
