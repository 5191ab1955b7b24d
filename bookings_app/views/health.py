"""``/healthz/``: is this app able to serve, and is its background work keeping up — for a load
balancer, a monitor and a person reading it.

The answer is JSON, open to anyone (no sign-in: a load balancer has none), so it holds no secret,
no name and no Wix payload: counts, ages in seconds, times, and Wix's state in plain words (the
reason a call failed, passed through ``redaction.redact`` all the same).

- **HTTP 200** while the database answers — ``status`` is ``ok``, or ``degraded`` when something
  behind the pages is wrong (no worker alive, Wix not answering, the sync failing or stale, desk
  actions waiting longer than the header's warning): the pages still work, so a load balancer
  must keep sending people here.
- **HTTP 503** (``down``) when the database does not answer: nothing works without it.

Each check is one small indexed query; none asks Wix (the state of the last Wix call of any
process is recorded as it happens: ``services.wix_reachability``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookings_app import redaction, selectors, workers
from bookings_app.models import DeskAction, SyncState
from bookings_app.selectors.sync import FAILING

_WAITING = (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    try:
        checks = _checks(now)
    except DatabaseError:
        return JsonResponse({"status": "down", "checks": {"database": {"ok": False}}, "at": _iso(now)}, status=503)
    problems = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "degraded" if problems else "ok", "problems": problems, "checks": checks, "at": _iso(now)}
    return JsonResponse(body, status=200)


def _checks(now: datetime) -> dict[str, dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    alive = workers.workers_alive(now=now)
    newest_beat = max((w.seen_at for w in alive), default=None)
    oldest_due = (
        DeskAction.objects.filter(status__in=_WAITING, run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
    ).first()
    waiting = DeskAction.objects.filter(status__in=_WAITING, run_after__lte=now).count()
    attention = DeskAction.objects.filter(status=DeskAction.Status.NEEDS_ATTENTION).count()
    warn_after = getattr(settings, "DESK_BACKLOG_WARN_SECONDS", 120)
    oldest_age = _age(now, oldest_due)
    not_answering = selectors.wix_not_answering()
    sync = selectors.sync_status_get(now=now)
    # The header's "failing" counts a Wix call that went unanswered too; here that is "wix".
    sync_failing = SyncState.objects.filter(FAILING).exclude(kind=SyncState.Kind.WIX_CALLS).exists()
    return {
        "database": {"ok": True, "vendor": connection.vendor},
        "worker": {"ok": bool(alive), "alive": len(alive), "last_heartbeat_age_s": _age(now, newest_beat)},
        "desk_actions": {
            "ok": oldest_age is None or oldest_age <= warn_after,
            "waiting": waiting,
            "oldest_waiting_age_s": oldest_age,
            "warn_after_s": warn_after,
            "needs_attention": attention,
        },
        "wix": {
            "ok": not_answering is None,
            "mode": settings.WIX.mode,
            "not_answering": redaction.redact(not_answering, mask=redaction.LOG_MASK) if not_answering else None,
        },
        "sync": {
            "ok": not (sync_failing or sync.stale),
            "last_success_at": _iso(sync.last_success_at),
            "last_success_age_s": _age(now, sync.last_success_at),
            "failing": sync_failing,
            "stale": sync.stale,
            "running": sync.running,
        },
    }


def _age(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(int((now - then).total_seconds()), 0)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
