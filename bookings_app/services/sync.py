"""Mirror Wix into the local database (DESIGN.md §6): a full sync, and an incremental poll.

What is mirrored: services and staff; the sessions of a window from 7 days back to 60 days ahead
(class and course sessions are Calendar V3 events; an appointment has no event we can query, so
its session is made from its booking); the bookings of that window (Query Extended Bookings with
attendance and eCommerce order) with their orders, line items and payments (Order Transactions);
the contacts of those bookings, their site members, and the members' plan orders and benefit
balances.

How it stays cheap and safe:

* Every read is a page of at most 100, every lookup by id a batch of at most 100, so the number of
  Wix calls grows with pages, never with rows (no N+1 against Wix).
* All Wix calls of a page are made first; then the page is written in one transaction through a
  newer-wins bulk upsert (``revision``, else ``updatedDate``; see ``models.is_newer``). An older
  payload never overwrites a newer one, so a poll racing a webhook, or a replayed page, is harmless.
* Incremental: each entity kind keeps ``SyncState.cursor = {"since": …, "to": …}``. A poll asks
  for ``updatedDate >= since`` sorted by ``updatedDate`` ASC; ``since`` becomes the start of the
  last successful run less ``OVERLAP`` (see ``_since_after``), so a change made while a run was
  paging is read by the next one. What comes back again unchanged is recognised against the
  mirror and dropped before any further call is made for it. ``to`` is the window's end at the
  last poll: when the window moves on (a new day), the sessions and bookings that just entered
  it are fetched once.
* A booking with a desk change not yet pushed (``pending_sync``) is left alone: the desk-action
  worker owns it until Wix has the change.
* Progress (``progress_done/total``) and errors go to ``SyncState``; ``running`` is always cleared
  (``finally``), and a run whose flag was left by a killed process is considered dead after
  ``STALE_RUN``. ``last_full_at``/``last_incremental_at`` are when the latest run of that type
  *started* (that is what makes a leftover flag recognisable); ``last_success_at`` is when a kind
  last finished without error.

Public functions take the Wix client explicitly and raise ``WixError`` only from the ``mirror_*``
helpers (webhooks); ``sync_full``/``sync_incremental`` record failures and return them in the report.
"""

from __future__ import annotations

import json
import logging
import time as monotonic_time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

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
    WixMirror,
    is_newer,
    parse_revision,
)
from bookings_app.services.audit import audit_entry
from bookings_app.wix import (
    WixClient,
    WixError,
    WixRateLimited,
    WixUnavailable,
    benefit_programs,
    calendar,
    extended_bookings,
    order_transactions,
    pricing_plans,
)
from bookings_app.wix import attendance as wix_attendance
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix import members as wix_members
from bookings_app.wix import orders as wix_orders
from bookings_app.wix import services as wix_services
from bookings_app.wix import staff as wix_staff
from bookings_app.wix.dates import wix_local_parse, wix_timestamp, wix_timestamp_parse
from bookings_app.wix.ids import BOOKINGS_APP_ID, PRICING_PLANS_NAMESPACE

logger = logging.getLogger("bookings_app.sync")

M = TypeVar("M", bound=WixMirror)
Json = dict[str, Any]
Kind = SyncState.Kind

WINDOW_DAYS_BACK = 7
WINDOW_DAYS_AHEAD = 60
PAGE = 100  # Wix's usual page maximum; also our batch size for lookups by id
URL_BATCH = 50  # ids that travel as repeated GET parameters (keeps URLs well under 8 KB)
OVERLAP = timedelta(minutes=2)
STALE_RUN = timedelta(minutes=30)
SESSION_TYPES = ["CLASS", "COURSE"]
# Prefix of the Session.wix_id given to an appointment that Wix gave no event id.
APPOINTMENT_PREFIX = "appointment-"

# The phases of a full sync, in order, with their share of the progress bar. Contacts and orders
# are fetched page by page with the bookings that name them.
PHASES: list[tuple[str, int, str]] = [
    (Kind.SERVICES, 1, "Services"),
    (Kind.STAFF, 1, "Staff"),
    (Kind.SESSIONS, 3, "Sessions"),
    (Kind.BOOKINGS, 12, "Bookings, orders and payments"),
    (Kind.CONTACTS, 0, "Contacts"),
    (Kind.ORDERS, 0, "Orders"),
    (Kind.MEMBERS, 1, "Members"),
    (Kind.PLAN_ORDERS, 1, "Plan orders"),
    (Kind.BALANCES, 2, "Plan credits"),
]
ALL_KINDS = [kind for kind, _, _ in PHASES]
LABELS = {kind: label for kind, _, label in PHASES}


# --- reports and progress ---------------------------------------------------------------------


@dataclass
class SyncReport:
    mode: str  # "full" | "incremental"
    started_at: datetime
    seconds: float = 0.0
    wix_calls: int = 0
    written: Counter[str] = field(default_factory=Counter)  # rows created or changed, per model
    error: str = ""
    skipped: bool = False  # another sync was already running

    @property
    def ok(self) -> bool:
        return not self.error and not self.skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "wix_calls": self.wix_calls,
            "written": dict(self.written),
            "error": self.error,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class SyncProgress:
    running: bool
    percent: int  # 0..100 across the phases of the running sync
    phase: str  # what is being synced now ("" when idle)
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    failing: bool  # the latest attempt failed after the latest success

    @property
    def never(self) -> bool:
        return self.last_success_at is None


def sync_progress_get(*, now: datetime | None = None) -> SyncProgress:
    """Where the running (or latest) sync is, from ``SyncState``: one query."""
    now = now or timezone.now()
    states = {s.kind: s for s in SyncState.objects.filter(kind__in=ALL_KINDS)}
    running = [s for s in states.values() if s.running and not _is_stale(s, now)]
    total_weight = sum(w for _, w, _ in PHASES) or 1
    done_weight = 0.0
    phase = ""
    for kind, weight, label in PHASES:
        state = states.get(kind)
        if state is None or not state.running or _is_stale(state, now):
            done_weight += weight if running else 0
            continue
        if state.progress_total:
            done_weight += weight * min(state.progress_done / state.progress_total, 1.0)
        if not phase:
            phase = label
    successes = [s.last_success_at for s in states.values() if s.last_success_at]
    errors = [s for s in states.values() if s.last_error_at]
    latest_error = max(errors, key=lambda s: s.last_error_at) if errors else None
    last_success = max(successes) if successes else None
    failing = latest_error is not None and (last_success is None or latest_error.last_error_at > last_success)
    return SyncProgress(
        running=bool(running),
        percent=int(100 * done_weight / total_weight) if running else 100,
        phase=phase,
        last_success_at=last_success,
        last_error=latest_error.last_error if failing and latest_error else "",
        last_error_at=latest_error.last_error_at if latest_error else None,
        failing=failing,
    )


def sync_is_running(*, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return any(not _is_stale(s, now) for s in SyncState.objects.filter(kind__in=ALL_KINDS, running=True))


def sync_record_error(*, message: str, now: datetime | None = None) -> None:
    """Note a failure that stopped a sync before it began (e.g. Wix misconfigured), so the header shows it."""
    sync_states_ensure()
    SyncState.objects.filter(kind__in=ALL_KINDS).update(
        last_error=message[:2000], last_error_at=now or timezone.now(), running=False
    )


def sync_needs_full(*, now: datetime | None = None, every: timedelta | None = None) -> bool:
    """Whether the next poll should be a full sync: never synced, a kind has no cursor, or the
    last full sync is older than ``every`` (``settings.WIX_SYNC_FULL_EVERY_HOURS``, default 6)."""
    now = now or timezone.now()
    every = every or timedelta(hours=getattr(settings, "WIX_SYNC_FULL_EVERY_HOURS", 6))
    states = {s.kind: s for s in SyncState.objects.filter(kind__in=ALL_KINDS)}
    if len(states) < len(ALL_KINDS) or any(not s.cursor for s in states.values()):
        return True
    last_full = min((s.last_full_at for s in states.values() if s.last_full_at), default=None)
    return last_full is None or now - last_full > every


# --- the window -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime  # aware, local midnight 7 days back
    end: datetime  # aware, local midnight after the 60th day ahead
    tz: ZoneInfo

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M:%S")


def sync_window(*, now: datetime | None = None) -> Window:
    tz = _business_zone()
    today = (now or timezone.now()).astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=WINDOW_DAYS_BACK), time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=WINDOW_DAYS_AHEAD + 1), time.min, tzinfo=tz)
    return Window(start, end, tz)


def _business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- entry points -----------------------------------------------------------------------------


def sync_full(*, wix: WixClient, now: datetime | None = None, actor: str = "sync") -> SyncReport:
    """Rebuild the mirror of the window from Wix. Returns the report (``skipped`` when another
    sync holds the lock; ``error`` when Wix failed — recorded in ``SyncState`` too)."""
    return _run_sync("full", wix=wix, now=now, actor=actor)


