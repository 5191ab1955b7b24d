"""Whether Wix answers, kept in ``models.WixReachability`` for the header (and a health check).

Fed by ``wix.reachability`` with the outcome of every HTTP attempt of every client in this
process. Writes are few: a change of state at once, the same state again at most every
``REFRESH_SECONDS`` per process. Nothing is written inside a transaction (the row would stay
locked until it commits, and a rollback would lose the news): Wix is called outside them anyway.
"""

from __future__ import annotations

import threading
import time

from django.db import connection
from django.utils import timezone

from bookings_app.models import WixReachability

REFRESH_SECONDS = 15.0
ROW = 1

_clock = time.monotonic
_lock = threading.Lock()
_last: dict[str, float | bool | None] = {"answering": None, "at": 0.0}


def wix_reachability_record(answering: bool, detail: str) -> None:
    """Note one attempt's outcome (a listener of ``wix.reachability``). Raises nothing it can avoid."""
    if connection.in_atomic_block:
        return
    now = _clock()
    with _lock:
        same = _last["answering"] == answering
        if same and now - float(_last["at"] or 0.0) < REFRESH_SECONDS:
            return
        _last.update(answering=answering, at=now)
    stamp = timezone.now()
    fields = {"last_ok_at": stamp} if answering else {"last_failure_at": stamp, "last_failure": detail[:500]}
    if not WixReachability.objects.filter(pk=ROW).update(**fields):
        WixReachability.objects.get_or_create(pk=ROW, defaults=fields)


def wix_reachability_forget() -> None:
    """Forget what this process last wrote (tests: the next outcome is written at once)."""
    with _lock:
        _last.update(answering=None, at=0.0)
