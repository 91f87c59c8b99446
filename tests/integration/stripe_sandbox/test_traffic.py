"""Idempotency (stored answers replayed, a 500 too; other parameters -> 400), the request budget
(429 with Stripe's headers), injected faults and the /_sandbox controls."""

from __future__ import annotations

import threading

import httpx
import pytest
import stripe

from connectors.stripe.sandbox import SandboxServer

from .conftest import make_customer


def test_idempotent_replay_and_conflict(client: stripe.StripeClient, sb: SandboxServer) -> None:
    before = sb.state.count("customer")
    first = client.v1.customers.create(params={"name": "Once"}, options={"idempotency_key": "k-1"})
    again = client.v1.customers.create(params={"name": "Once"}, options={"idempotency_key": "k-1"})
    assert again.id == first.id and sb.state.count("customer") == before + 1
    response = again.last_response
    assert response is not None and response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as failure:
        client.v1.customers.create(params={"name": "Twice"}, options={"idempotency_key": "k-1"})
    assert failure.value.http_status == 400
    assert sb.state.count("customer") == before + 1
    # a validation failure never began executing: nothing is stored, the key stays usable
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"email": "bad"}, options={"idempotency_key": "k-2"})
    ok = client.v1.customers.create(params={"email": "good@example.com"}, options={"idempotency_key": "k-2"})
    assert ok.email == "good@example.com"


def test_a_stored_500_is_replayed_and_an_applied_write_is_not_repeated(client: stripe.StripeClient,
                                                                       sb: SandboxServer) -> None:
    before = sb.state.count("customer")
    sb.set_faults(applied_error_rate=1.0)
    with pytest.raises(stripe.APIError) as failure:
        client.v1.customers.create(params={"name": "Lost answer", "metadata": {"syncengine_ref": "c/1"}},
                                   options={"idempotency_key": "crash-1"})
    assert failure.value.http_status == 500
    assert failure.value.headers is not None and failure.value.headers["Stripe-Should-Retry"] == "false"
    sb.set_faults(applied_error_rate=0.0)
    assert sb.state.count("customer") == before + 1  # the write happened although the answer was a 500
    with pytest.raises(stripe.APIError) as replay:
        client.v1.customers.create(params={"name": "Lost answer", "metadata": {"syncengine_ref": "c/1"}},
                                   options={"idempotency_key": "crash-1"})
    assert replay.value.headers is not None and replay.value.headers["Idempotent-Replayed"] == "true"
    assert sb.state.count("customer") == before + 1
    found = [c for c in client.v1.customers.list(params={"limit": 100}).data
             if c.metadata.to_dict().get("syncengine_ref") == "c/1"]
    assert len(found) == 1


def test_unexecuted_503_is_not_stored(client: stripe.StripeClient, sb: SandboxServer) -> None:
    sb.set_faults(error_rate=1.0, error_statuses=(503,))
    with pytest.raises(stripe.APIError) as failure:
        client.v1.customers.create(params={"name": "Retry me"}, options={"idempotency_key": "k-503"})
    assert failure.value.http_status == 503
    assert failure.value.headers is not None and failure.value.headers["Stripe-Should-Retry"] == "true"
    sb.set_faults(error_rate=0.0)
    made = client.v1.customers.create(params={"name": "Retry me"}, options={"idempotency_key": "k-503"})
    assert made.name == "Retry me" and made.last_response is not None
    assert "Idempotent-Replayed" not in made.last_response.headers
    assert sb.stats()["faults_injected"]["error"] == 1


def test_a_timed_out_write_lands_and_its_key_is_held_then_replayed(sb: SandboxServer) -> None:
    sb.set_faults(timeout_rate=1.0, timeout_seconds=1.0)
    headers = {"Authorization": f"Bearer {sb.api_key}", "Idempotency-Key": "slow-1"}
    with httpx.Client(base_url=sb.url, headers=headers, trust_env=False) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/v1/customers", data={"name": "Slow"}, timeout=0.05)
        sb.set_faults(timeout_rate=0.0)
        busy = http.post("/v1/customers", data={"name": "Slow"})  # the first is still running
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_key_in_use"
        assert busy.headers["Stripe-Should-Retry"] == "true"
        for _ in range(100):  # until the slow request has finished and stored its answer
            replay = http.post("/v1/customers", data={"name": "Slow"})
            if replay.status_code != 409:
                break
            threading.Event().wait(0.05)
        assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
        listed = http.get("/v1/customers", params={"limit": 100}).json()["data"]
        assert [c["id"] for c in listed if c["name"] == "Slow"] == [replay.json()["id"]]


def test_budget_answers_429_with_stripes_headers(client: stripe.StripeClient, sb: SandboxServer) -> None:
    with httpx.Client(base_url=sb.url, trust_env=False) as admin:
        assert admin.post("/_sandbox/budget", json={"requests_per_minute": 3}).status_code == 200
    for _ in range(3):
        client.v1.customers.list(params={"limit": 1})
    with pytest.raises(stripe.RateLimitError) as failure:
        client.v1.customers.create(params={"name": "Too fast"}, options={"idempotency_key": "rl-1"})
    assert failure.value.http_status == 429
    headers = failure.value.headers or {}
    assert headers["Stripe-Rate-Limited-Reason"] == "global-rate" and headers["Stripe-Should-Retry"] == "true"
    assert failure.value.json_body is not None and failure.value.json_body["error"]["code"] == "rate_limit"
    sb.advance(61)  # the window is on the sandbox clock
    made = client.v1.customers.create(params={"name": "Too fast"}, options={"idempotency_key": "rl-1"})
    assert made.name == "Too fast"  # a 429 records no idempotent answer: the retry is a fresh request
    with httpx.Client(base_url=sb.url, trust_env=False) as admin:
        admin.post("/_sandbox/budget", json={"requests_per_minute": None})
    assert sb.stats()["rate_limited"] == 1


def test_sandbox_controls_over_http(sb: SandboxServer, client: stripe.StripeClient) -> None:
    with httpx.Client(base_url=sb.url, trust_env=False) as admin:
        info = admin.get("/_sandbox/info").json()
        assert info["api_key"] == sb.api_key and info["api_key"].startswith("sk_test_")
        assert info["api_version"] == stripe.api_version
        assert len(info["seeded"]["customer"]) == 6 and info["seeded"]["invoice"]
        seeded = info["seeded"]["customer"][0]
        assert client.v1.customers.retrieve(seeded).id == seeded
        assert admin.post("/_sandbox/faults", json={"nonsense": 1}).status_code == 400
        assert admin.post("/_sandbox/faults", json={"latency_ms": 1}).json()["latency_ms"] == 1
        now = admin.post("/_sandbox/clock", json={"advance": 3600}).json()["now"]
        assert now >= info["now"] + 3600
        make_customer(client, email="extra@example.com")
        assert admin.post("/_sandbox/reset").json() == {"reset": True}
        assert client.v1.customers.list(params={"email": "extra@example.com"}).data == []
        stats = admin.get("/_sandbox/stats").json()
        assert stats["requests"] == 1


def test_clock_freeze_control(sb: SandboxServer) -> None:
    with httpx.Client(base_url=sb.url, trust_env=False) as admin:
        frozen = admin.post("/_sandbox/clock", json={"freeze": True}).json()
        assert frozen["frozen"] is True
        moved = admin.post("/_sandbox/clock", json={"advance": 86400}).json()
        assert moved["now"] == frozen["now"] + 86400  # a frozen clock moves only when told
        thawed = admin.post("/_sandbox/clock", json={"freeze": False}).json()
        assert thawed["frozen"] is False and thawed["now"] >= moved["now"]
