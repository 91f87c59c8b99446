"""The one way connectors get an HTTP client: httpx with retries, a rate limiter and auth.

``transport`` is the seam for tests (an ``httpx.MockTransport``, or a real transport pointed at
the sandbox); retries and rate limiting wrap whatever transport is given, so they are exercised
in tests exactly as in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from syncengine.http.observe import ObservedTransport, current_client_name
from syncengine.http.ratelimit import RateLimit, TokenBucket
from syncengine.http.retry import RetryPolicy, RetryTransport

__all__ = ["DEFAULT_USER_AGENT", "make_client"]

DEFAULT_USER_AGENT = "syncengine/0.1 (+https://github.com/syncengine/syncengine)"


def make_client(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    rate_limit: RateLimit | TokenBucket | None = None,
    retry: RetryPolicy | None = None,
    timeout: float | httpx.Timeout = 30.0,
    transport: httpx.BaseTransport | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    headers: dict[str, str] | None = None,
    name: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Client:
    """An ``httpx.Client`` for one API. Pass a shared :class:`TokenBucket` to share one budget.

    ``name`` labels its calls for HTTP observers (metrics); by default the connector being built
    (:func:`syncengine.http.observe.client_name`), else the API's host. ``sleep`` is how retry
    waits pass (a test against a sandbox clock advances that clock instead)."""
    limiter = TokenBucket(rate_limit) if isinstance(rate_limit, RateLimit) else rate_limit
    label = name or current_client_name() or httpx.URL(base_url).host or base_url
    observed = ObservedTransport(transport or httpx.HTTPTransport(), label)
    wrapped = RetryTransport(observed, retry or RetryPolicy(), limiter=limiter, sleep=sleep)
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        transport=wrapped,
        timeout=timeout,
        headers={"User-Agent": user_agent, **(headers or {})},
        follow_redirects=False,
    )
