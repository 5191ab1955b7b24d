"""The outage drill (issue 14, item 10): Wix goes away in the middle of a busy class and comes
back ``OUTAGE_SECONDS`` later (75 by default; 600 is the ten-minute drill), with the worker
SIGKILLed once while it is gone. The desk keeps working and the header says what is happening
(Wix is not answering, the desk's actions are kept; once Wix is back, that they are being sent —
never that the worker may have stopped while it drains the queue). When Wix is back, everything
reaches it with nobody clicking — counted in Wix: nobody booked twice or not at all, one order
per booking, one payment per order, one plan credit per member, one check-in per person checked
in, and each booking's steps in order.

    OUTAGE_SECONDS=600 .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/test_outage_drill.py

Real processes on a throwaway SQLite database (``tests/processes.py``): Wix is the standalone
sandbox (``manage.py wix_sandbox``, 150 ms a call) on a port of its own, its state in a file; the
app reaches it over HTTP in API-key mode. The worker is ``manage.py db_worker``. The desk is a
signed-in Front desk user posting the roster's forms through Django's test client, in a process
of its own (``tests/outage_desk.py``). "Wix goes away" is a SIGKILL of the sandbox server while
calls are in flight; "Wix is back" is the same server started again on the same port and state.

The class: 48 people walk in, 12 in each of four waves — one while Wix answers (the sandbox is
stopped as soon as some of it has reached Wix and some not), then as Wix goes away, a third and
two thirds into the outage. Every fourth person is a member with a 10-swim pass (5 credits left)
who pays with it; the others pay cash or card. Most pay in the same tap that books them; in the
two middle waves every third person decides later and pays with a click of their own in the next
wave. Everyone but every sixth person is checked in. A double tap in each wave while Wix is down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    BASE_DIR,
    SandboxServer,
    db_connect,
    desk_statuses,
    process_env,
    process_kill,
    process_stop,
    wait_until,
    worker_start,
)
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, SandboxState

OUTAGE_SECONDS = float(os.environ.get("OUTAGE_SECONDS") or 75)
WAVE = 12  # people per wave
WAVES = 4  # one before the outage, three during it
CREDITS = 5
# The header warns of desk actions waiting longer than this (120 s in production): well inside
# the outage, so the drill sees the warning however short it is made.
BACKLOG_WARN_SECONDS = 30
# Seconds: a liveness bound, not a target (the figures are printed). The longest retry delay
# (DeskAction.MAX_BACKOFF_SECONDS) and then some: never reached unless something is stuck.
DRAIN_TIMEOUT = 480
UNSYNCED = ("QUEUED", "RUNNING")


@dataclass(frozen=True)
class Person:
    i: int

    @property
    def wave(self) -> int:
        return self.i // WAVE

    @property
    def member(self) -> bool:
        return self.i % 4 == 0

    @property
    def method(self) -> str:
        return "PLAN" if self.member else ("CARD" if self.i % 4 == 3 else "CASH")

    @property
    def pays_later(self) -> bool:
        """Decides later (the middle waves): paid with a click of their own in the next wave."""
        return self.wave in (1, 2) and self.i % 3 == 1

    @property
    def checks_in(self) -> bool:
        return self.i % 6 != 5


PEOPLE = [Person(i) for i in range(WAVE * WAVES)]


def _desk_start(env: dict[str, str], command: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    """The desk (``tests/outage_desk.py``) doing ``command``, in the background."""
    argv = [sys.executable, "-m", "tests.outage_desk", command, json.dumps(spec)]
    return subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603


def _desk_result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _desk(env: dict[str, str], command: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _desk_result(_desk_start(env, command, spec))


def _clicks(wave: int, world: dict[str, Any]) -> list[dict[str, Any]]:
    """What the desk clicks in ``wave``: its walk-ins, the payments of the previous wave's
    "decide later" people, its check-ins; from the first wave of the outage on, the first walk-in
    and the first payment tapped twice."""
    people = world["people"]

    def pay_value(p: Person) -> str:
        return f"PLAN:{people[p.i]['balance']}" if p.member else p.method

    clicks: list[dict[str, Any]] = []
    for p in (p for p in PEOPLE if p.wave == wave):
        pay = "" if p.pays_later else pay_value(p)
        clicks.append({"do": "walk_in", "contact": people[p.i]["contact"], "pay": pay, "key": f"drill-walk-in-{p.i}"})
    for p in (p for p in PEOPLE if p.wave == wave - 1 and p.pays_later):
        key, contact = f"drill-money-{p.i}", people[p.i]["contact"]
        if p.member:
            clicks.append({"do": "plan", "contact": contact, "balance": people[p.i]["balance"], "key": key})
        else:
            clicks.append({"do": "pay", "contact": contact, "method": p.method, "key": key})
    for p in (p for p in PEOPLE if p.wave == wave and p.checks_in):
        clicks.append({"do": "check_in", "contact": people[p.i]["contact"], "key": f"drill-check-in-{p.i}"})
    if wave >= 1:
        clicks[0]["twice"] = True
        if wave >= 2:
            next(c for c in clicks if c["do"] in ("pay", "plan"))["twice"] = True
    return clicks


def _act(env: dict[str, str], world: dict[str, Any], wave: int) -> dict[str, Any]:
    done = _desk(env, "act", {"session": world["session"], "clicks": _clicks(wave, world)})
    assert set(done["answers"]) == {200}, done["answers"]
    return done


def _db_now() -> str:
    """Now, as Django keeps a datetime in SQLite (UTC), to compare with ``created_at``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _made_since(env: dict[str, str], since: str) -> int:
    with db_connect(env) as db:
        return db.execute("SELECT COUNT(*) FROM bookings_app_deskaction WHERE created_at >= ?", (since,)).fetchone()[0]


