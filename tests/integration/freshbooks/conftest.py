"""The FreshBooks sandbox on loopback and connectors pointed at it (real HTTP, no mocks)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.http import normalize_token_response
from syncengine.tokens import MemoryTokenStore

sandbox_module = pytest.importorskip("connectors.freshbooks.sandbox")
SandboxServer = sandbox_module.SandboxServer


def token_store(sb: Any, name: str = "freshbooks") -> MemoryTokenStore:
    """A store holding a fresh token pair from the sandbox, as `syncengine auth` would leave it."""
    return MemoryTokenStore({name: normalize_token_response(sb.issue_tokens(), now=time.time())})


def connector_for(sb: Any, store: MemoryTokenStore | None = None, **options: Any) -> FreshBooksConnector:
    options.setdefault("clock", sb.now)
    return FreshBooksConnector(
        "freshbooks",
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        redirect_uri=sb.redirect_uri,
        store=store if store is not None else token_store(sb),
        **options,
    )


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with SandboxServer(seed=30, port=0) as sb:
        yield sb


@pytest.fixture
def make_connector(sandbox: Any) -> Iterator[Callable[..., FreshBooksConnector]]:
    made: list[FreshBooksConnector] = []

    def make(store: MemoryTokenStore | None = None, **options: Any) -> FreshBooksConnector:
        connector = connector_for(sandbox, store, **options)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def fb(make_connector: Callable[..., FreshBooksConnector]) -> FreshBooksConnector:
    return make_connector()