def sync_incremental(*, wix: WixClient, now: datetime | None = None, actor: str = "sync") -> SyncReport:
    """Fetch only what changed since the last sync (a full sync when there is no cursor yet)."""
    if sync_needs_full(now=now, every=timedelta.max):
        return _run_sync("full", wix=wix, now=now, actor=actor)
    return _run_sync("incremental", wix=wix, now=now, actor=actor)


def _run_sync(mode: str, *, wix: WixClient, now: datetime | None, actor: str) -> SyncReport:
    now = now or timezone.now()
    report = SyncReport(mode=mode, started_at=now)
    if not _acquire(mode, now):
        report.skipped = True
        return report
    run = _Run(wix=wix, mode=mode, now=now, actor=actor, window=sync_window(now=now))
    clock = monotonic_time.perf_counter()
    try:
        if mode == "full":
            _full(run)
        else:
            _incremental(run)
    except WixError as exc:
        report.error = _describe(exc)
        _record_failure(run, report.error)
        logger.warning("wix sync (%s) failed in %s: %s", mode, run.phase, exc)
    except Exception as exc:
        report.error = f"Sync failed: {type(exc).__name__}: {exc}"
        _record_failure(run, report.error)
        raise
    finally:
        SyncState.objects.filter(kind__in=ALL_KINDS, running=True).update(running=False)
        report.seconds = monotonic_time.perf_counter() - clock
        report.wix_calls = run.calls
        report.written = run.written
        logger.info(
            "wix sync (%s): %d calls, %.1fs, wrote %s%s",
            mode,
            run.calls,
            report.seconds,
            dict(run.written),
            f", error: {report.error}" if report.error else "",
        )
    return report


def _describe(exc: WixError) -> str:
    if isinstance(exc, WixUnavailable | WixRateLimited):
        return f"Wix is unreachable: {exc}"
    return f"Wix refused the sync: {exc}"


# --- the run ----------------------------------------------------------------------------------


@dataclass
class _Run:
    wix: WixClient | None  # None: a write that makes no Wix call
    mode: str  # "full" | "incremental" | "webhook"
    now: datetime
    actor: str
    window: Window
    calls: int = 0
    phase: str = ""
    written: Counter[str] = field(default_factory=Counter)
    seen_contacts: set[str] = field(default_factory=set)  # fetched in this run already
    touched_contacts: set[str] = field(default_factory=set)  # Wix contact ids of bookings written

    def call(self, fn: Callable[..., Json], **kwargs: Any) -> Json:
        assert self.wix is not None, "this mirror write makes no Wix calls"
        self.calls += 1
        return fn(self.wix, **kwargs)


def _mirror_run(wix: WixClient, actor: str) -> _Run:
    now = timezone.now()
    return _Run(wix=wix, mode="webhook", now=now, actor=actor, window=sync_window(now=now))


def sync_states_ensure() -> None:
    """One ``SyncState`` row per kind (the rows double as the sync lock)."""
    existing = set(SyncState.objects.filter(kind__in=ALL_KINDS).values_list("kind", flat=True))
    missing = [SyncState(kind=k) for k in ALL_KINDS if k not in existing]
    if missing:
        SyncState.objects.bulk_create(missing, ignore_conflicts=True)


def _is_stale(state: SyncState, now: datetime) -> bool:
    started = max((t for t in (state.last_full_at, state.last_incremental_at) if t), default=None)
    return started is None or now - started > STALE_RUN


def _acquire(mode: str, now: datetime) -> bool:
    """Take the sync lock (every kind's ``running``), unless a live run holds it."""
    sync_states_ensure()
    with transaction.atomic():
        states = list(SyncState.objects.select_for_update().filter(kind__in=ALL_KINDS))
        if any(s.running and not _is_stale(s, now) for s in states):
            return False
        started = {"last_full_at": now} if mode == "full" else {"last_incremental_at": now}
        SyncState.objects.filter(kind__in=ALL_KINDS).update(
            running=True, progress_done=0, progress_total=None, **started
        )
    return True


def _phase(run: _Run, kind: str, *, total: int | None = None) -> None:
    run.phase = kind
    if run.mode != "webhook":
        SyncState.objects.filter(kind=kind).update(progress_done=0, progress_total=total)


def _progress(run: _Run, kind: str, done: int) -> None:
    if run.mode != "webhook":
        SyncState.objects.filter(kind=kind).update(progress_done=done)


def _finish(run: _Run, kind: str, *, since: str | None = None, to: datetime | None = None) -> None:
    """Mark ``kind`` done: clear its flag, note success and move its cursor (not for webhooks,
    which are no sync run)."""
    if run.mode == "webhook":
        return
    state = SyncState.objects.get(kind=kind)
    cursor = _cursor(state)
    if since is not None:
        cursor["since"] = since
    if to is not None:
        cursor["to"] = wix_timestamp(to)
    cursor.setdefault("since", "")
    state.cursor = json.dumps(cursor)
    state.running = False
    state.last_success_at = timezone.now()
    if state.progress_total is None:
        state.progress_total = state.progress_done
    state.progress_done = state.progress_total
    state.save(update_fields=["cursor", "running", "last_success_at", "progress_done", "progress_total"])


def _record_failure(run: _Run, message: str) -> None:
    kind = run.phase or Kind.SERVICES
    SyncState.objects.filter(kind=kind).update(last_error=message[:2000], last_error_at=timezone.now())


def _cursor(state: SyncState) -> dict[str, str]:
    try:
        value = json.loads(state.cursor) if state.cursor else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _since_after(run: _Run, previous: str = "") -> str:
    """The next ``since``: this run's start (our clock) less ``OVERLAP``, never moving back.

    Everything changed before the run began was read by it (pages in a stable order); anything
    changed after gets an ``updatedDate`` of at least the run's start, give or take clock skew
    between Wix and us, which ``OVERLAP`` absorbs. Taking our clock rather than the newest
    ``updatedDate`` seen also keeps a quiet site from re-reading its last change on every poll.
    UNCONFIRMED: Wix cursors page in a stable order (keyset); the sandbox pages by offset, which
    only matters when entities change while a page walk is in progress.
    """
    return max(wix_timestamp(run.now - OVERLAP), previous)


def _since_of(kind: str) -> str:
    state = SyncState.objects.filter(kind=kind).first()
    return _cursor(state).get("since", "") if state else ""


def _to_of(kind: str) -> datetime | None:
    state = SyncState.objects.filter(kind=kind).first()
    return wix_timestamp_parse(_cursor(state).get("to")) if state else None


# --- full and incremental ----------------------------------------------------------------------


def _full(run: _Run) -> None:
    window = run.window
    _phase(run, Kind.SERVICES)
    for page in _paged_offset(run, wix_services.query_services, "services", {}):
        _write(run, lambda page=page: _services_write(run, page))
    _finish(run, Kind.SERVICES, since=_since_after(run))

    _phase(run, Kind.STAFF)
    for page in _paged_cursor(run, wix_staff.query_staff_members, "staffMembers", {}):
        _write(run, lambda page=page: _staff_write(run, page))
    _finish(run, Kind.STAFF, since=_since_after(run))

    _phase(run, Kind.SESSIONS)
    _sessions_fetch(run, {"type": {"$in": SESSION_TYPES}}, window.start, window.end)
    _finish(run, Kind.SESSIONS, since=_since_after(run), to=window.end)

    booking_filter = _overlapping(window.start, window.end)
    total = run.call(extended_bookings.count_extended_bookings, filter=booking_filter).get("count")
    _phase(run, Kind.BOOKINGS, total=int(total) if total is not None else None)
    done = 0
    for page in _extended_pages(run, booking_filter, sort="createdDate"):
        _extended_apply(run, page, refresh_contacts=True)
        done += len(page)
        _progress(run, Kind.BOOKINGS, done)
    _finish(run, Kind.BOOKINGS, since=_since_after(run), to=window.end)
    _finish(run, Kind.CONTACTS, since=_since_after(run))
    _finish(run, Kind.ORDERS, since=_since_after(run))

    contact_ids = set(
        Booking.objects.filter(_in_window_q(window), contact__wix_id__isnull=False).values_list(
            "contact__wix_id", flat=True
        )
    )
    _people_and_plans(run, contact_ids, refresh_members=True)
    _finish(run, Kind.BALANCES, since=_since_after(run))


