"""/v1/events (30 days, type wildcards, types[], created, delivery_success, previous_attributes,
several events in one second) and webhook endpoints whose deliveries a real local receiver verifies
with ``stripe.Webhook.construct_event``: signatures, retries with backoff, out-of-order bursts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from connectors.stripe.sandbox import SandboxServer

from .conftest import assert_annotated_shape, assert_shape, make_customer, raw


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that verifies each delivery as an integration would."""

    def __init__(self) -> None:
        self.secret = ""
        self.fail_first = 0
        self.events: list[stripe.Event] = []
        self.statuses: list[int] = []
        self.rejected = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 200
                with receiver._lock:
                    try:
                        event = stripe.Webhook.construct_event(body, self.headers["Stripe-Signature"],
                                                               receiver.secret)
                    except (stripe.SignatureVerificationError, ValueError):
                        receiver.rejected += 1
                        status = 400
                    else:
                        if receiver.fail_first > 0:
                            receiver.fail_first -= 1
                            status = 500
                        else:
                            receiver.events.append(event)
                    receiver.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def test_event_shapes_previous_attributes_and_same_second_order(client: stripe.StripeClient,
                                                                sb: SandboxServer) -> None:
    sb.freeze_clock()  # everything below happens in one second, as bursts of real changes do
    customer = make_customer(client, metadata={"a": "1"})
    client.v1.customers.update(customer.id, params={"name": "Renamed", "metadata": {"b": "2"}})
    client.v1.customers.update(customer.id, params={"email": "again@example.com"})
    events = client.v1.events.list(params={"type": "customer.*", "limit": 3}).data
    for event in events:
        assert_shape(event, "event")
        assert event.api_version == stripe.api_version
    assert len({e.created for e in events}) == 1
    assert [e.type for e in events] == ["customer.updated", "customer.updated", "customer.created"]
    second, first = raw(events[0]), raw(events[1])
    assert second["data"]["previous_attributes"] == {"email": "test@example.com"}
    assert first["data"]["previous_attributes"] == {"name": "Test Person", "metadata": {"b": None}}
    assert first["data"]["object"]["name"] == "Renamed" and first["data"]["object"]["metadata"] == {"a": "1", "b": "2"}
    assert "previous_attributes" not in raw(events[2])["data"]
    assert first["request"]["idempotency_key"]  # the stripe library sends one on every POST
    fetched = client.v1.events.retrieve(events[0].id)
    assert raw(fetched) == second
    paged = client.v1.events.list(params={"type": "customer.*", "limit": 1, "starting_after": events[0].id}).data
    assert [e.id for e in paged] == [events[1].id]  # a cursor inside one second skips nothing
    sb.freeze_clock(False)


def test_event_filters_and_the_30_day_window(client: stripe.StripeClient, sb: SandboxServer) -> None:
    customer = make_customer(client)
    product = client.v1.products.create(params={"name": "P"})
    exact = client.v1.events.list(params={"type": "product.created"}).data
    assert [e.data.object["id"] for e in exact][:1] == [product.id]
    several = client.v1.events.list(params={"types": ["customer.created", "product.created"], "limit": 2}).data
    assert [e.type for e in several] == ["product.created", "customer.created"]
    assert all(e.type.startswith("customer.") for e in client.v1.events.list(params={"type": "customer.*"}).data)
    recent = client.v1.events.list(params={"created": {"gte": customer.created}}).data
    assert {e.type for e in recent} == {"customer.created", "product.created"}
    old_id = recent[-1].id

    sb.advance(31 * 86400)
    assert client.v1.events.list(params={"created": {"gte": customer.created}}).data == []
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.events.retrieve(old_id)
    assert failure.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list(params={"types": ["customer.*"]})


