"""A client-side rate limiter (token bucket), so an API's 429s stay rare instead of being the pacing.

The limit is set per API in config (FreshBooks publishes none; its sandbox enforces a budget per
minute). The bucket holds at most one second's worth of requests by default: a full minute's
worth as burst would let a client send twice its budget inside one sliding minute. It is
thread-safe and fair: a caller *reserves* its slot under the lock and sleeps outside it, so
threads queue in arrival order and none spins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimit", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``requests`` per ``per`` seconds, with an optional burst (default: one second's worth, >= 1)."""

    requests: float
    per: float = 60.0
    burst: float | None = None

    def __post_init__(self) -> None:
        if self.requests <= 0 or self.per <= 0:
            raise ValueError("a rate limit needs a positive number of requests per positive period")

    @classmethod
    def per_minute(cls, requests: float, burst: float | None = None) -> RateLimit:
        return cls(requests, 60.0, burst)

    @classmethod
    def per_second(cls, requests: float, burst: float | None = None) -> RateLimit:
        return cls(requests, 1.0, burst)

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.per

    @property
    def capacity(self) -> float:
        return self.burst if self.burst is not None else max(1.0, self.rate)


class TokenBucket:
    """Take one token per request; wait when none is left. ``defer`` pauses everyone (after a 429)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = limit.capacity
        self._stamp = clock()
        self._not_before = 0.0

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.limit.capacity, self._tokens + elapsed * self.limit.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take a token (possibly going into debt) and return how long the caller must wait."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.limit.rate
            return max(wait, self._not_before - now)

    def acquire(self) -> float:
        """Block until the caller may send; returns the time waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def defer(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` (the server said Retry-After); the bucket is emptied too."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            self._not_before = max(self._not_before, now + seconds)
