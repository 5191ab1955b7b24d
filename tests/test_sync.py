"""Sync: the mirror built from the sandbox's demo club, incremental polls, newer-wins, failures,
and the "Sync now" button with its progress widget."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from bookings_app.models import (
    Attendance,
    AuditEntry,
    BenefitBalance,
    Booking,
    Contact,
    Member,
    Order,
    OrderLineItem,
    Payment,
    PlanOrder,
    Service,
    Session,
    StaffMember,
    SyncState,
)
from bookings_app.services import mirror, sync
from bookings_app.wix import bookings as wix_bookings
from bookings_app.wix.client import ApiKeyAuth, WixClient
from bookings_app.wix.dates import wix_local_parse
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Faults, Sandbox, SandboxState
from wix_sandbox.seed import seed_demo
from wix_sandbox.state import COLLECTIONS
from wix_sandbox.transport import SandboxTransport

BASE = "https://www.wixapis.com"
SEEDED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # the conftest sandbox clock: a Saturday


# --- fixtures shared with test_webhooks.py and test_tasks.py ---------------------------------------


@pytest.fixture
def clock(sandbox_clock: list[datetime], time_machine) -> Callable[[datetime], None]:
    """Move the sandbox's clock and Django's together."""

    def move(to: datetime) -> None:
        sandbox_clock[0] = to
        time_machine.move_to(to, tick=False)

    move(sandbox_clock[0])
    return move


@pytest.fixture(scope="session")
def demo_template() -> Sandbox:
    """The demo swim club with two weeks of history, seeded once through the sandbox's own API."""
    template = Sandbox(state=SandboxState(clock=lambda: SEEDED_AT, seed=99))
    seed_demo(template, weeks_back=2)
    return template


@pytest.fixture
def demo(demo_template: Sandbox, sandbox: Sandbox, clock: Callable[[datetime], None]) -> Sandbox:
    """The test's sandbox holding a copy of the demo club (its own ids come from another seed)."""
    with sandbox.state.transaction():
        for collection in COLLECTIONS:
            for entity in demo_template.state.all(collection):
                sandbox.state.put(collection, json.loads(json.dumps(entity)))
    return sandbox


@pytest.fixture
def wix(sandbox: Sandbox) -> Iterator[WixClient]:
    client = WixClient(
        base_url=BASE,
        auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
        transport=SandboxTransport(sandbox),
        max_retries=0,
    )
    yield client
    client.close()


@pytest.fixture
def sandbox_wix(settings, sandbox: Sandbox, monkeypatch) -> Sandbox:
    """``get_wix_client()`` answers from the test's in-memory sandbox (tasks and views use it)."""
    from bookings_app import wix as wix_package

    settings.WIX = dataclasses.replace(settings.WIX, mode="sandbox", sandbox_state="", sandbox_faults="", max_retries=0)
    monkeypatch.setattr(wix_package, "get_sandbox", lambda config=None: sandbox)
    return sandbox


# --- what the sandbox holds for the window, to compare the mirror with -----------------------------


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def expected_mirror(sb: Sandbox, now: datetime) -> dict[str, int]:
    window = sync.sync_window(now=now)
    st = sb.state

    def in_window(booking: dict) -> bool:
        start, end = _ts(booking.get("startDate")), _ts(booking.get("endDate"))
        return start is not None and start < window.end and end > window.start

    bookings = [b for b in st.all("bookings") if in_window(b)]
    booking_ids = {b["id"] for b in bookings}
    events = [
        e
        for e in st.all("events")
        if e.get("type") in ("CLASS", "COURSE")
        and e.get("recurrenceType") != "MASTER"
        and window.start <= wix_local_parse(e["start"]["localDate"], window.tz) < window.end
    ]
    # Appointments: slot bookings without an event (course bookings book a schedule, no slot).
    appointments = [b for b in bookings if "slot" in b["bookedEntity"] and not b["bookedEntity"]["slot"].get("eventId")]
    orders = {
        o["id"]
        for o in st.all("orders")
        for line in o["lineItems"]
        if line["catalogReference"]["catalogItemId"] in booking_ids
    }
    contacts = {b["contactDetails"]["contactId"] for b in bookings}
    members = {m["id"] for m in st.all("members") if m.get("contactId") in contacts}
    return {
        "services": st.count("services"),
        "staff": st.count("staff_members"),
        "sessions": len(events) + len(appointments),
        "bookings": len(bookings),
        "orders": len(orders),
        "line_items": sum(len(o["lineItems"]) for o in st.all("orders") if o["id"] in orders),
        "payments": sum(len((st.get("order_transactions", o) or {}).get("payments") or []) for o in orders),
        "attendance": sum(1 for a in st.all("attendances") if a["bookingId"] in booking_ids),
        "contacts": len(contacts),
        "members": len(members),
        "plan_orders": sum(1 for o in st.all("plan_orders") if o["buyer"]["memberId"] in members),
        "balances": sum(1 for p in st.all("pools") if p["beneficiary"].get("memberId") in members),
    }


