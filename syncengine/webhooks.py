"""What a connector brings to the daemon's webhook inbox: a :class:`WebhookSource`.

The daemon names no vendor: a connector's plugin (:mod:`syncengine.plugins`) names a factory as
its ``webhook_source``, called with the built connector
and the ledger (a :class:`~syncengine.tokens.TokenStore`, where a source keeps its signing secret).
A source checks the raw body and headers, then says which records the event names and what
identifies the event, so a retried delivery is stored once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from syncengine.connector import Connector
from syncengine.tokens import TokenStore

__all__ = [
    "Handshake",
    "RecordRef",
    "WebhookEvent",
    "WebhookRejected",
    "WebhookSource",
    "WebhookSourceFactory",
    "webhook_source_types",
]


@dataclass(frozen=True, slots=True)
class RecordRef:
    """One record an event is about, on the connector that sent it."""

    obj: str
    key: str


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified delivery. ``identity`` is unique per event (stored once); ``records`` is empty
    for an event type no mapping syncs (stored, answered 2xx, no effect)."""

    identity: str
    event_type: str
    records: Sequence[RecordRef]
    #: the identity may come back for a new change once this one's records were refetched
    #: (FreshBooks: no event id, and two edits of a record send the same body).
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class Handshake:
    """A delivery that set up the webhook (e.g. FreshBooks' verifier) rather than naming records."""

    detail: str


class WebhookRejected(Exception):
    """The delivery is refused: nothing is stored. ``status`` is 400 (malformed) or 401 (signature)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookSource(Protocol):
    """A connector's webhook receiver logic; the daemon owns HTTP, storage and the queue."""

    def receive(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent | Handshake:
        """Verify the raw body and headers, then parse; raise :class:`WebhookRejected` if bad."""
        ...

    def register(self, url: str, objects: Sequence[str]) -> list[str]:
        """Make sure the outside system calls ``url`` for events on ``objects``; create only what
        is missing and return a line per endpoint created (empty: all were there)."""
        ...


class WebhookSourceFactory(Protocol):
    def __call__(self, connector: Connector, secrets: TokenStore) -> WebhookSource: ...


def webhook_source_types() -> dict[str, WebhookSourceFactory]:
    """Installed webhook sources, by connector type."""
    from syncengine.plugins import installed_plugins

    return {name: p.webhook_source for name, p in installed_plugins().items() if p.webhook_source is not None}
