"""A sync run from start to end: take the lock, read (full or incremental), report, let go."""

from __future__ import annotations

import logging
import time as monotonic_time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from bookings_app.models import SyncState
from bookings_app.services.sync.full import full
from bookings_app.services.sync.incremental import incremental
from bookings_app.services.sync.progress import sync_needs_full
from bookings_app.services.sync.state import ALL_KINDS, Kind, SyncRun, acquire
from bookings_app.services.sync.window import sync_window
from bookings_app.wix import WixClient, WixError, WixRateLimited, WixUnavailable

logger = logging.getLogger("bookings_app.sync")


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
    if not acquire(mode, now):
        report.skipped = True
        return report
    run = SyncRun(wix=wix, actor=actor, mode=mode, now=now, window=sync_window(now=now))
    clock = monotonic_time.perf_counter()
    try:
        if mode == "full":
            full(run)
        else:
            incremental(run)
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


def _record_failure(run: SyncRun, message: str) -> None:
    kind = run.phase or Kind.SERVICES
    SyncState.objects.filter(kind=kind).update(last_error=message[:2000], last_error_at=timezone.now())