def mirror_counts() -> dict[str, int]:
    return {
        "services": Service.objects.count(),
        "staff": StaffMember.objects.count(),
        "sessions": Session.objects.count(),
        "bookings": Booking.objects.count(),
        "orders": Order.objects.count(),
        "line_items": OrderLineItem.objects.count(),
        "payments": Payment.objects.count(),
        "attendance": Attendance.objects.count(),
        "contacts": Contact.objects.count(),
        "members": Member.objects.count(),
        "plan_orders": PlanOrder.objects.count(),
        "balances": BenefitBalance.objects.count(),
    }


# --- full sync ------------------------------------------------------------------------------------


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


@pytest.mark.django_db
def test_progress_reports_the_running_phase_and_is_complete_when_done(demo, wix, monkeypatch):
    seen: list[sync.SyncProgress] = []
    real = mirror.bookings.extended_apply

    def spy(run, items, **kwargs):
        seen.append(sync.sync_progress_get())
        return real(run, items, **kwargs)

    monkeypatch.setattr(mirror.bookings, "extended_apply", spy)
    sync.sync_full(wix=wix)

    assert seen and all(p.running and p.phase == "Bookings, orders and payments" for p in seen)
    assert [p.percent for p in seen] == sorted(p.percent for p in seen)
    assert 0 < seen[0].percent < 100
    done = sync.sync_progress_get()
    assert not done.running and done.percent == 100 and done.last_success_at == SEEDED_AT


# --- incremental ------------------------------------------------------------------------------------


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


# --- newer wins -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_older_payload_never_overwrites_a_newer_one(demo, wix):
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    held = dict(booking.raw)
    older = {**held, "status": "CANCELED", "revision": str(booking.revision - 1)}
    same = {**held, "status": "DECLINED"}  # same revision: a replay, not news

    assert mirror.mirror_bookings(wix=wix, bookings=[older]) == 0
    assert mirror.mirror_bookings(wix=wix, bookings=[same]) == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.raw == held

    newer = {**held, "status": "CANCELED", "revision": str(booking.revision + 1)}
    assert mirror.mirror_bookings(wix=wix, bookings=[newer]) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED


@pytest.mark.django_db
def test_a_booking_with_a_desk_change_in_flight_is_left_to_the_desk(demo, wix):
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    Booking.objects.filter(pk=booking.pk).update(pending_sync=True, payment_status=Booking.PaymentStatus.PAID)
    newer = {**booking.raw, "status": "CANCELED", "revision": str(booking.revision + 1)}

    mirror.mirror_bookings(wix=wix, bookings=[newer])

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.payment_status == Booking.PaymentStatus.PAID


# --- failures and the lock -----------------------------------------------------------------------


@pytest.mark.django_db
def test_wix_down_is_recorded_and_never_leaves_the_sync_running(demo, wix):
    demo.faults = Faults(error_5xx_rate=1.0, seed=1)

    report = sync.sync_full(wix=wix)

    assert report.error.startswith("Wix is unreachable")
    assert not SyncState.objects.filter(running=True).exists()
    progress = sync.sync_progress_get()
    assert progress.failing and "unreachable" in progress.last_error and not progress.running


@pytest.mark.django_db
def test_a_second_sync_waits_while_one_runs_but_a_dead_run_is_taken_over(demo, wix, clock):
    sync.sync_states_ensure()
    SyncState.objects.update(running=True, last_incremental_at=SEEDED_AT - timedelta(minutes=1))

    assert sync.sync_full(wix=wix).skipped
    assert not Booking.objects.exists() and len(demo.call_log) == 0

    clock(SEEDED_AT + sync.STALE_RUN + timedelta(minutes=2))  # the process holding it died
    report = sync.sync_full(wix=wix)
    assert report.ok and Booking.objects.exists()


