"""localstripe per test, and a transport that rewrites answers at the HTTP boundary to inject
what Stripe does and localstripe does not (duplicate and reordered events, unknown event types,
403s)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.stripe import StripeConnector
from syncengine.http import RetryPolicy
from tests.contract.stripe_subjects import localstripe_options
from tests.integration.stripe.localstripe_peer import LocalStripe, localstripe

FAST = RetryPolicy(max_attempts=2, backoff_base=0.01, deadline=5.0)

Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Boundary(httpx.BaseTransport):
    """Passes requests to localstripe, records them, and lets a test rewrite answers."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []
        self.rewrites: list[Rewrite] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.inner.handle_request(request)
        response.request = request
        for rewrite in self.rewrites:
            response.read()
            response = rewrite(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


def json_answer(response: httpx.Response, body: Any, status: int | None = None) -> httpx.Response:
    return httpx.Response(status or response.status_code, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json"}, request=response._request)


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[LocalStripe]:
    with localstripe(tmp_path) as running:
        yield running


@pytest.fixture
def boundary() -> Boundary:
    return Boundary()


@pytest.fixture
def stripe(peer: LocalStripe, boundary: Boundary) -> Iterator[StripeConnector]:
    connector = StripeConnector("stripe", localstripe_options(peer.url, page_size=3), transport=boundary, retry=FAST)
    yield connector
    connector.close()