def _unsynced(statuses: Counter[tuple[str, str]]) -> int:
    return sum(n for (_, status), n in statuses.items() if status in UNSYNCED)


def _drained(env: dict[str, str]) -> bool:
    statuses = desk_statuses(env)
    stuck = {k: n for k, n in statuses.items() if k[1] not in (*UNSYNCED, "SYNCED")}
    assert not stuck, f"desk actions that will not reach Wix by themselves: {stuck}"
    return _unsynced(statuses) == 0


def _drain_watching_the_header(
    env: dict[str, str], world: dict[str, Any], back_at: float
) -> tuple[float | None, list[tuple[float, list[str]]]]:
    """Wait (nobody clicks) until every desk action is SYNCED, looking at the roster page as the
    desk would every few seconds meanwhile. Returns how long it took after ``back_at`` (None:
    not within ``DRAIN_TIMEOUT``) and the header's warnings seen, each with when it was asked."""
    seen: list[tuple[float, list[str]]] = []
    look: tuple[float, subprocess.Popen[str]] | None = None
    next_look = back_at
    while (now := time.monotonic()) < back_at + DRAIN_TIMEOUT:
        if _drained(env):
            if look is not None:
                seen.append((look[0], _desk_result(look[1])["warnings"]))
            return now - back_at, seen
        if look is not None and look[1].poll() is not None:
            seen.append((look[0], _desk_result(look[1])["warnings"]))
            look, next_look = None, now + 3
        if look is None and now >= next_look:
            look = (round(now - back_at, 1), _desk_start(env, "look", {"session": world["session"]}))
        time.sleep(0.1)
    if look is not None:
        look[1].kill()
        look[1].communicate()
    return None, seen


def _sleep_until(moment: float) -> None:
    time.sleep(max(moment - time.monotonic(), 0))


