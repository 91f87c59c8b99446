"""Fixtures: a running sandbox per test, a bearer-authenticated httpx client, an SDK client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import freshbooks
import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer

# Seeded records are stamped in the 120 days before this instant; tests move the clock forward from it.
SEED_NOW = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(seed=20, port=0, rng_seed=7, now=SEED_NOW) as server:
        yield server


@pytest.fixture
def tokens(sb: SandboxServer) -> dict[str, Any]:
    """A long-lived pair: tests jump the sandbox clock by months (expiry has its own tests)."""
    return sb.issue_tokens(ttl=400 * 86400)


@pytest.fixture
def http(sb: SandboxServer, tokens: dict[str, Any]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    with httpx.Client(base_url=sb.url, headers=headers, timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def sdk_env(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the official SDK at the sandbox (it reads these when a Client is constructed)."""
    monkeypatch.setenv("FRESHBOOKS_API_URL", sb.url)
    monkeypatch.setenv("FRESHBOOKS_AUTH_URL", sb.url)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def fb(sb: SandboxServer, tokens: dict[str, Any], sdk_env: None) -> freshbooks.Client:
    """An SDK client holding a token pair; retries off so error tests see the first answer."""
    return freshbooks.Client(client_id=sb.client_id, client_secret=sb.client_secret, redirect_uri=sb.redirect_uri,
                             access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                             auto_retry=False, timeout=10)


def accounting(sb: SandboxServer, path: str) -> str:
    return f"/accounting/account/{sb.account_id}/{path}"
