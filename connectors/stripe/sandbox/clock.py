"""The sandbox's adjustable clock: every ``created`` and event time comes from here, never from ``time.time()``.

Tests move it (``set_now``, ``advance``) to age events past Stripe's 30-day window or to make several
changes fall in one second; it keeps ticking in real time from wherever it was set.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time shifted by an adjustable offset; thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        if start is not None:
            self.set_now(start)

    def timestamp(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def seconds(self) -> int:
        """Unix seconds: the one-second resolution of every Stripe timestamp."""
        return int(self.timestamp())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def set_now(self, when: datetime | float) -> None:
        target = when if isinstance(when, float | int) else (
            when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        with self._lock:
            self._offset = float(target) - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        with self._lock:
            self._offset = value
