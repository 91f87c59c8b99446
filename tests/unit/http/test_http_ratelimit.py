"""The token bucket holds its rate, across threads, with a one-second burst by default."""

from __future__ import annotations

import threading
import time

import pytest

from syncengine.http.ratelimit import RateLimit, TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_is_held_on_a_fake_clock() -> None:
    fake = FakeTime()
    bucket = TokenBucket(RateLimit.per_minute(120), clock=fake.clock, sleep=fake.sleep)
    for _ in range(241):
        bucket.acquire()
    # burst of 2 (one second's worth), then 2 per second: 239 more need 119.5 s
    assert fake.now == pytest.approx(119.5)


def test_at_most_budget_plus_burst_in_any_window() -> None:
    fake = FakeTime()
    bucket = TokenBucket(RateLimit.per_minute(100), clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(400):
        bucket.acquire()
        stamps.append(fake.now)
    for i, start in enumerate(stamps):
        in_window = sum(1 for s in stamps[i:] if s < start + 60)
        assert in_window <= 100 + bucket.limit.capacity


def test_idle_time_refills_only_up_to_capacity() -> None:
    fake = FakeTime()
    bucket = TokenBucket(RateLimit.per_second(10, burst=3), clock=fake.clock, sleep=fake.sleep)
    fake.now = 1000.0
    waits = [bucket.reserve() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1) and waits[4] == pytest.approx(0.2)


def test_threads_share_the_rate_in_real_time() -> None:
    bucket = TokenBucket(RateLimit.per_second(50))
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert len(stamps) == 60
    # 60 requests at 50/s with a burst of 50: the last may go at (60 - 50) / 50 = 0.2 s at the earliest
    assert elapsed >= 0.19
    bucket2 = TokenBucket(RateLimit.per_second(50, burst=1))
    start = time.monotonic()
    for _ in range(26):
        bucket2.acquire()
    assert 0.48 <= time.monotonic() - start < 1.5


def test_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        RateLimit(0)
