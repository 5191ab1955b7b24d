"""A year's course timetable built through the course builder against a slow, rate-limited Wix, and
checked for duplicates after re-sent commits, a re-imported timetable, a crash and a lost answer
(issue 11, item 9).

    .venv/bin/python bench/course_builder.py            # 12 courses × 2 weekdays × 12 weeks × 3 terms: ~2 minutes
    .venv/bin/python bench/course_builder.py --quick    # 3 courses, 1 term of 4 weeks: a sanity run

Wix is the standalone sandbox (``manage.py wix_sandbox``) in a subprocess on a free port with
``--faults latency_ms=150,rate_limit_per_minute=200`` and its own state file; the app reaches it over
HTTP in ``api_key`` mode through ``get_wix_client()`` and its file rate limiter (200 calls a minute,
a fresh window file under var/, deleted after) — as ``settle_roster.py`` does. The courses (COURSE
services at one place) and four instructors are written into the state file before the server
starts and mirrored in-process by the real sync, so the setup spends none of the measured budget.
The mirror is this bench's own SQLite database, ``var/bench-course-builder.sqlite3``, deleted and
migrated again on every run.

1. **Weekly terms** through the builder's screens, as a signed-in Admin (Django's test client):
   per course and term, ``POST /courses/new/`` (the preview: every session, clashes, the Wix calls)
   then ``POST /courses/new/commit/``. Terms have a half-term week and a bank holiday off. Then the
   worker (``push_desk_actions_now``, backoff respected) sends every build until all are synced:
   "time until every session exists in Wix" is that drain, and also counted from the first commit.
2. **The same commits again** (a double click / a retried POST for every term): no new build, no
   Wix call.
3. **The same terms as a spreadsheet** (every session of step 1, one row each, uploaded to
   ``POST /courses/import/``): the preview finds every session already there; nothing to create.
4. **An irregular term imported** (a CSV of single sessions, two courses' worth taught by a
   stand-in) and sent with a **crash** (the worker dies after Wix applied its first Bulk Create
   Event, before the answer is saved; the next worker takes over when the lease ends) and a **lost
   answer** (a timeout after Wix applied the second). Then the same file again: nothing new.

Afterwards every course's calendar is read back from Wix (Query Events, uncounted) and compared
with what the builds planned: missing, extra and duplicated sessions (the same course at the same
start twice). Wix calls are HTTP requests counted at the client (429s and retries included); "the
fewest possible" is ``ceil(events / 50)`` Bulk Create Event requests — the events of all courses
packed together, no reads. Prints a table, then one line ``RESULT {json}``. Figures, never asserts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from course_timetable import (  # noqa: E402 - after the path
    World,
    arrange,
    irregular_rows,
    mirror,
    reset_database,
    rows_of_builds,
    term_forms,
    timetable_csv,
)
from settle_roster import (  # noqa: E402 - after the path
    BUDGET_PER_MINUTE,
    LATENCY_MS,
    CallCounter,
    SandboxServer,
    close_sandbox_file,
    load_django_on,
    summary_ms,
    use_server,
)

SQLITE_PATH = BASE_DIR / "var" / "bench-course-builder.sqlite3"
DRAIN_DEADLINE_S = 20 * 60
BULK_PATH = "/calendar/v3/bulk/events/create"


class Crash(BaseException):
    """The worker process dies (nothing the worker could catch)."""


@dataclass
class Faults:
    """Trouble on the next Bulk Create Event answers: ``crash`` or ``lost`` (both after Wix applied it)."""

    plan: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def hook(self, response: Any) -> None:
        import httpx

        if response.request.url.path.endswith(BULK_PATH) and response.status_code == 200 and self.plan:
            kind = self.plan.pop(0)
            self.seen.append(kind)
            if kind == "crash":
                raise Crash
            raise httpx.ReadTimeout("bench: the answer was lost", request=response.request)


# --- the screens -------------------------------------------------------------------------------------


def hidden(html: str, name: str) -> str:
    return unescape(html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0])


def build_terms(client: Any, forms: list[dict[str, str]]) -> dict[str, Any]:
    preview_ms, commit_ms, commits = [], [], []
    sessions = excluded = events = 0
    for data in forms:
        started = time.perf_counter()
        response = client.post("/courses/new/", data)
        preview_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"preview answered {response.status_code}: {response.content[:1500]!r}")
        html = response.content.decode()
        form = {**data, "idempotency_key": hidden(html, "idempotency_key"), "plan_digest": hidden(html, "plan_digest")}
        started = time.perf_counter()
        response = client.post("/courses/new/commit/", form)
        commit_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 302:
            raise SystemExit(f"commit answered {response.status_code}: {response.content[:1500]!r}")
        commits.append(form)
    from bookings_app.models import CourseBuild, CourseBuildEvent
    from bookings_app.services import courses

    for build in CourseBuild.objects.all():
        sessions += build.sessions_planned
        excluded += sum(1 for row in courses.course_build_rows(build=build) if row.state == "EXCLUDED")
    events = CourseBuildEvent.objects.count()
    return {
        "commits": commits,
        "sessions": sessions,
        "excluded": excluded,
        "events": events,
        "preview_ms": summary_ms(preview_ms) | {"total_ms": round(sum(preview_ms), 1)},
        "commit_ms": summary_ms(commit_ms),
    }


def upload(client: Any, data: bytes, name: str) -> tuple[Any, float, Any]:
    """The import's preview as the screen answers it (timed), and its figures (read again from the
    services: the test client keeps no template context outside the test runner)."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from bookings_app.services import courses

    started = time.perf_counter()
    response = client.post("/courses/import/", {"file": SimpleUploadedFile(name, data)})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"import preview answered {response.status_code}: {response.content[:2000]!r}")
    sheet = courses.sheet_read(name=name, data=data)
    preview = courses.course_import_preview(sheet=sheet, today=timezone.localdate(), tz=settings.TIME_ZONE)
    return response, elapsed, preview


