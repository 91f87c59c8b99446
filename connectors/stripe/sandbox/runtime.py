"""The running sandbox as handlers see it: state, clock, key, traffic switches, and the event log.

Every change a handler makes goes through :meth:`Sandbox.emit`, which records a Stripe event (the
object after the change, ``previous_attributes`` for updates, the request's id and idempotency key)
and queues one signed delivery per enabled webhook endpoint that subscribes to its type.
"""

from __future__ import annotations

import contextvars
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from . import ids, shapes
from .budget import RequestBudget
from .clock import Clock
from .faults import Faults
from .idempotency import Idempotency
from .stats import Stats
from .store import Store, public
from .webhooks import Job, WebhookDispatcher

PINNED_API_VERSION = "2026-10-28.endive"  # what stripe 16.1.0 pins; used when the library is not installed


def _api_version() -> str:
    """The version the installed ``stripe`` library pins: the shapes its users expect."""
    try:
        import stripe
    except ImportError:  # the library is a test dependency; the sandbox runs without it
        return PINNED_API_VERSION
    return str(stripe.api_version)


API_VERSION = _api_version()
EVENT_RETENTION_SECONDS = 30 * 86400

# (request id, idempotency key) of the request being handled, for ``event.request``
REQUEST: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "stripe_sandbox_request", default=(None, None))


@dataclass
class Settings:
    requests_per_minute: int | None = None
    rng_seed: int = 1


def api_key_for(rng_seed: int) -> str:
    return "sk_test_" + ids.token(rng_seed, -1, 32)


def event_matches(pattern: str, event_type: str) -> bool:
    """``*`` alone matches everything; ``customer.*`` every ``customer.`` type (a trailing wildcard)."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


class Sandbox:
    def __init__(self, store: Store, clock: Clock, settings: Settings, reseed: Callable[[], Store]) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.api_key = api_key_for(settings.rng_seed)
        self.api_version = API_VERSION
        self.faults = Faults(settings.rng_seed)
        self.budget = RequestBudget(clock, settings.requests_per_minute)
        self.stats = Stats()
        self.idempotency = Idempotency(store)
        # Signatures carry wall-clock time: receivers check ``t`` against their own clock (300 s tolerance),
        # whatever the sandbox clock says.
        self.webhooks = WebhookDispatcher(lambda: int(time.time()), self._delivery_outcome)
        self._reseed = reseed

    def now(self) -> int:
        return self.clock.seconds()

    # -- events -----------------------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None,
             created: int | None = None) -> dict[str, Any]:
        """Record one event about ``obj`` (call with the store lock held) and queue its deliveries."""
        data: dict[str, Any] = {"object": public(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        request_id, idempotency_key = REQUEST.get()
        event = shapes.event(self.store.new_id("event"), created if created is not None else self.now(),
                             self.api_version, event_type, data, request_id, idempotency_key)
        endpoints = [e for e in self.store.all("webhook_endpoint")
                     if e["status"] == "enabled" and any(event_matches(p, event_type) for p in e["enabled_events"])]
        event["_deliveries"] = {e["id"]: "pending" for e in endpoints}
        event["pending_webhooks"] = len(endpoints)
        self.store.add("event", event)
        if endpoints:
            payload = orjson.dumps(public(event), option=orjson.OPT_INDENT_2)
            for endpoint in endpoints:
                self.webhooks.enqueue(Job(endpoint["id"], endpoint["url"], endpoint["_secret"], event["id"],
                                          event_type, payload))
        return event

    def updated(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any]) -> None:
        """An ``*.updated`` event, only when something changed (Stripe sends none for a no-op)."""
        if previous:
            self.emit(event_type, obj, previous)

    def _delivery_outcome(self, event_id: str, endpoint_id: str, delivered: bool, final: bool) -> None:
        with self.store.lock:
            event = self.store.find("event", event_id)
            if event is None:
                return
            deliveries = event.setdefault("_deliveries", {})
            if delivered:
                deliveries[endpoint_id] = "delivered"
            elif final:
                deliveries[endpoint_id] = "failed"
            else:
                deliveries[endpoint_id] = "retrying"
            event["pending_webhooks"] = sum(1 for s in deliveries.values() if s != "delivered")

    # -- admin ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to freshly seeded data; the clock and key are kept, switches cleared."""
        fresh = self._reseed()
        with self.store.lock:
            self.store.objects = fresh.objects
            self.store.idempotency = fresh.idempotency
            self.store.seeded = fresh.seeded
            self.store.counter = fresh.counter
        self.faults.reset()
        self.budget.set(self.settings.requests_per_minute)
        self.stats.reset()
        self.webhooks.clear()


def track_changes(obj: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply ``changes`` to ``obj``; return ``previous_attributes`` (old values of what changed).

    Hashes (metadata, address) report only their changed keys, old value or null for an added key;
    arrays and scalars report the whole old value (stripe.com/docs/api/events/object).
    """
    previous: dict[str, Any] = {}
    for key, value in changes.items():
        old = obj.get(key)
        if old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            inner = {k: old.get(k) for k in set(old) | set(value) if old.get(k) != value.get(k)}
            previous[key] = inner
        else:
            previous[key] = copy.deepcopy(old)
        obj[key] = value
    return previous
