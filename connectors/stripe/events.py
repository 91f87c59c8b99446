"""Changes from Stripe's Events API, with a cursor that neither skips nor trusts event order.

Stripe stamps events with a whole second and lists them newest first, in no promised order
within a second; it keeps 30 days of them and never de-duplicates a retried delivery. So:

* the cursor is ``(created second, ids already processed in that second)``: the next pull asks
  for ``created >= second`` and drops those ids, so a same-second event that arrives late is
  read, and one already processed is not read twice;
* a pull reads the whole listing since the cursor, drops repeated ids, and hands the events out
  oldest second first in pages whose cursors are each safe to resume from (committed page by
  page);
* an event is only a hint of *which* object changed: the connector refetches the object, so the
  order of events within a second never decides what the record holds (a paid invoice never
  stays ``open`` because its two events shared a second);
* a cursor older than the window cannot be resumed: the caller falls back to a full listing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "EventCursor", "order_events", "paged_with_cursors"]


@dataclass(frozen=True, slots=True)
class EventCursor:
    """Resume point: events at ``created`` or later, except the ``seen`` ids of that second."""

    created: int
    seen: frozenset[str] = frozenset()

    def encode(self) -> str:
        return json.dumps({"events_created": self.created, "seen": sorted(self.seen)}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> EventCursor | None:
        if not text:
            return None
        body = json.loads(text)
        if not isinstance(body, Mapping) or "events_created" not in body:
            raise ValueError(f"not a Stripe events cursor: {text!r}")
        return cls(int(body["events_created"]), frozenset(str(i) for i in body.get("seen") or ()))


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    created: int
    object_id: str | None
    object_type: str | None
    #: the payment intent the object belongs to (charges, refunds): how a refund finds the
    #: invoice payment it reduces.
    payment_intent: str | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Event:
        data = raw.get("data") if isinstance(raw.get("data"), Mapping) else {}
        obj = data.get("object") if isinstance(data, Mapping) else None
        obj = obj if isinstance(obj, Mapping) else {}
        intent = obj.get("payment_intent")
        intent = intent.get("id") if isinstance(intent, Mapping) else intent
        return cls(str(raw["id"]), str(raw.get("type") or ""), int(raw.get("created") or 0),
                   str(obj["id"]) if obj.get("id") is not None else None,
                   str(obj["object"]) if obj.get("object") is not None else None,
                   str(intent) if intent else None)


def order_events(raw: Sequence[Mapping[str, Any]], cursor: EventCursor) -> list[Event]:
    """Events after the cursor, each id once, oldest second first (ids break ties: any fixed
    order will do, since the objects are refetched)."""
    unique: dict[str, Event] = {}
    for item in raw:
        event = Event.of(item)
        if event.created < cursor.created or (event.created == cursor.created and event.id in cursor.seen):
            continue
        unique.setdefault(event.id, event)
    return sorted(unique.values(), key=lambda e: (e.created, e.id))


def paged_with_cursors(
    events: list[Event], cursor: EventCursor, size: int
) -> Iterator[tuple[list[Event], EventCursor]]:
    """Pages of ``size`` events, each with the cursor that resumes right after it."""
    seen = set(cursor.seen)
    second = cursor.created
    for start in range(0, len(events), size):
        page = events[start:start + size]
        for event in page:
            if event.created != second:
                second, seen = event.created, set()
            seen.add(event.id)
        yield page, EventCursor(second, frozenset(seen))
