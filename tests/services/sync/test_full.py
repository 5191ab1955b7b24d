"""The full sync: the mirror built from the sandbox's demo club, and nothing changed by a second one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bookings_app.models import AuditEntry, BenefitBalance, Booking, Payment, Service, Session, SyncState
from bookings_app.services import mirror, sync
from tests.services.conftest import SEEDED_AT, _ts, expected_mirror, mirror_counts


@pytest.mark.django_db
def test_full_sync_builds_the_mirror_of_the_window_from_the_demo_club(demo, wix):
    report = sync.sync_full(wix=wix)

    assert report.ok, report.error
    assert mirror_counts() == expected_mirror(demo, SEEDED_AT)
    assert mirror_counts()["bookings"] > 500
    # Every call is a page or a batch: a few dozen for ~600 bookings, and we counted them right.
    assert report.wix_calls == len(demo.call_log) <= 50
    assert all(status == 200 for _, _, status in demo.call_log)
    print(f"\nfull sync of the demo window: {report.wix_calls} Wix calls, {report.seconds:.2f} s")

    methods = Counter(Payment.objects.values_list("method", flat=True))
    assert {Payment.Method.CASH, Payment.Method.CARD, Payment.Method.CHECK, Payment.Method.PLAN} <= set(methods)
    states = SyncState.objects.all()
    assert {s.kind for s in states} == set(sync.ALL_KINDS)
    assert all(s.last_success_at and not s.running and not s.last_error for s in states)
    assert not AuditEntry.objects.exists()  # a first sync changes nothing anyone did


@pytest.mark.django_db
def test_full_sync_links_bookings_to_sessions_orders_and_plan_credits(demo, wix):
    sync.sync_full(wix=wix)

    # Today's 07:00 swim: an event with 100 bookings, capacity from the event.
    swim = Session.objects.get(start=datetime(2026, 11, 21, 7, 0, tzinfo=UTC), service__name="Open Water Swim")
    assert swim.capacity == 120 and swim.staff.name == "Sam Rivers"
    assert swim.bookings.count() == 100
    # Spa appointments have no calendar event: each is a session of its own, made from its booking.
    appointment = Booking.objects.filter(service__type=Service.Type.APPOINTMENT).select_related("session").first()
    assert appointment.session.wix_id == mirror.sessions.appointment_session_id(appointment.wix_id)
    assert appointment.session.start == _ts(appointment.raw["startDate"]) and appointment.session.capacity == 1
    assert appointment.session.staff.name in ("Maya Thompson", "Ravi Patel")
    # A plan payment names the plan's pool and the line it paid.
    plan_payment = Payment.objects.filter(method=Payment.Method.PLAN).select_related("order").first()
    line = plan_payment.order.line_items.get()
    assert plan_payment.line_item_id == line.line_item_id and line.booking is not None
    assert BenefitBalance.objects.filter(wix_id=plan_payment.membership_id).exists()
    # A card payment recorded at the desk ("Card" is a custom method name in Wix).
    card = Payment.objects.filter(method=Payment.Method.CARD).first()
    assert card.raw["regularPaymentDetails"]["paymentMethodName"]["userDefinedName"]["custom"] == "Card"
    # Members are linked to their contacts and hold their plan orders and credits.
    balance = BenefitBalance.objects.select_related("member__contact", "plan_order").filter(unlimited=False).first()
    assert balance.member.contact is not None and balance.plan_order is not None
    assert balance.total_credits == Decimal("10") and balance.remaining_credits <= balance.total_credits


@pytest.mark.django_db
def test_a_second_full_sync_changes_nothing(demo, wix):
    sync.sync_full(wix=wix)
    before = mirror_counts()

    report = sync.sync_full(wix=wix)

    assert report.ok and mirror_counts() == before
    assert sum(report.written.values()) == 0