def _incremental(run: _Run) -> None:
    window = run.window
    _phase(run, Kind.SERVICES)
    since = _since_of(Kind.SERVICES)
    for page in _paged_offset(run, wix_services.query_services, "services", _changed(since)):
        _write(run, lambda page=page: _services_write(run, page))
    _finish(run, Kind.SERVICES, since=_since_after(run, since))

    _phase(run, Kind.STAFF)
    since = _since_of(Kind.STAFF)
    for page in _paged_cursor(run, wix_staff.query_staff_members, "staffMembers", _changed(since)):
        _write(run, lambda page=page: _staff_write(run, page))
    _finish(run, Kind.STAFF, since=_since_after(run, since))

    _phase(run, Kind.SESSIONS)
    since = _since_of(Kind.SESSIONS)
    _sessions_fetch(run, {"type": {"$in": SESSION_TYPES}, **_changed(since)}, window.start, window.end)
    entered_from = max(_to_of(Kind.SESSIONS) or window.end, window.start)
    if entered_from < window.end:  # the window moved on: sessions that just entered it
        _sessions_fetch(run, {"type": {"$in": SESSION_TYPES}}, entered_from, window.end)
    _finish(run, Kind.SESSIONS, since=_since_after(run, since), to=window.end)

    _phase(run, Kind.BOOKINGS)
    since = _since_of(Kind.BOOKINGS)
    done = 0
    for page in _extended_pages(run, _changed(since), sort="updatedDate"):
        # A changed booking outside the window that we do not hold is not ours to mirror.
        held = set(
            Booking.objects.filter(wix_id__in=[i["booking"]["id"] for i in page]).values_list("wix_id", flat=True)
        )
        keep = [i for i in page if i["booking"]["id"] in held or _booking_in_window(i["booking"], window)]
        done += _extended_apply(run, keep, refresh_contacts=False)
        _progress(run, Kind.BOOKINGS, done)
    entered_from = max(_to_of(Kind.BOOKINGS) or window.end, window.start)
    if entered_from < window.end:
        for page in _extended_pages(run, _overlapping(entered_from, window.end), sort="createdDate"):
            done += _extended_apply(run, page, refresh_contacts=False)
    _attendance_of_today(run)
    _finish(run, Kind.BOOKINGS, since=_since_after(run, since), to=window.end)

    _phase(run, Kind.ORDERS)
    since = _since_of(Kind.ORDERS)
    if since:
        _orders_changed(run, since)
    _finish(run, Kind.ORDERS, since=_since_after(run, since))

    _phase(run, Kind.CONTACTS)
    since = _since_of(Kind.CONTACTS)
    if since:
        _contacts_changed(run, since)
    _finish(run, Kind.CONTACTS, since=_since_after(run, since))

    # Members, plans and credits of the people whose bookings changed; credits that moved.
    _people_and_plans(run, set(run.touched_contacts), refresh_members=False)
    since = _since_of(Kind.BALANCES)
    if since:
        _balances_changed(run, since)
    _finish(run, Kind.BALANCES, since=_since_after(run, since))


# --- paging -----------------------------------------------------------------------------------


def _changed(since: str) -> Json:
    return {"updatedDate": {"$gte": since}} if since else {}


def _overlapping(start: datetime, end: datetime) -> Json:
    """Bookings whose time overlaps [start, end): a course booking spans all its sessions."""
    return {"startDate": {"$lt": wix_timestamp(end)}, "endDate": {"$gt": wix_timestamp(start)}}


def _in_window_q(window: Window) -> Q:
    return Q(session__start__gte=window.start, session__start__lt=window.end) | Q(session__isnull=True)


def _booking_in_window(booking: Json, window: Window) -> bool:
    start, end = wix_timestamp_parse(booking.get("startDate")), wix_timestamp_parse(booking.get("endDate"))
    if start is None:
        return True  # a course with no sessions yet: small, keep it
    return start < window.end and (end or start) > window.start


def _paged_cursor(run: _Run, fn: Callable[..., Json], key: str, flt: Json, **extra: Any) -> Iterator[list[Json]]:
    """Pages of a cursor-paged Wix query; the cursor carries the filter, so later pages send only it."""
    query: Json = {"cursorPaging": {"limit": PAGE}}
    if flt:
        query["filter"] = flt
    if "sort" in extra:
        query["sort"] = extra.pop("sort")
    first = True
    while True:
        answer = run.call(fn, query=query, **(extra if first else _cursor_extra(extra)))
        items = answer.get(key) or []
        yield items
        meta = answer.get("pagingMetadata") or answer.get("metadata") or {}
        cursor = (meta.get("cursors") or {}).get("next")
        if not cursor or not items:
            return
        query = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}
        first = False


def _cursor_extra(extra: Json) -> Json:
    # With a cursor Wix wants only the cursor (the window travels in it); flags stay.
    return {k: v for k, v in extra.items() if k.startswith("with_") or k == "fieldsets"}


def _paged_offset(run: _Run, fn: Callable[..., Json], key: str, flt: Json, **extra: Any) -> Iterator[list[Json]]:
    offset = 0
    while True:
        query: Json = {"paging": {"limit": PAGE, "offset": offset}}
        if flt:
            query["filter"] = flt
        answer = run.call(fn, query=query, **extra)
        items = answer.get(key) or []
        yield items
        meta = answer.get("pagingMetadata") or answer.get("metadata") or {}
        offset += len(items)
        total = meta.get("total")
        if not items or len(items) < PAGE or (isinstance(total, int) and offset >= total):
            return


def _batches(ids: Iterable[str], size: int = PAGE) -> Iterator[list[str]]:
    unique = sorted({i for i in ids if i})
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _write(run: _Run, fn: Callable[[], None]) -> None:
    with transaction.atomic():
        fn()


# --- the newer-wins bulk upsert -----------------------------------------------------------------


@dataclass
class _Row:
    wix_id: str
    revision: int | str | None
    updated_at: datetime | None
    values: Json


@dataclass
class _Upserted:
    objects: dict[str, Any] = field(default_factory=dict)  # wix_id -> row as now stored (written or kept)
    created: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)  # a value changed (not only the version markers)
    written: set[str] = field(default_factory=set)  # created, or updated in any way
    before: dict[str, Json] = field(default_factory=dict)  # wix_id -> old values of changed rows


def _upsert(
    run: _Run,
    model: type[M],
    rows: Iterable[_Row],
    *,
    keep: Callable[[M], bool] | None = None,
    existing: dict[str, M] | None = None,
) -> _Upserted:
    """Write ``rows`` unless the mirror holds a version at least as new (``models.is_newer``).

    Call inside a transaction. ``keep(row)`` True leaves a held row untouched (a booking with a
    desk change in flight). ``existing`` adds held rows found another way (an attendance the desk
    created before Wix gave it an id). A payload newer by its markers but equal in every value
    changes nothing but the markers.
    """
    latest: dict[str, _Row] = {}
    for row in rows:
        if row.wix_id:
            latest[row.wix_id] = row  # the last of duplicates in one page wins
    result = _Upserted()
    if not latest:
        return result
    held: dict[str, M] = dict(existing or {})
    for obj in model.objects.select_for_update().filter(wix_id__in=list(latest)):
        held[obj.wix_id] = obj
    stamp = timezone.now()
    to_create: list[M] = []
    to_update: list[M] = []
    fields: set[str] = set()
    for wix_id, row in latest.items():
        rev = parse_revision(row.revision)
        current = held.get(wix_id)
        if current is None:
            obj = model(wix_id=wix_id, revision=rev, wix_updated_at=row.updated_at, synced_at=stamp, **row.values)
            to_create.append(obj)
            continue
        result.objects[wix_id] = current
        if keep is not None and keep(current):
            continue
        if current.wix_id and not is_newer(incoming_revision=rev, incoming_updated_at=row.updated_at, current=current):
            continue
        differs = {f for f, v in row.values.items() if getattr(current, f) != v}
        if not differs and current.wix_id and rev == current.revision and row.updated_at == current.wix_updated_at:
            continue
        if differs - {"raw"}:
            result.before[wix_id] = {f: getattr(current, f) for f in differs - {"raw"}}
            result.changed.add(wix_id)
        for f, v in row.values.items():
            setattr(current, f, v)
        current.wix_id = wix_id
        if rev is not None:
            current.revision = rev
        if row.updated_at is not None:
            current.wix_updated_at = row.updated_at
        current.synced_at = stamp
        fields |= set(row.values) | {"wix_id", "revision", "wix_updated_at", "synced_at"}
        to_update.append(current)
        result.written.add(wix_id)
    if to_create:
        try:
            with transaction.atomic():
                model.objects.bulk_create(to_create, batch_size=500)
        except IntegrityError:
            # Someone inserted one of them meanwhile: settle them one by one, newer-wins.
            for obj in to_create:
                row = latest[obj.wix_id]
                model.objects.upsert_from_wix(
                    obj.wix_id, revision=row.revision, updated_at=row.updated_at, defaults=row.values
                )
            to_create = [obj for obj in to_create if obj.pk is None]
        if any(obj.pk is None for obj in to_create):
            fresh = {o.wix_id: o for o in model.objects.filter(wix_id__in=[o.wix_id for o in to_create])}
            to_create = [fresh[o.wix_id] for o in to_create if o.wix_id in fresh]
        for obj in to_create:
            result.objects[obj.wix_id] = obj
            result.created.add(obj.wix_id)
            result.written.add(obj.wix_id)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=500)
    run.written[model.__name__] += len(result.written)
    return result


# --- services, staff, sessions -------------------------------------------------------------------


