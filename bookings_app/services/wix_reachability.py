"""Whether Wix answers, kept in the ``SyncState`` row ``WIX_CALLS`` for the header (and a health check).

Fed by ``wix.reachability`` with the outcome of every HTTP attempt of every client in this
process: an answer sets ``last_success_at``, none (or a 5xx) ``last_error_at`` and
``last_error``. The header says "Wix unreachable" while the error is the newer — from the first
failed attempt, not only once a whole sync has failed after all its retries.

Writes are few: a change of state at once, the same state again at most every
``REFRESH_SECONDS`` per process. Nothing is written inside a transaction (the row would stay
locked until it commits, and a rollback would lose the news): Wix is called outside them anyway.
"""

from __future__ import annotations

import threading
import time

from django.db import connection
from django.utils import timezone

from bookings_app.models import SyncState

REFRESH_SECONDS = 15.0
WIX_CALLS = SyncState.Kind.WIX_CALLS

_clock = time.monotonic
_lock = threading.Lock()
_last: dict[str, float | bool | None] = {"answering": None, "at": 0.0}


def wix_reachability_record(answering: bool, detail: str) -> None:
    """Note one attempt's outcome (a listener of ``wix.reachability``)."""
    if connection.in_atomic_block:
        return
    now = _clock()
    with _lock:
        if _last["answering"] == answering and now - float(_last["at"] or 0.0) < REFRESH_SECONDS:
            return
        _last.update(answering=answering, at=now)
    stamp = timezone.now()
    fields = {"last_success_at": stamp} if answering else {"last_error_at": stamp, "last_error": detail[:500]}
    if not SyncState.objects.filter(kind=WIX_CALLS).update(**fields):
        SyncState.objects.get_or_create(kind=WIX_CALLS, defaults=fields)


def wix_reachability_forget() -> None:
    """Forget what this process last wrote (tests: the next outcome is written at once)."""
    with _lock:
        _last.update(answering=None, at=0.0)
