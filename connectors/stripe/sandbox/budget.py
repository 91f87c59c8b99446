"""A per-API-key request budget: past ``requests_per_minute`` the API answers 429.

Stripe publishes its limits (about 25 requests/s in test mode) and the 429's headers:
``Stripe-Rate-Limited-Reason`` (here ``global-rate``) and ``Stripe-Should-Retry`` (reference "Rate
limits"). The window itself is a sandbox choice (GUESS): a sliding 60 seconds on the sandbox clock
(``advance(60)`` empties it); answers of 429 do not count against the budget. ``Retry-After`` is
sent too, though the ``stripe`` library ignores it.
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
        if requests_per_minute is not None and requests_per_minute < 0:
            raise ValueError("requests_per_minute must be >= 0 or null")
        with self._lock:
            self.requests_per_minute = requests_per_minute
            self._windows.clear()

    def spend(self, key: str) -> int | None:
        """Count one request; None if allowed, else the seconds until a slot frees."""
        with self._lock:
            limit = self.requests_per_minute
            if limit is None:
                return None
            now = self._clock.timestamp()
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + WINDOW_SECONDS - now)) if window else 1
            window.append(now)
            return None
