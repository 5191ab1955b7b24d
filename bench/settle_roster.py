"""Settle a 100-person class at the desk against a slow, rate-limited Wix: our local-first path
versus the naive one-participant-at-a-time path, in each payment mode (issue 4, item 8).

    .venv/bin/python bench/settle_roster.py            # both modes, 100 people: several minutes
    .venv/bin/python bench/settle_roster.py --quick    # 20 people, a sanity run
    .venv/bin/python bench/settle_roster.py --modes booking_only

Wix is the standalone sandbox (``manage.py wix_sandbox``) in a subprocess on a free port with
``--faults latency_ms=150,rate_limit_per_minute=200`` and its own state file; the app talks to it
over HTTP in ``api_key`` mode, through ``get_wix_client()`` and its file rate limiter (200 calls a
minute, a fresh window file under var/ per run). Every run (mode × path) gets a fresh sandbox
server, so neither path inherits the other's rate window.

The class (capacity 120, £12), 100 customers (the first 30 members with a 10-swim pass, 5 credits
left) are written into the sandbox's state file before its server starts, as the desk tests
arrange them; for our path the real sync (``sync_full`` + the walk-ins' contacts and plans) then
mirrors them in-process from that same file, so the setup spends none of the measured budget.
The mirror is this bench's own SQLite database, ``var/bench-settle-roster.sqlite3``, deleted and
migrated again for every mode (the app's ``var/db.sqlite3`` is never touched).

Our path ("the UI's services"), as a signed-in Front desk user through Django's test client:
100 walk-in clicks (``POST /sessions/<ref>/walk-in/`` as htmx, pay "decide later"), then one
"Commit all" on the Settle screen (``POST /sessions/<ref>/settle/``: 60 cash, 30 charged to their
plan, 10 owes, everyone checked in). Server time per click = ``time.perf_counter()`` around
``client.post``. Then the worker drains the queue —
``push_desk_actions_now(wix=get_wix_client(), ignore_undo_window=True)`` until every desk
action is SYNCED (the undo window is skipped; backoff is respected). "Time until synced" is that
drain's wall time.

The naive path makes the same 100 participants one at a time, synchronously, with the
``bookings_app.wix`` API functions and no bulk endpoint. ecom: Create Booking → Confirm Booking →
Create Cart (BACKOFFICE_MERCHANT) → Place Order → Add Payments (cash) or Get Order + Charge
Memberships + List Transactions until the charge settles (plan) → Set Attendance. booking-only:
Create Booking → (Redeem Benefit for a plan) → Confirm Or Decline with paymentStatus → Set
Attendance. Each participant's sequence is one "click"; "time until synced" is the whole sequence of 100.

Wix calls are HTTP requests counted at the client (httpx request hooks: every attempt, a 429'd
one included). Both paths are read back from the sandbox at the end (Query Extended Bookings with
attendance and order, List Balances): every booking CONFIRMED, 90 PAID / 10 NOT_PAID, all
ATTENDED, no extra booking, each pass one credit down.

Prints a table per mode and ends with one line ``RESULT {json}``. Timings are figures, never
asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import importlib
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests import processes  # noqa: E402 - after the path; imports nothing of Django

SQLITE_PATH = BASE_DIR / "var" / "bench-settle-roster.sqlite3"
LATENCY_MS = 150
BUDGET_PER_MINUTE = 200
CAPACITY = 120
PRICE = "12"
PLAN_CREDITS_LEFT = 5
CLICK_TARGET_P95_MS = 100.0
FEWEST_SLACK = 1.10
MODES = ("ecom", "booking_only")
DRAIN_DEADLINE_S = 20 * 60  # a drain that takes longer than this is reported as unfinished
NAIVE_DEADLINE_S = 20 * 60


@dataclasses.dataclass(frozen=True)
class Mix:
    n: int
    cash: int
    plan: int
    owes: int

    @classmethod
    def of(cls, n: int) -> Mix:
        plan, owes = round(n * 0.3), round(n * 0.1)
        return cls(n=n, cash=n - plan - owes, plan=plan, owes=owes)

    def kind(self, i: int) -> str:
        """Participant ``i``: the first ``plan`` are members with a pass, then cash, then owes."""
        if i < self.plan:
            return "plan"
        return "cash" if i < self.plan + self.cash else "owes"


def fewest_calls(*, mode: str, n: int, cash: int, plan: int, owes: int, walk_ins: bool) -> int:
    """The fewest Wix calls the payment mode allows — the same formula as
    ``tests/services/push/conftest.fewest`` (kept in step by hand):

    attendance ceil(n/8) (Bulk Set Attendance); walk-ins ceil(n/40) (Bulk Create Booking);
    ecom walk-ins: Create Cart + Place Order each (no bulk cart or order exists), Add Payments per
    cash participant, Get Order (the placed order's line id) + Charge Memberships per plan
    participant and ceil(plan/100) List Transactions For Multiple Orders for the charges'
    asynchronous status; ecom bookings with an OFFLINE order: Add Payments per cash participant,
    Redeem Benefit + Add Payments (the plan payment recorded) per plan participant; booking-only:
    one Redeem Benefit per plan + ceil(n/300) Bulk Confirm Or Decline.
    """
    calls = math.ceil(n / 8)
    if walk_ins:
        calls += math.ceil(n / 40)
    if mode == "ecom":
        if walk_ins:
            calls += 2 * (cash + plan + owes) + cash + 2 * plan + math.ceil(plan / 100)
        else:
            calls += cash + 2 * plan
    else:
        calls += plan + math.ceil((cash + plan + owes) / 300)
    return calls


# --- small helpers -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2) if values else float("nan"),
        "p95_ms": round(percentile(values, 95), 2),
        "max_ms": round(max(values), 2) if values else float("nan"),
    }


def load_django_on(sqlite_path: Path) -> None:
    """Load Django as gunicorn does, on the bench's own SQLite file: a DATABASE_URL is ignored,
    so a bench never writes to the app's database."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        print(f"Ignoring DATABASE_URL={url.split('://')[0]}://…: this bench always uses its own SQLite file.")
    os.environ["DATABASE_URL"] = f"sqlite:///{sqlite_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    sqlite_path.parent.mkdir(exist_ok=True)
    importlib.import_module("backoffice.wsgi")


def key() -> str:
    """An idempotency token as a form renders one."""
    return uuid.uuid4().hex


def tomorrow_at(hour: int) -> datetime:
    from django.conf import settings
    from django.utils import timezone

    tz = ZoneInfo(settings.TIME_ZONE)
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, dtime(hour, 0))


