"""Keep this deployment under Wix's rate budget (200 calls a minute per instance, CONTRACT.md §1.3).

The budget belongs to the Wix site, not to a process, so the limiter must be shared by the web
process and every worker: a sliding window in Redis when ``WIX_RATE_LIMIT_URL`` is set (several
hosts), else a window file guarded by ``fcntl.flock`` (one host). ``acquire()`` waits until the
call may go out and says how long it waited.

Two kinds of caller share the budget. A person at the desk waiting on a lookup (customer search,
free slots) uses an *interactive* limiter: it may fill the whole window, but waits at most
``INTERACTIVE_MAX_WAIT`` seconds and then raises ``WixRateBudgetExhausted`` — the screen answers
from the mirror and says so, instead of holding a web thread for the rest of the minute.
Background work (the worker's pushes, the sync) waits as long as it takes, but only while the
window holds fewer than ``BACKGROUND_SHARE`` of the budget: the rest is kept for interactive calls,
so a busy worker never makes the desk wait. Both read the same window, so the split holds across
every process that shares it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .errors import WixRateBudgetExhausted

logger = logging.getLogger(__name__)

# Wix counts a call when it arrives, we when we send it: network jitter can put 201 of our
# "one minute" into Wix's minute. A second of margin costs under 2% of throughput and saves
# the 429 (and its Retry-After wait) that otherwise lands at the edge of every busy minute.
WINDOW_SECONDS = 61.0

# The share of the window background work may fill (160 of 200): the rest waits for the desk.
BACKGROUND_SHARE = 0.8
# The longest a person at the desk waits for a slot before the screen answers from the mirror.
INTERACTIVE_MAX_WAIT = 1.5


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Return once one more call fits in the budget, with the seconds spent waiting. Raises
        ``WixRateBudgetExhausted`` when that would take longer than the limiter's ``max_wait``."""


class NoopRateLimiter:
    """No budget at all: tests and the fault-free in-process sandbox."""

    def acquire(self) -> float:
        return 0.0


def share_limit(per_minute: int, share: float) -> int:
    """How many calls of the window a caller with ``share`` of the budget may see before it waits."""
    if per_minute < 1:
        raise ValueError("per_minute must be at least 1")
    if not 0 < share <= 1:
        raise ValueError("share must be more than 0 and at most 1")
    return max(int(per_minute * share), 1)


def _wait_for_slot(
    try_once: Callable[[], float],
    *,
    max_wait: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    per_minute: int,
) -> float:
    """``try_once`` until it takes a slot (returns 0), sleeping as long as it says; the seconds
    waited. Gives up before a sleep that would take the wait past ``max_wait``."""
    started = clock()
    while True:
        wait = try_once()
        waited = max(clock() - started, 0.0)
        if wait <= 0:
            return waited
        if max_wait is not None and waited + wait > max_wait:
            raise WixRateBudgetExhausted(
                f"Wix's call budget ({per_minute} a minute) is used up; the next free slot is in {wait:.1f} s",
                retry_after=wait,
                waited=waited,
            )
        sleep(wait)


class FileRateLimiter:
    """A sliding window of call times in a small file that every process on the host locks.

    The file holds one wall-clock timestamp per line (``time.time``: comparable across
    processes, unlike ``monotonic``). ``share`` (of ``per_minute``) is how full the window may be
    before this caller waits; ``max_wait`` how long it may wait (None: as long as it takes).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        per_minute: int = 200,
        share: float = 1.0,
        max_wait: float | None = None,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = share_limit(per_minute, share)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.per_minute = per_minute
        self.max_wait = max_wait
        self.window = window_seconds
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        return _wait_for_slot(
            self._try_acquire, max_wait=self.max_wait, clock=self._clock, sleep=self._sleep, per_minute=self.per_minute
        )

    def _try_acquire(self) -> float:
        """Take a slot and return 0, or return how long until enough slots free up."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            now = self._clock()
            calls = [t for t in _parse_times(fh.read()) if now - self.window < t <= now + self.window]
            if len(calls) >= self.limit:
                calls.sort()
                # Once the limit-th newest call ages out, fewer than ``limit`` are left.
                return max(calls[-self.limit] + self.window - now, 0.001)
            calls.append(now)
            fh.seek(0)
            fh.truncate()
            fh.write("".join(f"{t!r}\n" for t in calls[-self.per_minute :]))
            return 0.0


def _parse_times(text: str) -> list[float]:
    times = []
    for line in text.splitlines():
        try:
            times.append(float(line))
        except ValueError:
            continue  # a torn or hand-edited line costs one slot, not the limiter
    return times


# Sliding window in a sorted set, atomic because Redis runs the whole script at once. Time comes
# from the Redis server so hosts with skewed clocks still share one window.
_REDIS_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
"""


class RedisRateLimiter:
    """The same sliding window, in Redis, for deployments that span hosts (``share`` and
    ``max_wait`` as for :class:`FileRateLimiter`; ``clock`` only measures the wait)."""

    def __init__(
        self,
        url_or_client: str | Any,
        *,
        key: str = "wix:rate-limit",
        per_minute: int = 200,
        share: float = 1.0,
        max_wait: float | None = None,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import redis

        self.limit = share_limit(per_minute, share)
        if isinstance(url_or_client, str):
            self.redis = redis.Redis.from_url(url_or_client, socket_timeout=2, socket_connect_timeout=2)
        else:
            self.redis = url_or_client
        self.key = key
        self.per_minute = per_minute
        self.max_wait = max_wait
        self.window_ms = max(int(window_seconds * 1000), 1)
        self._clock = clock
        self._sleep = sleep
        self._script = self.redis.register_script(_REDIS_SCRIPT)
        self._redis_error: type[Exception] = redis.RedisError

    def acquire(self) -> float:
        return _wait_for_slot(
            self._try_acquire, max_wait=self.max_wait, clock=self._clock, sleep=self._sleep, per_minute=self.per_minute
        )

    def _try_acquire(self) -> float:
        try:
            wait_ms = int(self._script(keys=[self.key], args=[self.window_ms, self.limit, uuid.uuid4().hex]))
        except self._redis_error as exc:
            # Fail open: a Redis outage must not stop the desk. Overshooting only earns a 429,
            # which the client retries after Retry-After.
            logger.warning("Wix rate limiter: Redis unavailable (%s); sending without a slot", exc)
            return 0.0
        return max(wait_ms, 0) / 1000
