"""Request budget (429 + Retry-After), injected faults, stats and the admin endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import SEED_NOW, accounting


def test_budget_answers_429_per_token_until_the_window_passes(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_budget(requests_per_minute=5)
    path = accounting(sb, "users/clients")
    assert [http.get(path).status_code for _ in range(5)] == [200] * 5
    limited = http.get(path)
    assert limited.status_code == 429
    assert "Retry-After" not in limited.headers  # retry_after variant default: none
    sb.set_variants(retry_after="seconds")
    assert 1 <= int(http.get(path).headers["Retry-After"]) <= 60
    assert limited.json()["response"]["errors"][0]["errno"] == 429
    projects = http.get(f"/projects/business/{sb.business_id}/projects")
    assert projects.status_code == 429 and "error" in projects.json()
    other = sb.issue_tokens()["access_token"]  # the budget is per token
    assert http.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    sb.advance(61)
    assert http.get(path).status_code == 200
    stats = sb.stats()
    assert stats["rate_limited"] == 3 and stats["by_status"]["429"] == 3
    sb.set_budget(None)
    assert all(http.get(path).status_code == 200 for _ in range(10))


def _statuses(rng_seed: int) -> list[int]:
    with SandboxServer(seed=2, rng_seed=rng_seed, now=SEED_NOW) as server:
        server.set_faults(error_rate=0.5, error_statuses=(500, 503))
        token = server.issue_tokens()["access_token"]
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as c:
            return [c.get(accounting(server, "items/items")).status_code for _ in range(30)]


def test_error_faults_are_seeded_and_shaped_per_family(sb: SandboxServer, http: httpx.Client) -> None:
    first, again = _statuses(3), _statuses(3)
    assert first == again and set(first) == {200, 500, 503}
    sb.set_faults(error_rate=1.0, error_statuses=(503,))
    accounting_failure = http.get(accounting(sb, "users/clients"))
    assert accounting_failure.status_code == 503 and accounting_failure.json()["response"]["errors"][0]["errno"]
    project_failure = http.get(f"/projects/business/{sb.business_id}/projects")
    assert project_failure.status_code == 503 and "error" in project_failure.json()
    assert httpx.get(f"{sb.url}/_sandbox/stats", trust_env=False).status_code == 200  # admin is never faulted
    sb.set_faults()
    assert http.get(accounting(sb, "users/clients")).status_code == 200
    assert sb.stats()["faults_injected"]["error"] == 2


def test_timeout_fault_still_applies_the_write_late(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_faults(timeout_rate=1.0, timeout_seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        http.post(accounting(sb, "users/clients"), json={"client": {"email": "slow@x.com"}}, timeout=0.2)
    sb.set_faults()
    deadline = time.monotonic() + 3
    while not any(c["email"] == "slow@x.com" for c in sb.state.list("clients")):
        assert time.monotonic() < deadline, "the slow write never landed"
        time.sleep(0.05)


def test_drop_fault_closes_the_connection_without_an_answer(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(accounting(sb, "users/clients"))
    sb.set_faults()
    assert http.get(accounting(sb, "users/clients")).status_code == 200
    assert sb.stats()["dropped"] == 1


def test_latency_is_added(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_faults(latency_ms=150)
    started = time.monotonic()
    assert http.get(accounting(sb, "users/clients")).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_admin_endpoints_drive_a_running_sandbox(sb: SandboxServer) -> None:
    with httpx.Client(base_url=sb.url, trust_env=False) as admin:
        token = admin.post("/_sandbox/tokens", json={}).json()
        assert token["token_type"] == "Bearer" and token["expires_in"] == 43200
        info = admin.get("/_sandbox/info").json()
        assert info["client_id"] == sb.client_id and info["businesses"][0]["account_id"] == sb.account_id
        assert admin.post("/_sandbox/clock", json={"now": "2026-03-10T12:00:00Z"}).json()["now"].startswith(
            "2026-03-10T12:00")
        moved = admin.post("/_sandbox/clock", json={"advance": 3600}).json()["now"]
        assert moved.startswith("2026-03-10T13:00")
        fresh = admin.post("/_sandbox/tokens", json={}).json()["access_token"]
        api = {"Authorization": f"Bearer {fresh}"}
        assert admin.post("/_sandbox/budget", json={"requests_per_minute": 1}).status_code == 200
        assert admin.get(accounting(sb, "users/clients"), headers=api).status_code == 200
        assert admin.get(accounting(sb, "users/clients"), headers=api).status_code == 429
        admin.post("/_sandbox/budget", json={"requests_per_minute": None})
        faults = admin.post("/_sandbox/faults", json={"error_rate": 1.0, "error_statuses": [500]}).json()
        assert faults["error_rate"] == 1.0
        assert admin.get(accounting(sb, "users/clients"), headers=api).status_code == 500
        admin.post("/_sandbox/faults", json={"error_rate": 0})
        stats = admin.get("/_sandbox/stats").json()
        assert stats["rate_limited"] == 1 and stats["by_status"]["500"] == 1
        created = admin.post(accounting(sb, "users/clients"), headers=api, json={"client": {"email": "r@x.com"}})
        assert created.status_code == 200
        count = sb.state.count("clients")
        assert admin.post("/_sandbox/reset").json() == {"reset": True}
        assert sb.state.count("clients") == count - 1
        assert admin.get(accounting(sb, "users/clients"), headers=api).status_code == 200
        assert admin.get("/_sandbox/stats").json()["requests"] == 1