def _services_write(run: _Run, services: list[Json]) -> dict[str, Service]:
    rows = []
    for s in services:
        payment = s.get("payment") or {}
        price = ((payment.get("fixed") or {}).get("price")) or {}
        rows.append(
            _Row(
                s["id"],
                s.get("revision"),
                wix_timestamp_parse(s.get("updatedDate")),
                {
                    "type": s.get("type") or Service.Type.CLASS,
                    "name": _text(s.get("name"), 400),
                    "price": _money(price.get("value")),
                    "currency": _text(price.get("currency"), 3),
                    "default_capacity": _int(s.get("defaultCapacity")),
                    "schedule_id": _text((s.get("schedule") or {}).get("id"), 250),
                    "pricing_plan_enabled": bool((payment.get("options") or {}).get("pricingPlan")),
                    "hidden": bool(s.get("hidden")),
                    "raw": s,
                },
            )
        )
    return _upsert(run, Service, rows).objects


def _staff_write(run: _Run, staff: list[Json]) -> None:
    rows = []
    for s in staff:
        rows.append(
            _Row(
                s["id"],
                s.get("revision"),
                wix_timestamp_parse(s.get("updatedDate")),
                {
                    "name": _text(s.get("name"), 400),
                    "email": _text(s.get("email"), 254),
                    "phone": _text(s.get("phone"), 50),
                    "resource_id": _text(s.get("resourceId"), 250),
                    "raw": s,
                },
            )
        )
    _upsert(run, StaffMember, rows)


def _sessions_fetch(run: _Run, flt: Json, start: datetime, end: datetime) -> None:
    for page in _paged_cursor(
        run,
        calendar.query_events,
        "events",
        flt,
        from_local_date=run.window.local(start),
        to_local_date=run.window.local(end),
        time_zone=run.window.tz.key,
    ):
        fresh = _unchanged_dropped(Session, page) if run.mode != "full" else page
        if fresh:
            _write(run, lambda fresh=fresh: _events_write(run, fresh))


class _Refs:
    """Lookups from Wix ids to local rows, loaded once per page (one query per model)."""

    def __init__(self) -> None:
        self.services: dict[str, Service] = {}
        self.by_schedule: dict[str, Service] = {}
        self.staff_by_resource: dict[str, int] = {}

    @classmethod
    def load(cls, *, service_ids: Iterable[str] = (), schedule_ids: Iterable[str] = ()) -> _Refs:
        refs = cls()
        wanted, schedules = set(filter(None, service_ids)), set(filter(None, schedule_ids))
        if wanted or schedules:
            for service in Service.objects.filter(Q(wix_id__in=wanted) | Q(schedule_id__in=schedules)):
                refs.services[service.wix_id or ""] = service
                if service.schedule_id:
                    refs.by_schedule[service.schedule_id] = service
        refs.staff_by_resource = dict(StaffMember.objects.exclude(resource_id="").values_list("resource_id", "pk"))
        return refs

    def service_of_event(self, event: Json) -> Service | None:
        return self.services.get(event.get("externalScheduleId") or "") or self.by_schedule.get(
            event.get("scheduleId") or ""
        )

    def staff_of(self, resources: Iterable[Json]) -> int | None:
        for resource in resources:
            pk = self.staff_by_resource.get((resource or {}).get("id") or "")
            if pk:
                return pk
        return None


def _events_write(run: _Run, events: list[Json], *, service_hint: dict[str, Service] | None = None) -> dict[str, Any]:
    refs = _Refs.load(
        service_ids=[e.get("externalScheduleId") for e in events], schedule_ids=[e.get("scheduleId") for e in events]
    )
    rows = []
    for event in events:
        service = refs.service_of_event(event) or (service_hint or {}).get(event["id"])
        if service is None:
            logger.info("wix sync: event %s belongs to no mirrored service; skipped", event.get("id"))
            continue
        tz_name = event.get("timeZone") or (event.get("start") or {}).get("timeZone") or settings.TIME_ZONE
        tz = _zone(tz_name)
        start = wix_local_parse((event.get("start") or {}).get("localDate"), tz)
        end = wix_local_parse((event.get("end") or {}).get("localDate"), tz)
        if start is None or end is None:
            continue
        rows.append(
            _Row(
                event["id"],
                event.get("revision"),
                wix_timestamp_parse(event.get("updatedDate")),
                {
                    "service_id": service.pk,
                    "title": _text(event.get("title") or service.name, 400),
                    "start": start,
                    "end": end,
                    "timezone": _text(tz_name, 64),
                    "capacity": _int(event.get("totalCapacity")),
                    "status": _text(event.get("status") or "CONFIRMED", 32),
                    "staff_id": refs.staff_of(event.get("resources") or []),
                    "location_name": _text((event.get("location") or {}).get("name"), 400),
                    "schedule_id": _text(event.get("scheduleId"), 250),
                    "raw": event,
                },
            )
        )
    return _upsert(run, Session, rows).objects


# --- bookings ---------------------------------------------------------------------------------


def _extended_pages(run: _Run, flt: Json, *, sort: str) -> Iterator[list[Json]]:
    # createdDate never changes, so a full sync's pages cannot shift under concurrent edits;
    # an incremental poll walks updatedDate upwards.
    yield from _paged_cursor(
        run,
        extended_bookings.query_extended_bookings,
        "extendedBookings",
        flt,
        sort=[{"fieldName": sort, "order": "ASC"}],
        with_booking_attendance_info=True,
        with_ecom_order=True,
    )


def _extended_apply(run: _Run, items: list[Json], *, refresh_contacts: bool) -> int:
    """Mirror one page of extended bookings (``{booking, attendance?, order?}``) and everything
    they name: contacts, sessions, orders, line items, payments. Returns how many bookings were new
    or changed. All Wix calls first, then one transaction.

    The reader's ``order`` is a summary (id, number, status, paymentStatus, totals): the full
    orders come from Search Orders by id, one call per page. Search never returns INITIALIZED
    orders (online checkouts not paid yet); those are mirrored from the summary.
    """
    if run.mode != "full":
        items = _unchanged_extended_dropped(items)
    if not items:
        return 0
    bookings = [i["booking"] for i in items]
    contact_ids = {_contact_id(b) for b in bookings} - {""}
    run.touched_contacts |= contact_ids

    contacts = _contacts_fetch(run, contact_ids, refresh=refresh_contacts)
    services = _services_fetch_missing(run, {_service_id(b) for b in bookings})
    event_ids = {_slot(b).get("eventId") for b in bookings if _slot(b).get("eventId")}
    held_events = set(Session.objects.filter(wix_id__in=event_ids).values_list("wix_id", flat=True))
    events = _events_fetch(run, event_ids - held_events)
    summaries = {i["order"]["id"]: (i["order"], i["booking"]) for i in items if (i.get("order") or {}).get("id")}
    orders = _orders_fetch(run, list(summaries))
    transactions = _transactions_fetch(run, list(summaries))
    course_ids = [b["id"] for b in bookings if (b.get("bookedEntity") or {}).get("schedule")]
    course_attendance = _attendance_fetch(run, {"bookingId": {"$in": course_ids}}) if course_ids else []

    with transaction.atomic():
        if contacts:
            _contacts_write(run, contacts)
        if services:
            _services_write(run, services)
        if events:
            _events_write(run, events, service_hint=_event_service_hints(bookings))
        written = _bookings_write(run, items)
        _attendance_write(run, items, written, course_attendance)
        if orders:
            _orders_write(run, orders, transactions)
        initialized = [summaries[i] for i in summaries if i not in {o["id"] for o in orders}]
        if initialized:
            _order_summaries_write(run, initialized, transactions)
    return len(written.created) + len(written.changed)


def _event_service_hints(bookings: list[Json]) -> dict[str, Service]:
    """Event id -> the service its bookings name: for an event whose schedule is no service's
    (an appointment's event sits on the staff member's schedule)."""
    services = {s.wix_id: s for s in Service.objects.filter(wix_id__in={_service_id(b) for b in bookings})}
    hints: dict[str, Service] = {}
    for booking in bookings:
        event_id = _slot(booking).get("eventId")
        if event_id and _service_id(booking) in services:
            hints[event_id] = services[_service_id(booking)]
    return hints


def _unchanged_dropped(model: type[WixMirror], entities: list[Json]) -> list[Json]:
    """Entities (an overlapping poll brings some back) without those the mirror holds at that version."""
    held = {
        wix_id: (rev, updated)
        for wix_id, rev, updated in model.objects.filter(wix_id__in=[e["id"] for e in entities]).values_list(
            "wix_id", "revision", "wix_updated_at"
        )
    }
    fresh = []
    for entity in entities:
        version = held.get(entity["id"])
        if version is not None and version == (
            parse_revision(entity.get("revision")),
            wix_timestamp_parse(entity.get("updatedDate")),
        ):
            continue
        fresh.append(entity)
    return fresh


def _unchanged_extended_dropped(items: list[Json]) -> list[Json]:
    """Extended bookings without those whose booking we hold at that version and whose order
    summary says what our order row says (the summary carries no version of its own)."""
    fresh_bookings = {b["id"] for b in _unchanged_dropped(Booking, [i["booking"] for i in items])}
    held_orders = {
        o.wix_id: o for o in Order.objects.filter(wix_id__in=[(i.get("order") or {}).get("id") for i in items])
    }

    def order_moved(summary: Json | None) -> bool:
        if not summary or not summary.get("id"):
            return False
        held = held_orders.get(summary["id"])
        return held is None or (held.status, held.payment_status, held.balance) != (
            summary.get("status") or "",
            summary.get("paymentStatus") or "",
            _money((summary.get("balance") or {}).get("amount")) or Decimal("0"),
        )

    return [i for i in items if i["booking"]["id"] in fresh_bookings or order_moved(i.get("order"))]


