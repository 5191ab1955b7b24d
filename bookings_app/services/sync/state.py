"""The sync's state in ``SyncState`` (one row per kind): the lock, the cursors, the progress of a run.

``running`` is the lock: a run takes every kind's flag and clears it when done (``finally``); a
flag left by a killed process is considered dead after ``STALE_RUN``. ``last_full_at`` /
``last_incremental_at`` are when the latest run of that type *started* (that is what makes a
leftover flag recognisable); ``last_success_at`` is when a kind last finished without error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings_app.models import SyncState
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.sync.window import Window
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse

Kind = SyncState.Kind

OVERLAP = timedelta(minutes=2)
STALE_RUN = timedelta(minutes=30)

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


@dataclass(kw_only=True)
class SyncRun(MirrorRun):
    """A mirror run that is a sync: it reads the window, and records its progress and cursors."""

    mode: str  # "full" | "incremental"
    now: datetime
    window: Window
    phase: str = ""  # the kind being read now

    def __post_init__(self) -> None:
        self.full = self.mode == "full"

    def phase_begin(self, kind: str, *, total: int | None = None) -> None:
        self.phase = kind
        SyncState.objects.filter(kind=kind).update(progress_done=0, progress_total=total)

    def phase_progress(self, kind: str, done: int) -> None:
        SyncState.objects.filter(kind=kind).update(progress_done=done)

    def phase_end(self, kind: str, *, since: str | None = None, to: datetime | None = None) -> None:
        """Mark ``kind`` done: clear its flag, note success and move its cursor."""
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

    def since_after(self, previous: str = "") -> str:
        """The next ``since``: this run's start (our clock) less ``OVERLAP``, never moving back.

        Everything changed before the run began was read by it (pages in a stable order); anything
        changed after gets an ``updatedDate`` of at least the run's start, give or take clock skew
        between Wix and us, which ``OVERLAP`` absorbs. Taking our clock rather than the newest
        ``updatedDate`` seen also keeps a quiet site from re-reading its last change on every poll.
        UNCONFIRMED: Wix cursors page in a stable order (keyset); the sandbox pages by offset, which
        only matters when entities change while a page walk is in progress.
        """
        return max(wix_timestamp(self.now - OVERLAP), previous)


def sync_states_ensure() -> None:
    """One ``SyncState`` row per kind (the rows double as the sync lock)."""
    existing = set(SyncState.objects.filter(kind__in=ALL_KINDS).values_list("kind", flat=True))
    missing = [SyncState(kind=k) for k in ALL_KINDS if k not in existing]
    if missing:
        SyncState.objects.bulk_create(missing, ignore_conflicts=True)


def is_stale(state: SyncState, now: datetime) -> bool:
    started = max((t for t in (state.last_full_at, state.last_incremental_at) if t), default=None)
    return started is None or now - started > STALE_RUN


def acquire(mode: str, now: datetime) -> bool:
    """Take the sync lock (every kind's ``running``), unless a live run holds it."""
    sync_states_ensure()
    with transaction.atomic():
        states = list(SyncState.objects.select_for_update().filter(kind__in=ALL_KINDS))
        if any(s.running and not is_stale(s, now) for s in states):
            return False
        started = {"last_full_at": now} if mode == "full" else {"last_incremental_at": now}
        SyncState.objects.filter(kind__in=ALL_KINDS).update(
            running=True, progress_done=0, progress_total=None, **started
        )
    return True


def _cursor(state: SyncState) -> dict[str, str]:
    try:
        value = json.loads(state.cursor) if state.cursor else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def since_of(kind: str) -> str:
    state = SyncState.objects.filter(kind=kind).first()
    return _cursor(state).get("since", "") if state else ""


def to_of(kind: str) -> datetime | None:
    state = SyncState.objects.filter(kind=kind).first()
    return wix_timestamp_parse(_cursor(state).get("to")) if state else None
