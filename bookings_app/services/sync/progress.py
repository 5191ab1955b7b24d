"""What the "Sync now" widget and the scheduler ask about the sync: progress, running, failing, due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from bookings_app.models import SyncState
from bookings_app.services.sync.state import ALL_KINDS, PHASES, is_stale, sync_states_ensure


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
    running = [s for s in states.values() if s.running and not is_stale(s, now)]
    total_weight = sum(w for _, w, _ in PHASES) or 1
    done_weight = 0.0
    phase = ""
    for kind, weight, label in PHASES:
        state = states.get(kind)
        if state is None or not state.running or is_stale(state, now):
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
    return any(not is_stale(s, now) for s in SyncState.objects.filter(kind__in=ALL_KINDS, running=True))


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
