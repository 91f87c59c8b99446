"""FreshBooks webhooks: callback registration, the verification handshake, signed deliveries.

FreshBooks POSTs form-encoded ids only (``name=invoice.update&object_id=...&account_id=...``),
so a delivery is a *hint* to re-read one record, never data to trust (reference §4). Right after
a callback is registered FreshBooks posts a ``verifier`` to it; events flow only once that code
is PUT back, and the verifier is then the HMAC key of every delivery's
``X-FreshBooks-Hmac-SHA256`` header: base64(HMAC-SHA256(verifier, json.dumps(fields))) over the
form fields *in the order received*, with Python's default ``json.dumps`` separators (§4.5).

This module is vendor glue for the daemon's receiver: :func:`verify_signature`,
:func:`parse_delivery` (which object and key a delivery names), and the callback calls.
FreshBooks sends no event id, and two updates of one record produce identical bodies, so a
receiver must not drop a repeated body as a duplicate: each one triggers a (cheap, idempotent)
targeted re-read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.families import ACCOUNTING
from syncengine.rest import Select

__all__ = [
    "EVENT_OBJECTS",
    "SIGNATURE_HEADER",
    "Delivery",
    "create_callback",
    "delete_callback",
    "list_callbacks",
    "parse_delivery",
    "sign",
    "verify_callback",
    "verify_signature",
]

SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
_CALLBACKS = "/events/account/{account_id}/events/callbacks"
#: callbacks answer in the accounting envelope (``response.result``, page numbers).
_CALLBACK = Select("response.result.callback")
_CALLBACK_ROWS = Select("response.result.callbacks")

#: webhook resource name -> the connector's object (``service`` events are tasks' mirrors).
EVENT_OBJECTS: Mapping[str, str] = {
    "client": "clients",
    "estimate": "estimates",
    "expense": "expenses",
    "invoice": "invoices",
    "item": "items",
    "payment": "payments",
    "project": "projects",
    "service": "tasks",
    "task": "tasks",
    "tax": "taxes",
    "time_entry": "time_entries",
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST from FreshBooks: an event about one record, or the verification handshake."""

    name: str
    object_id: str
    fields: Mapping[str, str]
    #: the verification code, when this is the handshake right after registration.
    verifier: str | None = None

    @property
    def is_verification(self) -> bool:
        return self.verifier is not None

    @property
    def action(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def obj(self) -> str | None:
        """The connector object this event is about (None: a resource we do not sync)."""
        return EVENT_OBJECTS.get(self.name.split(".", 1)[0])


def _form(body: bytes) -> dict[str, str]:
    # parse_qsl keeps the order of the body, which the signature depends on
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def sign(fields: Mapping[str, str], verifier: str) -> str:
    message = json.dumps({key: str(value) for key, value in fields.items()})
    digest = hmac.new(verifier.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_signature(body: bytes, header: str | None, verifier: str) -> bool:
    """Whether the raw form body was signed with ``verifier`` (constant-time comparison)."""
    if not header or not verifier:
        return False
    return hmac.compare_digest(sign(_form(body), verifier).encode(), header.strip().encode())


def parse_delivery(body: bytes) -> Delivery:
    fields = _form(body)
    return Delivery(
        name=fields.get("name", ""),
        object_id=fields.get("object_id", ""),
        fields=fields,
        verifier=fields.get("verifier") or None,
    )


def _callback(body: Any) -> dict[str, Any]:
    found = _CALLBACK(body)
    return dict(found) if isinstance(found, Mapping) else {}


def create_callback(connector: FreshBooksConnector, event: str, uri: str) -> dict[str, Any]:
    """Register ``uri`` for ``event`` (e.g. ``invoice`` for all invoice events, or ``invoice.create``)."""
    body = connector.api("POST", _CALLBACKS, obj="callbacks", body={"callback": {"event": event, "uri": uri}})
    return _callback(body)


def verify_callback(connector: FreshBooksConnector, callback_id: int | str, verifier: str) -> dict[str, Any]:
    """Send the verifier back; FreshBooks starts delivering events to the callback."""
    body = connector.api(
        "PUT",
        f"{_CALLBACKS}/{callback_id}",
        obj="callbacks",
        key=str(callback_id),
        body={"callback": {"verifier": verifier}},
    )
    return _callback(body)


def list_callbacks(connector: FreshBooksConnector) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = connector.api("GET", _CALLBACKS, obj="callbacks", params=ACCOUNTING.paging.page(page, 100))
        found.extend(dict(row) for row in _CALLBACK_ROWS.rows(body))
        if page >= (ACCOUNTING.paging.page_count(body) or 1):
            return found
        page += 1


def delete_callback(connector: FreshBooksConnector, callback_id: int | str) -> None:
    connector.api("DELETE", f"{_CALLBACKS}/{callback_id}", obj="callbacks", key=str(callback_id))
