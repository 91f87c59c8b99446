"""JSON columns as plain JSON a SQL user can read and write, without losing a digit.

Invoice lines hold Money, Decimals and datetimes. The engine's own tagged form
(``{"$money": ["12.3", "EUR"]}``) round-trips but reads like a dump; a person editing a line in
a SQL client should see and write this instead::

    [{"name": "Design", "qty": 2.0, "unit_cost": {"amount": "12.30", "currency": "EUR"},
      "updated": "2026-11-30T14:05:00+00:00", "lineid": 7}]

The rules, both ways (each written value reads back as the same value, so nothing looks changed):

=================  ======================================  ==========================================
engine value       written as                              read back from
=================  ======================================  ==========================================
``Money``          ``{"amount": "12.30", "currency": ..}`` an object with exactly ``amount`` (text or
                                                           number) and ``currency`` (text)
``Decimal``        a number with a decimal point: ``2.0``  any number with a point or an exponent,
                   ``12.30`` (exact, never via a float)    read exactly (``parse_float=Decimal``)
``int``            ``7``                                   a number without a point
``datetime``       ISO 8601 with offset (UTC)              text ``YYYY-MM-DDTHH:MM[:SS[.f]]`` + offset
``date``           ``"2026-11-30"``                        text ``YYYY-MM-DD``
=================  ======================================  ==========================================

Text, booleans, null, lists and objects are themselves. The engine's older tagged form
(``{"$decimal": "1.5"}`` ...) is still read, so a database written by an earlier version syncs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine.records import Money, decode_value

__all__ = ["dumps", "from_plain", "loads"]

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TAGS = frozenset({"$money", "$decimal", "$datetime", "$date"})


def dumps(value: Any) -> str:
    """The plain JSON text of an engine value (``ValueError`` for what JSON cannot hold exactly)."""
    parts: list[str] = []
    _dump(value, parts)
    return "".join(parts)


def _dump(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | int | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite decimal: {value}")
        text = format(value, "f")
        out.append(text if "." in text else f"{text}.0")  # the point marks a decimal, not an integer
    elif isinstance(value, Money):
        out.append(json.dumps({"amount": format(value.amount, "f"), "currency": value.currency}))
    elif isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        out.append(json.dumps(moment.isoformat()))
    elif isinstance(value, date):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append(", " if index else "")
            out.append(json.dumps(str(key), ensure_ascii=False) + ": ")
            _dump(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            out.append(", " if index else "")
            _dump(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise ValueError(f"floats are refused in JSON columns (use Decimal): {value!r}")
    else:
        raise ValueError(f"cannot store a {type(value).__name__} in a JSON column: {value!r}")


def loads(text: str | bytes) -> Any:
    """Plain JSON text as engine values (``ValueError`` naming the position for bad JSON)."""
    try:
        parsed = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return from_plain(parsed)


def from_plain(value: Any) -> Any:
    """Parsed JSON (numbers with a point already Decimal) as engine values, by the rules above."""
    if isinstance(value, str):
        if _DATETIME.fullmatch(value):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                return value
        if _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _TAGS:
            return decode_value(value)  # the tagged form of earlier versions
        if set(value) == {"amount", "currency"} and isinstance(value["currency"], str):
            amount = value["amount"]
            if isinstance(amount, str | int | Decimal) and not isinstance(amount, bool):
                try:
                    return Money(Decimal(str(amount).strip()), value["currency"])
                except (InvalidOperation, ValueError):
                    pass
        return {key: from_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_plain(item) for item in value]
    return value
