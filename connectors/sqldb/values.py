"""Column types <-> field types, and the values that cross between the engine and the database.

The engine speaks Decimal, aware UTC datetimes and plain strings; databases differ (SQLite has
no decimal and no time zones, PostgreSQL has both). Each column gets two converters chosen once:
``to_db`` checks and converts an engine value (``ValueError`` if it does not fit the column) and
``from_db`` turns what the driver returns into the engine's shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

import sqlalchemy as sa

from syncengine.connector import FieldType
from syncengine.records import Money

from . import plain_json

__all__ = ["SQLITE_DECIMAL_TYPE", "ColumnCodec", "DecimalText", "codec_for", "field_type_of", "sa_type_for"]

#: A column of NUMERIC affinity (NUMERIC, DECIMAL, REAL) makes SQLite keep a number as a 64-bit
#: float: only 15 significant digits survive. Such columns (tables made by earlier versions, or
#: by hand) still work, with that limit.
SQLITE_DECIMAL_DIGITS = 15
#: The declared type of the decimal columns we create on SQLite: the name has TEXT affinity (the
#: exact digits are kept as text, never turned into REAL) and says what the column holds; the
#: connector reads such a column back as decimal.
SQLITE_DECIMAL_TYPE = "DECIMAL_TEXT"


class DecimalText(sa.types.UserDefinedType[Any]):
    """``DECIMAL_TEXT`` on SQLite: decimals stored as their exact text."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return SQLITE_DECIMAL_TYPE


class JsonAsText(sa.types.TypeDecorator[Any]):
    """A JSON column selected as its text, so our codec parses it (exact decimals, plain form)
    rather than the driver (floats). Written as text, which PostgreSQL casts to json/jsonb."""

    impl = sa.types.Text
    cache_ok = True

    def column_expression(self, column: Any) -> Any:
        return sa.cast(column, sa.Text)

ToDb = Callable[[Any], Any]
FromDb = Callable[[Any], Any]


def field_type_of(column_type: sa.types.TypeEngine[Any]) -> FieldType:
    """The field type of a reflected column. Numeric is always decimal, never float."""
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Numeric | sa.Float):
        return "decimal"
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.JSON):
        return "any"
    return "string"


def sa_type_for(kind: FieldType, *, key: bool = False) -> sa.types.TypeEngine[Any]:
    """The column type a ``create: true`` table gets for a declared field type."""
    if kind == "integer":
        # INTEGER PRIMARY KEY is SQLite's rowid alias (autoincrement); BIGINT elsewhere.
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite") if key else sa.BigInteger()
    if kind == "decimal":
        return sa.Numeric().with_variant(DecimalText(), "sqlite")
    if kind == "boolean":
        return sa.Boolean()
    if kind == "date":
        return sa.Date()
    if kind == "datetime":
        return sa.DateTime(timezone=True)
    if kind in ("object", "array", "any"):
        return sa.JSON()
    return sa.Text() if not key else sa.String(255)


@dataclass(frozen=True, slots=True)
class ColumnCodec:
    kind: FieldType
    to_db: ToDb
    #: None when the driver already returns the engine's shape (no per-value call on reads).
    from_db: FromDb | None
    #: the column must bypass SQLAlchemy's own conversion (our codec does it, exactly and faster).
    raw: bool = False
    #: with ``raw``: the type the column is read and written as (default: none, values pass as they are).
    raw_type: sa.types.TypeEngine[Any] | None = None


def codec_for(column_type: sa.types.TypeEngine[Any], kind: FieldType, dialect: str) -> ColumnCodec:
    sqlite = dialect == "sqlite"
    if kind == "integer":
        return ColumnCodec(kind, _to_int, None)
    if kind == "decimal":
        if sqlite:
            # NUMERIC affinity (an older or hand-made table): a float inside, 15 digits at most.
            numeric = isinstance(column_type, sa.Numeric)
            return ColumnCodec(kind, _to_sqlite_decimal if numeric else _to_decimal_text, _decimal_from_db, raw=True)
        scale = getattr(column_type, "scale", None)
        if isinstance(scale, int):
            # The database rounds to the column's scale; rounding first makes the record we
            # return equal the one the next read brings (no phantom change, no echo).
            return ColumnCodec(kind, partial(_to_scaled_decimal, Decimal(1).scaleb(-scale)), _decimal_from_db)
        return ColumnCodec(kind, _to_decimal, _decimal_from_db)
    if kind == "boolean":
        return ColumnCodec(kind, _to_bool, _bool_from_db)
    if kind == "date":
        return ColumnCodec(kind, _to_date, _date_from_db)
    if kind == "datetime":
        if sqlite and isinstance(column_type, sa.DateTime):
            # SQLite keeps text; we write SQLAlchemy's own layout so old and new rows sort together.
            return ColumnCodec(kind, _to_sqlite_datetime, _datetime_from_sqlite, raw=True)
        aware = not sqlite and bool(getattr(column_type, "timezone", False))
        return ColumnCodec(kind, _to_aware if aware else _to_naive_utc, _datetime_from_db)
    if isinstance(column_type, sa.Uuid):
        return ColumnCodec(kind, _to_uuid if column_type.as_uuid else _to_text, _text_from_db)
    if kind == "string":
        plain = isinstance(column_type, sa.String)
        return ColumnCodec(kind, _to_text, None if plain else _text_from_db)
    # object, array, any: plain JSON text, parsed by us (a bad cell is that record's error).
    parsed = isinstance(column_type, sa.JSON) and not sqlite
    return ColumnCodec(kind, _to_json, _json_from_db, raw=True, raw_type=JsonAsText() if parsed else None)


