"""CSV cells <-> typed values, one converter per declared column type.

Converters are plain functions chosen once per column (not per cell), because the read path runs
them millions of times; a failing parse raises ``ValueError`` and the caller turns it into a
:class:`~syncengine.errors.RecordError` naming the line and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine.connector import FieldType
from syncengine.records import Money

__all__ = ["CELL_TYPES", "Parser", "format_cell", "is_truthy", "parser_for"]

#: the column types a CSV cell can hold; ``money`` needs two cells and is mapped as two columns.
CELL_TYPES: frozenset[str] = frozenset({"string", "integer", "decimal", "boolean", "date", "datetime"})

Parser = Callable[[str], Any]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def _parse_integer(text: str) -> int:
    return int(text)


def _parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {text!r}")
    return value


def _parse_boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true/false)")


def _parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = datetime.fromisoformat(text.strip())
    zone = value.tzinfo
    if zone is UTC:
        return value
    # A naive timestamp in a file is taken as UTC: a CSV has no zone of its own.
    if zone is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_PARSERS: dict[str, Parser] = {
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "boolean": _parse_boolean,
    "date": _parse_date,
    "datetime": _parse_datetime,
}


def parser_for(kind: FieldType) -> Parser | None:
    """The parser of a non-empty cell of this type; None for strings (the cell is the value)."""
    return _PARSERS.get(kind)


def is_truthy(text: str) -> bool:
    """Whether an archive-flag cell says "archived": any non-empty value but an explicit false."""
    stripped = text.strip()
    return bool(stripped) and stripped.lower() not in _FALSE


def format_cell(value: Any, kind: FieldType) -> str:
    """A typed value as cell text, checked against the column type (``ValueError`` if it does not fit).

    Strings given for typed columns are parsed first, so ``"12.50"`` is accepted for a decimal
    column and ``"abc"`` is refused before it can corrupt the file.
    """
    if value is None:
        return ""
    if isinstance(value, str) and kind != "string":
        if value == "":
            return ""
        parser = _PARSERS[kind]
        value = parser(value)
    if kind == "string":
        return _format_loose(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError(f"not an integer: {value!r}")
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise ValueError(f"not an integer: {value!r}")
            value = int(value)
        return str(value)
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError(f"not a decimal (floats are refused: use Decimal): {value!r}")
        return format(Decimal(value), "f")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"not a boolean: {value!r}")
        return "true" if value else "false"
    if kind == "datetime":
        if not isinstance(value, datetime):
            raise ValueError(f"not a datetime: {value!r}")
        return _utc_iso(value)
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"not a date: {value!r}")
        return value.isoformat()
    raise ValueError(f"a CSV column cannot hold type {kind!r}")


def _utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _format_loose(value: Any) -> str:
    """A value for an untyped (string) column: its natural text, never a Python repr."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return _utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        raise ValueError("a Money value needs two columns (amount and currency); map its parts")
    raise ValueError(f"cannot store a {type(value).__name__} in a CSV cell: {value!r}")
