"""Request counters a test can assert on: totals, by status, by method and route, 429s, replays.

Routes are counted with object ids replaced by ``{id}`` so the counters stay small on long runs.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

_OBJECT_ID = re.compile(r"/[a-z]+_[A-Za-z0-9]{8,}")


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_status: Counter[int] = Counter()
            self.by_route: Counter[str] = Counter()
            self.rate_limited = 0
            self.replayed = 0

    def record(self, method: str, path: str, status: int, replayed: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1
            self.by_route[f"{method} {_OBJECT_ID.sub('/{id}', path)} {status}"] += 1
            self.rate_limited += status == 429
            self.replayed += replayed

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self.requests, "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                    "by_route": dict(sorted(self.by_route.items())), "rate_limited": self.rate_limited,
                    "replayed": self.replayed}
