"""A 1,000-row participants' file imported through the import's screens against a slow, rate-limited Wix,
then uploaded again; and the dry run of a 20,000-row file (issue 13, item 7).

    .venv/bin/python bench/import_rows.py                 # booking-only payments, 1,000 rows: ~4 minutes
    .venv/bin/python bench/import_rows.py --rows 200      # a sanity run
    .venv/bin/python bench/import_rows.py --mode ecom --rows 200

Wix is the standalone sandbox (``manage.py wix_sandbox``) in a subprocess on a free port with
``--faults latency_ms=150,rate_limit_per_minute=200`` and its own state file; the app reaches it over HTTP
in ``api_key`` mode through ``get_wix_client()`` and its file rate limiter (200 calls a minute, a fresh
window file under var/, deleted after) — as ``settle_roster.py`` does. The club — 20 past sessions of a
class over the last six days (120 places each), 1,000 customers, 300 of them members with a 10-swim pass
— is written into the state file before the server starts and mirrored in-process by the real sync, so
the setup spends none of the measured budget. The mirror is this bench's own SQLite database,
``var/bench-import-rows.sqlite3``, migrated fresh on every run, in the app's own configuration (SQLite's
rollback journal). ``--journal wal`` runs it in WAL mode with ``synchronous=NORMAL`` instead: every write
the push makes outside a transaction (about six per desk action) is a disk sync in the default journal,
which costs little on a quiet disk but 5–20 ms each when other processes load it (measured here: the
push of 200 rows took 55 s instead of 21 s under a load of 5 on 2 cores).

1. **The file**: a sign-in sheet of the 20 sessions, 50 people each: 300 paid with their pass, the rest
   cash, card or cheque, 15% owing, 20 people who aren't customers yet, 95% checked in.
2. **Dry run**, through the screens as a signed-in Admin (Django's test client): ``POST /imports/``
   (the upload), ``POST /imports/<id>/check/`` (the columns as recognised, new customers allowed): time
   of each; the Python memory at its peak (``tracemalloc``) in a second, traced run of the services.
3. **Commit**: ``POST /imports/<id>/commit/``, then the runner as the worker runs it
   (``services.imports.run.imports_run_due`` until the import is done): "commit time" is from the click
   to the last row's result. Wix calls are HTTP requests counted at the client (429s and retries
   included). "The fewest" is what booking-only (or ecom) payments allow —
   ``settle_roster.fewest_calls`` plus one Create Contact per new customer —, and **the floor** is the
   time those calls take at 150 ms each under 200 calls in any 60 s: the ratio is commit time / floor.
4. **The same file again**: its dry run must find every row already done (0 to import), the commit is
   refused, no Wix call is made.
5. Read back from the sandbox's state file: bookings per (customer, session) — duplicates —, payment
   statuses, check-ins, contacts per email, credits used.
6. **20,000 rows**: the dry run (upload + check) of a file of every customer in every session, timed and
   traced the same way (nothing committed).

Prints a table, then one line ``RESULT {json}``. Figures, never asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dtime
from html import unescape
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from settle_roster import (  # noqa: E402 - after the path
    BUDGET_PER_MINUTE,
    LATENCY_MS,
    CallCounter,
    SandboxServer,
    close_sandbox_file,
    fewest_calls,
    load_django_on,
    use_sandbox_file,
    use_server,
)

SQLITE_PATH = BASE_DIR / "var" / "bench-import-rows.sqlite3"
SESSIONS = 20
CUSTOMERS = 1000
MEMBERS = 300
NEW_PEOPLE = 20
CAPACITY = 1200  # the 20,000-row dry run puts everyone in every session (the commit uses 50 a session)
HEADERS = ["First name", "Surname", "Email", "Phone", "Class", "Date", "Time", "Paid", "Amount", "Plan", "Attended"]
DEADLINE_S = 30 * 60


def arrange(state_path: Path) -> dict[str, Any]:
    """The club, built in memory (thousands of small writes on disk would take minutes), then copied
    into the server's state file."""
    from bookings_app.wix import get_sandbox
    from tests.wix_sandbox.builders import make_contact, make_event, make_member, make_service, make_staff
    from tests.wix_sandbox.plan_builders import make_plan, sell_plan
    from wix_sandbox import Sandbox, SandboxState

    use_sandbox_file(state_path)
    target = get_sandbox()
    sb = Sandbox(
        state=SandboxState(clock=target.state._clock, seed=7),
        site_id=target.site_id,  # noqa: SLF001
        api_key=target.api_key,
        business_timezone=target.business_timezone,
        currency=target.currency,
    )
    coach = make_staff(sb, "Alex Coach")
    service = make_service(sb, type="CLASS", name="Open Water Swim", price="12", capacity=CAPACITY, staff=[coach])
    today = datetime.now().date()
    events = []
    for i in range(SESSIONS):  # over the last six days, 06:00–21:00: past, and inside the sync window
        day = today - timedelta(days=1 + i % 6)
        events.append(
            make_event(
                sb, service, datetime.combine(day, dtime(6 + i // 6 * 4 + i % 2, 0)), staff=coach, capacity=CAPACITY
            )
        )
    plan = make_plan(sb, "10 Swim Pass", 10, [service["id"]], "90")
    people = []
    for i in range(CUSTOMERS):
        contact = make_contact(sb, f"Swimmer{i:04d}", "Lake", email=f"swimmer{i:04d}.lake@example.com")
        member = make_member(sb, contact) if i < MEMBERS else None
        if member is not None:
            sell_plan(sb, member, plan, credits_left=10)
        people.append({"contact": contact, "member": member})
    target.state.copy_from(sb.state)
    return {"service": service, "events": events, "people": people}


def mirror(world: dict[str, Any]) -> None:
    from bookings_app.services import mirror as wix_mirror
    from bookings_app.services import sync
    from bookings_app.wix import get_wix_client

    with get_wix_client() as client:
        report = sync.sync_full(wix=client)
        if report.error:
            raise SystemExit(f"sync_full failed: {report.error}")
        wix_mirror.mirror_contacts(wix=client, contacts=[p["contact"] for p in world["people"]], actor="bench")
        members = [p["member"]["id"] for p in world["people"] if p["member"]]
        for start in range(0, len(members), 100):
            wix_mirror.member_plans_refresh(wix=client, member_ids=members[start : start + 100], actor="bench")


def reset_database() -> Any:
    """``settle_roster.reset_database`` on this bench's file, its user an Admin."""
    import settle_roster
    from django.contrib.auth.models import Group

    from bookings_app import roles

    settle_roster.SQLITE_PATH = SQLITE_PATH
    user = settle_roster.reset_database()
    user.groups.set([Group.objects.get(name=roles.ADMIN)])
    return user


# --- the files -------------------------------------------------------------------------------------------


def when(event: dict[str, Any]) -> tuple[str, str]:
    start = datetime.fromisoformat(event["start"]["localDate"])
    return f"{start:%d/%m/%Y}", f"{start:%H:%M}"


def sign_in_sheet(world: dict[str, Any], rows: int) -> tuple[bytes, Counter[str]]:
    """``rows`` rows, 50 a session (the first customers are the members: they pay with their pass)."""
    out, kinds = [], Counter()
    per_session = max(rows // SESSIONS, 1)
    plan_rows = min(MEMBERS, rows * 3 // 10)
    new_rows = min(NEW_PEOPLE, rows // 50)
    for i in range(rows):
        event = world["events"][min(i // per_session, SESSIONS - 1)]
        day, at = when(event)
        came = "no" if i % 20 == 7 else "yes"
        if i >= rows - new_rows:
            first, last, email, paid = f"New{i:04d}", "Person", f"new{i:04d}.person@example.net", "cash"
            kinds["new"] += 1
        else:
            person = world["people"][i if i < plan_rows else MEMBERS + (i - plan_rows)]
            name = person["contact"]["info"]["name"]
            first, last, email = name["first"], name["last"], person["contact"]["primaryInfo"]["email"]
            paid = "plan" if i < plan_rows else ("unpaid" if i % 7 == 3 else ("cash", "card", "cheque")[i % 3])
        kinds["plan" if paid == "plan" else "owes" if paid == "unpaid" else "cash"] += 1
        kinds["attended"] += came == "yes"
        out.append(
            [first, last, email, "", "Open Water Swim", day, at, paid, "12" if paid in ("card",) else "", "", came]
        )
    return csv_bytes(out), kinds


def everyone_everywhere(world: dict[str, Any], rows: int) -> bytes:
    """Every customer in every session (``rows`` of them), cash, checked in: the 20,000-row dry run."""
    out = []
    for i in range(rows):
        person = world["people"][i % CUSTOMERS]["contact"]
        day, at = when(world["events"][(i // CUSTOMERS) % SESSIONS])
        name = person["info"]["name"]
        out.append(
            [
                name["first"],
                name["last"],
                person["primaryInfo"]["email"],
                "",
                "Open Water Swim",
                day,
                at,
                "cash",
                "",
                "",
                "yes",
            ]
        )
    return csv_bytes(out)


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADERS, *rows])
    return buffer.getvalue().encode("utf-8")


# --- the screens ------------------------------------------------------------------------------------------


def dry_run(client: Any, data: bytes, name: str) -> dict[str, Any]:
    """Upload and check through the screens (timed); then the same through the services, traced."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bookings_app.models import ParticipantImport
    from bookings_app.services.imports import dry_run as checks
    from bookings_app.services.imports import upload

    started = time.perf_counter()
    response = client.post("/imports/", {"file": SimpleUploadedFile(name, data)})
    upload_s = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"upload answered {response.status_code}: {response.content[:1500]!r}")
    url = response.url
    page = client.get(url).content.decode()
    form = {
        f"col-{i}": v
        for i, v in re.findall(r'<select name="col-(\d+)".*?<option value="([a-z_]*)" selected', page, re.S)
    }
    form["allow_new_contacts"] = "on"
    started = time.perf_counter()
    response = client.post(url + "check/", form)
    check_s = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"dry run answered {response.status_code}: {response.content[:1500]!r}")
    imported = ParticipantImport.objects.get(pk=int(url.rstrip("/").rsplit("/", 1)[1]))
    tracemalloc.start()
    traced = upload.import_upload(user=None, name=name, data=data)
    checks.import_check(user=None, imported=traced, mapping=imported.mapping, allow_new_contacts=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    traced.delete()
    return {
        "url": url,
        "upload_s": round(upload_s, 2),
        "check_s": round(check_s, 2),
        "dry_run_s": round(upload_s + check_s, 2),
        "peak_python_mb": round(peak / 1024 / 1024, 1),
        "diff": imported.diff,
    }


def commit(client: Any, url: str, wix_client: Any) -> dict[str, Any]:
    from bookings_app.models import ParticipantImport
    from bookings_app.services.imports import run

    # Where the time goes: the batches written locally, and the pushes (Wix calls and their local writes).
    spent = {"release_s": 0.0, "push_s": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def inner(**kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(**kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return inner

    run.batch_release = timed("release_s", run.batch_release)
    run.push.push_desk_actions_now = timed("push_s", run.push.push_desk_actions_now)

    page = client.get(url).content.decode()

    def hidden(name: str) -> str:
        return unescape(page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0])

    started = time.perf_counter()
    response = client.post(
        url + "commit/", {"idempotency_key": hidden("idempotency_key"), "plan_digest": hidden("plan_digest")}
    )
    if response.status_code != 302:
        raise SystemExit(f"commit answered {response.status_code}: {response.content[:1500]!r}")
    imported = ParticipantImport.objects.get(pk=int(url.rstrip("/").rsplit("/", 1)[1]))
    runs = 0
    while time.perf_counter() - started < DEADLINE_S:
        runs += 1
        due = run.imports_run_due(wix=wix_client)
        imported.refresh_from_db()
        if imported.status in ("DONE", "CANCELLED"):
            break
        if due is not None:  # waiting on a Wix retry: as the worker's next run would
            from django.utils import timezone

            time.sleep(min(max((due - timezone.now()).total_seconds(), 0.05), 10.0))
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
        "status": imported.status,
        "done": imported.rows_done,
        "failed": imported.rows_failed,
        "batches": imported.batches,
        **{k: round(v, 1) for k, v in spent.items()},
        "failed_sample": list(
            imported.rows.filter(state__in=("FAILED", "INVALID"), batch__isnull=False).values_list("number", "message")[
                :3
            ]
        ),
    }


def floor_seconds(
    calls: int, *, latency_s: float = LATENCY_MS / 1000, per_minute: int = BUDGET_PER_MINUTE, window_s: float = 60.0
) -> float:
    """The least time ``calls`` sequential calls take at ``latency_s`` each with at most ``per_minute``
    in any ``window_s``: the floor the rate budget sets."""
    starts: list[float] = []
    clock = 0.0
    for i in range(calls):
        if i >= per_minute:
            clock = max(clock, starts[i - per_minute] + window_s)
        starts.append(clock)
        clock += latency_s
    return clock


def read_back(state_path: Path, world: dict[str, Any]) -> dict[str, Any]:
    from wix_sandbox import SandboxState

    state = SandboxState(path=str(state_path))
    try:
        events = {e["id"] for e in world["events"]}
        bookings = [b for b in state.all("bookings") if (b["bookedEntity"].get("slot") or {}).get("eventId") in events]
        pairs = Counter(
            ((b.get("contactDetails") or {}).get("contactId"), b["bookedEntity"]["slot"]["eventId"]) for b in bookings
        )
        emails = Counter(((c.get("primaryInfo") or {}).get("email") or "").lower() for c in state.all("contacts"))
        attended = {a["bookingId"] for a in state.all("attendances") if a.get("status") == "ATTENDED"}
        credits = sum(10 - float(b["amount"]["available"]) for b in state.all("balances"))
        return {
            "bookings": len(bookings),
            "duplicate_bookings": sum(n - 1 for n in pairs.values() if n > 1),
            "duplicate_contacts": sum(n - 1 for e, n in emails.items() if e and n > 1),
            "payment_statuses": dict(Counter(b.get("paymentStatus") for b in bookings)),
            "attended": sum(1 for b in bookings if b["id"] in attended),
            "credits_used": credits,
        }
    finally:
        state.close()


def _wal(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000, help="rows of the committed file (default 1,000)")
    parser.add_argument("--big", type=int, default=20000, help="rows of the dry-run-only file (default 20,000)")
    parser.add_argument("--mode", choices=("booking_only", "ecom"), default="booking_only")
    parser.add_argument("--journal", choices=("default", "wal"), default="default", help="the bench database's journal")
    args = parser.parse_args()
    load_django_on(SQLITE_PATH)
    if args.journal == "wal":
        from django.db.backends.signals import connection_created

        connection_created.connect(_wal)

    from django.test import Client

    from bookings_app.wix import get_wix_client

    print(
        f"Import {args.rows} rows ({args.mode}) against the standalone sandbox: latency_ms={LATENCY_MS}, "
        f"rate_limit_per_minute={BUDGET_PER_MINUTE}; then the dry run of {args.big:,} rows"
    )
    limiter = f"bench-import-rows-{uuid.uuid4().hex[:8]}.window"
    result: dict[str, Any] = {
        "rows": args.rows,
        "mode": args.mode,
        "journal": args.journal,
        "latency_ms": LATENCY_MS,
        "rate_limit_per_minute": BUDGET_PER_MINUTE,
    }
    with tempfile.TemporaryDirectory(prefix="bench-import-rows-") as tmp:
        state_path = Path(tmp) / "wix.sqlite3"
        t0 = time.perf_counter()
        user = reset_database()
        world = arrange(state_path)
        mirror(world)
        close_sandbox_file()
        print(f"  arranged and mirrored in {time.perf_counter() - t0:.0f} s")
        data, kinds = sign_in_sheet(world, args.rows)
        client = Client()
        client.force_login(user)
        try:
            with SandboxServer(state_path, Path(tmp) / "wix.log") as server:
                use_server(server, args.mode, limiter)
                wix_client = get_wix_client()
                counter = CallCounter(wix_client)
                first = dry_run(client, data, "sign-in-sheet.csv")
                print(f"  dry run of {args.rows} rows: {first['dry_run_s']} s; {first['diff']['planned']} to import")
                made = commit(client, first["url"], wix_client)
                calls = counter.requests
                made["limiter_wait_s"] = round(counter.limiter_wait, 1)
                print(f"  committed in {made['seconds']} s with {calls} Wix calls ({made['status']})")
                again = dry_run(client, data, "sign-in-sheet.csv")
                refused = client.post(
                    again["url"] + "commit/", {"idempotency_key": uuid.uuid4().hex, "plan_digest": "x"}
                ).status_code
                calls_again = counter.requests - calls
                by_path = dict(Counter(re.sub(r"/[0-9a-f-]{20,}", "/{id}", p) for p in counter.by_path.elements()))
                wix_client.close()
        finally:
            (BASE_DIR / "var" / limiter).unlink(missing_ok=True)
        back = read_back(state_path, world)
    fewest = (
        fewest_calls(
            mode=args.mode, n=args.rows, cash=kinds["cash"], plan=kinds["plan"], owes=kinds["owes"], walk_ins=True
        )
        + kinds["new"]
    )
    floor = floor_seconds(fewest)
    big = dry_run(client, everyone_everywhere(world, args.big), "everyone.csv")
    result.update(
        dry_run_1k={k: first[k] for k in ("upload_s", "check_s", "dry_run_s", "peak_python_mb")},
        dry_run_big={"rows": args.big, **{k: big[k] for k in ("upload_s", "check_s", "dry_run_s", "peak_python_mb")}},
        diff={
            k: first["diff"][k]
            for k in (
                "planned",
                "invalid",
                "contacts",
                "bookings",
                "payments",
                "plan_charges",
                "owes",
                "check_ins",
                "no_shows",
                "calls",
            )
        },
        commit=made,
        calls=calls,
        calls_by_path=by_path,
        fewest_calls=fewest,
        calls_to_fewest=round(calls / fewest, 3),
        floor_s=round(floor, 1),
        commit_to_floor=round(made["seconds"] / floor, 3),
        reupload={
            "planned": again["diff"]["planned"],
            "skip": again["diff"]["skip"],
            "commit_status": refused,
            "wix_calls": calls_again,
        },
        read_back=back,
        duplicates=back["duplicate_bookings"] + back["duplicate_contacts"],
        load_average=[round(x, 2) for x in os.getloadavg()],
    )
    print_table(result)
    print("RESULT " + json.dumps(result, separators=(",", ":")))


def print_table(r: dict[str, Any]) -> None:
    print()
    small, big = r["dry_run_1k"], r["dry_run_big"]
    print(
        f"{'dry run, ' + str(r['rows']) + ' rows':34}{small['dry_run_s']:>8} s  (upload {small['upload_s']} s, "
        f"check {small['check_s']} s; peak Python memory {small['peak_python_mb']} MB)"
    )
    print(
        f"{'dry run, ' + format(big['rows'], ',') + ' rows':34}{big['dry_run_s']:>8} s  (upload {big['upload_s']} s, "
        f"check {big['check_s']} s; peak Python memory {big['peak_python_mb']} MB)"
    )
    c = r["commit"]
    print(
        f"{'commit until every row has a result':34}{c['seconds']:>8} s  ({c['done']} done, {c['failed']} failed, "
        f"{c['batches']} batches, {c['runs']} runs)"
    )
    print(
        f"{'  of which':34}{'':>8}    writing the batches {c['release_s']} s, pushing {c['push_s']} s "
        f"(waiting for the rate budget {c['limiter_wait_s']} s)"
    )
    print(f"{'rate-budget floor (fewest calls)':34}{r['floor_s']:>8} s  → commit / floor = {r['commit_to_floor']}")
    print(f"{'Wix calls':34}{r['calls']:>8}    fewest {r['fewest_calls']} → {r['calls_to_fewest']}× the fewest")
    print(
        f"{'the same file again':34}{r['reupload']['planned']:>8} to import, {r['reupload']['skip']} already "
        f"done; commit answered {r['reupload']['commit_status']}; {r['reupload']['wix_calls']} Wix calls"
    )
    b = r["read_back"]
    print(
        f"{'read back from the sandbox':34}{b['bookings']:>8} bookings, {b['duplicate_bookings']} duplicated; "
        f"{b['duplicate_contacts']} duplicate contacts; {b['attended']} checked in; payments {b['payment_statuses']};"
        f" {b['credits_used']:g} credits used"
    )
    print(f"calls by path: {r['calls_by_path']}")


if __name__ == "__main__":
    main()
