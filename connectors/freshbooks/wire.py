"""FreshBooks' wire formats <-> record fields: Decimal money, Eastern and UTC timestamps, dates.

FreshBooks speaks three time dialects (reference §1.7): accounting date-times are naive
``"YYYY-MM-DD HH:MM:SS"`` in **US/Eastern**; a few accounting fields (client ``signup_date``) are
the same shape in UTC; project-like and identity timestamps are ISO 8601 UTC, sometimes without
the ``Z``. Records carry aware UTC datetimes, so the same instant always hashes the same. Money is
``{"amount": "12.30", "code": "USD"}`` on the wire and :class:`Money` in records; JSON is parsed
with ``parse_float=Decimal`` so no amount ever passes through a float.

Conversion is driven by the object's :class:`FieldSpec` types; fields the spec does not name
pass through as parsed (strings, ints, Decimals, dicts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from connectors.freshbooks.currency import wire_money
from syncengine.connector import FieldSpec
from syncengine.records import Money

__all__ = [
    "EASTERN",
    "TimeZoneRule",
    "decode_fields",
    "encode_fields",
    "format_accounting_time",
    "loads",
    "parse_time",
]

EASTERN = ZoneInfo("US/Eastern")

#: How an object's naive date-times are to be read: accounting (Eastern) or UTC.
TimeZoneRule = Literal["eastern", "utc"]


def loads(content: bytes | str) -> Any:
    """JSON with every non-integer number as a Decimal (never a float)."""
    if not content:
        return None
    return json.loads(content, parse_float=Decimal)


def parse_time(value: Any, zone: TimeZoneRule) -> datetime | None:
    """A FreshBooks timestamp as an aware UTC datetime; naive text is read in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EASTERN if zone == "eastern" else UTC)
    return moment.astimezone(UTC)


def format_accounting_time(moment: datetime) -> str:
    """An instant as FreshBooks' naive Eastern accounting text."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S")


def _to_decimal(value: Any) -> Any:
    if value is None or value == "" or isinstance(value, bool):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _to_money(value: Any, default_currency: str | None) -> Any:
    if isinstance(value, Mapping) and "amount" in value:
        code = value.get("code") or default_currency
        amount = _to_decimal(value["amount"])
        if isinstance(amount, Decimal) and code:
            return Money(amount, str(code))
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def decode_value(spec: FieldSpec, value: Any, zone: TimeZoneRule, currency: str | None) -> Any:
    """One wire value as a record value, by its field spec."""
    if value is None:
        return None
    if spec.type == "money":
        return _to_money(value, currency)
    if spec.type == "decimal":
        return _to_decimal(value)
    if spec.type == "datetime":
        try:
            return parse_time(value, zone)
        except ValueError:
            return value
    if spec.type == "date":
        return _to_date(value)
    if spec.type == "array" and spec.fields and isinstance(value, list):
        return [decode_fields(spec.fields, v, zone, currency) if isinstance(v, Mapping) else v for v in value]
    if spec.type == "object" and spec.fields and isinstance(value, Mapping):
        return decode_fields(spec.fields, value, zone, currency)
    return value


def decode_fields(
    specs: Mapping[str, FieldSpec],
    raw: Mapping[str, Any],
    zone: TimeZoneRule,
    currency: str | None = None,
    utc_fields: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A wire record as record fields. ``utc_fields`` are the naive-UTC exceptions (signup_date)."""
    currency = str(raw.get("currency_code") or currency or "") or None
    out: dict[str, Any] = {}
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            out[name] = value
        else:
            out[name] = decode_value(spec, value, "utc" if name in utc_fields else zone, currency)
    return out


def encode_value(
    spec: FieldSpec | None, value: Any, zone: TimeZoneRule, currency: str | None = None, field: str = ""
) -> Any:
    """One record value in FreshBooks' wire form. Amounts (a Money, or any value of a money field)
    are rounded to the minor unit of ``currency``, the record's (see :func:`wire_money`);
    ``field`` is the value's path, for the error an amount that cannot be sent raises."""
    if value is None or value == "":
        return value
    if isinstance(value, Money) or (spec is not None and spec.type == "money"):
        return wire_money(value, currency, field or "amount")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        if zone == "eastern":
            return format_accounting_time(aware)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        sub = spec.fields if spec is not None else {}
        return {k: encode_value(sub.get(k), v, zone, currency, f"{field}.{k}" if field else str(k))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(spec, v, zone, currency, f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def encode_fields(
    specs: Mapping[str, FieldSpec], fields: Mapping[str, Any], zone: TimeZoneRule, currency: str | None = None
) -> dict[str, Any]:
    """A record's fields in FreshBooks' wire form; ``currency`` is the record's (its
    ``currency_code``, or the stored one), in which bare amounts are taken and checked."""
    return {name: encode_value(specs.get(name), value, zone, currency, name) for name, value in fields.items()}
