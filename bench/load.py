"""Twenty people at the desk at once, for two minutes, against the app as it is deployed (issue 14,
item 9): gunicorn and the worker on PostgreSQL, Wix slow and rate-limited.

    .venv/bin/python bench/load.py                       # 20 staff, 120 s: about 5 minutes in all
    .venv/bin/python bench/load.py --staff 5 --seconds 30 --no-drain   # a sanity run
    .venv/bin/python bench/load.py --workers 2 --threads 8              # another server size

**The app** is ``manage.py serve`` — what ``make serve-production`` runs, minus TLS — on a port of its
own: gunicorn (``--workers`` × ``--threads``, default 2 × 4 as ``serve``'s) and one background worker
(``db_worker``) on a fresh PostgreSQL database of its own (``bench_load``, or ``$BENCH_PG_DATABASE``,
on the server of ``$DATABASE_URL`` or 127.0.0.1:5432; dropped afterwards unless ``--keep``), Redis for
the shared cache and the Wix rate budget (``redis://127.0.0.1:6379``, databases 14 and 15, emptied
first), ``DEBUG`` off, logs (INFO, one line per Wix call) to a file.

**Wix** is the standalone sandbox (``manage.py wix_sandbox``) with
``--faults latency_ms=150,rate_limit_per_minute=200``, reached over HTTP in API-key mode with the
200-a-minute budget (``WIX_PAYMENT_MODE`` ecom, the default: a walk-in is a booking, a cart, an order
and its payment). The club: 20 classes today from 06:00 to 21:30 (60 places, 25 booked online to pay in
person, a third of them members), 3,000 customers, 600 of them members with a 10-swim pass, mirrored by
the real sync before the server starts; and 150 more customers only Wix knows yet (signed up online
since the last sync), whom the desk finds through the search's Wix lookup.

**The staff**: 20 threads in this process, each a signed-in Front desk user at the roster of a class
of their own, each with one keep-alive connection (as a browser), thinking ``--think`` seconds (1–3
by default) between clicks. Each walk-in: the search as the person types (three letters of the
surname, then first name and surname — fewer than 20 hits, so the search also asks Wix), the tap that
books and pays (cash, card, plan, later or nothing, as the hit offers), then a check-in and a payment
(cash or plan) of someone already on the roster. Every 6 s the roster reloads its rows (as it does
while rows wait for Wix); every fifth walk-in they look at Today and open the roster again; after 60%
of the run each settles their roster once (the suggestions, the summary, the commit). Every request
is timed from sent to read; an error is any answer other than the one the screen gives (a 5xx, a
4xx, a broken connection, a redirect to sign in).

**Afterwards** (unless ``--no-drain``), how long the worker takes to send what the desk did to Wix
(at most ``--drain-max`` seconds), then what Wix holds, counted in the sandbox's state: bookings per
(customer, class) and payments per order — duplicates —, and desk actions not done (lost).

Prints a table per screen (requests, p50 / p95 / p99 / max ms, errors) and the run's figures, then
one line ``RESULT {json}``. Figures, never asserts; the target is 0 errors and, for every screen,
p95 ≤ 150 ms and p99 ≤ 500 ms on the 2-core machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from pages import FIRST_NAMES, SURNAMES  # noqa: E402 - after the path
from settle_roster import BUDGET_PER_MINUTE, LATENCY_MS  # noqa: E402

from tests.processes import SandboxServer, free_port, wait_until  # noqa: E402

CLASSES = 20
CAPACITY = 60
BOOKED_ONLINE = 25
CUSTOMERS = 3000
MEMBERS = 600
WIX_ONLY = 150
PRICE = "12"
REFRESH_S = 6.0
TARGET_P95_MS = 150.0
TARGET_P99_MS = 500.0
REDIS_CACHE = "redis://127.0.0.1:6379/14"
REDIS_LIMITER = "redis://127.0.0.1:6379/15"
DESK_USER = "load-desk-{:02d}"
# Not a screen anyone waits on: the search has already shown the desk's own hits; this is the
# request that answer starts for who only Wix knows, and Wix's 150 ms per call is its floor.
BACKGROUND = {"search: Wix lookup"}

SCREENS = (
    "today",
    "roster",
    "roster refresh",
    "roster header",
    "search",
    "search: Wix lookup",
    "walk-in",
    "check in",
    "pay",
    "plan",
    "settle",
    "settle summary",
    "settle commit",
)


# --- the database ------------------------------------------------------------------------------


def fresh_postgres(keep: bool) -> tuple[str, Any]:
    """A new, empty database for this run; returns its URL and what drops it."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/test"
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"bench/load.py runs on PostgreSQL; DATABASE_URL is {url.split('://')[0]}://…")
    name = os.environ.get("BENCH_PG_DATABASE", "bench_load")
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        if keep:
            print(f"Kept the database {name}.")
            return
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def redis_empty() -> None:
    import redis

    for url in (REDIS_CACHE, REDIS_LIMITER):
        redis.Redis.from_url(url).flushdb()