def _slot(booking: Json) -> Json:
    return (booking.get("bookedEntity") or {}).get("slot") or {}


def _service_id(booking: Json) -> str:
    entity = booking.get("bookedEntity") or {}
    return (entity.get("slot") or {}).get("serviceId") or (entity.get("schedule") or {}).get("serviceId") or ""


def _contact_id(booking: Json) -> str:
    return (booking.get("contactDetails") or {}).get("contactId") or ""


def _participants(booking: Json) -> int:
    if booking.get("totalParticipants") is not None:
        return max(int(booking["totalParticipants"]), 0)
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    return sum(int(c.get("numberOfParticipants") or 0) for c in choices) or 1


def appointment_session_id(booking_id: str) -> str:
    """The ``Session.wix_id`` of an appointment that Wix gave no calendar event id: the session
    is the booking's own time slot. Not an event id — never send it to Calendar or Attendance."""
    return f"{APPOINTMENT_PREFIX}{booking_id}"


def _bookings_write(run: _Run, items: list[Json]) -> _Upserted:
    bookings = [i["booking"] for i in items]
    services = {s.wix_id: s for s in Service.objects.filter(wix_id__in={_service_id(b) for b in bookings})}
    contacts = dict(Contact.objects.filter(wix_id__in={_contact_id(b) for b in bookings}).values_list("wix_id", "pk"))
    held_contact = dict(
        Booking.objects.filter(wix_id__in=[b["id"] for b in bookings]).values_list("wix_id", "contact_id")
    )
    appointments = [b for b in bookings if _slot(b) and not _slot(b).get("eventId")]
    sessions = _appointment_sessions_write(run, appointments, services) if appointments else {}
    event_ids = {_slot(b).get("eventId") for b in bookings} - {None}
    sessions.update(dict(Session.objects.filter(wix_id__in=event_ids).values_list("wix_id", "pk")))

    rows = []
    for booking in bookings:
        service = services.get(_service_id(booking))
        if service is None:
            logger.warning(
                "wix sync: booking %s names unknown service %s; skipped", booking["id"], _service_id(booking)
            )
            continue
        contact_pk = contacts.get(_contact_id(booking)) or held_contact.get(booking["id"])
        if contact_pk is None:
            contact_pk = _contact_from_details(booking).pk
        slot = _slot(booking)
        session_key = slot.get("eventId") or (appointment_session_id(booking["id"]) if slot else None)
        rows.append(
            _Row(
                booking["id"],
                booking.get("revision"),
                wix_timestamp_parse(booking.get("updatedDate")),
                {
                    "session_id": sessions.get(session_key) if session_key else None,
                    "service_id": service.pk,
                    "contact_id": contact_pk,
                    "status": _text(booking.get("status") or Booking.Status.CREATED, 16),
                    "payment_status": _text(booking.get("paymentStatus") or Booking.PaymentStatus.UNDEFINED, 16),
                    "selected_payment_option": _text(
                        booking.get("selectedPaymentOption") or Booking.PaymentOption.UNDEFINED, 24
                    ),
                    "total_participants": _participants(booking),
                    "wix_created_at": wix_timestamp_parse(booking.get("createdDate")),
                    "raw": booking,
                },
            )
        )
    result = _upsert(run, Booking, rows, keep=lambda b: b.pending_sync)
    _audit_changes(run, result, "booking", ("status", "payment_status"))
    return result


def _appointment_sessions_write(run: _Run, bookings: list[Json], services: dict[str, Service]) -> dict[str, int]:
    staff = dict(StaffMember.objects.exclude(resource_id="").values_list("resource_id", "pk"))
    rows = []
    for booking in bookings:
        service = services.get(_service_id(booking))
        slot = _slot(booking)
        start = wix_timestamp_parse(booking.get("startDate")) or wix_timestamp_parse(slot.get("startDate"))
        end = wix_timestamp_parse(booking.get("endDate")) or wix_timestamp_parse(slot.get("endDate"))
        if service is None or start is None or end is None:
            continue
        cancelled = booking.get("status") in (Booking.Status.CANCELED, Booking.Status.DECLINED)
        rows.append(
            _Row(
                appointment_session_id(booking["id"]),
                booking.get("revision"),
                wix_timestamp_parse(booking.get("updatedDate")),
                {
                    "service_id": service.pk,
                    "title": _text((booking.get("bookedEntity") or {}).get("title") or service.name, 400),
                    "start": start,
                    "end": end,
                    "timezone": _text(slot.get("timezone") or settings.TIME_ZONE, 64),
                    "capacity": service.default_capacity or 1,
                    "status": "CANCELLED" if cancelled else "CONFIRMED",
                    "staff_id": staff.get((slot.get("resource") or {}).get("id") or ""),
                    "location_name": _text((slot.get("location") or {}).get("name"), 400),
                    "schedule_id": _text(slot.get("scheduleId"), 250),
                    "raw": {"appointmentBookingId": booking["id"], "slot": slot},
                },
            )
        )
    return {wix_id: obj.pk for wix_id, obj in _upsert(run, Session, rows).objects.items()}


def _contact_from_details(booking: Json) -> Contact:
    # UNCONFIRMED: Wix resolves a contact for every booking; should one come without, keep the
    # booking with a local contact made from its details rather than lose it.
    details = booking.get("contactDetails") or {}
    contact = Contact(
        first_name=_text(details.get("firstName"), 200),
        last_name=_text(details.get("lastName"), 200),
        email=_text(details.get("email"), 320),
        phone=_text(details.get("phone"), 50),
    )
    contact.save()
    return contact


def _audit_changes(run: _Run, result: _Upserted, obj_type: str, fields: tuple[str, ...]) -> None:
    entries: list[AuditEntry] = []
    for wix_id in sorted(result.changed):
        before = {f: v for f, v in result.before[wix_id].items() if f in fields}
        if not before:
            continue
        obj = result.objects[wix_id]
        after = {f: getattr(obj, f) for f in before}
        change = "; ".join(f"{f.replace('_', ' ')} {before[f]} → {after[f]}" for f in before)
        entries.append(
            audit_entry(
                user=run.actor,
                action=f"{obj_type}.changed_in_wix",
                obj_type=obj_type,
                obj_id=wix_id,
                summary=f"Wix changed {obj_type} {wix_id[:8]}: {change}",
                before=before,
                after=after,
            )
        )
    if entries:
        AuditEntry.objects.bulk_create(entries)


def _attendance_write(run: _Run, items: list[Json], bookings: _Upserted, course_attendance: list[Json]) -> None:
    """Attendance from the extended bookings (for their own session) and, for course bookings,
    from Query Attendance (one record per course session). Bookings with a desk change in
    flight keep what the desk set."""
    entries: list[tuple[Json, Booking, int]] = []
    for item in items:
        booking = bookings.objects.get(item["booking"]["id"])
        attendance = item.get("attendance")
        if attendance and booking is not None and booking.session_id and not booking.pending_sync:
            entries.append((attendance, booking, booking.session_id))
    if course_attendance:
        sessions = dict(
            Session.objects.filter(
                wix_id__in={a.get("eventId") or a.get("sessionId") for a in course_attendance}
            ).values_list("wix_id", "pk")
        )
        for attendance in course_attendance:
            booking = bookings.objects.get(attendance.get("bookingId") or "")
            session_pk = sessions.get(attendance.get("eventId") or attendance.get("sessionId") or "")
            if booking is not None and session_pk and not booking.pending_sync:
                entries.append((attendance, booking, session_pk))
    _attendance_upsert(run, entries)


def _attendance_upsert(run: _Run, entries: list[tuple[Json, Booking, int]]) -> None:
    if not entries:
        return
    held_by_pair = {
        (a.booking_id, a.session_id): a
        for a in Attendance.objects.select_for_update().filter(booking_id__in={b.pk for _, b, _ in entries})
    }
    existing: dict[str, Attendance] = {}
    rows = []
    for attendance, booking, session_pk in entries:
        wix_id = attendance.get("id")
        if not wix_id:
            continue
        held = held_by_pair.get((booking.pk, session_pk))
        if held is not None and held.wix_id != wix_id:
            existing[wix_id] = held  # made at the desk before Wix named it, or re-created in Wix
        rows.append(
            _Row(
                wix_id,
                attendance.get("revision"),
                wix_timestamp_parse(attendance.get("updatedDate")),
                {
                    "booking_id": booking.pk,
                    "session_id": session_pk,
                    "status": _text(attendance.get("status") or Attendance.Status.NOT_SET, 16),
                    "number_of_attendees": max(_int(attendance.get("numberOfAttendees")) or 0, 0)
                    if attendance.get("numberOfAttendees") is not None
                    else 1,
                    "raw": attendance,
                },
            )
        )
    _upsert(run, Attendance, rows, existing=existing)


