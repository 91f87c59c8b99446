"""The Stripe :class:`~syncengine.webhooks.WebhookSource`: ``Stripe-Signature`` checked by the
``stripe`` library (300 s tolerance, so a replayed old delivery is refused), the event id as the
identity, and the object the event names refetched by the keyed sync. An event type no object
listens to is stored and answered 2xx with no effect. Endpoint secrets (``whsec_...``, shown only
when an endpoint is created) are kept in the ledger's token store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import stripe

from connectors.stripe.connector import StripeConnector
from connectors.stripe.resources import OBJECTS
from syncengine.connector import Connector
from syncengine.rest.encode import Form
from syncengine.tokens import TokenStore
from syncengine.webhooks import RecordRef, WebhookEvent, WebhookRejected, WebhookSource

__all__ = ["TOLERANCE_SECONDS", "StripeWebhookSource", "webhook_source"]

TOLERANCE_SECONDS = 300
_ENDPOINTS = "/v1/webhook_endpoints"


class StripeWebhookSource:
    def __init__(self, connector: StripeConnector, secrets: TokenStore, extra_secret: str | None = None) -> None:
        self.connector = connector
        self.secrets = secrets
        self.extra_secret = extra_secret
        self._slot = f"webhook:{connector.name}"

    def _secrets(self) -> dict[str, str]:
        stored = self.secrets.load_token(self._slot) or {}
        found = {str(k): str(v) for k, v in dict(stored.get("secrets") or {}).items()}
        if self.extra_secret:
            found["configured"] = self.extra_secret
        return found

    def receive(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        header = headers.get("stripe-signature")
        if not header:
            raise WebhookRejected(401, "no Stripe-Signature header")
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected(400, "the body is not UTF-8 JSON") from None
        reasons = []
        for secret in self._secrets().values():
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
                break
            except stripe.SignatureVerificationError as exc:
                reasons.append(str(exc))
        else:
            raise WebhookRejected(401, reasons[0] if reasons else "no webhook secret for this endpoint")
        try:
            event = json.loads(payload)
        except ValueError:
            raise WebhookRejected(400, "the body is not JSON") from None
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise WebhookRejected(400, "not a Stripe event (no id or type)")
        return WebhookEvent(str(event["id"]), str(event["type"]), self._records(event))

    @staticmethod
    def _records(event: Mapping[str, Any]) -> list[RecordRef]:
        data = event.get("data")
        target = data.get("object") if isinstance(data, Mapping) else None
        if not isinstance(target, Mapping) or not target.get("id"):
            return []
        kind = target.get("object")
        return [RecordRef(o.name, str(target["id"])) for o in OBJECTS.values()
                if event["type"] in o.events and kind in (o.kind, None)]

    def register(self, url: str, objects: Sequence[str]) -> list[str]:
        wanted = sorted({t for name in objects if name in OBJECTS for t in OBJECTS[name].events})
        if not wanted:
            return []
        rest = self.connector.rest
        existing = [row for page in _pages(rest) for row in page]
        known = self._secrets()
        for endpoint in existing:
            enabled = set(endpoint.get("enabled_events") or [])
            if endpoint.get("url") == url and ("*" in enabled or set(wanted) <= enabled) \
                    and str(endpoint.get("id")) in known and endpoint.get("status", "enabled") == "enabled":
                return []
        created = rest.call("POST", _ENDPOINTS, obj="webhook_endpoints", body={"url": url, "enabled_events": wanted},
                            encoding=Form())
        with self.secrets.token_lock(self._slot) as slot:
            secrets = dict((slot.value or {}).get("secrets") or {})
            secrets[str(created["id"])] = str(created["secret"])
            slot.save({"secrets": secrets})
        # verified: read back, it must be there, enabled, at our URL
        check = rest.call("GET", f"{_ENDPOINTS}/{created['id']}", obj="webhook_endpoints")
        if check.get("url") != url or check.get("status") not in (None, "enabled"):
            raise WebhookRejected(500, f"stripe endpoint {created['id']} did not verify: {check}")
        return [f"stripe webhook endpoint {created['id']}: {len(wanted)} event types -> {url}"]


def _pages(rest: Any) -> list[list[Mapping[str, Any]]]:
    pages: list[list[Mapping[str, Any]]] = []
    after: str | None = None
    while True:
        params = [("limit", "100")] + ([("starting_after", after)] if after else [])
        body = rest.call("GET", _ENDPOINTS, obj="webhook_endpoints", params=params)
        rows = list(body.get("data") or [])
        pages.append(rows)
        if not body.get("has_more") or not rows:
            return pages
        after = str(rows[-1]["id"])


def webhook_source(connector: Connector, secrets: TokenStore) -> WebhookSource:
    if not isinstance(connector, StripeConnector):
        raise TypeError(f"not a Stripe connector: {connector!r}")
    return StripeWebhookSource(connector, secrets)
