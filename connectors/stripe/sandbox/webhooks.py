"""Webhook deliveries: each event POSTed as JSON to every enabled endpoint that subscribes to it,
signed as Stripe signs (``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``),
retried with exponential backoff, and - with the ``out_of_order`` switch - delivered in reverse order
within each burst, and - with ``duplicates`` - delivered twice, as Stripe warns can happen.

Sandbox choices (GUESS, see README): any 2xx accepts a delivery; other statuses, connection errors
and timeouts are retried ``max_attempts`` times in all, waiting ``backoff * 2**(n-1)`` seconds
(Stripe retries for 3 days; the sandbox compresses that). Only loopback receivers are contacted.
Deliveries run on one background thread, so API answers never wait for a receiver.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "Stripe-Signature"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_RECORDED = 10_000


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (stripe.com/docs/webhooks#verify-manually)."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Job:
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: bytes
    attempt: int = 0
    duplicate: bool = False


@dataclass
class Attempt:
    """One delivery attempt, as ``webhook_deliveries()`` and ``GET /_sandbox/webhooks`` report it."""

    endpoint_id: str
    url: str
    event_id: str
    event_type: str
    attempt: int
    status: int | None
    error: str | None
    retry_in: float | None = None  # seconds until the next attempt, None when this was the last
    at: float = field(default_factory=time.time)


# called with (event_id, endpoint_id, delivered, final) after each attempt
Outcome = Callable[[str, str, bool, bool], None]


class WebhookDispatcher:
    def __init__(self, now: Callable[[], int], outcome: Outcome, max_attempts: int = 4, backoff: float = 0.2,
                 timeout: float = 2.0) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self.out_of_order = False
        self.duplicates = False
        self.burst_window = 0.05
        self._now = now
        self._outcome = outcome
        self._queue: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._attempts: list[Attempt] = []
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def configure(self, max_attempts: int | None = None, backoff: float | None = None,
                  timeout: float | None = None, out_of_order: bool | None = None,
                  duplicates: bool | None = None) -> dict[str, Any]:
        with self._cond:
            if max_attempts is not None:
                self.max_attempts = int(max_attempts)
            if backoff is not None:
                self.backoff = float(backoff)
            if timeout is not None:
                self.timeout = float(timeout)
            if out_of_order is not None:
                self.out_of_order = bool(out_of_order)
            if duplicates is not None:
                self.duplicates = bool(duplicates)
            return self.settings()

    def settings(self) -> dict[str, Any]:
        return {"max_attempts": self.max_attempts, "backoff": self.backoff, "timeout": self.timeout,
                "out_of_order": self.out_of_order, "duplicates": self.duplicates}

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stripe-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def enqueue(self, job: Job) -> None:
        with self._cond:
            # Out of order: hold each burst a moment so it can be delivered newest first.
            due = time.monotonic() + (self.burst_window if self.out_of_order else 0.0)
            heapq.heappush(self._queue, (due, next(self._seq), job))
            self._cond.notify_all()

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [asdict(a) for a in self._attempts]

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self._attempts.clear()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def _take_due(self) -> list[Job] | None:
        """Wait for due jobs; all that are due at once form a burst (None when stopping)."""
        with self._cond:
            while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                delay = self._queue[0][0] - time.monotonic() if self._queue else None
                self._cond.wait(delay)
            if self._stopping:
                return None
            burst: list[Job] = []
            # In order: what is due now. Out of order: also what was queued within one window after
            # the first job (a request's events land together whatever the machine's load), newest first.
            horizon = time.monotonic() + (self.burst_window if self.out_of_order else 0.0)
            while self._queue and self._queue[0][0] <= horizon:
                burst.append(heapq.heappop(self._queue)[2])
            if self.out_of_order:
                burst.reverse()
            self._in_flight += len(burst)
            return burst

    def _run(self) -> None:
        with httpx.Client(trust_env=False) as client:
            while True:
                burst = self._take_due()
                if burst is None:
                    return
                for job in burst:
                    try:
                        self._deliver(client, job)
                    finally:
                        with self._cond:
                            self._in_flight -= 1
                            self._cond.notify_all()

    def _deliver(self, client: httpx.Client, job: Job) -> None:
        job.attempt += 1
        status: int | None = None
        error: str | None = None
        retry = True
        if (urlsplit(job.url).hostname or "") not in LOOPBACK_HOSTS:
            error, retry = "not delivered: the sandbox only delivers to loopback hosts", False
        else:
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                       SIGNATURE_HEADER: signature(job.payload, job.secret, self._now())}
            try:
                response = client.post(job.url, content=job.payload, headers=headers, timeout=self.timeout)
                status = response.status_code
                retry = not 200 <= status < 300
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300
        with self._cond:
            again = retry and job.attempt < self.max_attempts and not self._stopping
            delay = self.backoff * 2 ** (job.attempt - 1) if again else None
            self._attempts.append(Attempt(job.endpoint_id, job.url, job.event_id, job.event_type, job.attempt,
                                          status, error, delay))
            del self._attempts[:-MAX_RECORDED]
            if delay is not None:
                heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), job))
            elif delivered and self.duplicates and not job.duplicate:  # the same event once more
                again_job = Job(job.endpoint_id, job.url, job.secret, job.event_id, job.event_type, job.payload,
                                duplicate=True)
                heapq.heappush(self._queue, (time.monotonic(), next(self._seq), again_job))
        self._outcome(job.event_id, job.endpoint_id, delivered, not again)
