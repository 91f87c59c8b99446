"""Webhooks against the sandbox: register, verification handshake, signed deliveries, unregister."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.webhooks import (
    SIGNATURE_HEADER,
    create_callback,
    delete_callback,
    list_callbacks,
    parse_delivery,
    verify_callback,
    verify_signature,
)
from tests.conftest import free_port


class Receiver:
    """A webhook endpoint on loopback that keeps every POST's raw body and signature header."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []

    async def hook(self, request: Request) -> Response:
        self.received.append((await request.body(), request.headers.get(SIGNATURE_HEADER)))
        return Response(status_code=200)

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {len(self.received)} deliveries arrived"
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hooks", hooks.hook, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield hooks, f"http://127.0.0.1:{port}/hooks"
    server.should_exit = True
    thread.join(timeout=10)


def test_register_verify_and_check_signed_deliveries(
    sandbox: Any, fb: FreshBooksConnector, receiver: tuple[Receiver, str]
) -> None:
    hooks, uri = receiver
    callback = create_callback(fb, "client", uri)
    assert callback["verified"] is False

    hooks.wait_for(1)
    handshake = parse_delivery(hooks.received[0][0])
    assert handshake.is_verification and handshake.verifier
    verified = verify_callback(fb, callback["callbackid"], handshake.verifier)
    assert verified["verified"] is True

    key = str(sandbox.state.list("clients")[0]["id"])
    fb.update("clients", key, {"organization": "Hooked Ltd."}, idempotency_key="k")
    hooks.wait_for(2)
    body, header = hooks.received[1]
    delivery = parse_delivery(body)
    assert (delivery.obj, delivery.object_id, delivery.action) == ("clients", key, "update")
    assert delivery.fields["account_id"] == sandbox.account_id
    assert verify_signature(body, header, handshake.verifier)
    assert not verify_signature(body.replace(key.encode(), b"1"), header, handshake.verifier)
    assert not verify_signature(body, header, "wrong-verifier")
    assert not verify_signature(body, None, handshake.verifier)

    assert [c["callbackid"] for c in list_callbacks(fb)] == [callback["callbackid"]]
    delete_callback(fb, callback["callbackid"])
    assert list_callbacks(fb) == []
