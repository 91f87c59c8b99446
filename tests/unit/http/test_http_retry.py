"""Retries: bounded backoff with full jitter, Retry-After, which methods may be replayed, the deadline."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from syncengine.http import RetryPolicy, RetryTransport, make_client, parse_retry_after
from syncengine.http.ratelimit import RateLimit, TokenBucket

Script = Callable[..., tuple[httpx.MockTransport, list[httpx.Request]]]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(transport: httpx.BaseTransport, policy: RetryPolicy, fake: FakeTime) -> httpx.Client:
    wrapped = RetryTransport(transport, policy, sleep=fake.sleep, clock=fake.clock, rng=random.Random(7))
    return httpx.Client(base_url="http://api.test", transport=wrapped)


def test_backoff_is_full_jitter_within_exponential_ceiling() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8.0)
    rng = random.Random(1)
    for attempt in range(1, 10):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        samples = [policy.backoff(attempt, rng) for _ in range(300)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # full jitter spreads over the whole range, not just near the ceiling
        assert min(samples) < ceiling * 0.1 and max(samples) > ceiling * 0.9


def test_5xx_retried_with_bounded_attempts_and_delays(script: Script) -> None:
    transport, seen = script(httpx.Response(503))
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=3.0)
    with client_for(transport, policy, fake) as client:
        response = client.get("/things")
    assert response.status_code == 503
    assert len(seen) == 4
    assert len(fake.sleeps) == 3
    for attempt, delay in enumerate(fake.sleeps, start=1):
        assert 0 <= delay <= min(3.0, 2 ** (attempt - 1))


def test_retry_after_seconds_is_honoured(script: Script) -> None:
    transport, seen = script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    fake = FakeTime()
    with client_for(transport, RetryPolicy(), fake) as client:
        assert client.get("/x").status_code == 200
    assert fake.sleeps == [7.0]
    assert len(seen) == 2


def test_retry_after_http_date_is_honoured() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42.0)
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after(format_datetime(now - timedelta(days=1), usegmt=True), now=now) == 0.0


def test_retry_after_beyond_the_limit_returns_the_429(script: Script) -> None:
    transport, seen = script(httpx.Response(429, headers={"Retry-After": "3600"}))
    fake = FakeTime()
    with client_for(transport, RetryPolicy(max_retry_after=60), fake) as client:
        assert client.get("/x").status_code == 429
    assert len(seen) == 1 and fake.sleeps == []


def test_total_deadline_stops_retrying(script: Script) -> None:
    transport, seen = script(httpx.Response(429, headers={"Retry-After": "10"}))
    fake = FakeTime()
    with client_for(transport, RetryPolicy(max_attempts=100, deadline=35), fake) as client:
        assert client.get("/x").status_code == 429
    assert fake.sleeps == [10.0, 10.0, 10.0]
    assert len(seen) == 4


def test_post_not_retried_on_timeout_without_idempotency_key(script: Script) -> None:
    transport, seen = script(httpx.ReadTimeout("slow"), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client, pytest.raises(httpx.ReadTimeout):
        client.post("/invoices", json={"a": 1})
    assert len(seen) == 1


def test_post_not_retried_on_dropped_connection_or_5xx_without_key(script: Script) -> None:
    transport, seen = script(httpx.RemoteProtocolError("dropped"), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client, pytest.raises(httpx.RemoteProtocolError):
        client.post("/invoices", json={})
    assert len(seen) == 1
    transport, seen = script(httpx.Response(502), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client:
        assert client.post("/invoices", json={}).status_code == 502
    assert len(seen) == 1


def test_post_with_idempotency_key_is_retried_on_timeout(script: Script) -> None:
    transport, seen = script(httpx.ReadTimeout("slow"), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client:
        response = client.post("/charges", json={}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201
    assert len(seen) == 2
    assert seen[1].headers["Idempotency-Key"] == "k1"
    assert seen[1].content == seen[0].content


def test_post_retried_on_429_and_on_refused_connection(script: Script) -> None:
    transport, seen = script(httpx.Response(429), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client:
        assert client.post("/invoices", json={}).status_code == 201
    assert len(seen) == 2
    transport, seen = script(httpx.ConnectError("refused"), httpx.Response(201))
    with client_for(transport, RetryPolicy(), FakeTime()) as client:
        assert client.post("/invoices", json={}).status_code == 201
    assert len(seen) == 2


def test_idempotent_methods_retried_on_timeouts_and_5xx(script: Script) -> None:
    for method in ("GET", "PUT", "DELETE"):
        transport, seen = script(httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(200))
        with client_for(transport, RetryPolicy(), FakeTime()) as client:
            assert client.request(method, "/x").status_code == 200
        assert len(seen) == 3


def test_4xx_other_than_429_not_retried(script: Script) -> None:
    transport, seen = script(httpx.Response(400), httpx.Response(200))
    with client_for(transport, RetryPolicy(), FakeTime()) as client:
        assert client.get("/x").status_code == 400
    assert len(seen) == 1


def test_retry_logged_at_info_with_redacted_url(script: Script) -> None:
    transport, _ = script(httpx.Response(503), httpx.Response(200))
    with capture_logs() as logs, client_for(transport, RetryPolicy(), FakeTime()) as client:
        client.get("/x", params={"access_token": "s3cr3t-token", "page": 2})
    retries = [e for e in logs if e["event"] == "http.retry"]
    assert len(retries) == 1
    assert retries[0]["log_level"] == "info"
    assert "s3cr3t-token" not in str(retries[0])
    assert "page=2" in retries[0]["url"]


def test_429_pauses_the_shared_rate_limiter(script: Script) -> None:
    transport, _ = script(httpx.Response(429, headers={"Retry-After": "5"}), httpx.Response(200))
    fake = FakeTime()
    bucket = TokenBucket(RateLimit.per_second(100), clock=fake.clock, sleep=fake.sleep)
    wrapped = RetryTransport(transport, RetryPolicy(), limiter=bucket, sleep=fake.sleep, clock=fake.clock)
    with httpx.Client(base_url="http://api.test", transport=wrapped) as client:
        client.get("/x")
    # another caller arriving now must wait out the server's Retry-After too
    fake.now -= 2
    assert bucket.reserve() == pytest.approx(2.0)


# -- over real loopback HTTP ---------------------------------------------------------------------


def test_loopback_post_timeout_sent_once_and_get_retried(loopback: Callable[[Starlette], str]) -> None:
    hits: dict[str, int] = {}

    async def slow(request: Request) -> Response:
        hits[request.method] = hits.get(request.method, 0) + 1
        if hits[request.method] == 1:
            import anyio

            await anyio.sleep(1.0)
        return JSONResponse({"ok": True})

    base = loopback(Starlette(routes=[Route("/slow", slow, methods=["GET", "POST"])]))
    policy = RetryPolicy(backoff_base=0.01)
    with make_client(base, retry=policy, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/slow", json={"x": 1})
        assert client.get("/slow").json() == {"ok": True}
    assert hits == {"POST": 1, "GET": 2}


def test_loopback_503_then_success(loopback: Callable[[Starlette], str]) -> None:
    count = 0

    async def flaky(request: Request) -> Response:
        nonlocal count
        count += 1
        if count < 3:
            return Response(status_code=503, headers={"Retry-After": "0"})
        return JSONResponse({"n": count})

    base = loopback(Starlette(routes=[Route("/flaky", flaky)]))
    with make_client(base, retry=RetryPolicy(backoff_base=0.01)) as client:
        assert client.get("/flaky").json() == {"n": 3}


def test_configuration_errors_are_not_retried(script: Script) -> None:
    transport, seen = script(httpx.UnsupportedProtocol("ftp?"), httpx.Response(200))
    with client_for(transport, RetryPolicy(), FakeTime()) as client, pytest.raises(httpx.UnsupportedProtocol):
        client.get("/x")
    assert len(seen) == 1