# --- the worker -------------------------------------------------------------------------------------


def drain(client: Any, faults: Faults | None = None) -> dict[str, Any]:
    """Push until every course build is synced (or needs attention); a crash is a dead worker:
    the next one starts when its lease runs out (here: at once, the lease moved to the past)."""
    from django.db.models import Min
    from django.utils import timezone

    from bookings_app.models import DeskAction
    from bookings_app.services import push

    Status = DeskAction.Status
    builds = DeskAction.objects.filter(kind=DeskAction.Kind.COURSE_BUILD)
    crashes = rounds = 0
    started = time.perf_counter()
    deadline = started + DRAIN_DEADLINE_S
    while time.perf_counter() < deadline:
        rounds += 1
        try:
            report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
        except Crash:
            crashes += 1
            builds.filter(status=Status.RUNNING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
            continue
        left = builds.exclude(status__in=(Status.SYNCED, Status.NEEDS_ATTENTION))
        if not left.exists():
            break
        if report.claimed == 0:  # backing off after a lost answer: wait for the first due
            due = left.aggregate(due=Min("next_attempt_at"))["due"]
            wait = (due - timezone.now()).total_seconds() if due else 0.5
            time.sleep(min(max(wait, 0.05), 10.0))
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "rounds": rounds,
        "crashes": crashes,
        "statuses": dict(Counter(builds.values_list("status", flat=True))),
    }


class Counted:
    """A client whose requests are counted (``CallCounter``) and whose answers may be troubled."""

    def __init__(self, faults: Faults | None = None) -> None:
        from bookings_app.wix import get_wix_client

        self.client = get_wix_client()
        self.counter = CallCounter(self.client)
        if faults is not None:
            http = self.client._http
            http.event_hooks = {**http.event_hooks, "response": [*http.event_hooks["response"], faults.hook]}

    def figures(self) -> dict[str, Any]:
        c = self.counter
        return {
            "calls": c.requests,
            "calls_by_path": dict(c.by_path),
            "http_statuses": {str(k): v for k, v in sorted(c.statuses.items())},
            "rate_limited_429": c.statuses.get(429, 0),
            "rate_limiter_wait_s": round(c.limiter_wait, 2),
        }


def verify(world: World) -> dict[str, Any]:
    """Every course's sessions in Wix against what our builds planned (Query Events, not counted)."""
    from bookings_app.models import CourseBuildEvent
    from bookings_app.wix import calendar, get_wix_client

    planned: Counter[tuple[str, str]] = Counter()
    for event in CourseBuildEvent.objects.select_related("build__service"):
        for local in event.sessions:
            planned[(event.build.service.schedule_id, local[:16])] += 1
    found: Counter[tuple[str, str]] = Counter()
    days = [d for _, d in planned]
    with get_wix_client() as client:
        for course in world.courses:
            schedule = course.wix["schedule"]["id"]
            query: dict[str, Any] = {"filter": {"scheduleId": schedule}, "cursorPaging": {"limit": 100}}
            window: dict[str, Any] = {
                "from_local_date": min(days)[:10] + "T00:00:00",
                "to_local_date": max(days)[:10] + "T23:59:59",
                "recurrence_type": ["NONE", "INSTANCE", "EXCEPTION"],
            }
            while True:
                answer = calendar.query_events(client, query=query, **window)
                for event in answer.get("events") or []:
                    if event.get("status") not in ("CANCELLED", "CANCELED"):
                        found[(schedule, str(event["start"]["localDate"])[:16])] += 1
                cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
                if not cursor:
                    break
                query, window = {"cursorPaging": {"limit": 100, "cursor": cursor}}, {}
    return {
        "planned": sum(planned.values()),
        "planned_twice_by_us": sum(n - 1 for n in planned.values() if n > 1),
        "found": sum(found.values()),
        "missing": sum(1 for k in planned if k not in found),
        "extra": sum(1 for k in found if k not in planned),
        "duplicates": sum(n - 1 for n in found.values() if n > 1),
    }


