"""Webhook callbacks: verification handshake, signed form deliveries, retries with backoff.

Signatures are checked with an implementation of reference §4.5 written here from the spec, not
with the sandbox's own function.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import accounting


class Receiver:
    """A loopback HTTP server that records POSTs and answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0, delay_first: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay_first = delay_first
        self.posts: list[tuple[dict[str, str], str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with receiver.lock:
                    receiver.posts.append((dict(self.headers.items()), body))
                    number = len(receiver.posts)
                if number == 1 and receiver.delay_first:
                    time.sleep(receiver.delay_first)
                self.send_response(500 if number <= receiver.fail_first else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/freshbooks"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forms(self) -> list[list[tuple[str, str]]]:
        with self.lock:
            return [parse_qsl(body) for _, body in self.posts]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count:
            assert time.monotonic() < deadline, f"expected {count} posts, got {len(self.posts)}"
            time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def expected_signature(fields: list[tuple[str, str]], verifier: str) -> str:
    """Reference §4.5: json.dumps of the ordered form fields (default separators), HMAC-SHA256, base64."""
    message = json.dumps(dict(fields))
    return base64.b64encode(hmac.new(verifier.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _register(sb: SandboxServer, http: httpx.Client, event: str, uri: str) -> int:
    sb.set_webhook_policy(backoff=0.05, timeout=1.0)
    answer = http.post(f"/events/account/{sb.account_id}/events/callbacks",
                       json={"callback": {"event": event, "uri": uri}})
    assert answer.status_code == 200, answer.text
    callback = answer.json()["response"]["result"]["callback"]
    assert callback["verified"] is False
    return int(callback["callbackid"])


def _verify(sb: SandboxServer, http: httpx.Client, receiver: Receiver, callback_id: int) -> str:
    receiver.wait_for(1)
    form = dict(receiver.forms()[0])
    assert form["name"] == "callback.verify" and form["object_id"] == str(callback_id)
    path = f"/events/account/{sb.account_id}/events/callbacks/{callback_id}"
    assert http.put(path, json={"callback": {"verifier": "wrong"}}).status_code == 400
    verified = http.put(path, json={"callback": {"verifier": form["verifier"]}})
    assert verified.json()["response"]["result"]["callback"]["verified"] is True
    return form["verifier"]


def test_verification_then_signed_deliveries(sb: SandboxServer, http: httpx.Client, receiver: Receiver) -> None:
    callback_id = _register(sb, http, "client", receiver.url)
    receiver.wait_for(1)
    headers, _ = receiver.posts[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    early = http.post(accounting(sb, "users/clients"), json={"client": {"email": "early@x.com"}})
    assert early.status_code == 200 and sb.wait_for_webhooks()
    assert len(receiver.posts) == 1  # nothing is delivered before verification
    verifier = _verify(sb, http, receiver, callback_id)

    made = http.post(accounting(sb, "users/clients"), json={"client": {"email": "hook@x.com"}})
    client_id = made.json()["response"]["result"]["client"]["id"]
    http.put(accounting(sb, f"users/clients/{client_id}"), json={"client": {"fname": "Hook"}})
    http.put(accounting(sb, f"users/clients/{client_id}"), json={"client": {"vis_state": 1}})
    receiver.wait_for(4)
    deliveries = receiver.posts[1:]
    names = []
    for headers, body in deliveries:
        fields = parse_qsl(body)
        assert [k for k, _ in fields] == ["name", "object_id", "account_id", "business_id", "identity_id",
                                         "user_id"]
        form = dict(fields)
        assert (form["object_id"], form["account_id"], form["business_id"]) == (
            str(client_id), sb.account_id, str(sb.business_id))
        assert headers["X-FreshBooks-Hmac-SHA256"] == expected_signature(fields, verifier)
        names.append(form["name"])
    assert names == ["client.create", "client.update", "client.delete"]
    assert sb.wait_for_webhooks()  # the sandbox records an attempt once the receiver has answered
    recorded = [d for d in sb.webhook_deliveries() if d["name"].startswith("client.")]
    assert [(d["name"], d["status"], d["attempt"]) for d in recorded] == [
        ("client.create", 200, 1), ("client.update", 200, 1), ("client.delete", 200, 1)]


def test_event_filter_and_invoice_side_effects(sb: SandboxServer, http: httpx.Client, receiver: Receiver) -> None:
    callback_id = _register(sb, http, "invoice.update", receiver.url)
    _verify(sb, http, receiver, callback_id)
    client_id = sb.state.list("clients")[0]["id"]
    invoice = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {
        "customerid": client_id, "lines": [{"name": "A", "qty": 1, "unit_cost": {"amount": "10"}}]}})
    invoice_id = invoice.json()["response"]["result"]["invoice"]["id"]
    currency = invoice.json()["response"]["result"]["invoice"]["currency_code"]
    http.post(accounting(sb, "payments/payments"), json={"payment": {
        "invoiceid": invoice_id, "amount": {"amount": "10.00", "code": currency}, "type": "Cash"}})
    assert sb.wait_for_webhooks()
    names = [dict(f)["name"] for f in receiver.forms()[1:]]
    assert names == ["invoice.update"]  # invoice.create and payment.create are not subscribed
    assert dict(receiver.forms()[1])["object_id"] == str(invoice_id)


def test_failed_deliveries_are_retried_with_backoff(sb: SandboxServer, http: httpx.Client) -> None:
    flaky = Receiver(fail_first=3)
    try:
        callback_id = _register(sb, http, "item.create", flaky.url)
        flaky.wait_for(3)  # the verification POST itself failed and was retried
        _verify_from(sb, http, flaky, callback_id)
        http.post(accounting(sb, "items/items"), json={"item": {"name": "Retried"}})
        flaky.wait_for(5)
        assert sb.wait_for_webhooks()
    finally:
        flaky.close()
    attempts = [(d["name"], d["attempt"], d["status"]) for d in sb.webhook_deliveries()]
    assert attempts == [("callback.verify", 1, 500), ("callback.verify", 2, 500), ("callback.verify", 3, 500),
                        ("callback.verify", 4, 200), ("item.create", 1, 200)]
    times = [d["at"] for d in sb.webhook_deliveries()]
    # backoff 0.05 s doubling: each retry waits at least its share (recorded after the answer)
    assert times[1] - times[0] >= 0.045 and times[2] - times[1] >= 0.095 and times[3] - times[2] >= 0.195


def _verify_from(sb: SandboxServer, http: httpx.Client, receiver: Receiver, callback_id: int) -> None:
    receiver.wait_for(4)
    verifier = dict(receiver.forms()[-1])["verifier"]
    path = f"/events/account/{sb.account_id}/events/callbacks/{callback_id}"
    assert http.put(path, json={"callback": {"verifier": verifier}}).status_code == 200


def test_attempts_are_bounded_and_timeouts_retried(sb: SandboxServer, http: httpx.Client) -> None:
    always = Receiver(fail_first=100)
    slow = Receiver(delay_first=1.0)
    try:
        sb.set_webhook_policy(max_attempts=3, backoff=0.02, timeout=0.3)
        http.post(f"/events/account/{sb.account_id}/events/callbacks",
                  json={"callback": {"event": "tax", "uri": always.url}})
        http.post(f"/events/account/{sb.account_id}/events/callbacks",
                  json={"callback": {"event": "tax", "uri": slow.url}})
        assert sb.wait_for_webhooks(timeout=10)
        by_uri: dict[str, list[tuple[int, int | None]]] = {}
        for d in sb.webhook_deliveries():
            by_uri.setdefault(d["uri"], []).append((d["attempt"], d["status"]))
        assert by_uri[always.url] == [(1, 500), (2, 500), (3, 500)]
        assert by_uri[slow.url] == [(1, None), (2, 200)]
    finally:
        always.close()
        slow.close()


def test_resend_and_non_loopback_uris(sb: SandboxServer, http: httpx.Client, receiver: Receiver) -> None:
    callback_id = _register(sb, http, "expense.create", receiver.url)
    receiver.wait_for(1)
    path = f"/events/account/{sb.account_id}/events/callbacks/{callback_id}"
    http.put(path, json={"callback": {"resend": True}})
    receiver.wait_for(2)
    first, second = receiver.forms()
    assert dict(first)["verifier"] == dict(second)["verifier"]
    outside = _register(sb, http, "expense.create", "https://hooks.example.com/fb")
    assert sb.wait_for_webhooks()
    tries = [d for d in sb.webhook_deliveries() if d["callbackid"] == outside]
    assert len(tries) == 1 and tries[0]["status"] is None and "loopback" in tries[0]["error"]
