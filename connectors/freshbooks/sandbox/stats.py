"""Request counters a test can assert on: totals, by status, by path, 429s and injected faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests = 0
            self.by_status: Counter[int] = Counter()
            self.by_path: Counter[str] = Counter()
            self.by_path_status: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.rate_limited = 0
            self.dropped = 0

    def record(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.requests += 1
            self.by_method[method] += 1
            self.by_path[path] += 1
            if status is None:
                self.dropped += 1
                self.by_path_status[f"{path} dropped"] += 1
                return
            self.by_status[status] += 1
            self.by_path_status[f"{path} {status}"] += 1
            if status == 429:
                self.rate_limited += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_path": dict(sorted(self.by_path.items())),
                "by_path_status": dict(sorted(self.by_path_status.items())),
                "by_method": dict(sorted(self.by_method.items())),
                "rate_limited": self.rate_limited,
                "dropped": self.dropped,
            }
