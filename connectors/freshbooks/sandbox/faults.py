"""Injected trouble: error responses, slow answers past a client's timeout, dropped connections.

The real API fails in ways a sync engine must survive; these switches reproduce them on demand.
Decisions come from a seeded RNG, so a test that sets ``error_rate=0.3`` sees the same sequence of
failures on every run (given the same order of requests). Admin paths (``/_sandbox``) are never
faulted.

Sandbox choices: a "timeout" sleeps ``timeout_seconds`` and then *still handles the request* (a
slow server whose client has given up, so a write may land after the client saw a timeout);
a "drop" closes the TCP connection without writing any response, and the request is not handled.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["error", "timeout", "drop"]


@dataclass
class FaultSettings:
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
    drop_rate: float = 0.0
    latency_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        return data


@dataclass
class Decision:
    action: Action | None = None
    status: int = 0
    latency: float = 0.0
    sleep: float = 0.0


@dataclass
class Faults:
    rng_seed: int = 1
    settings: FaultSettings = field(default_factory=FaultSettings)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.rng_seed)
        self.injected: dict[str, int] = {"error": 0, "timeout": 0, "drop": 0}

    def configure(self, **changes: Any) -> FaultSettings:
        """Replace the named switches (unknown names are a TypeError); returns the new settings."""
        with self._lock:
            current = asdict(self.settings)
            for key, value in changes.items():
                if key not in current:
                    raise TypeError(f"unknown fault switch {key!r}")
                current[key] = value
            current["error_statuses"] = tuple(int(s) for s in current["error_statuses"])
            for key in ("error_rate", "timeout_rate", "drop_rate"):
                current[key] = float(current[key])
            current["timeout_seconds"] = float(current["timeout_seconds"])
            current["latency_ms"] = int(current["latency_ms"])
            self.settings = FaultSettings(**current)
            return self.settings

    def reset(self) -> None:
        with self._lock:
            self.settings = FaultSettings()
            self._rng = random.Random(self.rng_seed)
            self.injected = {"error": 0, "timeout": 0, "drop": 0}

    def decide(self) -> Decision:
        """What to do to the next request: nothing, an error status, a timeout or a drop."""
        with self._lock:
            s = self.settings
            decision = Decision(latency=s.latency_ms / 1000.0)
            if not (s.error_rate or s.timeout_rate or s.drop_rate):
                return decision
            roll = self._rng.random()
            if roll < s.drop_rate:
                decision.action = "drop"
            elif roll < s.drop_rate + s.timeout_rate:
                decision.action = "timeout"
                decision.sleep = s.timeout_seconds
            elif roll < s.drop_rate + s.timeout_rate + s.error_rate:
                decision.action = "error"
                decision.status = self._rng.choice(s.error_statuses) if s.error_statuses else 500
            if decision.action:
                self.injected[decision.action] += 1
            return decision
