"""The sandbox's adjustable clock: every ``created`` and event time comes from here, never from ``time.time()``.

Tests move it (``set_now``, ``advance``) to age events past Stripe's 30-day window; it keeps ticking
in real time from wherever it was set, unless frozen (``freeze(True)``): then every change happens in
the same second until it is moved or thawed - the same-second events that break naive cursors.
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
        self._frozen_at: float | None = None  # wall time at which the clock stopped
        if start is not None:
            self.set_now(start)

    def timestamp(self) -> float:
        with self._lock:
            wall = time.time() if self._frozen_at is None else self._frozen_at
            return wall + self._offset

    def freeze(self, frozen: bool = True) -> None:
        """Stop the clock where it is (True) or let it tick on from there (False)."""
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time()
            elif not frozen and self._frozen_at is not None:
                self._offset -= time.time() - self._frozen_at
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def seconds(self) -> int:
        """Unix seconds: the one-second resolution of every Stripe timestamp."""
        return int(self.timestamp())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def set_now(self, when: datetime | float) -> None:
        target = when if isinstance(when, float | int) else (
            when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        with self._lock:
            self._offset = float(target) - (time.time() if self._frozen_at is None else self._frozen_at)

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
