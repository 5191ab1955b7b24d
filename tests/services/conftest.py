"""Builders for the service tests.

The desk and push tests (``World``): arrange Wix in the in-process sandbox, mirror it with the
real sync once, then act through ``services.desk`` and push with ``services.push``. Everything
there goes through the sandbox every test gets (``get_wix_client()`` / ``get_sandbox()``), with
the sandbox's real clock, so the sync window (today ± weeks) holds the sessions made for "tomorrow".

The sync, mirror and webhook tests (``demo``, ``wix``, ``clock``, ``sandbox_wix``): the sandbox's
demo swim club at a fixed clock, read through a client of its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from bookings_app.models import (
    Attendance,
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
)
from bookings_app.services import desk, mirror, sync
from bookings_app.services.push import PushReport, push_desk_actions_now
from bookings_app.wix import WixClient, bookings, cart, get_sandbox, get_wix_client
from bookings_app.wix.client import ApiKeyAuth
from bookings_app.wix.dates import wix_local_parse
from tests.wix_sandbox.builders import (
    make_contact,
    make_event,
    make_member,
    make_service,
    make_staff,
    make_working_hours,
)
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import BOOKINGS_APP_ID, DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox, SandboxState
from wix_sandbox.handlers.bookings import order_of_booking
from wix_sandbox.seed import seed_demo
from wix_sandbox.state import COLLECTIONS
from wix_sandbox.transport import SandboxTransport

_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key, as a form would render one."""
    return f"{prefix}-{next(_keys)}"


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """Business-local naive datetime tomorrow at ``hour`` (what the sandbox builders take)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute))


@dataclasses.dataclass
class World:
    sb: Sandbox
    wix: WixClient
    coach: dict[str, Any]
    service: dict[str, Any]  # the CLASS service
    event: dict[str, Any]  # tomorrow's class session
    plan: dict[str, Any]  # a 10-swim pass covering the class

    # -- Wix side --------------------------------------------------------------------------------

    def customer(
        self, first: str, last: str = "Swimmer", *, member: bool = False, credits: int | None = None, unlimited=False
    ) -> dict[str, Any]:
        """A Wix contact (``member`` and a plan with ``credits`` left, if asked)."""
        contact = make_contact(self.sb, first, last, email=f"{first}.{last}.{next(_keys)}@example.com".lower())
        out: dict[str, Any] = {"contact": contact}
        if member or credits is not None or unlimited:
            out["member"] = make_member(self.sb, contact)
        if credits is not None:
            out["sold"] = sell_plan(self.sb, out["member"], self.plan, credits_left=credits)
        if unlimited:
            plan = make_plan(self.sb, "Unlimited Swim", None, [self.service["id"]], "60")
            out["sold"] = sell_plan(self.sb, out["member"], plan)
        return out

    def online_booking(
        self, person: dict[str, Any], *, event: dict[str, Any] | None = None, order: bool = True
    ) -> dict:
        """A booking made online, pay in person: CONFIRMED, and (``order``) its eCommerce order
        NOT_PAID — what the roster holds before the class."""
        event = event or self.event
        booking = bookings.create_booking(
            self.wix,
            booking={
                "bookedEntity": {"slot": {"serviceId": event_service_id(self.sb, event), "eventId": event["id"]}},
                "contactDetails": {"contactId": person["contact"]["id"]},
                "totalParticipants": 1,
                "selectedPaymentOption": "OFFLINE",
                "status": "CONFIRMED",
            },
        )["booking"]
        if order:
            # The customer checked out on the website (Cart V2, channel WEB), to pay in person.
            contact = person["contact"]
            made = cart.create_cart(
                self.wix,
                channel_type="WEB",
                catalog_items=[
                    {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
                ],
                customer_info={
                    "firstName": contact["info"]["name"].get("first"),
                    "lastName": contact["info"]["name"].get("last"),
                    "email": contact["primaryInfo"].get("email"),
                },
            )["cart"]
            cart.place_order(self.wix, cart_id=made["id"])
        return booking

    # -- mirror side -----------------------------------------------------------------------------

    def mirror(self, *people: dict[str, Any]) -> None:
        """Run the real full sync; ``people`` (walk-ins: no booking yet, so no sync reads them)
        are mirrored the way a desk search finds them, with their members' plans."""
        report = sync.sync_full(wix=self.wix)
        assert not report.error, report.error
        if people:
            mirror.mirror_contacts(wix=self.wix, contacts=[p["contact"] for p in people], actor="test")
        member_ids = [p["member"]["id"] for p in people if "member" in p]
        if member_ids:
            mirror.member_plans_refresh(wix=self.wix, member_ids=member_ids, actor="test")

    def session(self, event: dict[str, Any] | None = None) -> Session:
        return Session.objects.get(wix_id=(event or self.event)["id"])

    def contact(self, person: dict[str, Any]) -> Contact:
        return Contact.objects.get(wix_id=person["contact"]["id"])

    def booking(self, wix_booking: dict[str, Any]) -> Booking:
        return Booking.objects.get(wix_id=wix_booking["id"])

    def balance(self, person: dict[str, Any]) -> BenefitBalance:
        return BenefitBalance.objects.get(wix_id=person["sold"]["pool"]["id"])

    def class_service(self) -> Service:
        return Service.objects.get(wix_id=self.service["id"])

    # -- reading Wix back ------------------------------------------------------------------------

    def wix_booking(self, booking: Booking | str) -> dict[str, Any]:
        wix_id = booking if isinstance(booking, str) else booking.wix_id
        found = self.sb.state.get("bookings", wix_id)
        assert found is not None, f"booking {wix_id} is not in the sandbox"
        return found

    def wix_order(self, booking: Booking | str) -> dict[str, Any] | None:
        wix_id = booking if isinstance(booking, str) else booking.wix_id
        return order_of_booking(self.sb, wix_id)

    def wix_attendance(self, booking: Booking) -> dict[str, Any] | None:
        found = [a for a in self.sb.state.all("attendances") if a["bookingId"] == booking.wix_id]
        return found[-1] if found else None

    def wix_credits(self, person: dict[str, Any]) -> str:
        return self.sb.state.get("balances", person["sold"]["pool"]["id"])["amount"]["available"]

    def calls(self) -> int:
        return len(self.sb.call_log)

    def push(self, **kwargs: Any) -> PushReport:
        kwargs.setdefault("ignore_undo_window", True)
        return push_desk_actions_now(wix=self.wix, **kwargs)


