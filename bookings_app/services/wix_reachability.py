"""Whether Wix answers, kept in the ``SyncState`` row ``WIX_CALLS`` for the header (and a health check).

Fed by ``wix.reachability`` with the outcome of every HTTP attempt of every client in this
process: an answer sets ``last_success_at``, none (or a 5xx) ``last_error_at`` and
``last_error``. The header says "Wix unreachable" while the error is the newer — from the first
failed attempt, not only once a whole sync has failed after all its retries.

Writes are few: a change of state at once, the same state again at most every
``REFRESH_SECONDS`` per process. Nothing is written inside a transaction (the row would stay
locked until it commits, and a rollback would lose the news): Wix is called outside them anyway.

The answer that ends an outage — the latest attempt noted got no answer, and none was answered
for ``OUTAGE_AFTER`` or more — also sends the desk's waiting work at once
(``DeskAction.backoffs_end``, then a push queued through ``signals.desk_actions_queued``) and
brings the sync poll forward (``signals.wix_answers_again``). While Wix was down each action's
retry delay doubled up to five minutes: the outage drill (``tests/test_outage_drill.py``)
measured a ten-minute outage drained 247 s after Wix was back (35 s with this), the header
meanwhile telling staff the worker may have stopped. The row is changed by one conditional
UPDATE, so one process — whichever notes the first answer — sends it, once. A blip (a 5xx
between answers) is no outage: the retry delays stay.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from bookings_app import signals
from bookings_app.models import DeskAction, SyncState
from bookings_app.selectors.sync import FAILING

logger = logging.getLogger("bookings_app.wix")

REFRESH_SECONDS = 15.0
# No answer noted for this long, the latest attempt failed: an outage (twice REFRESH_SECONDS, so
# a blip between answers — each process notes one at least that often — never is one).
OUTAGE_AFTER = timedelta(seconds=30)
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
    if answering and _outage_ends(stamp):
        return
    fields = {"last_success_at": stamp} if answering else {"last_error_at": stamp, "last_error": detail[:500]}
    if not SyncState.objects.filter(kind=WIX_CALLS).update(**fields):
        SyncState.objects.get_or_create(kind=WIX_CALLS, defaults=fields)


def _outage_ends(stamp: datetime) -> bool:
    """Note the answer at ``stamp`` if it ends an outage (see the module docstring), and send the
    desk actions that wait out a retry delay now. Returns whether it did."""
    outage = FAILING & (Q(last_success_at__isnull=True) | Q(last_success_at__lt=stamp - OUTAGE_AFTER))
    if not SyncState.objects.filter(outage, kind=WIX_CALLS).update(last_success_at=stamp):
        return False
    released = DeskAction.backoffs_end(now=stamp)
    logger.info(
        "Wix answers again after an outage: %d desk action(s) waiting out a retry delay go now",
        released,
        extra={"event": "wix.outage_over", "released": released},
    )
    if released:
        signals.desk_actions_queued.send(sender=DeskAction, run_after=stamp)
    signals.wix_answers_again.send(sender=SyncState)
    return True


def wix_reachability_forget() -> None:
    """Forget what this process last wrote (tests: the next outcome is written at once)."""
    with _lock:
        _last.update(answering=None, at=0.0)
