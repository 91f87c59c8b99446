"""A per-access-token request budget: past ``requests_per_minute`` the API answers 429.

FreshBooks publishes no rate-limit numbers or headers (reference §1.11, UNCONFIRMED), so the
sandbox's behaviour is a documented choice: a sliding 60-second window per bearer token, measured
on the sandbox clock (``advance(60)`` empties it), a 429 whose body is in the path's family shape,
and a ``Retry-After`` header with the whole seconds until the oldest request leaves the window.
Requests answered 429 do not count against the budget.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from .clock import Clock

WINDOW_SECONDS = 60.0


class RequestBudget:
    def __init__(self, clock: Clock, requests_per_minute: int | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.requests_per_minute = requests_per_minute
        self._windows: dict[str, deque[float]] = {}

    def set(self, requests_per_minute: int | None) -> None:
        with self._lock:
            self.requests_per_minute = requests_per_minute
            self._windows.clear()

    def spend(self, token: str) -> int | None:
        """Count one request; returns None if allowed, else the Retry-After seconds."""
        with self._lock:
            limit = self.requests_per_minute
            if limit is None:
                return None
            now = self._clock.timestamp()
            window = self._windows.setdefault(token, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + WINDOW_SECONDS - now)) if window else 1
            window.append(now)
            return None