def test_signed_deliveries_verified_by_the_stripe_library(client: stripe.StripeClient, sb: SandboxServer,
                                                          receiver: Receiver) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url,
                                                          "enabled_events": ["customer.*", "invoice.paid"]})
    assert endpoint.secret is not None and endpoint.secret.startswith("whsec_")
    assert_annotated_shape(endpoint, stripe.WebhookEndpoint)
    receiver.secret = endpoint.secret
    assert getattr(client.v1.webhook_endpoints.retrieve(endpoint.id), "secret", None) is None  # shown once
    customer = make_customer(client)
    client.v1.products.create(params={"name": "not subscribed"})
    client.v1.customers.update(customer.id, params={"name": "Webhooked"})
    assert sb.wait_for_webhooks(10)
    assert receiver.rejected == 0
    assert receiver.types() == ["customer.created", "customer.updated"]
    assert receiver.events[1].data.object["name"] == "Webhooked"
    delivered = client.v1.events.list(params={"delivery_success": True, "type": "customer.*"}).data
    assert {e.id for e in delivered} >= {e.id for e in receiver.events}

    receiver.secret = "whsec_wrong"  # a receiver with the wrong secret rejects every delivery
    sb.set_webhook_policy(max_attempts=2, backoff=0.01)
    client.v1.customers.update(customer.id, params={"name": "Rejected"})
    assert sb.wait_for_webhooks(10)
    assert receiver.rejected == 2
    failed = client.v1.events.list(params={"delivery_success": False}).data
    assert [e.data.object["name"] for e in failed if e.type == "customer.updated"] == ["Rejected"]
    assert failed[0].pending_webhooks == 1


def test_deliveries_retry_with_backoff(client: stripe.StripeClient, sb: SandboxServer, receiver: Receiver) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    receiver.secret = str(endpoint.secret)
    receiver.fail_first = 2
    sb.set_webhook_policy(max_attempts=4, backoff=0.02)
    make_customer(client)
    assert sb.wait_for_webhooks(10)
    assert receiver.statuses == [500, 500, 200] and receiver.types() == ["customer.created"]
    attempts = sb.webhook_deliveries()
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["retry_in"] for a in attempts] == [0.02, 0.04, None]  # exponential backoff
    event = client.v1.events.list(params={"type": "customer.created", "limit": 1}).data[0]
    assert event.pending_webhooks == 0


def test_out_of_order_switch(client: stripe.StripeClient, sb: SandboxServer, receiver: Receiver) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["invoice.*"]})
    receiver.secret = str(endpoint.secret)
    sb.set_webhook_policy(out_of_order=True)
    customer = make_customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 900,
                                           "currency": "usd"})
    client.v1.invoices.finalize_invoice(invoice.id)
    client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True})
    assert sb.wait_for_webhooks(10)
    since = {"gte": endpoint.created}
    created_order = [e.id for e in reversed(client.v1.events.list(params={"type": "invoice.*", "limit": 100,
                                                                          "created": since}).data)]
    received = [e.id for e in receiver.events]
    assert sorted(received) == sorted(created_order) and received != created_order
    assert all(e.object == "event" for e in receiver.events)


def test_webhook_endpoint_crud_and_disabled_endpoints(client: stripe.StripeClient, sb: SandboxServer,
                                                      receiver: Receiver) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"],
                                                          "description": "local"})
    receiver.secret = str(endpoint.secret)
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
    disabled = client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True,
                                                                       "enabled_events": ["customer.created"]})
    assert disabled.status == "disabled" and disabled.enabled_events == ["customer.created"]
    make_customer(client)
    assert sb.wait_for_webhooks(10) and receiver.events == []
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    make_customer(client, email="second@example.com")
    assert sb.wait_for_webhooks(10) and receiver.types() == ["customer.created"]
    gone = client.v1.webhook_endpoints.delete(endpoint.id)
    assert raw(gone) == {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "not a url", "enabled_events": ["*"]})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": []})


def test_duplicate_deliveries_switch(client: stripe.StripeClient, sb: SandboxServer, receiver: Receiver) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["product.*"]})
    receiver.secret = str(endpoint.secret)
    sb.set_webhook_policy(duplicates=True)
    client.v1.products.create(params={"name": "Twice told"})
    assert sb.wait_for_webhooks(10)
    ids = [e.id for e in receiver.events]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same event id: a receiver must de-duplicate