@pytest.fixture
def drill(tmp_path: Path) -> Any:
    """The database, the class in the sandbox's state and the mirror; then Wix (the sandbox server)
    and the environment of the app's processes pointed at it."""
    env = process_env(tmp_path, DESK_BACKLOG_WARN_SECONDS=str(BACKLOG_WARN_SECONDS))
    members = [p.i for p in PEOPLE if p.member]
    world = _desk(env, "arrange", {"people": len(PEOPLE), "members": members, "credits": CREDITS})
    server = SandboxServer(Path(env["WIX_SANDBOX_STATE"]), tmp_path / "wix.log", faults="latency_ms=150")
    live = {
        **env,
        "WIX_API_KEY": DEFAULT_API_KEY,
        "WIX_SITE_ID": DEFAULT_SITE_ID,
        "WIX_BASE_URL": server.base_url,
        "DJANGO_SECRET_KEY": "outage-drill-" + "x" * 40,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    with server:
        yield live, world, server


def test_wix_gone_mid_class_and_back_drains_every_desk_action_once_in_order(drill, tmp_path, capsys) -> None:
    env, world, server = drill
    log = tmp_path / "worker.log"
    assert OUTAGE_SECONDS >= 2 * BACKLOG_WARN_SECONDS, "OUTAGE_SECONDS must leave room for the backlog warning"
    workers = [worker_start(env, "w-first", log)]
    try:
        # --- Wix answers: the class starts; Wix goes away with some of it through, some not.
        first = _desk_start(env, "act", {"session": world["session"], "clicks": _clicks(0, world)})

        def mid_push() -> bool:
            s = desk_statuses(env)
            money = s[("PAYMENT", "SYNCED")] + s[("PLAN_CHARGE", "SYNCED")]
            return money >= 3 and _unsynced(s) > 0

        assert wait_until(mid_push, timeout=120, every=0.02), (desk_statuses(env), log.read_text()[-3000:])
        server.stop(clean=False)
        down_at, down_since = time.monotonic(), _db_now()
        at_stop = desk_statuses(env)
        assert set(_desk_result(first)["answers"]) == {200}

        # --- Wix is gone: the desk keeps working, and the header says so.
        _act(env, world, 1)
        seen_down = _desk(env, "look", {"session": world["session"], "until": ["Wix is not answering"], "timeout": 60})
        _sleep_until(down_at + OUTAGE_SECONDS / 3)
        _act(env, world, 2)
        running = wait_until(lambda: _some_running(env), timeout=60, every=0.05)
        at_kill = desk_statuses(env)
        process_kill(workers[0])
        workers.append(worker_start(env, "w-second", log))
        _sleep_until(down_at + 2 * OUTAGE_SECONDS / 3)
        _act(env, world, 3)
        backlog_words = ["Wix is not answering", "have waited more than", "go to Wix as soon as it answers"]
        left = max(down_at + OUTAGE_SECONDS - time.monotonic() - 2, 5)
        seen_backlog = _desk(env, "look", {"session": world["session"], "until": backlog_words, "timeout": left})
        _sleep_until(down_at + OUTAGE_SECONDS)
        made_while_down = _made_since(env, down_since)
        before_back = desk_statuses(env)

        # --- Wix is back: nobody clicks.
        server.start()
        back_at = time.monotonic()
        drain_s, seen_draining = _drain_watching_the_header(env, world, back_at)
        assert drain_s is not None, (desk_statuses(env), log.read_text()[-5000:])
        seen_after = _desk(env, "look", {"session": world["session"], "clear": True, "timeout": 180})
        clear_s = time.monotonic() - back_at
    finally:
        for worker in workers:
            process_stop(worker)
        server.stop()

    # The desk while Wix was down.
    assert seen_down["status"] == 200 and seen_down["waiting_rows"] > 0
    assert any("Wix is not answering" in w for w in seen_down["warnings"]), seen_down
    said = " ".join(seen_backlog["warnings"])
    assert all(words in said for words in backlog_words), seen_backlog
    assert running, at_kill  # the worker was killed while it held desk actions
    assert seen_after == {**seen_after, "status": 200, "warnings": [], "waiting_rows": 0}, seen_after
    # While the worker drains the queue, the header never tells staff it may have stopped.
    assert not any("worker may have stopped" in w for _, ws in seen_draining for w in ws), seen_draining

    # The ledger: every click once (the double taps made nothing), every action in Wix.
    final = desk_statuses(env)
    expected = {
        ("WALK_IN", "SYNCED"): len(PEOPLE),
        ("PAYMENT", "SYNCED"): sum(not p.member for p in PEOPLE),
        ("PLAN_CHARGE", "SYNCED"): sum(p.member for p in PEOPLE),
        ("ATTENDANCE", "SYNCED"): sum(p.checks_in for p in PEOPLE),
    }
    assert dict(final) == expected
    with db_connect(env) as db:
        lost_tasks = db.execute(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE exception_class_path = ?",
            ("bookings_app.workers.WorkerLost",),
        ).fetchone()[0]
    assert lost_tasks == 1, log.read_text()[-5000:]

    counted = _count_in_wix(env, world)
    running_at_kill = {k: n for k, n in at_kill.items() if k[1] == "RUNNING"}
    report = [
        f"[outage drill] Wix down {OUTAGE_SECONDS:.0f} s in the middle of a class of {len(PEOPLE)}, "
        f"{sum(expected.values())} desk actions: {_fmt(expected)}",
        f"  when Wix went away: {_unsynced(at_stop)} on their way ({_fmt(at_stop)})",
        f"  made while Wix was down: {made_while_down}; the worker SIGKILLed holding {_fmt(running_at_kill)}",
        f"  roster page while down: HTTP {seen_down['status']} in {seen_down['ms']} ms, "
        f"{seen_down['waiting_rows']} rows 'waiting for Wix'; header: {seen_backlog['warnings']}",
        f"  waiting when Wix came back: {_unsynced(before_back)}; all SYNCED {drain_s:.1f} s later, nobody "
        f"clicking; header clear {clear_s:.1f} s after; meanwhile it said: {_header_seen(seen_draining)}",
        f"  in Wix: {counted['summary']}",
        f"  doubled {counted['doubled']}, lost {counted['lost']}, wrong {counted['wrong']}, "
        f"out of order {counted['out_of_order']}; bookings in desk order: {counted['fifo']}",
    ]
    with capsys.disabled():
        print("\n" + "\n".join(report))
    assert (counted["lost"], counted["doubled"], counted["wrong"], counted["out_of_order"]) == (0, 0, 0, 0), counted


def _some_running(env: dict[str, str]) -> bool:
    return any(status == "RUNNING" for (_, status) in desk_statuses(env))


def _header_seen(seen: list[tuple[float, list[str]]]) -> str:
    """The header's warnings while the queue drained — what each says (the count of late actions
    left out) — and from when to when (seconds after Wix was back) each was seen."""
    when: dict[str, list[float]] = {}
    for at, warnings in seen:
        for w in warnings or ["no warning"]:
            first, _, rest = w.partition(". ")
            said = f"N desk actions late: {rest}" if first[:1].isdigit() else first
            when.setdefault(said, []).append(at)
    return "; ".join(f"{w!r} at {min(t):.0f}–{max(t):.0f} s" for w, t in when.items()) or "not looked at"


def _fmt(statuses: dict[tuple[str, str], int]) -> str:
    return ", ".join(f"{kind} {status} {n}" for (kind, status), n in sorted(statuses.items()) if n) or "nothing"


def _count_in_wix(env: dict[str, str], world: dict[str, Any]) -> dict[str, Any]:
    """What Wix (the sandbox's state file) holds for the class, against what the desk did.

    ``lost``: a person not booked, a booking with no order, an order with no payment, a member's
    pass not charged, a check-in not in Wix. ``doubled``: any of those more than once. ``wrong``:
    a booking not CONFIRMED or not PAID, a payment of the wrong kind, a pass not exactly one credit
    down, a check-in of someone who did not come. ``out_of_order``: an order older than its
    booking, a payment older than its order, a plan credit taken before the booking existed.
    ``fifo``: pairs of people booked in Wix in the other order than at the desk (a figure)."""
    state = SandboxState(env["WIX_SANDBOX_STATE"])
    try:
        people = world["people"]
        bookings = [b for b in state.all("bookings") if b["bookedEntity"]["slot"].get("eventId") == world["event"]]
        per_person = Counter(b["contactDetails"]["contactId"] for b in bookings)
        booking_of = {b["contactDetails"]["contactId"]: b for b in bookings}
        orders: dict[str, list[dict[str, Any]]] = {b["id"]: [] for b in bookings}
        for order in state.all("orders"):
            for line in order["lineItems"]:
                if line["catalogReference"]["catalogItemId"] in orders:
                    orders[line["catalogReference"]["catalogItemId"]].append(order)
        redemptions: Counter[str] = Counter()
        redeemed_at: dict[str, str] = {}
        for tx in state.all("benefit_transactions"):
            if (tx["source"], tx["target"], tx["details"].get("reason")) == ("AVAILABLE", "EXTERNAL", "Redemption"):
                redemptions[tx["pool"]["id"]] += 1
                redeemed_at[tx["pool"]["id"]] = tx["createdDate"]
        attendances = Counter(a["bookingId"] for a in state.all("attendances") if a["bookingId"] in orders)
        attended = {a["bookingId"]: a["status"] for a in state.all("attendances")}

        lost = doubled = wrong = out_of_order = 0
        for p, who in zip(PEOPLE, people, strict=True):
            n = per_person[who["wix_contact"]]
            lost, doubled = lost + (n == 0), doubled + max(n - 1, 0)
            if n == 0:
                continue
            booking = booking_of[who["wix_contact"]]
            wrong += (booking["status"], booking.get("paymentStatus")) != ("CONFIRMED", "PAID")
            its_orders = orders[booking["id"]]
            lost, doubled = lost + (not its_orders), doubled + max(len(its_orders) - 1, 0)
            for order in its_orders:
                payments = (state.get("order_transactions", order["id"]) or {}).get("payments") or []
                lost, doubled = lost + (not payments), doubled + max(len(payments) - 1, 0)
                wrong += order["paymentStatus"] != "PAID"
                out_of_order += order["createdDate"] < booking["createdDate"]
                for payment in payments:
                    by_plan = "membershipPaymentDetails" in payment
                    wrong += by_plan != p.member or payment["status"] != "APPROVED"
                    out_of_order += payment["createdDate"] < order["createdDate"]
            if p.member:
                pool = who["pool"]
                lost, doubled = lost + (redemptions[pool] == 0), doubled + max(redemptions[pool] - 1, 0)
                wrong += state.get("balances", pool)["amount"]["available"] != str(CREDITS - 1)
                out_of_order += redeemed_at.get(pool, "~") < booking["createdDate"]
            checked_in = attendances[booking["id"]]
            if p.checks_in:
                lost, doubled = lost + (checked_in == 0), doubled + max(checked_in - 1, 0)
                wrong += checked_in > 0 and attended[booking["id"]] != "ATTENDED"
            else:
                wrong += checked_in > 0
        made = [booking_of[w["wix_contact"]]["createdDate"] for w in people if w["wix_contact"] in booking_of]
        inversions = sum(later < earlier for k, earlier in enumerate(made) for later in made[k + 1 :])
        payments = sum(
            len((state.get("order_transactions", o["id"]) or {}).get("payments") or [])
            for its in orders.values()
            for o in its
        )
        summary = (
            f"{len(bookings)} bookings for {len(per_person)} people, {sum(map(len, orders.values()))} orders, "
            f"{payments} payments, {sum(redemptions.values())} plan credits taken, "
            f"{sum(attendances.values())} check-ins"
        )
    finally:
        state.close()
    return {
        "lost": lost,
        "doubled": doubled,
        "wrong": wrong,
        "out_of_order": out_of_order,
        "fifo": "yes" if not inversions else f"no ({inversions} pairs the other way round)",
        "summary": summary,
    }
