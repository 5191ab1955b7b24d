"""How fresh the mirror is, and whether Wix answers, for the header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from bookings_app.models import SyncState

# A row whose latest attempt failed after its latest success.
FAILING = Q(last_error_at__isnull=False) & (Q(last_success_at__isnull=True) | Q(last_error_at__gt=F("last_success_at")))

# How often the sync polls Wix; the header warns when the last success is older than twice this.
DEFAULT_SYNC_INTERVAL_SECONDS = 120


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


def wix_not_answering() -> str | None:
    """What the latest Wix call of any process got when it got no answer (or a 5xx) and no call
    has been answered since; ``None`` while Wix answers. One query."""
    return SyncState.objects.filter(FAILING, kind=SyncState.Kind.WIX_CALLS).values_list("last_error", flat=True).first()