class SandboxServer(processes.SandboxServer):
    """``manage.py wix_sandbox`` in a subprocess (``tests/processes.py``), by default with this
    bench's latency and rate budget."""

    def __init__(self, state_path: Path, log_path: Path, *, faults: str = "", seed: str = "none") -> None:
        faults = faults or f"latency_ms={LATENCY_MS},rate_limit_per_minute={BUDGET_PER_MINUTE}"
        super().__init__(state_path, log_path, faults=faults, seed=seed)


class CallCounter:
    """Counts every HTTP request a WixClient sends (retries and 429s included), its answers by
    status, and the time spent waiting for the rate limiter."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.by_path: Counter[str] = Counter()
        self.limiter_wait = 0.0
        http = client._http  # the client's own httpx.Client: the one place every request passes
        http.event_hooks = {
            "request": [*http.event_hooks.get("request", []), self._request],
            "response": [*http.event_hooks.get("response", []), self._response],
        }
        inner = client.rate_limiter
        counter = self

        class Timed:
            def acquire(self) -> None:
                started = time.perf_counter()
                inner.acquire()
                counter.limiter_wait += time.perf_counter() - started

        client.rate_limiter = Timed()

    def _request(self, request: Any) -> None:
        self.requests += 1
        self.by_path[request.url.path] += 1

    def _response(self, response: Any) -> None:
        self.statuses[response.status_code] += 1


# --- the run ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Person:
    kind: str  # cash | plan | owes
    contact: dict[str, Any]
    member: dict[str, Any] | None = None
    sold: dict[str, Any] | None = None


@dataclasses.dataclass
class World:
    service: dict[str, Any]
    event: dict[str, Any]
    plan: dict[str, Any]
    people: list[Person]


def use_sandbox_file(state_path: Path) -> None:
    """settings.WIX → the in-process sandbox over ``state_path`` (no faults, no rate limit)."""
    from django.conf import settings

    from bookings_app import wix

    settings.WIX = dataclasses.replace(
        settings.WIX, mode="sandbox", sandbox_state=str(state_path), sandbox_faults="", rate_limit_url=""
    )
    wix.clear_cached_state()


def use_server(server: SandboxServer, mode: str, limiter_name: str) -> None:
    """settings.WIX → the standalone sandbox over HTTP, as a live site would be configured."""
    from django.conf import settings

    from bookings_app import wix
    from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID

    settings.WIX = dataclasses.replace(
        settings.WIX,
        mode="api_key",
        base_url=server.base_url,
        api_key=DEFAULT_API_KEY,
        site_id=DEFAULT_SITE_ID,
        app_id="",
        app_secret="",
        instance_id="",
        payment_mode=mode,
        rate_limit_per_minute=BUDGET_PER_MINUTE,
        rate_limit_url="",
        sandbox_state="",
        sandbox_faults="",
    )
    # get_wix_client() puts its window file at var/<RATE_LIMIT_FILE>: a fresh one per run, so the
    # budget starts empty and the app's own window (var/wix-rate-limit.window) is left alone.
    wix.RATE_LIMIT_FILE = limiter_name
    wix.clear_cached_state()


def arrange(state_path: Path, mix: Mix) -> World:
    """The class, its plan and the customers, written into the sandbox's state file."""
    from bookings_app.wix import get_sandbox
    from tests.wix_sandbox.builders import make_contact, make_event, make_member, make_service, make_staff
    from tests.wix_sandbox.plan_builders import make_plan, sell_plan

    use_sandbox_file(state_path)
    sb = get_sandbox()
    coach = make_staff(sb, "Alex Coach")
    service = make_service(sb, type="CLASS", name="Open Water Swim", price=PRICE, capacity=CAPACITY, staff=[coach])
    event = make_event(sb, service, tomorrow_at(7), staff=coach, capacity=CAPACITY)
    plan = make_plan(sb, "10 Swim Pass", 10, [service["id"]], "90")
    people = []
    for i in range(mix.n):
        kind = mix.kind(i)
        contact = make_contact(sb, f"P{i:03d}", "Swimmer", email=f"p{i:03d}.swimmer@example.com")
        person = Person(kind=kind, contact=contact)
        if kind == "plan":
            person.member = make_member(sb, contact)
            person.sold = sell_plan(sb, person.member, plan, credits_left=PLAN_CREDITS_LEFT)
        people.append(person)
    return World(service=service, event=event, plan=plan, people=people)


