"""Records as the engine sees them, money without floats, and the canonical form that is hashed.

The canonical form is what makes echo suppression work: two values that mean the same thing
(``Decimal("10.0")`` and ``Decimal("10.00")``, a datetime in Eastern time and the same instant in
UTC) must serialise to the same bytes, or every sync would see a change that is not there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

__all__ = [
    "Money",
    "Record",
    "canonical_bytes",
    "canonical_bytes_stdlib",
    "canonical_decimal",
    "decode_value",
    "encode_value",
    "fields_hash",
    "from_json",
    "get_path",
    "set_path",
    "to_json",
]


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one ISO 4217 currency. Never a float: floats cannot hold 0.1 exactly."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise TypeError("Money.amount must be a Decimal, not a float")
        if not isinstance(self.amount, Decimal):
            try:
                object.__setattr__(self, "amount", Decimal(str(self.amount)))
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal amount: {self.amount!r}") from exc
        object.__setattr__(self, "currency", str(self.currency).upper())

    def __str__(self) -> str:
        return f"{canonical_decimal(self.amount)} {self.currency}"


@dataclass(slots=True)
class Record:
    """One record of an outside system: its own key, its fields, when it last changed, and if it is gone."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    deleted: bool = False


def canonical_decimal(value: Decimal) -> str:
    """A Decimal as a plain string with no exponent and no trailing zeros ("10.50" -> "10.5")."""
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def _utc(value: datetime) -> datetime:
    # A naive datetime is taken to be UTC: connectors convert their local times before this point.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def encode_value(value: Any) -> Any:
    """A JSON-able tagged form of one value, used for the hash and for snapshots in the ledger."""
    if isinstance(value, Money):
        return {"$money": [canonical_decimal(value.amount), value.currency]}
    if isinstance(value, Decimal):
        return {"$decimal": canonical_decimal(value)}
    if isinstance(value, datetime):
        return {"$datetime": _utc(value).isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        encoded = {str(k): encode_value(v) for k, v in value.items()}
        return {OBJECT_TAG: encoded} if _tag_like(encoded) else encoded
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


#: wraps a record's own object that would read as a tag (one key starting with "$", such as a JSON
#: column holding {"$decimal": "x"}), so it comes back as that object and not as a Decimal.
OBJECT_TAG = "$object"


def _tag_like(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and str(next(iter(value))).startswith("$")


def _escape_tag_like(value: Any) -> Any:
    """``value`` with every object that would read as a tag wrapped in :data:`OBJECT_TAG` (what
    :func:`encode_value` does, for the orjson path, which writes plain dicts itself)."""
    if isinstance(value, Mapping):
        inner = {k: _escape_tag_like(v) for k, v in value.items()}
        return {OBJECT_TAG: inner} if _tag_like(inner) else inner
    if isinstance(value, list | tuple):
        return [_escape_tag_like(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    """The inverse of :func:`encode_value`."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == OBJECT_TAG and isinstance(inner, dict):
                return {k: decode_value(v) for k, v in inner.items()}
            if tag == "$money":
                return Money(Decimal(inner[0]), inner[1])
            if tag == "$decimal":
                return Decimal(inner)
            if tag == "$datetime":
                return datetime.fromisoformat(inner)
            if tag == "$date":
                return date.fromisoformat(inner)
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    encoded = encode_value(value)
    if encoded is value:
        raise TypeError(f"value of type {type(value).__name__} cannot be put in a record: {value!r}")
    return encoded


# orjson writes the same text as ``json.dumps(sort_keys=True, separators=(",", ":"),
# ensure_ascii=False)`` about ten times faster; with datetimes and dataclasses passed through,
# Money/Decimal/datetime/date all reach ``_json_default`` and get their tags. A test pins the
# equality with the standard library, so hashes stay stable whichever encoder wrote them.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, compact separators, tagged Decimal/Money/datetime: the same meaning, the same bytes."""
    if _tag_like(fields) or any(isinstance(v, Mapping | list | tuple) for v in fields.values()):
        # Nested values may hold an object that reads as a tag; flat records (most) skip the walk.
        fields = _escape_tag_like(fields)
    return orjson.dumps(fields, default=_json_default, option=_ORJSON_OPTIONS)


def canonical_bytes_stdlib(fields: Mapping[str, Any]) -> bytes:
    """The reference form :func:`canonical_bytes` must equal (kept for the test that says so)."""
    return json.dumps(
        encode_value(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def fields_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form, as hex."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def to_json(fields: Mapping[str, Any]) -> str:
    """Fields as a JSON text that :func:`from_json` restores with their types."""
    return canonical_bytes(fields).decode("utf-8")


def from_json(text: str) -> dict[str, Any]:
    decoded = decode_value(orjson.loads(text))
    if not isinstance(decoded, dict):
        raise ValueError("stored fields are not a JSON object")
    return decoded


_MISSING = object()


def get_path(fields: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """Read a dotted path (``amount.amount``); a Money's parts are ``amount`` and ``currency``."""
    current: Any = fields
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, Money) and part in ("amount", "currency"):
            current = getattr(current, part)
        else:
            return default
        if current is _MISSING:
            return default
    return current


def set_path(fields: dict[str, Any], path: str, value: Any) -> None:
    """Write a dotted path, creating the dicts on the way."""
    parts = path.split(".")
    current = fields
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            current[part] = nxt
        current = nxt
    current[parts[-1]] = value