def _attendance_fetch(run: _Run, flt: Json) -> list[Json]:
    found: list[Json] = []
    for page in _paged_cursor(run, wix_attendance.query_attendance, "attendances", flt):
        found.extend(page)
    return found


def _attendance_of_today(run: _Run) -> None:
    """Attendance set in Wix's dashboard touches no booking, so a poll re-reads today's (one call)."""
    tz = run.window.tz
    today = run.now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    sessions = dict(
        Session.objects.filter(start__gte=start, start__lt=start + timedelta(days=1))
        .exclude(wix_id__startswith=APPOINTMENT_PREFIX)
        .exclude(wix_id__isnull=True)
        .values_list("wix_id", "pk")
    )
    found: list[Json] = []
    for batch in _batches(sessions):
        found.extend(_attendance_fetch(run, {"eventId": {"$in": batch}}))
    if not found:
        return
    bookings = {
        b.wix_id: b for b in Booking.objects.filter(wix_id__in={a.get("bookingId") for a in found}, pending_sync=False)
    }
    entries = [
        (a, bookings[a["bookingId"]], sessions[a.get("eventId")])
        for a in found
        if a.get("bookingId") in bookings and a.get("eventId") in sessions
    ]
    with transaction.atomic():
        _attendance_upsert(run, entries)


# --- contacts -----------------------------------------------------------------------------------


def _contacts_fetch(run: _Run, ids: set[str], *, refresh: bool) -> list[Json]:
    """Contacts by id, in batches: all not yet fetched in this run (``refresh``), else only those
    not mirrored yet (contacts change rarely; the contacts poll catches edits)."""
    wanted = ids - run.seen_contacts
    if not refresh:
        wanted -= set(Contact.objects.filter(wix_id__in=wanted).values_list("wix_id", flat=True))
    found: list[Json] = []
    for batch in _batches(wanted):
        answer = run.call(
            wix_contacts.query_contacts, query={"filter": {"id": {"$in": batch}}, "paging": {"limit": PAGE}}
        )
        found.extend(answer.get("contacts") or [])
    run.seen_contacts |= wanted
    return found


def _contacts_write(run: _Run, contacts: list[Json]) -> dict[str, Contact]:
    rows = []
    for c in contacts:
        info = c.get("info") or {}
        name = info.get("name") or {}
        primary = c.get("primaryInfo") or {}
        rows.append(
            _Row(
                c["id"],
                c.get("revision"),
                wix_timestamp_parse(c.get("updatedDate")),
                {
                    "first_name": _text(name.get("first"), 200),
                    "last_name": _text(name.get("last"), 200),
                    "email": _text(primary.get("email") or _first_item(info.get("emails"), "email"), 320),
                    "phone": _text(primary.get("phone") or _first_item(info.get("phones"), "phone"), 50),
                    "raw": c,
                },
            )
        )
    # One by one: Contact.save() keeps the search columns in step.
    result = _Upserted()
    for row in rows:
        upserted = Contact.objects.upsert_from_wix(
            row.wix_id, revision=row.revision, updated_at=row.updated_at, defaults=row.values
        )
        result.objects[row.wix_id] = upserted.instance
        if upserted.written:
            run.written["Contact"] += 1
    return result.objects


def _first_item(container: Any, key: str) -> str:
    items = (container or {}).get("items") if isinstance(container, dict) else None
    for item in items or []:
        if item.get(key):
            return item[key]
    return ""


def _contacts_changed(run: _Run, since: str) -> None:
    for page in _paged_offset(run, wix_contacts.query_contacts, "contacts", _changed(since)):
        held = set(Contact.objects.filter(wix_id__in=[c["id"] for c in page]).values_list("wix_id", flat=True))
        ours = _unchanged_dropped(Contact, [c for c in page if c["id"] in held])
        if ours:
            _write(run, lambda ours=ours: _contacts_write(run, ours))


def mirror_contacts(*, wix: WixClient, contacts: list[Json], actor: str = "webhook") -> dict[str, Contact]:
    """Write contacts (as Wix sends them) into the mirror, newer-wins."""
    run = _mirror_run(wix, actor)
    with transaction.atomic():
        return _contacts_write(run, contacts)


# --- services fetched on demand -------------------------------------------------------------------


def _services_fetch_missing(run: _Run, ids: set[str]) -> list[Json]:
    missing = (ids - {""}) - set(Service.objects.filter(wix_id__in=ids).values_list("wix_id", flat=True))
    found: list[Json] = []
    for batch in _batches(missing):
        answer = run.call(
            wix_services.query_services, query={"filter": {"id": {"$in": batch}}, "paging": {"limit": PAGE}}
        )
        found.extend(answer.get("services") or [])
    return found


def _events_fetch(run: _Run, ids: set[str]) -> list[Json]:
    found: list[Json] = []
    for batch in _batches(ids, URL_BATCH):
        found.extend(run.call(calendar.list_events, event_ids=batch).get("events") or [])
    return found


# --- orders and payments ------------------------------------------------------------------------


def _orders_fetch(run: _Run, order_ids: list[str]) -> list[Json]:
    """Full eCommerce orders by id (Search Orders, ≤100 a call). INITIALIZED ones never come back."""
    found: list[Json] = []
    for batch in _batches(order_ids):
        search = {"filter": {"id": {"$in": batch}}, "cursorPaging": {"limit": PAGE}}
        while True:
            answer = run.call(wix_orders.search_orders, search=search)
            found.extend(answer.get("orders") or [])
            cursor = ((answer.get("metadata") or {}).get("cursors") or {}).get("next")
            if not cursor:
                break
            search = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}
    return found


def _order_summaries_write(run: _Run, summaries: list[tuple[Json, Json]], payments: dict[str, list[Json]]) -> None:
    """Orders known only by the reader's summary: the buyer is the booking's contact, the one
    line is the booking. No version markers, so a full order read later always replaces it."""
    contacts = dict(
        Contact.objects.filter(wix_id__in={_contact_id(b) for _, b in summaries}).values_list("wix_id", "pk")
    )
    rows = []
    for summary, booking in summaries:
        total = _money((summary.get("totalPrice") or {}).get("amount")) or Decimal("0")
        balance = _money((summary.get("balance") or {}).get("amount")) or Decimal("0")
        rows.append(
            _Row(
                summary["id"],
                None,
                None,
                {
                    "number": _text(summary.get("number"), 64),
                    "contact_id": contacts.get(_contact_id(booking)),
                    "status": _text(summary.get("status"), 16),
                    "payment_status": _text(summary.get("paymentStatus"), 24),
                    "total": total,
                    "paid": max(total - balance, Decimal("0")),
                    "balance": balance,
                    "currency": _text(summary.get("currency"), 3),
                    "raw": {"summary": summary},
                },
            )
        )
    result = _upsert(run, Order, rows)
    bookings = dict(Booking.objects.filter(wix_id__in=[b["id"] for _, b in summaries]).values_list("wix_id", "pk"))
    written = [(s, b) for s, b in summaries if s["id"] in result.written]
    OrderLineItem.objects.filter(order_id__in=[result.objects[s["id"]].pk for s, _ in written]).delete()
    lines = [
        OrderLineItem(
            order_id=result.objects[summary["id"]].pk,
            line_item_id="",  # unknown until the full order is read
            catalog_item_id=_text(booking["id"], 250),
            booking_id=bookings.get(booking["id"]),
            name=_text((summary.get("bookingPriceDescription") or {}).get("original"), 400),
            quantity=1,
            price=_money((summary.get("bookingPrice") or {}).get("amount")) or Decimal("0"),
        )
        for summary, booking in written
    ]
    OrderLineItem.objects.bulk_create(lines)
    run.written["OrderLineItem"] += len(lines)
    _audit_changes(run, result, "order", ("payment_status",))
    _payments_write(
        run,
        [{"id": s["id"], "currency": s.get("currency")} for s, _ in summaries],
        payments,
        result.objects,
    )


def _transactions_fetch(run: _Run, order_ids: list[str]) -> dict[str, list[Json]]:
    """Order id -> its payments, from List Transactions For Multiple Orders in batches."""
    payments: dict[str, list[Json]] = {}
    for batch in _batches(order_ids):
        answer = run.call(order_transactions.list_transactions_for_multiple_orders, order_ids=batch)
        for record in answer.get("orderTransactions") or []:
            payments[record.get("orderId") or ""] = list(record.get("payments") or [])
    return payments


