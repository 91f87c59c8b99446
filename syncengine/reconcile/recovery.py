"""Recognising what an interrupted run wrote, so a crash or a timeout never duplicates a record.

Every write has an intent row committed before the call (``pending``), marked ``sent`` just
before the call and ``done`` with the link that records its result. A later run finds ``sent``
creates still open and settles each before anything is written again, in this order:

1. **By key.** When the create's payload carries the target's own key (a SQL table keyed by a
   mapped id, a CSV keyed by a mapped column), the record is read back by that key.
2. **By replay.** A system that honours idempotency keys (``Capability.IDEMPOTENT_WRITES``) is
   sent the same write again, under the same key and with the original payload: it answers with
   the record it made the first time.
3. **By shape.** Otherwise (FreshBooks has neither), the unlinked records this run pulled from
   the target are read back through the mapping and compared with the write's expected common
   shape: so ``"1024"`` and ``1024``, ``12.3`` and ``12.30``, "" and null, an assigned invoice
   number or extra fields inside invoice lines do not hide the record that was made.

A ``sent`` create found nowhere did not land and is written again (its key then follows its
payload). A ``pending`` intent never left the process and is simply closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from syncengine.records import Money, canonical_bytes

if TYPE_CHECKING:
    from syncengine.ledger import Intent
    from syncengine.reconcile.merge import Side

__all__ = ["PendingCreate", "RecoveryIndex", "idempotency_key", "loose", "matches_shape"]


def idempotency_key(pipeline: str, pair: str, side: str, kind: str, key: str, payload: Any,
                    prior: str | None = None) -> str:
    """One key per distinct write: (pipeline, pair, side, kind, the source or target key, the
    payload and, for an update, the state it starts from). A retry of the same write carries the
    same key; a different payload, or the same payload over a different prior state, never does
    (an idempotent API would otherwise answer a new write with an old result)."""
    digest = hashlib.sha256()
    digest.update(f"{pipeline}\0{pair}\0{side}\0{kind}\0{key}\0{prior or ''}\0".encode())
    digest.update(canonical_bytes({"p": payload}))
    return f"se-{digest.hexdigest()[:40]}"


def _number(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def loose(value: Any) -> Any:
    """A scalar as a comparison key that ignores representation: numbers by value whether text
    or not, text trimmed, "" as null, money by amount and currency, times in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        try:
            return _number(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if isinstance(value, Money):
        return (_number(value.amount), value.currency.upper())
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo is None else value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return _number(number) if number.is_finite() else text
    return value


def matches_shape(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` holds what ``expected`` says: dicts by the keys ``expected`` names (the
    system may add its own), lists item by item, scalars loosely; an empty expected value is
    whatever the system filled in."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return False
        return all(matches_shape(v, actual.get(k)) for k, v in expected.items())
    if isinstance(expected, list | tuple):
        if not isinstance(actual, list | tuple) or len(actual) != len(expected):
            return expected == [] and actual is None
        return all(matches_shape(e, a) for e, a in zip(expected, actual, strict=True))
    if expected is None or expected == "":
        return True  # sent empty: the system may fill it in
    return bool(loose(expected) == loose(actual))


@dataclass(frozen=True, slots=True)
class PendingCreate:
    """A create of an earlier run whose outcome is unknown."""

    intent_id: int
    side: Side
    source_key: str
    idempotency_key: str
    payload: dict[str, Any]
    #: the names the create wrote, in the common shape, and the values both sides were to agree on.
    names: tuple[str, ...]
    merged: dict[str, Any]
    sent: bool

    @classmethod
    def from_intent(cls, intent: Intent) -> PendingCreate:
        expect = intent.expect or {}
        merged = dict(expect.get("merged") or {})
        names = tuple(expect.get("names") or ())
        return cls(intent.id, intent.side, intent.source_key or "", intent.idempotency_key, intent.payload,
                   names, merged, intent.state == "sent")

    @property
    def expected(self) -> dict[str, Any]:
        """What the created record must hold: the values the create sent. A field sent empty is
        left out: the system may fill it in (an invoice number, a default status)."""
        return {n: v for n in self.names if (v := self.merged.get(n)) is not None and v != ""}

    @property
    def scalars(self) -> tuple[str, ...]:
        """The expected names with a plain value (the index's hashable first cut)."""
        return tuple(n for n, v in self.expected.items() if not isinstance(v, Mapping | list | tuple))


def _signature(common: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(loose(common.get(name)) for name in names)


class RecoveryIndex:
    """The open creates aimed at one side, indexed by their scalar values, so each record pulled
    from that side is checked in O(1) however many creates are open."""

    def __init__(self, creates: Iterable[PendingCreate]) -> None:
        self._by_names: dict[tuple[str, ...], dict[tuple[Any, ...], list[PendingCreate]]] = {}
        self._open: dict[int, PendingCreate] = {}
        for create in creates:
            if not create.expected:
                continue  # nothing to recognise it by: it is closed as not landed
            self._open[create.intent_id] = create
            self._by_names.setdefault(create.scalars, {}).setdefault(
                _signature(create.merged, create.scalars), []).append(create)

    def __len__(self) -> int:
        return len(self._open)

    def __bool__(self) -> bool:
        return bool(self._open)

    def open(self) -> list[PendingCreate]:
        return list(self._open.values())

    def claim(self, common: Mapping[str, Any] | None) -> PendingCreate | None:
        """The open create whose expected shape this record holds (it is then closed)."""
        if common is None or not self._open:
            return None
        for names, index in self._by_names.items():
            for create in index.get(_signature(common, names), ()):
                if create.intent_id in self._open and matches_shape(create.expected, common):
                    self.take(create)
                    return create
        return None

    def take(self, create: PendingCreate) -> None:
        self._open.pop(create.intent_id, None)
        bucket = self._by_names.get(create.scalars, {}).get(_signature(create.merged, create.scalars))
        if bucket and create in bucket:
            bucket.remove(create)
