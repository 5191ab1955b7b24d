"""How fresh the mirror is, whether Wix answers, and whether desk actions wait too long for Wix: for the header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from bookings_app.models import DeskAction, SyncState, WorkerHeartbeat
from bookings_app.workers import DEAD_AFTER

# A row whose latest attempt failed after its latest success.
FAILING = Q(last_error_at__isnull=False) & (Q(last_success_at__isnull=True) | Q(last_error_at__gt=F("last_success_at")))

# How often the sync polls Wix; the header warns when the last success is older than twice this.
DEFAULT_SYNC_INTERVAL_SECONDS = 120
# A desk action normally reaches Wix seconds after its undo window; past this it "waits too long".
DEFAULT_DESK_BACKLOG_WARN_SECONDS = 120
DESK_BACKLOG_CACHE_KEY = "bookings_app:desk-backlog"
DESK_BACKLOG_CACHE_SECONDS = 5  # every page asks: one query per process per few seconds at most


@dataclass(frozen=True)
class SyncStatus:
    last_success_at: datetime | None
    stale: bool  # no successful sync for more than twice the sync interval
    # Wix unreachable: some entity's last sync failed after its last success, or the latest Wix call
    # of any process got no answer (or a 5xx) and none has been answered since (the WIX_CALLS row).
    failing: bool
    last_error: str
    running: bool

    @property
    def never(self) -> bool:
        return self.last_success_at is None


SYNC_STATUS_CACHE_KEY = "bookings_app:sync-status"
SYNC_STATUS_CACHE_SECONDS = 3  # the header of every page: one query per process per few seconds


def sync_status_header() -> SyncStatus:
    """:func:`sync_status_get` for the page header, kept ``SYNC_STATUS_CACHE_SECONDS`` (a desk
    page refreshes every few seconds; "Synced 09:41" or "Wix unreachable" a moment late is the
    same news, and the page costs a round trip less)."""
    if (kept := cache.get(SYNC_STATUS_CACHE_KEY)) is not None:
        return kept
    status = sync_status_get()
    if SYNC_STATUS_CACHE_SECONDS:
        cache.set(SYNC_STATUS_CACHE_KEY, status, SYNC_STATUS_CACHE_SECONDS)
    return status


def sync_status_get(*, now: datetime | None = None) -> SyncStatus:
    """How fresh the mirror is, and whether Wix answers, for the header. One query (two when
    something is failing)."""
    now = now or timezone.now()
    interval = timedelta(seconds=getattr(settings, "WIX_SYNC_INTERVAL_SECONDS", DEFAULT_SYNC_INTERVAL_SECONDS))
    failing_q = FAILING
    agg = SyncState.objects.aggregate(
        last_success=Max("last_success_at", filter=~Q(kind=SyncState.Kind.WIX_CALLS)),
        failing=Count("pk", filter=failing_q),
        running=Count("pk", filter=Q(running=True)),
    )
    last_success = agg["last_success"]
    last_error = ""
    if agg["failing"]:
        latest = SyncState.objects.filter(failing_q).order_by("-last_error_at").values_list("last_error", flat=True)
        last_error = latest.first() or ""
    return SyncStatus(
        last_success_at=last_success,
        stale=last_success is not None and now - last_success > 2 * interval,
        failing=bool(agg["failing"]),
        last_error=last_error,
        running=bool(agg["running"]),
    )


@dataclass(frozen=True)
class DeskBacklog:
    """Desk actions that have waited too long to reach Wix (see :func:`desk_backlog_get`)."""

    count: int
    oldest: datetime | None  # when the longest-waiting one became due
    warn_after: timedelta
    # A background worker beats: they are being sent (Wix just came back, a long queue), rather
    # than waiting for a worker that may have stopped. Asked only when some wait.
    worker_alive: bool = False

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def minutes(self) -> int:
        return max(int(self.warn_after.total_seconds() // 60), 1)


def desk_backlog_get(*, now: datetime | None = None, fresh: bool = False) -> DeskBacklog:
    """The desk actions still on their way to Wix (QUEUED or RUNNING) that became due (their undo
    window over) more than ``DESK_BACKLOG_WARN_SECONDS`` ago — not those waiting on one that needs
    attention (staff decide those first). The header's warning that the worker may have stopped
    or Wix is down. One query on the ``deskaction_due`` index — and when some wait, a second: is
    a worker's heartbeat fresh — kept ``DESK_BACKLOG_CACHE_SECONDS`` (``fresh``: ask the
    database)."""
    if not fresh and (kept := cache.get(DESK_BACKLOG_CACHE_KEY)) is not None:
        return kept
    now = now or timezone.now()
    warn_after = timedelta(seconds=getattr(settings, "DESK_BACKLOG_WARN_SECONDS", DEFAULT_DESK_BACKLOG_WARN_SECONDS))
    found = (
        DeskAction.objects.filter(
            status__in=(DeskAction.Status.QUEUED, DeskAction.Status.RUNNING), run_after__lt=now - warn_after
        )
        .exclude(depends_on__status=DeskAction.Status.NEEDS_ATTENTION)
        .aggregate(count=Count("pk"), oldest=Min("run_after"))
    )
    alive = bool(found["count"]) and WorkerHeartbeat.objects.filter(seen_at__gte=now - DEAD_AFTER).exists()
    backlog = DeskBacklog(count=found["count"], oldest=found["oldest"], warn_after=warn_after, worker_alive=alive)
    cache.set(DESK_BACKLOG_CACHE_KEY, backlog, DESK_BACKLOG_CACHE_SECONDS)
    return backlog


def desk_backlog_forget() -> None:
    """Drop the kept answer (tests)."""
    cache.delete(DESK_BACKLOG_CACHE_KEY)


def wix_not_answering() -> str | None:
    """What the latest Wix call of any process got when it got no answer (or a 5xx) and no call
    has been answered since; ``None`` while Wix answers. One query."""
    return SyncState.objects.filter(FAILING, kind=SyncState.Kind.WIX_CALLS).values_list("last_error", flat=True).first()
