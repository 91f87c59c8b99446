"""The FreshBooks :class:`~syncengine.webhooks.WebhookSource`: handshake, signature, identity.

The verifier FreshBooks posts right after a callback is registered is confirmed through the API
(PUT back on the callback) and kept in the ledger's token store; every later delivery must carry
``X-FreshBooks-Hmac-SHA256`` made with it. FreshBooks sends no event id, so the identity is
(event name, object id, body hash): a retried delivery is stored once while its sync is pending;
after the record was refetched, the same body is a new edit (two edits send identical bodies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.webhooks import (
    SIGNATURE_HEADER,
    create_callback,
    list_callbacks,
    parse_delivery,
    verify_callback,
    verify_signature,
)
from syncengine.connector import Connector
from syncengine.tokens import TokenStore
from syncengine.webhooks import Handshake, RecordRef, WebhookEvent, WebhookRejected, WebhookSource

__all__ = ["FreshBooksWebhookSource", "webhook_source"]

#: connector object -> the webhook resource FreshBooks names its events by.
_RESOURCES = {"clients": "client", "estimates": "estimate", "expenses": "expense", "invoices": "invoice",
              "items": "item", "payments": "payment", "projects": "project", "tasks": "task",
              "taxes": "tax", "time_entries": "time_entry"}


class FreshBooksWebhookSource:
    def __init__(self, connector: FreshBooksConnector, secrets: TokenStore) -> None:
        self.connector = connector
        self.secrets = secrets
        self._slot = f"webhook:{connector.name}"

    def _verifiers(self) -> dict[str, str]:
        stored = self.secrets.load_token(self._slot) or {}
        return {str(k): str(v) for k, v in dict(stored.get("verifiers") or {}).items()}

    def receive(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent | Handshake:
        try:
            text = body.decode("utf-8")
            fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected(400, "the body is not a form") from None
        delivery = parse_delivery(body)
        if delivery.verifier is not None:
            if not delivery.object_id:
                raise WebhookRejected(400, "a verification without a callback id")
            # Confirmed through the API: a forged handshake names no callback of ours and fails there.
            verify_callback(self.connector, delivery.object_id, delivery.verifier)
            with self.secrets.token_lock(self._slot) as slot:
                verifiers = dict((slot.value or {}).get("verifiers") or {})
                verifiers[delivery.object_id] = delivery.verifier
                slot.save({"verifiers": verifiers})
            return Handshake(f"callback {delivery.object_id} verified")
        if not fields.get("name") or not fields.get("object_id"):
            raise WebhookRejected(400, "a delivery without name and object_id")
        signature = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER)
        if not any(verify_signature(body, signature, v) for v in self._verifiers().values()):
            raise WebhookRejected(401, f"bad or missing {SIGNATURE_HEADER}")
        identity = f"{delivery.name}|{delivery.object_id}|{hashlib.sha256(body).hexdigest()}"
        obj = delivery.obj
        records = [RecordRef(obj, delivery.object_id)] if obj and obj in self.connector.objects() else []
        return WebhookEvent(identity, delivery.name, records, repeatable=True)

    def register(self, url: str, objects: Sequence[str]) -> list[str]:
        wanted = {_RESOURCES[o] for o in objects if o in _RESOURCES}
        existing = {(str(c.get("event")), str(c.get("uri"))) for c in list_callbacks(self.connector)}
        created = []
        for resource in sorted(wanted):
            if (resource, url) in existing:
                continue
            callback = create_callback(self.connector, resource, url)
            created.append(f"freshbooks callback {callback.get('callbackid', callback.get('id'))}: {resource} -> {url}")
        return created


def webhook_source(connector: Connector, secrets: TokenStore) -> WebhookSource:
    if not isinstance(connector, FreshBooksConnector):
        raise TypeError(f"not a FreshBooks connector: {connector!r}")
    return FreshBooksWebhookSource(connector, secrets)