# --- the club ----------------------------------------------------------------------------------


@dataclass
class Club:
    classes: list[dict[str, Any]]  # {"ref", "event", "customers": [(first, last, email)]}
    wix_only: list[tuple[str, str, str]]


def arrange(state_path: Path) -> Club:
    """The club in Wix, built in memory and copied into the state file the server will serve."""
    from bookings_app.wix import WixClient, bookings, cart, get_sandbox
    from bookings_app.wix.client import ApiKeyAuth
    from tests.wix_sandbox.builders import make_contact, make_event, make_member, make_service, make_staff
    from tests.wix_sandbox.plan_builders import make_plan, sell_plan
    from wix_sandbox import BOOKINGS_APP_ID, DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox, SandboxState
    from wix_sandbox.transport import SandboxTransport

    target = get_sandbox()
    sb = Sandbox(
        state=SandboxState(clock=target.state._clock, seed=7),  # noqa: SLF001
        site_id=target.site_id,
        api_key=target.api_key,
        business_timezone=target.business_timezone,
        currency=target.currency,
    )
    wix = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
        transport=SandboxTransport(sb),
        max_retries=0,
    )
    rng = random.Random(14)
    coach = make_staff(sb, "Alex Coach")
    service = make_service(sb, type="CLASS", name="Lane Swim", price=PRICE, capacity=CAPACITY, staff=[coach])
    plan = make_plan(sb, "10 Swim Pass", 10, [service["id"]], "90")
    today = datetime.now().date()
    events = [
        make_event(
            sb,
            service,
            datetime.combine(today, dtime(6, 0)) + timedelta(minutes=45 * i),
            staff=coach,
            capacity=CAPACITY,
        )
        for i in range(CLASSES)
    ]
    people = []
    for i in range(CUSTOMERS + WIX_ONLY):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        email = f"c{i:04d}.{uuid.UUID(int=rng.getrandbits(128)).hex[:6]}@example.com"
        people.append((first, last, email))
    contacts = []
    for i, (first, last, email) in enumerate(people[:CUSTOMERS]):
        contact = make_contact(sb, first, last, email=email)
        if i < MEMBERS:
            sell_plan(sb, make_member(sb, contact), plan, credits_left=10)
        contacts.append(contact)
    # Booked online to pay in person: a third of them members (who may pay with their pass).
    for n, event in enumerate(events):
        chosen = [n * 30 + k for k in range(BOOKED_ONLINE // 3)]  # members
        chosen += [MEMBERS + n * 100 + k for k in range(BOOKED_ONLINE - len(chosen))]
        for i in chosen:
            contact = contacts[i]
            booking = bookings.create_booking(
                wix,
                booking={
                    "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
                    "contactDetails": {"contactId": contact["id"]},
                    "totalParticipants": 1,
                    "selectedPaymentOption": "OFFLINE",
                    "status": "CONFIRMED",
                },
            )["booking"]
            made = cart.create_cart(
                wix,
                channel_type="WEB",
                catalog_items=[
                    {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
                ],
                customer_info={"firstName": people[i][0], "lastName": people[i][1], "email": people[i][2]},
            )["cart"]
            cart.place_order(wix, cart_id=made["id"])
    wix.close()
    target.state.copy_from(sb.state)
    # Walk-ins: the customers not booked online, dealt out to the classes; a few only in Wix.
    booked = {n * 30 + k for n in range(CLASSES) for k in range(BOOKED_ONLINE // 3)}
    booked |= {MEMBERS + n * 100 + k for n in range(CLASSES) for k in range(BOOKED_ONLINE - BOOKED_ONLINE // 3)}
    free = [p for i, p in enumerate(people[:CUSTOMERS]) if i not in booked]
    rng.shuffle(free)
    classes = [{"event": e, "customers": free[n::CLASSES]} for n, e in enumerate(events)]
    return Club(classes=classes, wix_only=people[CUSTOMERS:])


def mirror(club: Club) -> None:
    """The real full sync, in-process over the state file, as the app's first sync would."""
    from bookings_app.services import mirror as wix_mirror
    from bookings_app.services import sync
    from bookings_app.wix import get_sandbox, get_wix_client

    with get_wix_client() as client:
        report = sync.sync_full(wix=client)
        if report.error:
            raise SystemExit(f"sync_full failed: {report.error}")
        sb = get_sandbox()
        wix_mirror.mirror_contacts(wix=client, contacts=sb.state.all("contacts"), actor="bench")
        ids = [m["id"] for m in sb.state.all("members")]
        for start in range(0, len(ids), 100):
            wix_mirror.member_plans_refresh(wix=client, member_ids=ids[start : start + 100], actor="bench")


def add_wix_only(club: Club) -> None:
    """Customers who signed up online after the mirror was made: in Wix, not in the mirror."""
    from bookings_app.wix import get_sandbox
    from tests.wix_sandbox.builders import make_contact

    sb = get_sandbox()
    for first, last, email in club.wix_only:
        make_contact(sb, first, last, email=email)
    # each class's walk-ins include some of them
    for n, c in enumerate(club.classes):
        c["customers"][3:3] = club.wix_only[n::CLASSES]


def sign_in(users: int) -> list[str]:
    """Front desk users, signed in: their session cookies' values."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from bookings_app import roles

    group = Group.objects.get(name=roles.FRONT_DESK)
    keys = []
    for n in range(users):
        user = get_user_model().objects.create_user(DESK_USER.format(n + 1), password=None)
        user.groups.set([group])
        session = SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        session.create()
        keys.append(session.session_key)
    return keys


# --- the desk ----------------------------------------------------------------------------------

ROW = re.compile(r'<tbody id="roster-row-(\d+)"([^>]*)>(.*?)</tbody>', re.S)
DIGEST = re.compile(r'data-digest="([^"]+)"')
CHECK_IN = re.compile(r'action="([^"]+/attendance/)"')
PLAN_BUTTON = re.compile(r'name="balance" value="(\d+)" formaction="([^"]+/plan/)"')
PAY_BUTTON = re.compile(r'value="CASH" formaction="([^"]+/pay/)"')
ALERT = re.compile(r'role="alert"[^>]*>(.*?)</', re.S)
LOOKUP = re.compile(r'<div class="wix-lookup" hx-get="([^"]+)"')
HIT = re.compile(r'<form class="hit-book"(.*?)</form>', re.S)
CONTACT = re.compile(r'name="contact" value="(\d+)"')
PAY_VALUE = re.compile(r'name="pay" value="([^"]*)"')
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
INPUT = re.compile(r"<input\b([^>]*)>", re.S)
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
ATTR = re.compile(r'(\w[\w-]*)(?:="([^"]*)")?')


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    wix_busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, screen: str, ms: float, error: str = "") -> None:
        with self.lock:
            self.times[screen].append(ms)
            if error:
                self.errors[screen] += 1
                if len(self.samples) < 12:
                    self.samples.append(f"{screen}: {error}")


class Desk(threading.Thread):
    """One person at the desk, on one class's roster."""

    def __init__(
        self, n: int, port: int, cookie: str, ref: str, people: list, stats: Stats, args: Any, ends: float
    ) -> None:
        super().__init__(name=f"desk-{n}", daemon=True)
        self.n, self.port, self.ref, self.people, self.stats, self.args, self.ends = (
            n,
            port,
            ref,
            people,
            stats,
            args,
            ends,
        )
        self.cookies = {"sessionid": cookie}
        self.rng = random.Random(n)
        self.csrf = ""
        self.conn: http.client.HTTPConnection | None = None
        self.rows: dict[int, tuple[str, str]] = {}  # pk → (digest, html), as the page holds them
        self.done: set[tuple[int, str]] = set()
        self.last_refresh = 0.0
        self.settled = False
        self.walk_ins = 0

    # -- HTTP -----------------------------------------------------------------------------------

    def request(
        self,
        screen: str,
        method: str,
        path: str,
        *,
        data: dict | list | None = None,
        htmx: bool = False,
        ok: tuple[int, ...] = (200,),
        extra: dict[str, str] | None = None,
    ) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(extra or {})}
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if data is not None:
            pairs = data.items() if isinstance(data, dict) else data
            body = "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in pairs).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.csrf
        started = time.perf_counter()
        error, text, triggers = "", "", ""
        for attempt in (1, 2):
            fresh = self.conn is None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                # The server closed a kept-alive connection while this person was thinking
                # (gunicorn's --keep-alive): a browser sends the request again on a new one.
                stale = isinstance(exc, (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected))
                if attempt == 1 and not fresh and stale:
                    continue
                error = f"{method} {path}: {type(exc).__name__} {exc}"
                break
            if response.status not in ok:
                said = ALERT.search(text)
                shown = re.sub(r"<[^>]+>", " ", said.group(1)) if said else text[:300]
                error = f"{method} {path} answered {response.status}: {' '.join(unescape(shown).split())}"
            triggers = " ".join(response.headers.get_all("HX-Trigger") or [])
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            break
        self.stats.record(screen, (time.perf_counter() - started) * 1000, error)
        if (token := CSRF.search(text)) is not None:
            self.csrf = token.group(1)
        if method == "POST":  # an action's answer holds the rows it changed: what the screen now shows
            self.update_rows(text)
        if not error and "rosterChanged" in triggers:
            # the roster's header (its numbers) reloads on rosterChanged, as the page's htmx does
            self.request("roster header", "GET", f"/sessions/{self.ref}/header/", htmx=True)
        return "" if error else text

    def think(self, low: float | None = None, high: float | None = None) -> None:
        low = self.args.think[0] if low is None else low
        high = self.args.think[1] if high is None else high
        end = time.monotonic() + self.rng.uniform(low, high)
        while time.monotonic() < min(end, self.ends):
            if time.monotonic() - self.last_refresh >= REFRESH_S:
                self.refresh()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    # -- screens --------------------------------------------------------------------------------

    def roster_page(self) -> None:
        self.read_rows(self.request("roster", "GET", f"/sessions/{self.ref}/"))
        self.last_refresh = time.monotonic()

    def refresh(self) -> None:
        """The roster's refresh as app.js sends it: the rows the page holds (``X-Roster-Rows``),
        answered with 204 (nothing changed), the rows that did, or the whole list."""
        self.last_refresh = time.monotonic()
        held = ",".join(f"{pk}.{digest}" for pk, (digest, _) in self.rows.items())
        page = self.request(
            "roster refresh", "GET", f"/sessions/{self.ref}/", htmx=True, ok=(200, 204), extra={"X-Roster-Rows": held}
        )
        if 'id="roster-rows"' in page:
            self.read_rows(page)
        else:
            self.update_rows(page)

    def read_rows(self, page: str) -> None:
        if page:
            self.rows = {}
            self.update_rows(page)

    def update_rows(self, page: str) -> None:
        for pk, attrs, html in ROW.findall(page):
            digest = DIGEST.search(attrs)
            self.rows[int(pk)] = (digest.group(1) if digest else "", html)

    def search(self, path: str) -> str:
        """The search as you type: the desk's own hits, then (as the answer starts it at once) the
        Wix lookup for who only Wix knows."""
        found = self.request("search", "GET", path, htmx=True)
        lookup = LOOKUP.search(found)
        if lookup:
            more = self.request("search: Wix lookup", "GET", unescape(lookup.group(1)), htmx=True)
            if "Wix is busy" in more:
                self.stats.wix_busy += 1
            found += more
        return found

    def walk_in(self) -> None:
        if not self.people:
            return
        first, last, _ = self.people.pop()
        base = f"/sessions/{self.ref}/walk-in/"
        self.search(f"{base}?q={quote(last[:3])}")
        self.think(0.3, 0.8)  # typing on
        found = self.search(f"{base}?q={quote(f'{first} {last}')}")
        hits = [h for h in HIT.findall(found) if "Already booked" not in h and CONTACT.search(h)]
        if not hits:
            return
        hit = hits[0]
        offered = PAY_VALUE.findall(hit)
        plans = [p for p in offered if p.startswith("PLAN:")]
        pay = self.rng.choices(["CASH", "CARD", "PLAN", "LATER", ""], weights=[40, 20, 20, 15, 5])[0]
        if pay == "PLAN":
            pay = plans[0] if plans else "CASH"
        self.think()
        data = {"contact": CONTACT.search(hit).group(1), "pay": pay, "participants": 1, "q": f"{first} {last}"}
        data["idempotency_key"] = uuid.uuid4().hex
        self.request("walk-in", "POST", base, data=data, htmx=True)
        self.walk_ins += 1

    def row_action(self) -> None:
        """Check someone in, and take a payment from someone else (cash, or their pass)."""
        for pk, (_, html) in self.rng.sample(sorted(self.rows.items()), len(self.rows)):
            if 'class="button primary check-in"' in html and (pk, "in") not in self.done:
                url = CHECK_IN.search(html)
                if url:
                    self.done.add((pk, "in"))
                    data = {"status": "ATTENDED", "idempotency_key": uuid.uuid4().hex}
                    self.request("check in", "POST", unescape(url.group(1)), data=data, htmx=True)
                    break
        self.think()
        for pk, (_, html) in self.rng.sample(sorted(self.rows.items()), len(self.rows)):
            if (pk, "pay") in self.done:
                continue
            plan, cash = PLAN_BUTTON.search(html), PAY_BUTTON.search(html)
            if plan and self.rng.random() < 0.6:
                self.done.add((pk, "pay"))
                data = {"balance": plan.group(1), "idempotency_key": uuid.uuid4().hex}
                self.request("plan", "POST", unescape(plan.group(2)), data=data, htmx=True)
                break
            if cash:
                self.done.add((pk, "pay"))
                data = {"method": "CASH", "idempotency_key": uuid.uuid4().hex}
                self.request("pay", "POST", unescape(cash.group(1)), data=data, htmx=True)
                break

    def settle(self) -> None:
        """Settle the roster: the suggestions as they come, the summary, the commit."""
        self.settled = True
        url = f"/sessions/{self.ref}/settle/"
        page = self.request("settle", "GET", url)
        if not page:
            return
        self.think()
        summary = self.request("settle summary", "POST", url, data=form_fields(page, '<form class="settle"'))
        if not summary:
            return
        self.think()
        confirm = [*form_fields(summary, '<form class="settle settle-confirm"'), ("confirm", "1")]
        self.request("settle commit", "POST", url, data=confirm, ok=(200, 302))

    def run(self) -> None:
        self.request("today", "GET", "/today/")
        self.roster_page()
        started = time.monotonic()
        while time.monotonic() < self.ends:
            self.walk_in()
            self.think()
            self.row_action()
            self.think()
            if self.walk_ins % 5 == 4:
                self.request("today", "GET", "/today/")
                self.think()
                self.roster_page()
                self.think()
            if not self.settled and time.monotonic() - started > 0.6 * self.args.seconds:
                self.settle()
                self.think()
                self.roster_page()
        if self.conn is not None:
            self.conn.close()


def form_fields(page: str, start: str) -> list[tuple[str, str]]:
    """What a browser would send for the form that begins with ``start`` in ``page``, as it
    stands: hidden and text inputs, checked radios and boxes, each select's selected option (or
    its first)."""
    at = page.find(start)
    html = page[at : page.find("</form>", at)] if at >= 0 else ""
    fields = []
    for raw in INPUT.findall(html):
        attrs = {k: unescape(v or "") for k, v in ATTR.findall(raw)}
        kind = attrs.get("type", "text")
        if not attrs.get("name") or kind in ("submit", "button", "file") or "disabled" in attrs:
            continue
        if kind in ("radio", "checkbox") and "checked" not in attrs:
            continue
        fields.append((attrs["name"], attrs.get("value", "on" if kind == "checkbox" else "")))
    for name, options in SELECT.findall(html):
        values = re.findall(r"<option\b([^>]*)>", options)
        chosen = next((o for o in values if "selected" in o), values[0] if values else "")
        value = re.search(r'value="([^"]*)"', chosen)
        fields.append((name, unescape(value.group(1)) if value else ""))
    return fields


# --- the run -----------------------------------------------------------------------------------


def serve(port: int, db_url: str, server: SandboxServer, args: Any, log: Path) -> subprocess.Popen[bytes]:
    """``manage.py serve`` (gunicorn + the worker), configured from the environment as in production."""
    from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_", "DESK_", "LOG_", "CACHE_"))}
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SECRET_KEY=os.environ["DJANGO_SECRET_KEY"],  # the sessions were signed with it
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="0",  # plain HTTP on loopback: no TLS proxy in front
        DJANGO_SECURE_SSL_REDIRECT="0",
        CACHE_URL=REDIS_CACHE,
        WIX_API_KEY=DEFAULT_API_KEY,
        WIX_SITE_ID=DEFAULT_SITE_ID,
        WIX_BASE_URL=server.base_url,
        WIX_RATE_LIMIT_PER_MINUTE=str(BUDGET_PER_MINUTE),
        WIX_RATE_LIMIT_URL=REDIS_LIMITER,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", str(args.workers)]
    argv += ["--threads", str(args.threads), "--task-workers", "1"]
    with log.open("ab") as out:
        # a process group of its own: stopped as a whole at the end, whatever happens here
        return subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )  # noqa: S603


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz/")
        return conn.getresponse().status in (200, 503)
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def desk_actions() -> Counter[str]:
    from django.db import connection

    from bookings_app.models import DeskAction

    connection.close()  # a fresh read, not this process's old connection's view
    return Counter(DeskAction.objects.values_list("status", flat=True))


def waiting(statuses: Counter[str]) -> int:
    """Desk actions still to reach Wix (queued or being sent)."""
    return statuses.get("QUEUED", 0) + statuses.get("RUNNING", 0)


def count_in_wix(state_path: Path, online: int) -> dict[str, Any]:
    """What Wix holds, read from the sandbox's state file: a booking twice for the same person in
    the same class, an order with two payments or a booking with two orders, two check-ins of one
    booking — each a desk action done twice."""
    from wix_sandbox import SandboxState

    state = SandboxState(str(state_path))
    try:
        places = Counter(
            (b["contactDetails"]["contactId"], b["bookedEntity"]["slot"].get("eventId"))
            for b in state.all("bookings")
            if b.get("status") in ("CONFIRMED", "PENDING")
        )
        orders_of = Counter(
            line["catalogReference"]["catalogItemId"] for order in state.all("orders") for line in order["lineItems"]
        )
        payments = {t["id"]: len(t.get("payments") or []) for t in state.all("order_transactions")}
        attendances = Counter(a["bookingId"] for a in state.all("attendances"))
        redemptions = sum(
            1
            for tx in state.all("benefit_transactions")
            if (tx["source"], tx["target"], tx["details"].get("reason")) == ("AVAILABLE", "EXTERNAL", "Redemption")
        )
    finally:
        state.close()
    return {
        "bookings": sum(places.values()),
        "walk_ins": sum(places.values()) - online,
        "orders": sum(orders_of.values()),
        "payments": sum(payments.values()),
        "plan_credits_taken": redemptions,
        "check_ins": sum(attendances.values()),
        "doubled": sum(n - 1 for n in places.values() if n > 1)
        + sum(n - 1 for n in orders_of.values() if n > 1)
        + sum(n - 1 for n in payments.values() if n > 1)
        + sum(n - 1 for n in attendances.values() if n > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=20, help="people at the desk at once (20)")
    parser.add_argument("--seconds", type=float, default=120, help="how long they work (120)")
    parser.add_argument(
        "--think",
        type=lambda v: tuple(map(float, v.split("-"))),
        default=(1.0, 3.0),
        help="seconds between one person's clicks, low-high (1-3)",
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    parser.add_argument("--no-drain", action="store_true", help="do not wait for the worker to send everything")
    parser.add_argument("--drain-max", type=float, default=600, help="the longest wait for it (600 s)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args()
    if args.staff > CLASSES:
        raise SystemExit(f"--staff is at most {CLASSES} (one class each)")

    db_url, drop = fresh_postgres(args.keep)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        try:
            run(args, db_url, Path(tmp))
        finally:
            drop()


def run(args: Any, db_url: str, tmp: Path) -> None:
    import importlib

    state_path = tmp / "wix.sqlite3"
    for name in [k for k in os.environ if k.startswith(("WIX_", "DESK_"))]:
        del os.environ[name]
    os.environ.update(
        DATABASE_URL=db_url,
        WIX_SANDBOX_STATE=str(state_path),
        DJANGO_SECRET_KEY="bench-load-" + uuid.uuid4().hex,
        LOG_LEVEL="WARNING",  # this process's own mirroring; the app's log is tmp/app.log
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    importlib.import_module("backoffice.wsgi")
    from django.core.management import call_command

    from bookings_app import wix

    print(
        f"{args.staff} staff for {args.seconds:.0f} s (thinking {args.think[0]:g}–{args.think[1]:g} s between clicks) "
        f"against gunicorn {args.workers} workers × {args.threads} threads + 1 worker on PostgreSQL; "
        f"Wix: the standalone sandbox, latency_ms={LATENCY_MS}, rate_limit_per_minute={BUDGET_PER_MINUTE}"
    )
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("setup_roles", stdout=io.StringIO())
    cookies = sign_in(args.staff)
    club = arrange(state_path)
    mirror(club)
    add_wix_only(club)
    wix.get_sandbox().state.close()
    wix.clear_cached_state()
    redis_empty()
    print(f"  the club arranged in Wix and mirrored in {time.perf_counter() - t0:.0f} s")

    port = free_port()
    result: dict[str, Any] = {
        "staff": args.staff,
        "seconds": args.seconds,
        "think_s": list(args.think),
        "server": f"gunicorn {args.workers}×{args.threads} gthread + 1 db_worker, PostgreSQL, Redis cache and budget",
        "latency_ms": LATENCY_MS,
        "rate_limit_per_minute": BUDGET_PER_MINUTE,
    }
    stats = Stats()
    with SandboxServer(
        state_path, tmp / "wix.log", faults=f"latency_ms={LATENCY_MS},rate_limit_per_minute={BUDGET_PER_MINUTE}"
    ) as server:
        app = serve(port, db_url, server, args, tmp / "app.log")
        try:
            if not wait_until(lambda: healthy(port), timeout=90, every=0.5):
                raise SystemExit(
                    "the app did not answer /healthz/ within 90 s:\n" + (tmp / "app.log").read_text()[-3000:]
                )
            # A server that has been up a while: every process has compiled its templates and
            # opened its connections. Each desk opens each screen once first (nothing changes).
            warm = Stats()
            for n in range(args.staff):
                desk = Desk(n, port, cookies[n], club.classes[n]["event"]["id"], [], warm, args, 0)
                desk.request("today", "GET", "/today/")
                desk.roster_page()
                desk.refresh()
                desk.request("roster header", "GET", f"/sessions/{desk.ref}/header/", htmx=True)
                desk.request("search", "GET", f"/sessions/{desk.ref}/walk-in/?q=zz", htmx=True)
                desk.request("settle", "GET", f"/sessions/{desk.ref}/settle/")
            if warm.errors:
                raise SystemExit(f"warming up: {warm.samples}")
            load_before = os.getloadavg()
            ends = time.monotonic() + args.seconds
            desks = [
                Desk(
                    n, port, cookies[n], club.classes[n]["event"]["id"], club.classes[n]["customers"], stats, args, ends
                )
                for n in range(args.staff)
            ]
            started = time.perf_counter()
            for d in desks:
                d.start()
                time.sleep(0.05)  # not all in the same millisecond
            for d in desks:
                d.join(timeout=args.seconds + 120)
            elapsed = time.perf_counter() - started
            load_after = os.getloadavg()
            statuses = desk_actions()
            result.update(
                elapsed_s=round(elapsed, 1),
                requests=sum(len(v) for v in stats.times.values()),
                throughput_rps=round(sum(len(v) for v in stats.times.values()) / elapsed, 1),
                errors=sum(stats.errors.values()),
                error_samples=stats.samples,
                wix_busy_searches=stats.wix_busy,
                walk_ins=sum(d.walk_ins for d in desks),
                load_average=[round(load_before[0], 2), round(load_after[0], 2)],
                desk_actions_at_end={k: v for k, v in sorted(statuses.items())},
            )
            if not args.no_drain:
                drained_at = time.perf_counter()
                done = wait_until(lambda: waiting(desk_actions()) == 0, timeout=args.drain_max, every=2)
                result["drain_s"] = round(time.perf_counter() - drained_at, 1) if done else None
                result["desk_actions_after_drain"] = dict(sorted(desk_actions().items()))
        finally:
            stop(app)
    if not args.no_drain:
        result["in_wix"] = count_in_wix(state_path, online=CLASSES * BOOKED_ONLINE)
        after = result["desk_actions_after_drain"]
        result["lost"] = sum(after.get(s, 0) for s in ("QUEUED", "RUNNING", "NEEDS_ATTENTION"))
    screens = {}
    for screen in SCREENS:
        times = stats.times.get(screen, [])
        if not times:
            continue
        screens[screen] = {
            "requests": len(times),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
            "max_ms": round(max(times), 1),
            "errors": stats.errors.get(screen, 0),
        }
    result["screens"] = screens
    result["meets_target"] = result["errors"] == 0 and all(
        s["p95_ms"] <= TARGET_P95_MS and s["p99_ms"] <= TARGET_P99_MS
        for name, s in screens.items()
        if name not in BACKGROUND
    )
    print_table(result)
    print("RESULT " + json.dumps(result, separators=(",", ":")))


def print_table(r: dict[str, Any]) -> None:
    print()
    print(
        f"{r['requests']} requests in {r['elapsed_s']} s = {r['throughput_rps']}/s; {r['walk_ins']} walk-ins; "
        f"{r['errors']} errors; load average {r['load_average'][0]} before, {r['load_average'][1]} after"
    )
    header = (
        f"{'screen':<16} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}  target"
    )
    print(header)
    print("-" * len(header))
    for screen, s in r["screens"].items():
        ok = s["p95_ms"] <= TARGET_P95_MS and s["p99_ms"] <= TARGET_P99_MS and not s["errors"]
        verdict = (
            ("ok" if ok else "MISSED") if screen not in BACKGROUND else "(in the background; Wix's 150 ms is its floor)"
        )
        print(
            f"{screen:<16} {s['requests']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8} {s['max_ms']:>8} "
            f"{s['errors']:>7}  {verdict}"
        )
    for sample in r["error_samples"]:
        print(f"  error: {sample}")
    print(f"searches answered 'Wix is busy': {r['wix_busy_searches']}")
    print(f"desk actions when the staff stopped: {r['desk_actions_at_end']}")
    if "drain_s" in r:
        print(
            f"sent to Wix {r['drain_s']} s after the staff stopped; then {r['desk_actions_after_drain']}; "
            f"lost (not done) {r['lost']}"
        )
        print(f"in Wix: {r['in_wix']}")


if __name__ == "__main__":
    main()
