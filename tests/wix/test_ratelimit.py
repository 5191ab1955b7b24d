"""The rate limiters (``wix/ratelimit.py``): in-process, shared through a file, shared through Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bookings_app.wix.errors import WixRateBudgetExhausted
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


# -- interactive calls wait a bounded time; background work leaves them a share ------------------------


class FakeTime:
    """A clock and a sleep that moves it: no test waits for real."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _limiters(path: Path, t: FakeTime, *, per_minute: int = 10) -> tuple[FileRateLimiter, FileRateLimiter]:
    desk = FileRateLimiter(path, per_minute=per_minute, max_wait=1.5, clock=t.clock, sleep=t.sleep)
    worker = FileRateLimiter(path, per_minute=per_minute, share=0.8, clock=t.clock, sleep=t.sleep)
    return desk, worker


def test_background_work_stops_at_its_share_and_leaves_the_rest_to_the_desk(tmp_path: Path) -> None:
    t = FakeTime()
    desk, worker = _limiters(tmp_path / "w", t)

    for _ in range(8):
        assert worker.acquire() == 0.0
    assert t.sleeps == []
    # The window holds 8 of 10: the desk still gets its two calls at once.
    assert desk.acquire() == 0.0
    assert desk.acquire() == 0.0
    assert t.sleeps == []

    t.now += 5
    waited = worker.acquire()  # the ninth background call waits until fewer than 8 are in the window

    assert t.sleeps == [pytest.approx(56.0)] and waited == pytest.approx(56.0)


def test_an_interactive_call_gives_up_after_its_max_wait_and_sends_nothing(tmp_path: Path) -> None:
    t = FakeTime()
    path = tmp_path / "w"
    desk, _ = _limiters(path, t)
    for _ in range(10):
        desk.acquire()
    t.now += 30

    with pytest.raises(WixRateBudgetExhausted) as excinfo:
        desk.acquire()

    assert t.sleeps == []  # a 31 s wait is over the bound: not even started
    assert excinfo.value.retry_after == pytest.approx(31.0)
    assert excinfo.value.code == "RATE_BUDGET_EXHAUSTED" and excinfo.value.transient
    assert len(path.read_text().splitlines()) == 10  # no slot taken


def test_an_interactive_call_waits_for_a_slot_that_frees_within_its_bound(tmp_path: Path) -> None:
    t = FakeTime()
    desk, _ = _limiters(tmp_path / "w", t)
    for _ in range(10):
        desk.acquire()
    t.now += 60.0  # the first call leaves the 61 s window in one second

    waited = desk.acquire()

    assert t.sleeps == [pytest.approx(1.0)] and waited == pytest.approx(1.0)


def test_an_interactive_wait_counts_every_sleep_against_the_bound(tmp_path: Path) -> None:
    """Another desk takes the freed slot first: the second wait would go past 1.5 s in all."""
    t = FakeTime()
    path = tmp_path / "w"
    desk, _ = _limiters(path, t)
    other = FileRateLimiter(path, per_minute=10, clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        desk.acquire()
        t.now += 0.8
    t.now += 61 - 10 * 0.8 - 1.0  # the first call leaves the window in 1.0 s, the second 0.8 s later

    def sleep_then_lose_the_slot(seconds: float) -> None:
        t.sleep(seconds)
        other.acquire()

    desk._sleep = sleep_then_lose_the_slot
    with pytest.raises(WixRateBudgetExhausted) as excinfo:
        desk.acquire()

    assert t.sleeps == [pytest.approx(1.0)]
    assert excinfo.value.waited == pytest.approx(1.0)


def test_a_share_must_be_a_part_of_the_budget(tmp_path: Path) -> None:
    for share in (0, -0.5, 1.5):
        with pytest.raises(ValueError):
            FileRateLimiter(tmp_path / "w", per_minute=10, share=share)
    assert FileRateLimiter(tmp_path / "w", per_minute=1, share=0.5).limit == 1


def test_redis_limiter_keeps_a_share_for_interactive_calls_and_bounds_their_wait(redis_url: str) -> None:
    import redis

    key = f"test:wix-rate-limit:{uuid.uuid4().hex}"
    t = FakeTime()
    worker = RedisRateLimiter(redis_url, key=key, per_minute=5, share=0.6, clock=t.clock, sleep=t.sleep)
    desk = RedisRateLimiter(redis_url, key=key, per_minute=5, max_wait=1.5, clock=t.clock, sleep=t.sleep)
    try:
        worker.acquire()
        worker.acquire()
        worker.acquire()
        desk.acquire()
        desk.acquire()
        assert t.sleeps == []
        with pytest.raises(WixRateBudgetExhausted) as excinfo:
            desk.acquire()  # the window (61 s, Redis's own clock) is full for about a minute
        assert excinfo.value.retry_after > 50 and t.sleeps == []
        assert redis.Redis.from_url(redis_url).zcard(key) == 5
    finally:
        redis.Redis.from_url(redis_url).delete(key)