def _orders_write(run: _Run, orders: list[Json], payments: dict[str, list[Json]] | None) -> _Upserted:
    contacts = dict(
        Contact.objects.filter(wix_id__in={(o.get("buyerInfo") or {}).get("contactId") for o in orders}).values_list(
            "wix_id", "pk"
        )
    )
    rows = []
    for order in orders:
        summary = order.get("priceSummary") or {}
        balance = order.get("balanceSummary") or {}
        rows.append(
            _Row(
                order["id"],
                order.get("revision"),
                wix_timestamp_parse(order.get("updatedDate")),
                {
                    "number": _text(order.get("number"), 64),
                    "contact_id": contacts.get((order.get("buyerInfo") or {}).get("contactId") or ""),
                    "status": _text(order.get("status"), 16),
                    "payment_status": _text(order.get("paymentStatus"), 24),
                    "total": _money((summary.get("total") or {}).get("amount")) or Decimal("0"),
                    "paid": _money((balance.get("paid") or {}).get("amount")) or Decimal("0"),
                    "balance": _money((balance.get("balance") or {}).get("amount")) or Decimal("0"),
                    "currency": _text(order.get("currency"), 3),
                    "wix_created_at": wix_timestamp_parse(order.get("createdDate")),
                    "raw": order,
                },
            )
        )
    result = _upsert(run, Order, rows)
    _line_items_write(run, [o for o in orders if o["id"] in result.written], result.objects)
    _audit_changes(run, result, "order", ("payment_status",))
    if payments is not None:
        _payments_write(run, orders, payments, result.objects)
    return result


def _line_items_write(run: _Run, orders: list[Json], held: dict[str, Order]) -> None:
    """Line items are written with their order (they carry no version of their own)."""
    if not orders:
        return
    order_pks = [held[o["id"]].pk for o in orders if o["id"] in held]
    catalog_ids = {
        (line.get("catalogReference") or {}).get("catalogItemId") for o in orders for line in o.get("lineItems") or []
    }
    bookings = dict(Booking.objects.filter(wix_id__in=catalog_ids - {None}).values_list("wix_id", "pk"))
    OrderLineItem.objects.filter(order_id__in=order_pks).delete()
    lines = []
    for order in orders:
        if order["id"] not in held:
            continue
        for line in order.get("lineItems") or []:
            ref = line.get("catalogReference") or {}
            catalog_id = ref.get("catalogItemId") or ""
            is_booking = (ref.get("appId") or BOOKINGS_APP_ID) == BOOKINGS_APP_ID
            lines.append(
                OrderLineItem(
                    order_id=held[order["id"]].pk,
                    line_item_id=_text(line.get("id"), 250),
                    catalog_item_id=_text(catalog_id, 250),
                    booking_id=bookings.get(catalog_id) if is_booking else None,
                    name=_text((line.get("productName") or {}).get("original"), 400),
                    quantity=_int(line.get("quantity")) or 1,
                    price=_money((line.get("price") or {}).get("amount")) or Decimal("0"),
                    payment_option=_text(line.get("paymentOption"), 48),
                )
            )
    OrderLineItem.objects.bulk_create(lines, batch_size=500)
    run.written["OrderLineItem"] += len(lines)


def payment_method(payment: Json) -> str:
    """Which ``Payment.Method`` an order-transactions payment is.

    Membership payments are plan charges; offline regular payments say their method in
    ``paymentMethodName`` (predefined CASH / CHECK, or a custom name such as "Card"); a regular
    payment that is not offline went through a payment provider: online.
    """
    if payment.get("membershipPaymentDetails"):
        return Payment.Method.PLAN
    if payment.get("giftcardPaymentDetails"):
        return Payment.Method.OTHER
    regular = payment.get("regularPaymentDetails") or {}
    if not regular.get("offlinePayment"):
        return Payment.Method.ONLINE
    name = regular.get("paymentMethodName") or {}
    user_defined = name.get("userDefinedName") or {}
    predefined = str(user_defined.get("predefined") or name.get("predefined") or "").upper()
    custom = str(user_defined.get("custom") or name.get("custom") or "").strip().casefold()
    if predefined == "CASH" or custom == "cash":
        return Payment.Method.CASH
    if predefined == "CHECK" or custom in ("check", "cheque"):
        return Payment.Method.CHECK
    if "card" in custom:
        return Payment.Method.CARD
    return Payment.Method.OTHER


def _payments_write(run: _Run, orders: list[Json], payments: dict[str, list[Json]], held: dict[str, Order]) -> None:
    rows = []
    for order in orders:
        stored = held.get(order["id"])
        if stored is None:
            continue
        for payment in payments.get(order["id"], []):
            membership = payment.get("membershipPaymentDetails") or {}
            rows.append(
                _Row(
                    payment["id"],
                    payment.get("revision"),
                    wix_timestamp_parse(payment.get("updatedDate")),
                    {
                        "order_id": stored.pk,
                        "amount": _money((payment.get("amount") or {}).get("amount")) or Decimal("0"),
                        "currency": _text(order.get("currency"), 3),
                        "method": payment_method(payment),
                        "status": _text(payment.get("status") or Payment.Status.APPROVED, 24),
                        "line_item_id": _text(membership.get("lineItemId"), 250),
                        "membership_id": _text(membership.get("membershipId"), 250),
                        "wix_created_at": wix_timestamp_parse(payment.get("createdDate")),
                        "raw": payment,
                    },
                )
            )
    _upsert(run, Payment, rows)


def _orders_changed(run: _Run, since: str) -> None:
    """Orders changed since ``since`` that belong to mirrored bookings (or are mirrored already)."""
    query = {
        "filter": _changed(since),
        "sort": [{"fieldName": "updatedDate", "order": "ASC"}],
        "cursorPaging": {"limit": PAGE},
    }
    while True:
        answer = run.call(wix_orders.search_orders, search=query)
        page = answer.get("orders") or []
        _orders_apply(run, _unchanged_dropped(Order, page))
        cursor = ((answer.get("metadata") or {}).get("cursors") or {}).get("next")
        if not cursor or not page:
            return
        query = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}


def _orders_apply(run: _Run, orders: list[Json]) -> None:
    if not orders:
        return
    catalog_ids = {
        (line.get("catalogReference") or {}).get("catalogItemId") for o in orders for line in o.get("lineItems") or []
    }
    ours_by_booking = set(Booking.objects.filter(wix_id__in=catalog_ids - {None}).values_list("wix_id", flat=True))
    held = set(Order.objects.filter(wix_id__in=[o["id"] for o in orders]).values_list("wix_id", flat=True))
    ours = [
        o
        for o in orders
        if o["id"] in held
        or any(
            (line.get("catalogReference") or {}).get("catalogItemId") in ours_by_booking
            for line in o.get("lineItems") or []
        )
    ]
    if not ours:
        return
    payments = _transactions_fetch(run, [o["id"] for o in ours])
    _write(run, lambda: _orders_write(run, ours, payments))


def mirror_orders(*, wix: WixClient, orders: list[Json], actor: str = "webhook") -> int:
    """Write eCommerce orders that concern mirrored bookings, with their payments (one Wix call
    per 100 orders). Returns how many were ours. Raises ``WixError``."""
    run = _mirror_run(wix, actor)
    before = run.written["Order"]
    _orders_apply(run, orders)
    return run.written["Order"] - before


# --- members, plan orders, balances --------------------------------------------------------------


def _people_and_plans(run: _Run, contact_ids: set[str], *, refresh_members: bool) -> None:
    """Members of these contacts, then their plan orders and benefit balances."""
    _phase(run, Kind.MEMBERS, total=len(contact_ids))
    wanted = set(contact_ids)
    if not refresh_members:
        wanted -= set(Member.objects.filter(contact__wix_id__in=wanted).values_list("contact__wix_id", flat=True))
    done = 0
    for batch in _batches(wanted):
        members: list[Json] = []
        for page in _paged_offset(
            run, wix_members.query_members, "members", {"contactId": {"$in": batch}}, fieldsets=["FULL"]
        ):
            members.extend(page)
        _write(run, lambda members=members: _members_write(run, members))
        done += len(batch)
        _progress(run, Kind.MEMBERS, done)
    _finish(run, Kind.MEMBERS, since=_since_after(run, _since_of(Kind.MEMBERS)))

    member_ids = set(
        Member.objects.filter(contact__wix_id__in=contact_ids, wix_id__isnull=False).values_list("wix_id", flat=True)
    )
    _member_plans(run, member_ids)


def _member_plans(run: _Run, member_ids: set[str]) -> None:
    _phase(run, Kind.PLAN_ORDERS, total=len(member_ids))
    done = 0
    for batch in _batches(member_ids, URL_BATCH):
        orders: list[Json] = []
        offset = 0
        while True:
            answer = run.call(pricing_plans.list_plan_orders, buyer_ids=batch, limit=URL_BATCH, offset=offset)
            page = answer.get("orders") or []
            orders.extend(page)
            offset += len(page)
            total = (answer.get("pagingMetadata") or {}).get("total")
            if len(page) < URL_BATCH or (isinstance(total, int) and offset >= total):
                break
        _write(run, lambda orders=orders: _plan_orders_write(run, orders))
        done += len(batch)
        _progress(run, Kind.PLAN_ORDERS, done)
    _finish(run, Kind.PLAN_ORDERS)

    _phase(run, Kind.BALANCES, total=len(member_ids))
    done = 0
    for batch in _batches(member_ids):
        pools: list[Json] = []
        for page in _paged_cursor(
            run,
            benefit_programs.query_pools,
            "pools",
            {"beneficiary.memberId": {"$in": batch}, "namespace": PRICING_PLANS_NAMESPACE},
        ):
            pools.extend(page)
        balances = _balances_fetch(run, [p["id"] for p in pools])
        _write(run, lambda pools=pools, balances=balances: _balances_write(run, pools, balances))
        done += len(batch)
        _progress(run, Kind.BALANCES, done)