def mirror(world: World) -> None:
    """The real sync, in-process over the same state file (the desk tests' ``World.mirror``)."""
    from bookings_app.services import mirror as wix_mirror
    from bookings_app.services import sync
    from bookings_app.wix import get_wix_client

    with get_wix_client() as client:
        report = sync.sync_full(wix=client)
        if report.error:
            raise SystemExit(f"sync_full failed: {report.error}")
        wix_mirror.mirror_contacts(wix=client, contacts=[p.contact for p in world.people], actor="bench")
        wix_mirror.member_plans_refresh(
            wix=client, member_ids=[p.member["id"] for p in world.people if p.member], actor="bench"
        )


def close_sandbox_file() -> None:
    from bookings_app import wix

    wix.get_sandbox().state.close()
    wix.clear_cached_state()


def reset_database() -> Any:
    """A fresh, migrated bench database with a Front desk user; returns the user."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from bookings_app import roles

    connections.close_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("setup_roles", stdout=io.StringIO())
    user = get_user_model().objects.create_user("bench-desk", password=None)
    user.groups.set([Group.objects.get(name=roles.FRONT_DESK)])
    return user


def read_back(world: World, mode: str) -> dict[str, Any]:
    """What the sandbox holds now, through its API: the event's bookings and the passes."""
    from bookings_app.wix import benefit_programs, extended_bookings, get_wix_client

    found: list[dict[str, Any]] = []
    with get_wix_client() as client:
        query: dict[str, Any] = {
            "filter": {"bookedEntity.item.slot.eventId": world.event["id"]},
            "cursorPaging": {"limit": 100},
        }
        for _ in range(50):  # pages; bounded
            answer = extended_bookings.query_extended_bookings(
                client, query=query, with_booking_attendance_info=True, with_ecom_order=mode == "ecom"
            )
            page = answer.get("extendedBookings") or []
            found.extend(page)
            cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
            if not cursor or not page:
                break
            query = {"cursorPaging": {"limit": 100, "cursor": cursor}}
        pools = [p.sold["pool"]["id"] for p in world.people if p.sold]
        credits: dict[str, str] = {}
        for start in range(0, len(pools), 50):
            answer = benefit_programs.list_balances(client, pool_ids=pools[start : start + 50])
            credits.update({b["id"]: (b.get("amount") or {}).get("available") for b in answer.get("balances") or []})
    mine = {p.contact["id"]: p for p in world.people}
    statuses = Counter(e["booking"].get("status") for e in found)
    payments = Counter(e["booking"].get("paymentStatus") for e in found)
    attended = sum(1 for e in found if (e.get("attendance") or {}).get("status") == "ATTENDED")
    per_contact = Counter((e["booking"].get("contactDetails") or {}).get("contactId") for e in found)
    wrong_payment = 0
    for e in found:
        person = mine.get((e["booking"].get("contactDetails") or {}).get("contactId"))
        expected = "NOT_PAID" if person is not None and person.kind == "owes" else "PAID"
        wrong_payment += e["booking"].get("paymentStatus") != expected
    used = sum(PLAN_CREDITS_LEFT - float(credits.get(pool) or 0) for pool in pools)
    n = len(world.people)
    owes = sum(1 for p in world.people if p.kind == "owes")
    out = {
        "bookings": len(found),
        "statuses": dict(statuses),
        "payment_statuses": dict(payments),
        "attended": attended,
        "people_booked_twice": sum(1 for c in per_contact.values() if c > 1),
        "people_missing": sum(1 for c in mine if per_contact.get(c, 0) == 0),
        "payment_status_wrong": wrong_payment,
        "credits_used": used,
        "passes_each_one_down": all(float(credits.get(pool) or -1) == PLAN_CREDITS_LEFT - 1 for pool in pools),
    }
    if mode == "ecom":
        out["order_payment_statuses"] = dict(Counter((e.get("order") or {}).get("paymentStatus") for e in found))
    out["ok"] = (
        out["bookings"] == n
        and statuses.get("CONFIRMED", 0) == n
        and payments.get("PAID", 0) == n - owes
        and payments.get("NOT_PAID", 0) == owes
        and wrong_payment == 0
        and attended == n
        and out["people_booked_twice"] == 0
        and out["people_missing"] == 0
        and used == len(pools)
        and out["passes_each_one_down"]
    )
    return out