# --- the run -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from bookings_app.models import CourseBuild, CourseImport, DeskAction

    state = workdir / "wix.sqlite3"
    user = reset_database(SQLITE_PATH)
    world = arrange(state, args.courses)
    mirror()
    close_sandbox_file()
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    first_monday = today + timedelta(days=7 - today.weekday() + 7)
    limiter = f"bench-course-builder-{uuid.uuid4().hex[:8]}.window"
    out: dict[str, Any] = {}
    try:
        with SandboxServer(state, workdir / "wix.log") as server:
            use_server(server, settings.WIX.payment_mode, limiter)

            # 1. Weekly terms through the builder, then the worker.
            print(f"  1. previewing and committing {args.courses * args.terms} terms…", flush=True)
            t0 = time.perf_counter()
            weekly = build_terms(client, term_forms(world, first_monday, args.terms, args.weeks))
            committed_s = time.perf_counter() - t0
            worker = Counted()
            drained = drain(worker.client)
            worker.client.close()
            fewest = math.ceil(weekly["events"] / 50)
            weekly |= {
                "drain": drained,
                "time_to_all_in_wix_s": drained["seconds"],
                "time_from_first_commit_s": round(committed_s + drained["seconds"], 2),
                **worker.figures(),
                "fewest_calls": fewest,
                "calls_to_fewest": round(worker.counter.requests / fewest, 2),
            }
            commits = weekly.pop("commits")
            out["weekly"] = weekly
            print(f"     {weekly['calls']} Wix calls, all synced after {drained['seconds']:.1f} s", flush=True)

            # 2. The same commits again: a double click on every term.
            builds_before = CourseBuild.objects.count()
            resent = [client.post("/courses/new/commit/", form).status_code for form in commits]
            again = Counted()
            drained = drain(again.client)
            again.client.close()
            out["resent_commits"] = {
                "commits": len(resent),
                "answers": dict(Counter(resent)),
                "new_builds": CourseBuild.objects.count() - builds_before,
                "calls": again.counter.requests,
            }

            # 3. The same terms as a spreadsheet: nothing new.
            rows = rows_of_builds()
            response, preview_ms, p = upload(client, timetable_csv(rows), "whole-year.csv")
            later = Counted()
            drain(later.client)
            later.client.close()
            out["reimport_same_terms"] = {
                "rows": len(rows),
                "preview_ms": round(preview_ms, 1),
                "new": p.new_count,
                "existing": p.existing_count,
                "commit_offered": "Create " in response.content.decode(),
                "calls": later.counter.requests,
            }
            print(f"  3. the same {len(rows)} sessions as a file: {p.new_count} new", flush=True)

            # 4. An irregular term imported, sent through a crash and a lost answer.
            term4 = first_monday + timedelta(weeks=args.terms * (args.weeks + 1))
            data = timetable_csv(irregular_rows(world, term4, args.irregular))
            response, import_preview_ms, p = upload(client, data, "autumn-irregular.csv")
            html = response.content.decode()
            form = {k: hidden(html, k) for k in ("idempotency_key", "plan_digest", "sheet")}
            t0 = time.perf_counter()
            committed = client.post("/courses/import/commit/", form)
            commit_ms = (time.perf_counter() - t0) * 1000
            if committed.status_code != 302:
                raise SystemExit(f"import commit answered {committed.status_code}: {committed.content[:1500]!r}")
            faults = Faults(plan=["crash", "lost"])
            troubled = Counted(faults)
            drained = drain(troubled.client, faults)
            troubled.client.close()
            imported_builds = CourseBuild.objects.filter(source=CourseBuild.Source.IMPORT)
            events = sum(b.events.count() for b in imported_builds)
            resend = client.post("/courses/import/commit/", form).status_code
            _, _, again_preview = upload(client, data, "autumn-irregular.csv")
            out["import_with_faults"] = {
                "rows": len(p.rows),
                "courses": len(p.building),
                "preview_ms": round(import_preview_ms, 1),
                "commit_ms": round(commit_ms, 1),
                "preview_calls": p.call_total,
                "faults": faults.seen,
                "drain": drained,
                **troubled.figures(),
                "fewest_calls": math.ceil(events / 50),
                "resent_commit_answer": resend,
                "imports": CourseImport.objects.count(),
                "same_file_again_new": again_preview.new_count,
            }
            print(
                f"  4. {len(p.rows)} irregular sessions through {' and '.join(faults.seen)}: "
                f"{troubled.counter.requests} calls",
                flush=True,
            )
            out["attention"] = list(
                DeskAction.objects.filter(status=DeskAction.Status.NEEDS_ATTENTION).values_list("message", flat=True)[
                    :3
                ]
            )
            out["verify"] = verify(world)
    finally:
        (BASE_DIR / "var" / limiter).unlink(missing_ok=True)
    return out


