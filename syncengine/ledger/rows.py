"""What goes into the ledger and what comes out: small plain classes, never live ORM objects.

The reconciler handles a million of these per run, so they are slotted, built positionally from
driver rows, and decode JSON only when asked (``LinkState.common``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from syncengine.records import from_json

__all__ = [
    "Conflict",
    "CursorInfo",
    "Failure",
    "Intent",
    "IntentOp",
    "IntentState",
    "IntentWrite",
    "LeaseInfo",
    "LinkState",
    "LinkStatus",
    "LinkWrite",
    "PendingSyncInfo",
    "RunInfo",
    "Side",
    "WebhookEventInfo",
]

Side = Literal["left", "right"]
LinkStatus = Literal["active", "tombstone"]
IntentOp = Literal["create", "update", "delete", "archive"]
IntentState = Literal["pending", "sent", "done", "abandoned", "failed"]

SIDES: frozenset[str] = frozenset({"left", "right"})
INTENT_FINAL_STATES: frozenset[str] = frozenset({"done", "abandoned", "failed"})


class LinkState(NamedTuple):
    """A link and its snapshot as stored: both keys, status, each side's hash, the common fields.

    A named tuple because a full reconcile builds a million of them: the driver's row becomes
    one without a Python ``__init__``. ``common_json`` stays text; ``common`` decodes it on each
    access (keep the result if you need it twice), so a run in which nothing changed compares
    hashes and never pays for JSON decoding.
    """

    id: int
    left_key: str
    right_key: str
    status: str
    left_hash: str | None
    right_hash: str | None
    common_json: str | None

    @property
    def common(self) -> dict[str, Any]:
        """The last agreed common fields, with Money/Decimal/datetime restored ({} if none)."""
        return from_json(self.common_json) if self.common_json else {}

    def key(self, side: Side) -> str:
        return self.left_key if side == "left" else self.right_key

    def hash(self, side: Side) -> str | None:
        return self.left_hash if side == "left" else self.right_hash


@dataclass(frozen=True, slots=True)
class LinkWrite:
    """A link with its new snapshot, upserted by ``left_key`` (a re-link may change ``right_key``).

    ``common_json`` may carry the canonical JSON the caller already produced for hashing
    (``canonical_bytes(common).decode()``), saving a second serialisation; otherwise ``common`` is
    serialised with :func:`syncengine.records.to_json`.
    """

    left_key: str
    right_key: str
    common: dict[str, Any]
    left_hash: str | None
    right_hash: str | None
    status: LinkStatus = "active"
    common_json: str | None = None


@dataclass(frozen=True, slots=True)
class IntentWrite:
    """A remote write about to be made on ``side``, recorded before the call."""

    side: Side
    op: IntentOp
    source_key: str | None
    target_key: str | None
    idempotency_key: str
    payload: dict[str, Any]
    #: the common shape the write aims at (creates), to recognise its record after a crash.
    expect: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    id: int
    pipeline: str
    pair: str
    side: Side
    op: IntentOp
    source_key: str | None
    target_key: str | None
    idempotency_key: str
    payload_json: str
    state: IntentState
    created_at: datetime
    finished_at: datetime | None
    expect_json: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return from_json(self.payload_json)

    @property
    def expect(self) -> dict[str, Any] | None:
        return from_json(self.expect_json) if self.expect_json is not None else None


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    pipeline: str
    pair: str
    left_key: str
    right_key: str
    base: dict[str, Any] | None
    left: dict[str, Any]
    right: dict[str, Any]
    diff: dict[str, Any]
    fields: list[str]
    status: Literal["open", "resolved"]
    resolution: Side | None
    created_at: datetime
    resolved_at: datetime | None
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class Failure:
    pipeline: str
    pair: str
    side: Side
    key: str
    error: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    pipeline: str
    mode: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    errors: list[str]
    #: why the run is partial or failed, in one line (None when ok, and for runs of older versions).
    reason: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class CursorInfo:
    pipeline: str
    pair: str
    side: Side
    cursor: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookEventInfo:
    id: int
    source: str
    event_id: str
    received_at: datetime
    payload: str
    processed_at: datetime | None

    def payload_dict(self) -> Any:
        return json.loads(self.payload)


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    name: str
    owner: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingSyncInfo:
    """One record waiting for a keyed sync (see ``Ledger.store_webhook_event``)."""

    connector: str
    obj: str
    key: str
    version: int
    first_event_at: datetime
