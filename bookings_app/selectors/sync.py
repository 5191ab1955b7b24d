"""How fresh the mirror is, and whether Wix answers, for the header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from bookings_app.models import SyncState, WixReachability

# How often the sync polls Wix; the header warns when the last success is older than twice this.
DEFAULT_SYNC_INTERVAL_SECONDS = 120


@dataclass(frozen=True)
class SyncStatus:
    last_success_at: datetime | None
    stale: bool  # no successful sync for more than twice the sync interval
    # Wix unreachable: the latest Wix call of any process failed (no answer, or a 5xx) with no answer
    # since, or some entity's last sync failed after its last success.
    failing: bool
    last_error: str
    running: bool

    @property
    def never(self) -> bool:
        return self.last_success_at is None


def sync_status_get(*, now: datetime | None = None) -> SyncStatus:
    """How fresh the mirror is, for the header. Two queries (three when a sync is failing)."""
    now = now or timezone.now()
    interval = timedelta(seconds=getattr(settings, "WIX_SYNC_INTERVAL_SECONDS", DEFAULT_SYNC_INTERVAL_SECONDS))
    failing_q = Q(last_error_at__isnull=False) & (
        Q(last_success_at__isnull=True) | Q(last_error_at__gt=F("last_success_at"))
    )
    agg = SyncState.objects.aggregate(
        last_success=Max("last_success_at"),
        failing=Count("pk", filter=failing_q),
        running=Count("pk", filter=Q(running=True)),
    )
    last_success = agg["last_success"]
    last_error = ""
    if agg["failing"]:
        latest = SyncState.objects.filter(failing_q).order_by("-last_error_at").values_list("last_error", flat=True)
        last_error = latest.first() or ""
    reach = wix_not_answering()
    if reach is not None:
        last_error = reach
    return SyncStatus(
        last_success_at=last_success,
        stale=last_success is not None and now - last_success > 2 * interval,
        failing=bool(agg["failing"]) or reach is not None,
        last_error=last_error,
        running=bool(agg["running"]),
    )


def wix_not_answering() -> str | None:
    """What the latest Wix call of any process got when it got no answer (or a 5xx) and no call
    has been answered since; ``None`` while Wix answers. One query."""
    failing = Q(last_failure_at__isnull=False) & (Q(last_ok_at__isnull=True) | Q(last_failure_at__gt=F("last_ok_at")))
    return WixReachability.objects.filter(failing).values_list("last_failure", flat=True).first()
