"""Field kinds and how a request value becomes a stored value (or an errno naming the field).

Objects declare their writable fields as ``name -> kind`` (see ``objects.py``); this module is the
one place that knows what "money" or "date" means on the wire, so every object validates alike:
a wrong type or range is errno 1004 InvalidValue naming the field, a bad percent is 1018.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from .clock import iso_utc, parse_utc
from .errors import invalid
from .money import to_currency, to_decimal, to_money, to_percent

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Kind(StrEnum):
    STR = "str"
    INT = "int"
    BOOL = "bool"
    MONEY = "money"
    DECIMAL = "decimal"          # decimal string, e.g. item qty, project fixed_price
    PERCENT = "percent"          # decimal string 0..100, errno 1018 otherwise
    DATE = "date"                # "YYYY-MM-DD"
    DATETIME = "datetime"        # ISO 8601 UTC, written back with a "Z"
    EMAIL = "email"
    CURRENCY = "currency"
    ANY = "any"                  # passed through (objects, lists)


def coerce(kind: Kind, value: Any, field: str, obj: str, currency: str) -> Any:
    """The stored form of ``value`` for a field of ``kind``; ``None`` clears optional fields."""
    if value is None and kind not in (Kind.MONEY,):
        return None
    if kind is Kind.STR:
        if isinstance(value, (dict, list)):
            raise invalid(field, "Must be a string.", value, obj)
        return str(value)
    if kind is Kind.INT:
        if isinstance(value, bool):
            raise invalid(field, "Must be an integer.", value, obj)
        try:
            return int(str(value).strip())
        except ValueError:
            raise invalid(field, "Must be an integer.", value, obj) from None
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise invalid(field, "Must be a boolean.", value, obj)
    if kind is Kind.MONEY:
        if value is None:
            raise invalid(field, "Must be an amount.", value, obj)
        return to_money(value, field, currency, obj)
    if kind is Kind.DECIMAL:
        return str(to_decimal(value, field, obj))
    if kind is Kind.PERCENT:
        return to_percent(value, field, obj)
    if kind is Kind.DATE:
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise invalid(field, "Must be a date (YYYY-MM-DD).", value, obj) from None
    if kind is Kind.DATETIME:
        try:
            return iso_utc(parse_utc(str(value)))
        except ValueError:
            raise invalid(field, "Must be an ISO 8601 date-time.", value, obj) from None
    if kind is Kind.EMAIL:
        text = str(value).strip()
        if text and not EMAIL.match(text):
            raise invalid(field, "Invalid email address.", value, obj)
        return text
    if kind is Kind.CURRENCY:
        return to_currency(value, field, obj)
    return value


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
