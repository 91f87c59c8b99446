"""The Stripe webhook source against the Stripe sandbox: registration once, signatures by the rules."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.stripe import StripeConnector, StripeOptions
from connectors.stripe.webhook_source import StripeWebhookSource
from syncengine.tokens import MemoryTokenStore
from syncengine.webhooks import WebhookRejected

sandbox = pytest.importorskip("connectors.stripe.sandbox")

URL = "http://127.0.0.1:9/webhooks/stripe"


@pytest.fixture
def source() -> Iterator[StripeWebhookSource]:
    with sandbox.SandboxServer(seed=0, port=0) as sb:
        connector = StripeConnector("pay", StripeOptions(base_url=sb.url, api_key=sb.api_key,
                                                         rate_limit_per_second=None))
        yield StripeWebhookSource(connector, MemoryTokenStore())
        connector.close()


def _header(payload: str, secret: str, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={stamp},v1={mac}"}


def _secret(source: StripeWebhookSource) -> str:
    stored: Any = source.secrets.load_token("webhook:pay")
    return str(next(iter(stored["secrets"].values())))


def test_registration_creates_only_the_missing_endpoint(source: StripeWebhookSource) -> None:
    created = source.register(URL, ["customers"])
    assert len(created) == 1 and URL in created[0]
    assert source.register(URL, ["customers"]) == []  # there and verified: nothing new
    endpoints = source.connector.rest.call("GET", "/v1/webhook_endpoints", obj="webhook_endpoints")["data"]
    assert [e["url"] for e in endpoints] == [URL]
    assert "customer.updated" in endpoints[0]["enabled_events"]


def test_signatures_timestamps_and_bodies(source: StripeWebhookSource) -> None:
    source.register(URL, ["customers"])
    secret = _secret(source)
    event = {"id": "evt_1", "type": "customer.updated", "data": {"object": {"id": "cus_1", "object": "customer"}}}
    payload = json.dumps(event)
    good = source.receive(payload.encode(), _header(payload, secret))
    assert (good.identity, [(r.obj, r.key) for r in good.records]) == ("evt_1", [("customers", "cus_1")])
    refusals = {
        "bad signature": (payload, _header(payload, "whsec_wrong")),
        "stale timestamp": (payload, _header(payload, secret, at=int(time.time()) - 301)),
        "no header": (payload, {}),
        "not JSON": ("name=x&y=z", _header("name=x&y=z", secret)),
    }
    statuses = {}
    for name, (body, headers) in refusals.items():
        with pytest.raises(WebhookRejected) as caught:
            source.receive(body.encode(), headers)
        statuses[name] = caught.value.status
    assert statuses == {"bad signature": 401, "stale timestamp": 401, "no header": 401, "not JSON": 400}
    unknown = json.dumps({"id": "evt_2", "type": "radar.early_fraud_warning.created",
                          "data": {"object": {"id": "issfr_1", "object": "radar.early_fraud_warning"}}})
    stored = source.receive(unknown.encode(), _header(unknown, secret))
    assert stored.identity == "evt_2" and list(stored.records) == []
