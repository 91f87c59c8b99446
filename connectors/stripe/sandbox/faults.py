"""Injected trouble: error answers, slow answers past a client's timeout, added latency.

Decisions come from a seeded RNG, so a test that sets ``error_rate=0.3`` sees the same sequence on
every run. ``/_sandbox`` paths are never faulted.

Sandbox choices (GUESS): an injected 500 counts as a request that began executing: Stripe stores it
under the request's ``Idempotency-Key`` and replays it (reference "Idempotency"), and it carries
``Stripe-Should-Retry: false``; other statuses (502, 503, 504) are answered before the request is
executed and are not stored (``Stripe-Should-Retry: true``). ``applied_error_rate`` answers a 500
*after* the write was applied (the answer is lost, the object exists: the crash case a connector's
metadata back-reference must cover). A timeout sleeps ``timeout_seconds`` and then still applies the
request.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["error", "applied_error", "timeout"]


@dataclass
class FaultSettings:
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    applied_error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
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
        self.injected: dict[str, int] = {"error": 0, "applied_error": 0, "timeout": 0}

    def configure(self, **changes: Any) -> FaultSettings:
        """Replace the named switches (an unknown name is a TypeError); returns the new settings."""
        with self._lock:
            current = asdict(self.settings)
            for key, value in changes.items():
                if key not in current:
                    raise TypeError(f"unknown fault switch {key!r}")
                current[key] = value
            current["error_statuses"] = tuple(int(s) for s in current["error_statuses"])
            for key in ("error_rate", "applied_error_rate", "timeout_rate", "timeout_seconds"):
                current[key] = float(current[key])
                if key.endswith("_rate") and not 0.0 <= current[key] <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1")
            current["latency_ms"] = int(current["latency_ms"])
            self.settings = FaultSettings(**current)
            return self.settings

    def reset(self) -> None:
        with self._lock:
            self.settings = FaultSettings()
            self._rng = random.Random(self.rng_seed)
            self.injected = {"error": 0, "applied_error": 0, "timeout": 0}

    def decide(self) -> Decision:
        with self._lock:
            s = self.settings
            decision = Decision(latency=s.latency_ms / 1000.0)
            if not (s.error_rate or s.applied_error_rate or s.timeout_rate):
                return decision
            roll = self._rng.random()
            if roll < s.error_rate:
                decision.action = "error"
                decision.status = self._rng.choice(s.error_statuses) if s.error_statuses else 500
            elif roll < s.error_rate + s.applied_error_rate:
                decision.action = "applied_error"
                decision.status = 500
            elif roll < s.error_rate + s.applied_error_rate + s.timeout_rate:
                decision.action = "timeout"
                decision.sleep = s.timeout_seconds
            if decision.action:
                self.injected[decision.action] += 1
            return decision