# --- pieces ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payment", "method"),
    [
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
                }
            },
            "CASH",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "CHECK"}},
                }
            },
            "CHECK",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"custom": "Card"}},
                }
            },
            "CARD",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "BANK_TRANSFER"}},
                }
            },
            "OTHER",
        ),
        ({"regularPaymentDetails": {"offlinePayment": True}}, "OTHER"),
        ({"regularPaymentDetails": {"offlinePayment": False, "gatewayTransactionId": "gw-1"}}, "ONLINE"),
        ({"membershipPaymentDetails": {"membershipId": "pool-1", "lineItemId": "li-1"}}, "PLAN"),
        ({"giftcardPaymentDetails": {"giftCardPaymentId": "g"}}, "OTHER"),
    ],
)
def test_payment_method_is_read_from_the_order_transaction(payment, method):
    assert mirror.payments.payment_method(payment) == method


def test_the_window_runs_from_a_week_back_to_sixty_days_ahead_in_local_time():
    window = sync.sync_window(now=datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 00:30 on 2 July in London

    assert window.start.isoformat() == "2026-06-25T00:00:00+01:00"
    assert window.end.isoformat() == "2026-09-01T00:00:00+01:00"


@pytest.mark.django_db
def test_sync_wix_command_prints_counts_and_time(demo, sandbox_wix):
    out = io.StringIO()

    call_command("sync_wix", "--full", stdout=out)

    text = out.getvalue()
    assert text.startswith("Full sync: ") and "Wix calls in" in text and "Booking " in text


# --- "Sync now" and its progress widget -----------------------------------------------------------


@pytest.fixture
def immediate_tasks(settings) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "sync"]}
    }


def test_sync_now_needs_login_and_the_run_sync_permission(client, desk_user, manager_user):
    url = reverse("sync_now")
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(desk_user)
    assert client.post(url).status_code == 403
    client.force_login(manager_user)
    assert client.get(url).status_code == 405


def test_sync_now_over_htmx_runs_the_sync_and_answers_the_widget(manager_client, demo, sandbox_wix, immediate_tasks):
    response = manager_client.post(reverse("sync_now"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"syncStarted": {}}
    body = response.content.decode()
    assert 'id="sync-widget"' in body and "<html" not in body
    assert "Synced 09:00" in body and 'hx-trigger="every 1s"' not in body  # immediate backend: done
    assert Booking.objects.count() == expected_mirror(demo, SEEDED_AT)["bookings"]
    assert AuditEntry.objects.filter(action="sync.requested", actor="manager-user").exists()


def test_sync_now_without_js_queues_and_redirects_back_with_a_message(manager_client, sandbox_wix):
    from django_tasks_db.models import DBTaskResult

    response = manager_client.post(reverse("sync_now"), {"next": "/today/"}, follow=False)

    assert response.status_code == 302 and response.url == "/today/"
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.sync_full_task", status="READY").count() == 1
    again = manager_client.post(reverse("sync_now"), {"next": "https://evil.example/"})
    assert again.url == reverse("sync_status")  # not an open redirect
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.sync_full_task", status="READY").count() == 1


def test_widget_polls_every_second_while_a_sync_runs_and_stops_when_done(desk_client):
    sync.sync_states_ensure()
    from django.utils import timezone

    SyncState.objects.update(running=True, last_full_at=timezone.now())
    SyncState.objects.filter(kind__in=[SyncState.Kind.SERVICES, SyncState.Kind.STAFF]).update(running=False)
    SyncState.objects.filter(kind=SyncState.Kind.SESSIONS).update(progress_done=1, progress_total=2)

    running = desk_client.get(reverse("sync_status"), HTTP_HX_REQUEST="true")

    body = running.content.decode()
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in body
    assert "Syncing with Wix: sessions" in body and "<progress" in body
    assert 'value="' in body and "HX-Trigger" not in running.headers

    SyncState.objects.update(running=False, last_success_at=timezone.now())
    finished = desk_client.get(reverse("sync_status"), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' not in finished.content.decode()
    assert json.loads(finished.headers["HX-Trigger"]) == {"syncFinished": {}}


def test_widget_says_clearly_when_wix_is_unreachable(manager_client, sandbox, sandbox_wix, immediate_tasks):
    sandbox.faults = Faults(error_5xx_rate=1.0, seed=1)

    response = manager_client.post(reverse("sync_now"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "Wix unreachable" in body and "Wix is unreachable" in body and 'role="alert"' in body
    assert "Sync now" in body  # try again


def test_sync_status_page_lists_each_kind(desk_client, demo, wix):
    sync.sync_full(wix=wix)

    response = desk_client.get(reverse("sync_status"))

    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "Bookings, orders and payments" in body and "up to date" in body
    assert "Sync now" not in body  # the front desk may look, not start one
