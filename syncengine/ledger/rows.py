"""What goes into the ledger and what comes out: small plain classes, never live ORM objects.

The reconciler handles a million of these per run, so they are slotted, built positionally from
driver rows, and decode JSON only when asked (``LinkState.common``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

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
    "RunInfo",
    "Side",
    "WebhookEventInfo",
]

Side = Literal["left", "right"]
LinkStatus = Literal["active", "tombstone"]
IntentOp = Literal["create", "update", "delete", "archive"]
IntentState = Literal["pending", "done", "abandoned", "failed"]

SIDES: frozenset[str] = frozenset({"left", "right"})
INTENT_FINAL_STATES: frozenset[str] = frozenset({"done", "abandoned", "failed"})


class LinkState:
    """A link and its snapshot as stored: both keys, status, each side's hash, the common fields.

    ``common_json`` is kept as text and decoded on first access to ``common``: a run in which
    nothing changed compares hashes only and never pays for JSON decoding.
    """

    __slots__ = ("_common", "common_json", "id", "left_hash", "left_key", "right_hash", "right_key", "status")

    def __init__(
        self,
        id: int,
        left_key: str,
        right_key: str,
        status: str,
        left_hash: str | None,
        right_hash: str | None,
        common_json: str | None,
    ) -> None:
        self.id = id
        self.left_key = left_key
        self.right_key = right_key
        self.status = status
        self.left_hash = left_hash
        self.right_hash = right_hash
        self.common_json = common_json
        self._common: dict[str, Any] | None = None

    @property
    def common(self) -> dict[str, Any]:
        """The last agreed common fields, with Money/Decimal/datetime restored ({} if none)."""
        if self._common is None:
            self._common = from_json(self.common_json) if self.common_json else {}
        return self._common

    def key(self, side: Side) -> str:
        return self.left_key if side == "left" else self.right_key

    def hash(self, side: Side) -> str | None:
        return self.left_hash if side == "left" else self.right_hash

    def __repr__(self) -> str:
        return (
            f"LinkState(id={self.id}, left_key={self.left_key!r}, right_key={self.right_key!r}, "
            f"status={self.status!r}, left_hash={self.left_hash!r}, right_hash={self.right_hash!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LinkState):
            return NotImplemented
        return (
            self.id == other.id
            and self.left_key == other.left_key
            and self.right_key == other.right_key
            and self.status == other.status
            and self.left_hash == other.left_hash
            and self.right_hash == other.right_hash
            and self.common_json == other.common_json
        )

    __hash__ = None  # type: ignore[assignment]


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

    @property
    def payload(self) -> dict[str, Any]:
        return from_json(self.payload_json)


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