def run_ours(world: World, mode: str, mix: Mix, server: SandboxServer, limiter: str, user: Any) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Min
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from bookings_app.models import Contact, DeskAction, Session
    from bookings_app.services import desk, push
    from bookings_app.wix import get_wix_client

    Status = DeskAction.Status
    use_server(server, mode, limiter)
    client = Client()
    client.force_login(user)
    session = Session.objects.select_related("service").get(wix_id=world.event["id"])
    contacts = dict(
        Contact.objects.filter(wix_id__in=[p.contact["id"] for p in world.people]).values_list("wix_id", "pk")
    )
    kind_of = {contacts[p.contact["id"]]: p.kind for p in world.people}
    walk_in_url = reverse("desk_walk_in", args=[session.ref])
    settle_url = reverse("desk_settle", args=[session.ref])

    # 100 walk-in clicks, as htmx posts: each answers with the re-rendered roster rows.
    # The last one also counts its SQL queries (CaptureQueriesContext: a little overhead, once).
    gc.collect()
    walk_in_ms: list[float] = []
    last_walk_in: dict[str, int] = {}
    for i, person in enumerate(world.people):
        data = {"contact": contacts[person.contact["id"]], "idempotency_key": key(), "pay": ""}
        last = i == len(world.people) - 1
        with CaptureQueriesContext(connection) if last else contextlib.nullcontext() as queries:
            started = time.perf_counter()
            response = client.post(walk_in_url, data, HTTP_HX_REQUEST="true")
            walk_in_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"walk-in click answered {response.status_code}: {response.content[:500]!r}")
        if last:
            last_walk_in = {"queries": len(queries.captured_queries), "response_bytes": len(response.content)}

    # The Settle screen, then one "Commit all": the suggested plan / cash, 10 of the cash rows
    # changed to owes, everyone checked in.
    started = time.perf_counter()
    page = client.get(settle_url)
    settle_page_ms = (time.perf_counter() - started) * 1000
    if page.status_code != 200:
        raise SystemExit(f"settle page answered {page.status_code}")
    data = {"idempotency_key": key()}
    chosen: Counter[str] = Counter()
    for row in desk.settle_suggestions(session=session):
        wanted = kind_of[row.booking.contact_id]
        resolution = {"owes": "owes", "plan": "plan", "cash": "cash"}[wanted]
        if resolution == "plan" and row.resolution != "plan":
            raise SystemExit(f"row {row.booking.pk} was not offered its plan (suggested {row.resolution})")
        data[f"r{row.booking.pk}-resolution"] = resolution
        data[f"r{row.booking.pk}-check_in"] = "on"
        chosen[resolution] += 1
    # "Commit all" answers with the summary to confirm (issue 10); "Confirm" commits.
    started = time.perf_counter()
    summary = client.post(settle_url, data)
    settle_summary_ms = (time.perf_counter() - started) * 1000
    if summary.status_code != 200 or b"Confirm the settle" not in summary.content:
        raise SystemExit(f"settle summary answered {summary.status_code}")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(settle_url, {**data, "confirm": "1"})
        settle_commit_ms = (time.perf_counter() - started) * 1000
    settle_queries = len(queries.captured_queries)
    if response.status_code != 302:
        raise SystemExit(f"settle commit answered {response.status_code}: {response.content[:800]!r}")
    kinds = Counter(DeskAction.objects.values_list("kind", flat=True))
    expected = {
        "WALK_IN": mix.n,
        "PAYMENT": mix.cash,
        "PLAN_CHARGE": mix.plan,
        "PAY_LATER": mix.owes,
        "ATTENDANCE": mix.n,
    }
    if any(kinds.get(k, 0) != v for k, v in expected.items()):
        raise SystemExit(f"unexpected desk actions {dict(kinds)}, expected {expected}")

    # The worker drains the queue to Wix.
    wix_client = get_wix_client()
    counter = CallCounter(wix_client)
    typed_calls = 0
    by_operation: Counter[str] = Counter()
    pushes = 0
    finished = False
    started = time.perf_counter()
    deadline = started + DRAIN_DEADLINE_S
    try:
        while time.perf_counter() < deadline:
            report = push.push_desk_actions_now(wix=wix_client, ignore_undo_window=True)
            pushes += 1
            typed_calls += report.calls
            by_operation.update(report.calls_by_operation)
            left = DeskAction.objects.exclude(status=Status.SYNCED)
            if not left.exists():
                finished = True
                break
            if left.filter(status=Status.NEEDS_ATTENTION).exists():
                break
            if report.claimed == 0:  # everything left is backing off: wait for the first
                due = left.filter(status=Status.QUEUED).aggregate(due=Min("next_attempt_at"))["due"]
                wait = (due - timezone.now()).total_seconds() if due else 0.5
                time.sleep(min(max(wait, 0.05), 5.0))
        synced_s = time.perf_counter() - started
    finally:
        wix_client.close()
    not_synced = dict(Counter(DeskAction.objects.exclude(status=Status.SYNCED).values_list("status", flat=True)))
    attention = list(
        DeskAction.objects.filter(status=Status.NEEDS_ATTENTION).values_list("kind", "error_code", "message")[:5]
    )
    clicks = [*walk_in_ms, settle_summary_ms, settle_commit_ms]
    return {
        "calls": counter.requests,
        "calls_typed": typed_calls,
        "calls_per_participant": round(counter.requests / mix.n, 3),
        "calls_by_operation": dict(by_operation),
        "http_statuses": {str(k): v for k, v in sorted(counter.statuses.items())},
        "rate_limited_429": counter.statuses.get(429, 0),
        "rate_limiter_wait_s": round(counter.limiter_wait, 2),
        "time_to_synced_s": round(synced_s, 2),
        "synced": finished,
        "pushes": pushes,
        "not_synced": not_synced,
        "needs_attention_sample": attention,
        "click_ms": summary_ms(clicks),
        "walk_in_click_ms": summary_ms(walk_in_ms),
        # Does a click slow down as the roster grows? (each walk-in answers with the whole roster)
        "walk_in_first_10_median_ms": round(statistics.median(walk_in_ms[:10]), 2),
        "walk_in_last_10_median_ms": round(statistics.median(walk_in_ms[-10:]), 2),
        "walk_in_last_queries": last_walk_in.get("queries"),
        "walk_in_last_response_bytes": last_walk_in.get("response_bytes"),
        "settle_commit_ms": round(settle_commit_ms, 2),
        "settle_summary_ms": round(settle_summary_ms, 2),
        "settle_commit_queries": settle_queries,
        "settle_page_ms": round(settle_page_ms, 2),
        "settle_choices": dict(chosen),
    }


