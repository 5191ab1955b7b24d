"""The rate limiters (``wix/ratelimit.py``): in-process, shared through a file, shared through Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bookings_app.wix.ratelimit import FileRateLimiter, NoopRateLimiter, RedisRateLimiter
from tests.wix.wire import REDIS_URL

# -- rate limiters ----------------------------------------------------------------------------


def test_noop_limiter_never_blocks() -> None:
    limiter = NoopRateLimiter()
    for _ in range(1000):
        limiter.acquire()


def test_file_limiter_shared_by_two_instances_blocks_past_the_budget(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    path = tmp_path / "var" / "wix-rate-limit.window"
    web = FileRateLimiter(path, per_minute=3, clock=lambda: clock[0], sleep=sleep)
    worker = FileRateLimiter(path, per_minute=3, clock=lambda: clock[0], sleep=sleep)

    web.acquire()
    clock[0] += 10
    worker.acquire()
    web.acquire()
    assert sleeps == []

    worker.acquire()  # fourth call in the same minute waits for the first to age out

    # The window is a minute plus a second of margin for the trip to Wix.
    assert sleeps == [pytest.approx(51.0)]
    assert clock[0] == pytest.approx(1_000_061.0)
    assert len(path.read_text().splitlines()) == 3


def test_file_limiter_frees_slots_as_the_window_slides(tmp_path: Path) -> None:
    clock = [500.0]
    sleeps: list[float] = []
    limiter = FileRateLimiter(tmp_path / "w", per_minute=2, clock=lambda: clock[0], sleep=sleeps.append)

    limiter.acquire()
    limiter.acquire()
    clock[0] += 61
    limiter.acquire()
    assert sleeps == []


def test_file_limiter_survives_a_corrupt_window_file(tmp_path: Path) -> None:
    path = tmp_path / "w"
    path.write_text("garbage\n\n1.5.6\n")
    limiter = FileRateLimiter(path, per_minute=2, clock=lambda: 100.0, sleep=lambda s: None)

    limiter.acquire()
    assert path.read_text() == "100.0\n"


def test_limiter_refuses_an_empty_budget(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FileRateLimiter(tmp_path / "w", per_minute=0)


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def test_redis_limiter_shared_by_two_instances_blocks_past_the_budget(redis_url: str) -> None:
    import time

    import redis

    key = f"test:wix-rate-limit:{uuid.uuid4().hex}"
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    web = RedisRateLimiter(redis_url, key=key, per_minute=2, window_seconds=1.0, sleep=sleep)
    worker = RedisRateLimiter(redis_url, key=key, per_minute=2, window_seconds=1.0, sleep=sleep)
    try:
        web.acquire()
        time.sleep(0.4)
        worker.acquire()
        assert sleeps == []

        web.acquire()  # waits until web's first call leaves the window; worker's is still in it

        assert sleeps and 0.3 < sum(sleeps) <= 1.0
        assert redis.Redis.from_url(redis_url).zcard(key) == 2
    finally:
        redis.Redis.from_url(redis_url).delete(key)


def test_redis_limiter_lets_calls_through_when_redis_is_down() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_minute=1, sleep=lambda s: None)
    limiter.acquire()
    limiter.acquire()