def event_service_id(sb: Sandbox, event: dict[str, Any]) -> str:
    return next(s["id"] for s in sb.state.all("services") if s["schedule"]["id"] == event["scheduleId"])


def build_world(*, capacity: int = 20, price: str = "12") -> World:
    sb = get_sandbox()
    wix = get_wix_client()
    coach = make_staff(sb, "Alex Coach")
    service = make_service(sb, type="CLASS", name="Open Water Swim", price=price, capacity=capacity, staff=[coach])
    event = make_event(sb, service, tomorrow_at(7), staff=coach, capacity=capacity)
    plan = make_plan(sb, "10 Swim Pass", 10, [service["id"]], "90")
    return World(sb=sb, wix=wix, coach=coach, service=service, event=event, plan=plan)


@pytest.fixture
def world(db: None) -> World:
    w = build_world(capacity=40)
    yield w
    w.wix.close()


@pytest.fixture
def booking_only(settings: Any) -> None:
    """Payment mode booking-only (Confirm Or Decline with paymentStatus, no eCommerce order)."""
    settings.WIX = dataclasses.replace(settings.WIX, payment_mode="booking_only")


def add_course(w: World, *, capacity: int = 12, price: str = "96") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    course = make_service(w.sb, type="COURSE", name="Learn to Swim", price=price, capacity=capacity, staff=[w.coach])
    events = [make_event(w.sb, course, tomorrow_at(18) + timedelta(days=7 * i), staff=w.coach) for i in range(3)]
    return course, events


def add_appointments(w: World) -> dict[str, Any]:
    massage = make_service(w.sb, type="APPOINTMENT", name="Sports Massage", price="45", capacity=1, staff=[w.coach])
    make_working_hours(w.sb, w.coach, tomorrow_at(9), hours=8)
    return massage


def another_session(w: World, *, days: int = 1, capacity: int | None = None) -> dict[str, Any]:
    """Another session of the class, ``days`` after tomorrow's (a Wix event; mirror it after)."""
    return make_event(w.sb, w.service, tomorrow_at(7) + timedelta(days=days), staff=w.coach, capacity=capacity)


def waiting_list_booking(w: World, person: dict[str, Any], *, event: dict[str, Any] | None = None) -> dict:
    """``person`` on the class's waiting list in Wix: booked online, then — as Wix's booking widget
    does for a full class — put on its waiting list (no API makes a WAITING_LIST booking)."""
    booking = w.online_booking(person, event=event, order=False)
    with w.sb.state.transaction():
        stored = w.sb.state.edit("bookings", booking["id"])
        stored["status"] = "WAITING_LIST"
        stored["revision"] = str(int(stored["revision"]) + 1)
        w.sb.state.put("bookings", stored)
    return stored


def walk_in_with_cash(world: World, desk_user) -> Booking:
    """Jo walks in to tomorrow's class and pays 12 in cash: a WALK_IN and a PAYMENT, queued."""
    jo = world.customer("Jo")
    world.mirror(jo)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=key()
    )
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    return booking


# --- the demo club, for the sync, mirror, webhook and task tests ------------------------------------

BASE = "https://www.wixapis.com"
SEEDED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # the conftest sandbox clock: a Saturday


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


@pytest.fixture
def immediate_tasks(settings) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "sync"]}
    }


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