def run_naive(world: World, mode: str, mix: Mix, server: SandboxServer, limiter: str) -> dict[str, Any]:
    from bookings_app.wix import (
        WixError,
        attendance,
        benefit_programs,
        bookings,
        cart,
        get_wix_client,
        order_transactions,
        orders,
    )
    from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID

    use_server(server, mode, limiter)
    wix_client = get_wix_client()
    counter = CallCounter(wix_client)
    event, service = world.event, world.service
    per_person_ms: list[float] = []
    per_person_calls: list[int] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + NAIVE_DEADLINE_S

    def one(person: Person) -> None:
        contact = person.contact
        name = contact["info"]["name"]
        booking = bookings.create_booking(
            wix_client,
            booking={
                "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
                "contactDetails": {
                    "contactId": contact["id"],
                    "firstName": name["first"],
                    "lastName": name["last"],
                    "email": contact["primaryInfo"]["email"],
                },
                "totalParticipants": 1,
                "selectedPaymentOption": "MEMBERSHIP" if person.kind == "plan" else "OFFLINE",
            },
            participant_notification={"notifyParticipants": False},
        )["booking"]
        if mode == "ecom":
            bookings.confirm_booking(
                wix_client,
                booking_id=booking["id"],
                revision=str(booking["revision"]),
                participant_notification={"notifyParticipants": False},
            )
            cart_id = cart.create_cart(
                wix_client,
                channel_type="BACKOFFICE_MERCHANT",
                catalog_items=[
                    {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
                ],
                customer_info={"firstName": name["first"], "lastName": name["last"]},
            )["cart"]["id"]
            order_id = cart.place_order(wix_client, cart_id=cart_id)["orderId"]
            if person.kind == "cash":
                order_transactions.add_payments(
                    wix_client,
                    order_id=order_id,
                    payments=[
                        {
                            "amount": {"amount": PRICE},
                            "regularPaymentDetails": {
                                "offlinePayment": True,
                                "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
                            },
                            "status": "APPROVED",
                        }
                    ],
                )
            elif person.kind == "plan":
                assert person.sold is not None and person.member is not None
                line_id = orders.get_order(wix_client, order_id=order_id)["order"]["lineItems"][0]["id"]
                orders.charge_memberships(
                    wix_client,
                    order_id=order_id,
                    member_id=person.member["id"],
                    memberships=[
                        {
                            "lineItemId": line_id,
                            "membershipIdentifier": {
                                "existingMembership": {
                                    "appId": PRICING_PLANS_APP_ID,
                                    "membershipId": person.sold["pool"]["id"],
                                }
                            },
                        }
                    ],
                )
                for _ in range(20):  # the charge settles asynchronously
                    payments = order_transactions.list_transactions_for_single_order(wix_client, order_id=order_id)[
                        "orderTransactions"
                    ]["payments"]
                    if any(p.get("status") == "APPROVED" for p in payments):
                        break
                    time.sleep(0.05)
        else:
            if person.kind == "plan":
                assert person.sold is not None and person.member is not None
                pool = person.sold["pool"]
                benefit = next(
                    b["benefitKey"] for b in (pool.get("details") or {}).get("benefits") or [] if b.get("benefitKey")
                )
                benefit_programs.redeem_benefit(
                    wix_client,
                    pool_id=pool["id"],
                    item_reference={"externalId": service["id"], "providerAppId": BOOKINGS_APP_ID},
                    benefit_key=benefit,
                    idempotency_key=key(),
                    beneficiary={"memberId": person.member["id"]},
                )
            bookings.confirm_or_decline_booking(
                wix_client, booking_id=booking["id"], payment_status="NOT_PAID" if person.kind == "owes" else "PAID"
            )
        attendance.set_attendance(
            wix_client,
            attendance={
                "bookingId": booking["id"],
                "eventId": event["id"],
                "status": "ATTENDED",
                "numberOfAttendees": 1,
            },
        )

    try:
        for person in world.people:
            if time.perf_counter() > deadline:
                failures.append("deadline reached")
                break
            before = counter.requests
            t0 = time.perf_counter()
            try:
                one(person)
            except WixError as err:
                failures.append(f"{person.contact['info']['name']['first']}: {type(err).__name__} {err.code}: {err}")
            per_person_ms.append((time.perf_counter() - t0) * 1000)
            per_person_calls.append(counter.requests - before)
        total_s = time.perf_counter() - started
    finally:
        wix_client.close()
    return {
        "calls": counter.requests,
        "calls_per_participant": round(counter.requests / mix.n, 3),
        "calls_per_participant_by_kind": {
            kind: statistics.mean(c for p, c in zip(world.people, per_person_calls, strict=False) if p.kind == kind)
            for kind in ("cash", "plan", "owes")
            if any(p.kind == kind for p in world.people[: len(per_person_calls)])
        },
        "http_statuses": {str(k): v for k, v in sorted(counter.statuses.items())},
        "rate_limited_429": counter.statuses.get(429, 0),
        "rate_limiter_wait_s": round(counter.limiter_wait, 2),
        "time_to_synced_s": round(total_s, 2),
        "synced": not failures,
        "failures": failures[:5],
        "click_ms": summary_ms(per_person_ms),
    }


def run_mode(mode: str, mix: Mix, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in ("ours", "naive"):
        state = workdir / f"{mode}-{path}.sandbox.sqlite3"
        limiter = f"bench-settle-roster-{mode}-{path}-{uuid.uuid4().hex[:8]}.window"
        t0 = time.perf_counter()
        world = arrange(state, mix)
        user = None
        if path == "ours":
            user = reset_database()
            mirror(world)
        close_sandbox_file()
        print(
            f"  [{mode}/{path}] arranged{' and mirrored' if path == 'ours' else ''} in {time.perf_counter() - t0:.1f} s"
        )
        sys.stdout.flush()
        try:
            with SandboxServer(state, workdir / f"{mode}-{path}.server.log") as server:
                t0 = time.perf_counter()
                if path == "ours":
                    result = run_ours(world, mode, mix, server, limiter, user)
                else:
                    result = run_naive(world, mode, mix, server, limiter)
                print(
                    f"  [{mode}/{path}] {result['calls']} calls, synced after {result['time_to_synced_s']:.1f} s "
                    f"(run {time.perf_counter() - t0:.1f} s); reading back from the sandbox…"
                )
                sys.stdout.flush()
                result["verify"] = read_back(world, mode)
                print(f"  [{mode}/{path}] read back: {'OK' if result['verify']['ok'] else 'MISMATCH'}")
                sys.stdout.flush()
        finally:
            (BASE_DIR / "var" / limiter).unlink(missing_ok=True)
        out[path] = result

    ours, naive = out["ours"], out["naive"]
    fewest = fewest_calls(mode=mode, n=mix.n, cash=mix.cash, plan=mix.plan, owes=mix.owes, walk_ins=True)
    out["fewest_calls"] = fewest
    out["fewest_per_participant"] = round(fewest / mix.n, 3)
    out["ours_to_fewest"] = round(ours["calls"] / fewest, 3)
    out["within_10pct_of_fewest"] = ours["calls"] <= fewest * FEWEST_SLACK
    out["calls_ratio_ours_to_naive"] = round(ours["calls"] / naive["calls"], 3) if naive["calls"] else None
    out["time_ratio_ours_to_naive"] = (
        round(ours["time_to_synced_s"] / naive["time_to_synced_s"], 3) if naive["time_to_synced_s"] else None
    )
    out["click_p95_meets_target"] = ours["click_ms"]["p95_ms"] <= CLICK_TARGET_P95_MS
    return out


def print_table(mode: str, mix: Mix, r: dict[str, Any]) -> None:
    ours, naive = r["ours"], r["naive"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f} ({b / a:.1f}× fewer)" if a and b else "—"

    print()
    print(
        f"== {mode}: {mix.n} participants ({mix.cash} cash, {mix.plan} plan, {mix.owes} owes, all checked in); "
        f"Wix {LATENCY_MS} ms/call, {BUDGET_PER_MINUTE} calls/min"
    )
    print(f"{'':34}{'ours':>12}{'naive':>12}   ours/naive")
    print(
        f"{'Wix calls per participant':34}{ours['calls_per_participant']:>12.2f}{naive['calls_per_participant']:>12.2f}"
        f"   {ratio(ours['calls'], naive['calls'])}"
    )
    print(f"{'Wix calls (HTTP requests)':34}{ours['calls']:>12}{naive['calls']:>12}")
    print(
        f"{'time until everything synced (s)':34}{ours['time_to_synced_s']:>12.1f}{naive['time_to_synced_s']:>12.1f}"
        f"   {ratio(ours['time_to_synced_s'], naive['time_to_synced_s']).replace('fewer', 'faster')}"
    )
    for label, stat in (("median", "median_ms"), ("p95", "p95_ms")):
        print(
            f"{'server time per click, ' + label + ' (ms)':34}"
            f"{ours['click_ms'][stat]:>12.1f}{naive['click_ms'][stat]:>12.1f}"
        )
    print(
        f"{'429 answers / rate-limiter wait (s)':34}{ours['rate_limited_429']:>6} {ours['rate_limiter_wait_s']:>5.1f}"
        f"{naive['rate_limited_429']:>6} {naive['rate_limiter_wait_s']:>5.1f}"
    )
    print(
        f"{'read back from the sandbox':34}{'OK' if ours['verify']['ok'] else 'MISMATCH':>12}"
        f"{'OK' if naive['verify']['ok'] else 'MISMATCH':>12}"
    )
    print(
        f"fewest calls this mode allows: {r['fewest_calls']} ({r['fewest_per_participant']:.2f}/participant); "
        f"ours/fewest {r['ours_to_fewest']:.2f} — {'within' if r['within_10pct_of_fewest'] else 'ABOVE'} +10%"
    )
    print(
        f"ours: {ours['walk_in_click_ms']['n']} walk-in clicks median {ours['walk_in_click_ms']['median_ms']:.1f} / "
        f"p95 {ours['walk_in_click_ms']['p95_ms']:.1f} / max {ours['walk_in_click_ms']['max_ms']:.1f} ms; "
        f"settle summary {ours['settle_summary_ms']:.1f} ms; settle commit {ours['settle_commit_ms']:.1f} ms; "
        f"settle page {ours['settle_page_ms']:.1f} ms; "
        f"click p95 {'≤' if r['click_p95_meets_target'] else '>'} {CLICK_TARGET_P95_MS:.0f} ms target"
    )
    print(
        f"ours: walk-in click median, first 10 {ours['walk_in_first_10_median_ms']:.1f} ms → last 10 "
        f"{ours['walk_in_last_10_median_ms']:.1f} ms; last walk-in {ours['walk_in_last_queries']} queries, "
        f"{ours['walk_in_last_response_bytes'] / 1024:.0f} KiB answer; "
        f"settle commit {ours['settle_commit_queries']} queries"
    )
    print(f"ours by operation: {ours['calls_by_operation']}")
    print(f"naive calls per participant by kind: {naive['calls_per_participant_by_kind']}")
    for label, run in (("ours", ours), ("naive", naive)):
        if not run["verify"]["ok"] or not run["synced"]:
            print(f"!! {label}: synced={run['synced']} verify={run['verify']}")
            if run.get("not_synced"):
                print(f"!! {label}: not synced {run['not_synced']} {run.get('needs_attention_sample')}")
            if run.get("failures"):
                print(f"!! {label}: failures {run['failures']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 participants instead of 100: a sanity run")
    parser.add_argument("--participants", type=int, default=None, help="participants (default 100; --quick 20)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args()
    n = args.participants or (20 if args.quick else 100)
    if not 1 <= n <= CAPACITY:
        raise SystemExit(f"--participants must be between 1 and {CAPACITY}")
    mix = Mix.of(n)

    load_django_on(SQLITE_PATH)

    print(
        f"Settle roster: {n} participants ({mix.cash} cash, {mix.plan} plan, {mix.owes} owes), "
        f"modes {', '.join(args.modes)}; "
        f"standalone sandbox with latency_ms={LATENCY_MS}, rate_limit_per_minute={BUDGET_PER_MINUTE}; "
        f"database {SQLITE_PATH.relative_to(BASE_DIR)}"
    )
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-settle-roster-") as tmp:
        for mode in args.modes:
            results[mode] = run_mode(mode, mix, Path(tmp))
    for mode in args.modes:
        print_table(mode, mix, results[mode])
    print()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Total {time.perf_counter() - started:.0f} s; load average {load} on {os.cpu_count()} CPUs")
    result = {
        "participants": n,
        "mix": dataclasses.asdict(mix),
        "latency_ms": LATENCY_MS,
        "rate_limit_per_minute": BUDGET_PER_MINUTE,
        "click_target_p95_ms": CLICK_TARGET_P95_MS,
        "quick": n != 100,
        "modes": results,
    }
    print("RESULT " + json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
