"""Keep this deployment under Wix's rate budget (200 calls a minute per instance, CONTRACT.md §1.3).

The budget belongs to the Wix site, not to a process, so the limiter must be shared by the web
process and every worker: a sliding window in Redis when ``WIX_RATE_LIMIT_URL`` is set (several
hosts), else a window file guarded by ``fcntl.flock`` (one host). ``acquire()`` blocks until the
call may go out.
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

logger = logging.getLogger(__name__)

# Wix counts a call when it arrives, we when we send it: network jitter can put 201 of our
# "one minute" into Wix's minute. A second of margin costs under 2% of throughput and saves
# the 429 (and its Retry-After wait) that otherwise lands at the edge of every busy minute.
WINDOW_SECONDS = 61.0


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Return once one more call fits in the budget, sleeping as long as needed."""


class NoopRateLimiter:
    """No budget at all: tests and the fault-free in-process sandbox."""

    def acquire(self) -> None:
        return None


class FileRateLimiter:
    """A sliding window of call times in a small file that every process on the host locks.

    The file holds one wall-clock timestamp per line (``time.time``: comparable across
    processes, unlike ``monotonic``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        per_minute: int = 200,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.per_minute = per_minute
        self.window = window_seconds
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> None:
        while True:
            wait = self._try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def _try_acquire(self) -> float:
        """Take a slot and return 0, or return how long until the oldest slot frees up."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            now = self._clock()
            calls = [t for t in _parse_times(fh.read()) if now - self.window < t <= now + self.window]
            if len(calls) >= self.per_minute:
                calls.sort()
                return max(calls[-self.per_minute] + self.window - now, 0.001)
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
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
"""


class RedisRateLimiter:
    """The same sliding window, in Redis, for deployments that span hosts."""

    def __init__(
        self,
        url_or_client: str | Any,
        *,
        key: str = "wix:rate-limit",
        per_minute: int = 200,
        window_seconds: float = WINDOW_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import redis

        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        if isinstance(url_or_client, str):
            self.redis = redis.Redis.from_url(url_or_client, socket_timeout=2, socket_connect_timeout=2)
        else:
            self.redis = url_or_client
        self.key = key
        self.per_minute = per_minute
        self.window_ms = max(int(window_seconds * 1000), 1)
        self._sleep = sleep
        self._script = self.redis.register_script(_REDIS_SCRIPT)
        self._redis_error: type[Exception] = redis.RedisError

    def acquire(self) -> None:
        while True:
            try:
                wait_ms = int(self._script(keys=[self.key], args=[self.window_ms, self.per_minute, uuid.uuid4().hex]))
            except self._redis_error as exc:
                # Fail open: a Redis outage must not stop the desk. Overshooting only earns a 429,
                # which the client retries after Retry-After.
                logger.warning("Wix rate limiter: Redis unavailable (%s); sending without a slot", exc)
                return
            if wait_ms <= 0:
                return
            self._sleep(wait_ms / 1000)