def print_table(r: dict[str, Any]) -> None:
    w, i, v = r["weekly"], r["import_with_faults"], r["verify"]
    print()
    print(
        f"== {r['courses']} courses × 2 weekdays × {r['weeks']} weeks × {r['terms']} terms; "
        f"Wix {LATENCY_MS} ms/call, {BUDGET_PER_MINUTE} calls/min"
    )
    print(f"weekly terms: {w['sessions']} sessions ({w['excluded']} excluded days), {w['events']} Calendar events")
    pm = w["preview_ms"]
    print(
        f"  preview per term (POST /courses/new/): median {pm['median_ms']:.1f} ms, p95 {pm['p95_ms']:.1f} ms, "
        f"max {pm['max_ms']:.1f} ms; all {r['courses'] * r['terms']} terms {pm['total_ms'] / 1000:.2f} s"
    )
    print(f"  commit per term: median {w['commit_ms']['median_ms']:.1f} ms")
    print(
        f"  until every session exists in Wix: {w['time_to_all_in_wix_s']:.1f} s of worker "
        f"({w['time_from_first_commit_s']:.1f} s from the first commit)"
    )
    print(
        f"  Wix calls: {w['calls']} (fewest possible {w['fewest_calls']}: ×{w['calls_to_fewest']}); "
        f"by path {w['calls_by_path']}; 429s {w['rate_limited_429']}, rate-limiter wait {w['rate_limiter_wait_s']} s"
    )
    rc = r["resent_commits"]
    print(f"every commit sent again: answers {rc['answers']}, new builds {rc['new_builds']}, Wix calls {rc['calls']}")
    ri = r["reimport_same_terms"]
    print(
        f"the same terms as a {ri['rows']}-row file: preview {ri['preview_ms']:.0f} ms, {ri['new']} new / "
        f"{ri['existing']} already there, commit offered: {ri['commit_offered']}, Wix calls {ri['calls']}"
    )
    print(
        f"irregular term imported ({i['rows']} sessions, {i['courses']} courses): preview {i['preview_ms']:.0f} ms, "
        f"commit {i['commit_ms']:.0f} ms; faults {i['faults']}; synced after {i['drain']['seconds']:.1f} s; "
        f"Wix calls {i['calls']} (preview said {i['preview_calls']} without faults; fewest {i['fewest_calls']})"
    )
    print(
        f"  the commit sent again: {i['resent_commit_answer']} (imports: {i['imports']}); "
        f"the same file again: {i['same_file_again_new']} new"
    )
    print(
        f"read back from Wix: {v['found']} sessions for {v['planned']} planned — missing {v['missing']}, "
        f"extra {v['extra']}, DUPLICATES {v['duplicates']}"
    )
    if r["attention"]:
        print(f"!! needs attention: {r['attention']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 courses, 1 term of 4 weeks, 4 irregular each")
    parser.add_argument("--courses", type=int, default=None)
    parser.add_argument("--terms", type=int, default=None)
    parser.add_argument("--weeks", type=int, default=None)
    parser.add_argument("--irregular", type=int, default=None, help="sessions per course in the imported term")
    args = parser.parse_args()
    args.courses = args.courses or (3 if args.quick else 12)
    args.terms = args.terms or (1 if args.quick else 3)
    args.weeks = args.weeks or (4 if args.quick else 12)
    args.irregular = args.irregular or (4 if args.quick else 8)

    load_django_on(SQLITE_PATH)
    print(
        f"Course builder: {args.courses} courses × 2 weekdays × {args.weeks} weeks × {args.terms} terms; "
        f"standalone sandbox with latency_ms={LATENCY_MS}, rate_limit_per_minute={BUDGET_PER_MINUTE}; "
        f"database {SQLITE_PATH.relative_to(BASE_DIR)}",
        flush=True,
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-course-builder-") as tmp:
        result = run(args, Path(tmp))
    result |= {
        "courses": args.courses,
        "terms": args.terms,
        "weeks": args.weeks,
        "latency_ms": LATENCY_MS,
        "rate_limit_per_minute": BUDGET_PER_MINUTE,
        "quick": bool(args.quick),
    }
    result["duplicates"] = result["verify"]["duplicates"]
    print_table(result)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Total {time.perf_counter() - started:.0f} s; load average {load} on {os.cpu_count()} CPUs")
    print("RESULT " + json.dumps(result, separators=(",", ":"), default=str))


if __name__ == "__main__":
    main()