def _members_write(run: _Run, members: list[Json]) -> None:
    contacts = dict(
        Contact.objects.filter(wix_id__in={m.get("contactId") for m in members}).values_list("wix_id", "pk")
    )
    # Member.contact is one-to-one: a contact already claimed by another member row stays with it.
    claimed = dict(Member.objects.filter(contact_id__in=contacts.values()).values_list("contact_id", "wix_id"))
    rows = []
    for m in members:
        contact_pk = contacts.get(m.get("contactId") or "")
        if contact_pk is not None and claimed.get(contact_pk) not in (None, m["id"]):
            contact_pk = None
        rows.append(
            _Row(
                m["id"],
                m.get("revision"),
                wix_timestamp_parse(m.get("updatedDate")),
                {
                    "contact_id": contact_pk,
                    "login_email": _text(m.get("loginEmail"), 320),
                    "status": _text(m.get("status"), 32),
                    "raw": m,
                },
            )
        )
    _upsert(run, Member, rows)


def _plan_orders_write(run: _Run, orders: list[Json]) -> None:
    members = dict(
        Member.objects.filter(wix_id__in={(o.get("buyer") or {}).get("memberId") for o in orders}).values_list(
            "wix_id", "pk"
        )
    )
    rows = [
        _Row(
            o["id"],
            o.get("revision"),
            wix_timestamp_parse(o.get("updatedDate")),
            {
                "member_id": members.get((o.get("buyer") or {}).get("memberId") or ""),
                "plan_id": _text(o.get("planId"), 250),
                "plan_name": _text(o.get("planName"), 400),
                "status": _text(o.get("status") or PlanOrder.Status.UNDEFINED, 16),
                "last_payment_status": _text(o.get("lastPaymentStatus"), 32),
                "start": wix_timestamp_parse(o.get("startDate")),
                "end": wix_timestamp_parse(o.get("endDate")),
                "raw": o,
            },
        )
        for o in orders
    ]
    _upsert(run, PlanOrder, rows)


def _balances_fetch(run: _Run, pool_ids: list[str]) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for batch in _batches(pool_ids):
        for page in _paged_cursor(run, benefit_programs.query_balances, "balances", {"id": {"$in": batch}}):
            for balance in page:
                found[balance["id"]] = balance
    return found


def _plan_coverage() -> dict[str, list[str]]:
    """Plan id -> Wix ids of the services that list it in ``payment.pricingPlanIds``.

    UNCONFIRMED where Wix exposes coverage: it lives in Benefit Programs item sets, which no API
    used here serves; the services name the plans that cover them, which is the same fact.
    """
    coverage: dict[str, list[str]] = {}
    for wix_id, raw in Service.objects.exclude(wix_id__isnull=True).values_list("wix_id", "raw"):
        for plan_id in ((raw or {}).get("payment") or {}).get("pricingPlanIds") or []:
            coverage.setdefault(plan_id, []).append(wix_id)
    return coverage


def _balances_write(run: _Run, pools: list[Json], balances: dict[str, Json]) -> None:
    members = dict(
        Member.objects.filter(wix_id__in={(p.get("beneficiary") or {}).get("memberId") for p in pools}).values_list(
            "wix_id", "pk"
        )
    )
    plan_orders = dict(
        PlanOrder.objects.filter(wix_id__in={(p.get("program") or {}).get("externalId") for p in pools}).values_list(
            "wix_id", "pk"
        )
    )
    coverage = _plan_coverage()
    rows = []
    for pool in pools:
        member_pk = members.get((pool.get("beneficiary") or {}).get("memberId") or "")
        if member_pk is None:
            continue
        balance = balances.get(pool["id"]) or {}
        rows.append(_balance_row(pool, balance, member_pk, plan_orders, coverage))
    _upsert(run, BenefitBalance, rows)


def _balance_row(
    pool: Json, balance: Json, member_pk: int, plan_orders: dict[str, int], coverage: dict[str, list[str]]
) -> _Row:
    credit = ((pool.get("details") or {}).get("creditConfiguration") or {}).get("amount")
    stamps = [
        t for t in (wix_timestamp_parse(pool.get("updatedDate")), wix_timestamp_parse(balance.get("updatedDate"))) if t
    ]
    plan_id = (pool.get("programDefinition") or {}).get("externalId") or ""
    # A pool and its balance are two Wix entities with revisions of their own: the later
    # updatedDate of the two decides.
    return _Row(
        pool["id"],
        None,
        max(stamps) if stamps else None,
        {
            "member_id": member_pk,
            # UNCONFIRMED (CONTRACT.md §13.2): the program's externalId is the plan order id.
            "plan_order_id": plan_orders.get((pool.get("program") or {}).get("externalId") or ""),
            "name": _text(pool.get("displayName") or (pool.get("program") or {}).get("displayName"), 400),
            "status": _text(pool.get("status"), 16),
            "total_credits": _money(credit),
            "remaining_credits": _money((balance.get("amount") or {}).get("available")),
            "unlimited": credit is None,
            "covered_service_ids": coverage.get(plan_id, []),
            "raw": {"pool": pool, "balance": balance},
        },
    )


def _balances_changed(run: _Run, since: str) -> None:
    """Credits moved since ``since`` on pools we mirror (a plan charged or voided elsewhere)."""
    for page in _paged_cursor(run, benefit_programs.query_balances, "balances", _changed(since)):
        held = {b.wix_id: b for b in BenefitBalance.objects.filter(wix_id__in=[b["id"] for b in page])}
        rows = []
        coverage = _plan_coverage()
        for balance in page:
            current = held.get(balance["id"])
            if current is None:
                continue
            pool = (current.raw or {}).get("pool") or {"id": balance["id"]}
            plan_orders = (
                {pool.get("program", {}).get("externalId", ""): current.plan_order_id} if current.plan_order_id else {}
            )
            rows.append(_balance_row(pool, balance, current.member_id, plan_orders, coverage))
        if rows:
            _write(run, lambda rows=rows: _upsert(run, BenefitBalance, rows))


def member_plans_refresh(*, wix: WixClient, member_ids: list[str], actor: str = "webhook") -> None:
    """Re-read the plan orders and benefit balances of these members (a pricing-plans webhook);
    a member not mirrored yet is fetched with their contact first. Raises ``WixError``."""
    run = _mirror_run(wix, actor)
    ids = set(filter(None, member_ids))
    missing = ids - set(Member.objects.filter(wix_id__in=ids).values_list("wix_id", flat=True))
    for batch in _batches(missing):
        found: list[Json] = []
        for page in _paged_offset(
            run, wix_members.query_members, "members", {"id": {"$in": batch}}, fieldsets=["FULL"]
        ):
            found.extend(page)
        contacts = _contacts_fetch(run, {m.get("contactId") for m in found} - {None, ""}, refresh=False)
        with transaction.atomic():
            if contacts:
                _contacts_write(run, contacts)
            _members_write(run, found)
    _member_plans(run, ids)


# --- bookings from webhooks ----------------------------------------------------------------------


def mirror_bookings(*, wix: WixClient, bookings: list[Json], actor: str = "webhook") -> int:
    """Write bookings (as Wix sends them in webhooks) with whatever they name that we lack
    (contact, service, session). Returns how many were new or changed. Raises ``WixError``."""
    run = _mirror_run(wix, actor)
    return _extended_apply(run, [{"booking": b} for b in bookings], refresh_contacts=False)


def mirror_attendance(*, attendances: list[Json], deleted: bool = False) -> int:
    """Write (or, with ``deleted``, forget) attendance records for mirrored bookings and sessions."""
    if deleted:
        ids = [a.get("id") for a in attendances if a.get("id")]
        count, _ = Attendance.objects.filter(wix_id__in=ids).delete()
        return count
    bookings = {
        b.wix_id: b
        for b in Booking.objects.filter(wix_id__in={a.get("bookingId") for a in attendances}, pending_sync=False)
    }
    sessions = dict(
        Session.objects.filter(wix_id__in={a.get("eventId") or a.get("sessionId") for a in attendances}).values_list(
            "wix_id", "pk"
        )
    )
    entries = []
    for a in attendances:
        booking = bookings.get(a.get("bookingId") or "")
        session_pk = sessions.get(a.get("eventId") or a.get("sessionId") or "") or (
            booking.session_id if booking else None
        )
        if booking is not None and session_pk:
            entries.append((a, booking, session_pk))
    run = _Run(wix=None, mode="webhook", now=timezone.now(), actor="webhook", window=sync_window())
    with transaction.atomic():
        _attendance_upsert(run, entries)
    return len(entries)


def mirror_services(*, wix: WixClient, services: list[Json], actor: str = "webhook") -> None:
    run = _mirror_run(wix, actor)
    with transaction.atomic():
        _services_write(run, services)


# --- value helpers --------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _business_zone()


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _text(value: Any, limit: int) -> str:
    return str(value or "")[:limit]
