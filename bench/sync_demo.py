"""A full sync of the demo site through the standalone sandbox with 150 ms added per Wix call,
and the progress a manager watches meanwhile.

    .venv/bin/python bench/sync_demo.py                 # about 20 s
    .venv/bin/python bench/sync_demo.py --latency-ms 0  # the same without the latency

Wix is ``manage.py wix_sandbox --seed demo --faults latency_ms=150`` in a subprocess on a free
port with its own state file (the demo swim club, seeded fresh); the app reaches it over HTTP in
``api_key`` mode through ``get_wix_client()``, with the app's own rate budget (200 calls a
minute, a fresh window file under ``var/`` deleted after). The mirror is the bench's own SQLite
database, ``var/bench-sync-demo.sqlite3``, migrated fresh (``DATABASE_URL`` is ignored).

``services.sync.sync_full`` runs in a thread, as the worker runs it; the main thread reads
``services.sync.sync_progress_get()`` — what the "Sync now" widget polls — every 0.25 s. It
prints the progress as it was seen (time, phase, percent), whether the percentage only ever
went up and reached 100, the Wix calls, the time, what was written, and one line
``RESULT {json}``. Figures, never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

SQLITE_PATH = BASE_DIR / "var" / "bench-sync-demo.sqlite3"
POLL_S = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=int, default=150, help="added to every Wix call (default 150)")
    args = parser.parse_args()

    from settle_roster import SandboxServer, load_django_on, use_server

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    load_django_on(SQLITE_PATH)

    from django.conf import settings
    from django.core.management import call_command

    from bookings_app import wix
    from bookings_app.services import sync

    call_command("migrate", verbosity=0, interactive=False)
    limiter = f"bench-sync-demo-{os.getpid()}.window"
    with tempfile.TemporaryDirectory(prefix="bench-sync-demo-") as tmp:
        print(f"Starting the standalone sandbox with the demo site, latency_ms={args.latency_ms} …")
        server = SandboxServer(
            Path(tmp) / "wix.sqlite3", Path(tmp) / "wix.log", faults=f"latency_ms={args.latency_ms}", seed="demo"
        )
        with server:
            use_server(server, settings.WIX.payment_mode, limiter)  # api_key mode, over HTTP
            try:
                result = run(sync, wix)
            finally:
                (BASE_DIR / "var" / limiter).unlink(missing_ok=True)
    result.update(latency_ms=args.latency_ms, rate_limit_per_minute=settings.WIX.rate_limit_per_minute)
    print_summary(result)
    print("RESULT " + json.dumps(result, separators=(",", ":")))


def run(sync: Any, wix: Any) -> dict[str, Any]:
    from django.db import connection

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with wix.get_wix_client() as client:
                outcome["report"] = sync.sync_full(wix=client)
        except BaseException as exc:  # noqa: BLE001 - reported below, the bench must not hang
            outcome["error"] = repr(exc)
        finally:
            from django.db import connection as own

            own.close()

    seen: list[tuple[float, bool, str, int]] = []
    started = time.perf_counter()
    thread = threading.Thread(target=work, name="sync")
    thread.start()
    while thread.is_alive():
        progress = sync.sync_progress_get()
        seen.append((round(time.perf_counter() - started, 2), progress.running, progress.phase, progress.percent))
        time.sleep(POLL_S)
    thread.join()
    seconds = time.perf_counter() - started
    final = sync.sync_progress_get()
    seen.append((round(seconds, 2), final.running, final.phase, final.percent))
    connection.close()
    if "error" in outcome:
        raise SystemExit(f"The sync failed: {outcome['error']}")
    report = outcome["report"]
    running = [s for s in seen if s[1]]
    percents = [s[3] for s in running] + [final.percent]  # from the first sight of it running to the end
    return {
        "seconds": round(seconds, 1),
        "wix_calls": report.wix_calls,
        "error": report.error,
        "written": {k: v for k, v in sorted(report.written.items()) if v},
        "progress": {
            "snapshots": len(seen),
            "while_running": len(running),
            "distinct_percents": len({s[3] for s in running}),
            "phases": list(dict.fromkeys(s[2] for s in running if s[2])),
            "never_went_back": all(a <= b for a, b in zip(percents, percents[1:], strict=False)),
            "final_percent": final.percent,
            "final_running": final.running,
            "first_seen_running_s": running[0][0] if running else None,
        },
        "timeline": seen,
    }


def print_summary(r: dict[str, Any]) -> None:
    print()
    print(f"  time s  running  {'phase':<30}  percent")
    last = None
    for t, running, phase, percent in r["timeline"]:
        if (running, phase, percent) == last:
            continue
        last = (running, phase, percent)
        print(f"  {t:6.2f}  {'yes' if running else 'no ':<7}  {phase or '—':<30}  {percent:>6}%")
    p = r["progress"]
    print()
    print(
        f"Full sync of the demo site, {r['latency_ms']} ms per Wix call: {r['wix_calls']} Wix calls in "
        f"{r['seconds']} s{'' if not r['error'] else ' — ERROR ' + r['error']}"
    )
    print(
        f"Progress: seen {p['while_running']} times while running ({p['distinct_percents']} different "
        f"percentages, phases: {', '.join(p['phases']) or '—'}); never went back: {p['never_went_back']}; "
        f"at the end {p['final_percent']}% and running={p['final_running']}"
    )
    print("Written: " + ", ".join(f"{k} {v:,}" for k, v in r["written"].items()))


if __name__ == "__main__":
    main()
