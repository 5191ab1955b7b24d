"""The incremental poll: only what changed, and a full sync when there is no cursor yet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings_app.models import AuditEntry, Booking, Order, Payment
from bookings_app.services import sync
from bookings_app.wix import bookings as wix_bookings
from tests.services.conftest import SEEDED_AT


@pytest.mark.django_db
def test_incremental_sync_fetches_only_what_changed(demo, wix, clock):
    clock(SEEDED_AT + timedelta(minutes=10))
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED, session__start__date=SEEDED_AT.date()).first()
    clock(SEEDED_AT + timedelta(minutes=15))
    wix_bookings.cancel_booking(wix, booking_id=booking.wix_id, revision=str(booking.revision))
    demo.call_log.clear()

    report = sync.sync_incremental(wix=wix)

    assert report.mode == "incremental" and report.ok
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED
    assert report.written["Booking"] == 1
    print(f"\nincremental poll after one change: {report.wix_calls} Wix calls")
    assert report.wix_calls == len(demo.call_log) <= 16
    entry = AuditEntry.objects.get(action="booking.changed_in_wix")
    assert entry.actor == "sync" and entry.object_id == booking.wix_id
    assert entry.before == {"status": "CONFIRMED"} and entry.after == {"status": "CANCELED"}

    clock(SEEDED_AT + timedelta(minutes=16))
    quiet = sync.sync_incremental(wix=wix)
    assert quiet.ok and sum(quiet.written.values()) == 0 and quiet.wix_calls <= 10


@pytest.mark.django_db
def test_incremental_sync_sees_a_payment_taken_in_wix(demo, wix, clock):
    from bookings_app.wix import orders as wix_orders

    clock(SEEDED_AT + timedelta(minutes=10))
    sync.sync_full(wix=wix)
    unpaid = Order.objects.filter(payment_status="NOT_PAID", status="APPROVED").first()
    clock(SEEDED_AT + timedelta(minutes=20))
    wix_orders.mark_order_as_paid(wix, order_id=unpaid.wix_id)

    report = sync.sync_incremental(wix=wix)

    unpaid.refresh_from_db()
    assert report.ok and unpaid.payment_status == "PAID" and unpaid.balance == 0
    assert unpaid.payments.get().method == Payment.Method.OTHER  # marked paid, no method named
    booking = unpaid.line_items.get().booking
    assert booking.payment_status == Booking.PaymentStatus.PAID


@pytest.mark.django_db
def test_first_poll_without_a_cursor_is_a_full_sync(demo, wix):
    report = sync.sync_incremental(wix=wix)

    assert report.mode == "full" and report.ok and Booking.objects.exists()


@pytest.mark.django_db
def test_incremental_sync_sees_credits_used_in_wix(demo, wix, clock):
    """Query Balances can't filter on updatedDate: the poll finds the pools whose credits moved in
    Query Transactions (createdDate), then reads those balances by id."""
    from bookings_app.models import BenefitBalance
    from bookings_app.wix import benefit_programs
    from bookings_app.wix.ids import BOOKINGS_APP_ID

    clock(SEEDED_AT + timedelta(minutes=10))
    sync.sync_full(wix=wix)
    balance = (
        BenefitBalance.objects.filter(status="ACTIVE", unlimited=False, remaining_credits__gte=2)
        .exclude(covered_service_ids=[])
        .first()
    )
    before = balance.remaining_credits
    pool = balance.raw["pool"]
    clock(SEEDED_AT + timedelta(minutes=20))
    benefit_programs.redeem_benefit(
        wix,
        pool_id=pool["id"],
        item_reference={"externalId": balance.covered_service_ids[0], "providerAppId": BOOKINGS_APP_ID},
        benefit_key=pool["details"]["benefits"][0]["benefitKey"],
        idempotency_key="used-online-1",
        count=2,
        beneficiary=pool["beneficiary"],
    )
    demo.call_log.clear()

    report = sync.sync_incremental(wix=wix)

    balance.refresh_from_db()
    assert report.ok and balance.remaining_credits == before - 2
    paths = [path for _, path, _ in demo.call_log]
    assert "/benefit-programs/v1/transactions/query" in paths and "/benefit-programs/v1/balances/query" in paths


@pytest.mark.django_db
def test_incremental_sync_reads_services_without_an_updated_date_filter(demo, clock):
    """Query Services can't filter on updatedDate (bookings_services ServiceQuerySpec): each poll
    reads every service, one page, and writes only what changed."""
    import json

    import httpx

    from bookings_app.models import Service
    from bookings_app.wix import WixClient
    from bookings_app.wix.client import ApiKeyAuth
    from tests.services.conftest import BASE
    from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID
    from wix_sandbox.common import touch
    from wix_sandbox.transport import SandboxTransport

    sent: list[httpx.Request] = []

    class Recording(httpx.BaseTransport):
        inner = SandboxTransport(demo)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return self.inner.handle_request(request)

    client = WixClient(
        base_url=BASE, auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID), transport=Recording(), max_retries=0
    )
    clock(SEEDED_AT + timedelta(minutes=10))
    sync.sync_full(wix=client)
    clock(SEEDED_AT + timedelta(minutes=15))
    with demo.state.transaction():
        renamed = demo.state.edit("services", demo.state.all("services")[0]["id"])
        renamed["name"] = "Renamed in Wix"
        demo.state.put("services", touch(demo, renamed))
    sent.clear()

    report = sync.sync_incremental(wix=client)

    assert report.mode == "incremental" and report.ok, report.error
    queries = [json.loads(r.content) for r in sent if r.url.path.endswith("/bookings/v2/services/query")]
    assert queries == [{"query": {"paging": {"limit": 100, "offset": 0}}}]
    assert Service.objects.get(wix_id=renamed["id"]).name == "Renamed in Wix"
    assert report.written["Service"] == 1  # the others came back unchanged and were dropped
    client.close()