# -- engine -> database ------------------------------------------------------------------------


def _to_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not an integer: {value!r}")


def _to_decimal(value: Any) -> Decimal | None:
    if type(value) is Decimal and value.is_finite():
        return value
    if value is None or value == "":
        return None
    if isinstance(value, Money):
        raise ValueError("a Money value needs two columns (amount and currency); map its parts")
    if isinstance(value, bool | float):
        raise ValueError(f"not a decimal (floats are refused: use Decimal): {value!r}")
    try:
        number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a decimal: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return number


def _to_scaled_decimal(quantum: Decimal, value: Any) -> Decimal | None:
    number = _to_decimal(value)
    if number is None:
        return None
    return number.quantize(quantum, rounding=ROUND_HALF_UP)  # PostgreSQL rounds half away from zero


def _to_sqlite_decimal(value: Any) -> str | None:
    number = _to_decimal(value)
    if number is None:
        return None
    text = str(number)
    if len(text) <= SQLITE_DECIMAL_DIGITS and "E" not in text:
        return text  # at most 15 characters: at most 15 digits (SQLite parses the text exactly)
    digits = len(number.as_tuple().digits)
    if digits > SQLITE_DECIMAL_DIGITS and len(number.normalize().as_tuple().digits) > SQLITE_DECIMAL_DIGITS:
        raise ValueError(
            f"{number} has more than {SQLITE_DECIMAL_DIGITS} significant digits, which this NUMERIC column "
            f"keeps as a float in SQLite; declare the column {SQLITE_DECIMAL_TYPE} (or TEXT) to keep every digit"
        )
    return format(number, "f")


def _to_decimal_text(value: Any) -> str | None:
    number = _to_decimal(value)
    return None if number is None else format(number, "f")  # exact, as given ("12.30" stays)


def _to_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError(f"not a boolean: {value!r}")


def _to_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValueError(f"not a date (a datetime was given): {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"not a date: {value!r}")


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_aware(value: Any) -> datetime | None:
    return _aware(value)


def _to_naive_utc(value: Any) -> datetime | None:
    aware = _aware(value)
    return None if aware is None else aware.replace(tzinfo=None)


def _to_sqlite_datetime(value: Any) -> str | None:
    naive = _to_naive_utc(value)
    return None if naive is None else naive.isoformat(sep=" ", timespec="microseconds")


def _to_text(value: Any) -> str | None:
    if type(value) is str or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        aware = _aware(value)
        assert aware is not None
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError(f"cannot store a {type(value).__name__} in a text column: {value!r}")


def _to_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"not a UUID: {value!r}") from None


def _to_json(value: Any) -> str | None:
    # Nested values (invoice lines) hold Money, Decimal and datetimes: in plain JSON by rules that
    # read each back as the same value, so it hashes the same next run (see plain_json).
    return None if value is None else plain_json.dumps(value)


def _json_from_db(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | bytes):
        return plain_json.loads(value)
    return plain_json.from_plain(value)  # a number SQLite kept as such in a JSON column


# -- database -> engine ------------------------------------------------------------------------


def _decimal_from_db(value: Any) -> Decimal | None:
    if type(value) is float:
        return Decimal(repr(value))  # the shortest text that round-trips: the digits we stored
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _bool_from_db(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _date_from_db(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value))


def _datetime_from_db(value: Any) -> datetime | None:
    return _aware(value)


def _datetime_from_sqlite(value: Any) -> datetime | None:
    if type(value) is str:
        if len(value) == 26:  # our own layout, "YYYY-MM-DD HH:MM:SS.ffffff", always UTC
            return datetime.fromisoformat(value + "+00:00")  # much cheaper than .replace(tzinfo=)
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _aware(value)


def _text_from_db(value: Any) -> str | None:
    return None if value is None else str(value)
