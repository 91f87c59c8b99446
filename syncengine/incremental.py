"""Incremental cursors, in one place for every connector.

A cursor is a compound watermark ``(updated_at, key)`` serialised as a short JSON text. Connectors
ask for records changed at or after ``watermark.updated_at - overlap`` (a closed lower bound with
a look-back for clock skew and same-second writes) and the engine drops what it has already seen
by hash. The watermark never moves past the moment the pull started, so a record written while
we were reading is read again next time instead of being skipped (the Airbyte/Singer lesson).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syncengine.records import Record

__all__ = ["Watermark", "advance", "decode_cursor", "encode_cursor"]


@dataclass(frozen=True, slots=True, order=True)
class Watermark:
    """The newest (updated_at, key) a pull has fully seen. Keys compare as strings."""

    updated_at: datetime
    key: str = ""

    def lower_bound(self, overlap: timedelta) -> datetime:
        return self.updated_at - overlap


def encode_cursor(mark: Watermark | None, **extra: str) -> str | None:
    """A cursor text; ``extra`` holds connector-specific parts (e.g. a file fingerprint)."""
    if mark is None and not extra:
        return None
    body: dict[str, str] = dict(extra)
    if mark is not None:
        body["updated_at"] = mark.updated_at.astimezone(UTC).isoformat()
        body["key"] = mark.key
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def decode_cursor(cursor: str | None) -> tuple[Watermark | None, dict[str, str]]:
    """The watermark and the extra parts of a cursor text (both empty for None)."""
    if not cursor:
        return None, {}
    body = json.loads(cursor)
    if not isinstance(body, dict):
        raise ValueError(f"not a cursor: {cursor!r}")
    extra = {k: str(v) for k, v in body.items() if k not in ("updated_at", "key")}
    if "updated_at" not in body:
        return None, extra
    when = datetime.fromisoformat(body["updated_at"])
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Watermark(when, str(body.get("key", ""))), extra


def advance(mark: Watermark | None, records: Iterable[Record], *, started_at: datetime) -> Watermark | None:
    """The watermark after ``records``, capped at ``started_at`` (the moment the pull began)."""
    best = mark
    for record in records:
        if record.updated_at is None:
            continue
        when = record.updated_at if record.updated_at.tzinfo else record.updated_at.replace(tzinfo=UTC)
        candidate = Watermark(when, record.key)
        if best is None or candidate > best:
            best = candidate
    cap = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
    if best is not None and best.updated_at > cap:
        best = Watermark(cap, "")
    return best
