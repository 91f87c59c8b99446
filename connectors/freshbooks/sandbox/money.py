"""Money and decimal values as FreshBooks writes them: ``{"amount": "12.50", "code": "USD"}``.

Amounts are decimal strings with two places, never floats (the Python SDK parses JSON numbers as
Decimal). Inputs are accepted as strings or numbers, the way the SDKs send them. Two open
behaviours are variants: a JPY amount with decimals (``jpy_fractional``) and the three-decimal
KWD (``kwd``: unknown, or kept to 0.001).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import INVALID_PERCENT, invalid
from .variants import current

CURRENCIES = ("USD", "CAD", "EUR", "GBP", "AUD", "JPY", "CHF", "MXN", "NZD", "INR")
CENT = Decimal("0.01")
MIL = Decimal("0.001")


def cents(value: Decimal, code: str = "") -> str:
    step = MIL if code == "KWD" else CENT
    return str(value.quantize(step, rounding=ROUND_HALF_UP))


def money(amount: Decimal, code: str) -> dict[str, str]:
    return {"amount": cents(amount, code), "code": code}


def to_decimal(value: Any, field: str, obj: str | None = None, errno: int | None = None) -> Decimal:
    """A decimal from a string or number; anything else is errno 1004 (or ``errno``) on ``field``."""
    if isinstance(value, bool) or value is None:
        raise invalid(field, "Must be a number.", value, obj, errno or 1004)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(field, "Must be a number.", value, obj, errno or 1004) from None
    if not result.is_finite():
        raise invalid(field, "Must be a number.", value, obj, errno or 1004)
    return result


def to_percent(value: Any, field: str, obj: str | None = None) -> str:
    """Percents are decimal strings (errno 1018 otherwise), e.g. tax ``amount`` "13"."""
    if not isinstance(value, str):
        raise invalid(field, "Percent values must be decimal strings.", value, obj, INVALID_PERCENT)
    number = to_decimal(value, field, obj, INVALID_PERCENT)
    if number < 0 or number > 100:
        raise invalid(field, "Percent must be between 0 and 100.", value, obj, INVALID_PERCENT)
    return value.strip()


def to_currency(value: Any, field: str = "currency_code", obj: str | None = None) -> str:
    known = CURRENCIES + (("KWD",) if current("kwd") == "accepted" else ())
    if not isinstance(value, str) or value.upper() not in known:
        raise invalid(field, "Invalid currency code.", value, obj)
    return value.upper()


def _checked(amount: Decimal, code: str, field: str, value: Any, obj: str | None) -> Decimal:
    if code == "JPY" and amount != amount.to_integral_value() and current("jpy_fractional") == "refused":
        raise invalid(field, "JPY amounts must be whole yen.", value, obj)
    return amount


def to_money(value: Any, field: str, default_code: str, obj: str | None = None) -> dict[str, str]:
    """A Money object from ``{"amount", "code"}`` or a bare amount (then in ``default_code``)."""
    if isinstance(value, dict):
        if "amount" not in value:
            raise invalid(field, "Money needs an amount.", value, obj)
        code = to_currency(value.get("code") or default_code, field, obj)
        return money(_checked(to_decimal(value["amount"], field, obj), code, field, value, obj), code)
    return money(_checked(to_decimal(value, field, obj), default_code, field, value, obj), default_code)


def amount_of(value: dict[str, Any] | None) -> Decimal:
    if not value:
        return Decimal(0)
    return Decimal(str(value.get("amount") or "0"))
