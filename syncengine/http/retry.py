"""Retries at the transport seam: exponential backoff with full jitter, Retry-After, a deadline.

Hand-written rather than taken from ``httpx-retries`` or ``tenacity``: we need a per-request
opt-in for POST (an idempotency-key header), a total deadline across attempts, the client-side
rate limiter consulted on every attempt and paused by a 429, and retry logs that go through our
redaction. Each of those would be a subclass or wrapper around a general library; the whole
policy fits in this one module.

What is retried, and why:

* **429** for every method: the server refused before doing anything. We wait for Retry-After
  (seconds or an HTTP date) when given, else for the backoff.
* **5xx** in ``retry_statuses`` (500, 502, 503, 504 by default) for idempotent methods (GET, HEAD,
  OPTIONS, PUT, DELETE) and for requests carrying the idempotency-key header.
* **Connection refused / connect timeout** for every method: nothing reached the server.
* **Read/write timeouts and dropped connections** only for idempotent methods and keyed requests.
  A POST that timed out may have been applied by the server; sending it again would create a
  second invoice. Without an idempotency key the server cannot tell a retry from a new request,
  so we surface the failure (a TransientError upstream) and let the engine's intent log decide,
  which can look the record up before writing again. With a key, the server answers the retry
  with the first result, so retrying is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import structlog

from syncengine.http.ratelimit import TokenBucket
from syncengine.http.redact import redact_url

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "RetryTransport", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

#: A request extension a caller may set to ``False`` to send a request exactly once.
NO_RETRY_EXTENSION = "syncengine.no_retry"

_log = structlog.get_logger("syncengine.http")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first try; ``deadline`` bounds all attempts and waits."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    deadline: float = 120.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({500, 502, 503, 504}))
    #: a server's Retry-After longer than this is not waited for: the response is returned instead.
    max_retry_after: float = 120.0
    idempotency_header: str = "Idempotency-Key"
    #: a header by which the server says whether a failed request may be retried (Stripe's
    #: ``Stripe-Should-Retry``): ``true`` retries any failure that is safe to replay (a 409 lock
    #: timeout too), ``false`` stops at once. Absent: the status decides.
    retry_hint_header: str | None = None
    #: a 429 without Retry-After waits this long (the vendor's rate-limit window, e.g. 60 s for a
    #: per-minute budget) instead of the short backoff, which could run out before a slot frees.
    rate_limit_window: float | None = None

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1))] (AWS architecture blog)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return rng.uniform(0.0, ceiling)

    def replayable(self, request: httpx.Request) -> bool:
        """May this request be sent again after it may have reached the server?"""
        return request.method in IDEMPOTENT_METHODS or self.idempotency_header in request.headers


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport: rate-limits every attempt and retries what :class:`RetryPolicy` allows."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy,
        *,
        limiter: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.limiter = limiter
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        deadline = self._clock() + policy.deadline
        single_shot = request.extensions.get(NO_RETRY_EXTENSION) is False
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                response = self.inner.handle_request(request)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                # (a bad URL scheme or a proxy misconfiguration is not worth trying again)
                safe = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or policy.replayable(request)
                if single_shot or not safe or attempt >= policy.max_attempts:
                    raise
                delay = policy.backoff(attempt, self._rng)
                if self._clock() + delay > deadline:
                    raise
                self._log_retry(request, attempt, delay, type(exc).__name__)
                self._sleep(delay)
                continue

            status = response.status_code
            retryable = status == 429 or (status in policy.retry_statuses and policy.replayable(request))
            hint = response.headers.get(policy.retry_hint_header) if policy.retry_hint_header else None
            if hint is not None and status >= 400:
                retryable = hint.strip().lower() == "true" and (status == 429 or policy.replayable(request))
            if single_shot or not retryable or attempt >= policy.max_attempts:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None and retry_after > policy.max_retry_after:
                return response
            if retry_after is None and status == 429 and policy.rate_limit_window is not None:
                retry_after = policy.rate_limit_window
            delay = retry_after if retry_after is not None else policy.backoff(attempt, self._rng)
            if self._clock() + delay > deadline:
                return response
            if status == 429 and self.limiter is not None:
                # Every thread sharing this client waits, not just the one that was refused.
                self.limiter.defer(delay)
            response.close()
            self._log_retry(request, attempt, delay, str(status))
            self._sleep(delay)

    def _log_retry(self, request: httpx.Request, attempt: int, delay: float, reason: str) -> None:
        _log.info(
            "http.retry",
            method=request.method,
            url=redact_url(request.url),
            attempt=attempt,
            delay=round(delay, 3),
            reason=reason,
        )

    def close(self) -> None:
        self.inner.close()
