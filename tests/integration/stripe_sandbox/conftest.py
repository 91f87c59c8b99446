"""Fixtures: a running Stripe sandbox per test, the official ``stripe`` client pointed at it, and the
shape check against Stripe's own example objects (shared/reference/stripe-fixtures.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stripe

from connectors.stripe.sandbox import SandboxServer

SEED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SHARED_FIXTURES = Path("/work/shared/reference/stripe-fixtures.json")


def _fixtures() -> dict[str, Any]:
    for path in (Path(__file__).with_name("stripe-fixtures.json"), SHARED_FIXTURES):
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["resources"]
            return data
    raise RuntimeError("stripe-fixtures.json not found")


FIXTURES = _fixtures()


def raw(obj: Any) -> dict[str, Any]:
    """The answer as plain JSON (a StripeObject or a dict)."""
    if isinstance(obj, dict) and not isinstance(obj, stripe.StripeObject):
        return obj
    data: dict[str, Any] = obj.to_dict()
    return data


def assert_shape(obj: Any, kind: str, *, extra: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every key Stripe's fixture of ``kind`` has is present, and no other top-level key (but ``extra``)."""
    data = raw(obj)
    expected = set(FIXTURES[kind])
    missing = expected - set(data)
    unexpected = set(data) - expected - extra
    assert not missing, f"{kind} lacks {sorted(missing)}"
    assert not unexpected, f"{kind} has unexpected {sorted(unexpected)}"
    return data


def assert_annotated_shape(obj: Any, cls: type) -> None:
    """For objects without a fixture: only keys the ``stripe`` library's class declares."""
    declared = {name for klass in cls.__mro__ for name in getattr(klass, "__annotations__", {})}
    unexpected = set(raw(obj)) - declared
    assert not unexpected, f"{cls.__name__} has unexpected {sorted(unexpected)}"


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(seed=6, port=0, rng_seed=7, now=SEED_NOW) as server:
        yield server


@pytest.fixture
def client(sb: SandboxServer) -> stripe.StripeClient:
    """The official client, retries off so every test sees the first answer."""
    return stripe.StripeClient(sb.api_key, base_addresses={"api": sb.url}, max_network_retries=0)


def make_customer(client: stripe.StripeClient, **params: Any) -> stripe.Customer:
    return client.v1.customers.create(params={"name": "Test Person", "email": "test@example.com", **params})


def make_price(client: stripe.StripeClient, amount: int = 2500, currency: str = "usd") -> stripe.Price:
    product = client.v1.products.create(params={"name": "Widget"})
    return client.v1.prices.create(params={"product": product.id, "currency": currency, "unit_amount": amount})
