"""Minor units: how many decimals FreshBooks keeps for a currency's amounts (ISO 4217's).

FreshBooks documents no currency table of its own, and every amount it shows is a decimal string
in the money's ISO code, so its minor units are ISO's (:mod:`syncengine.currencies`). Every amount
is rounded (half up, as invoices are) to the minor unit before it is sent, so a JPY price computed
as 1234.6 goes out as 1235 and is stored as the other side will read it back, instead of being
refused or truncated by FreshBooks (whether it refuses fractional JPY is undocumented: sandbox
variant ``jpy_fractional``). That holds for a bare amount in a money field too (a mapping that
sends a decimal column as it is): it is taken in the record's ``currency_code``. An amount in
another currency than its record's is refused here, never sent: FreshBooks converts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine import currencies
from syncengine.records import Money

__all__ = ["AmountError", "minor_unit", "round_to_minor_unit", "wire_money"]


class AmountError(ValueError):
    """An amount that cannot be sent, with the field path it sits at (``lines[1].unit_cost``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def minor_unit(currency: str) -> int:
    """Digits after the decimal point FreshBooks keeps for ``currency`` (ISO 4217)."""
    return currencies.minor_unit(currency)


def round_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half up to the currency's minor unit (JPY whole, KWD 0.001, USD 0.01)."""
    return currencies.round_to_minor_unit(amount, currency)


def _amount(value: Any, field: str) -> Decimal:
    if isinstance(value, bool | float):
        raise AmountError(field, f"{value!r} is not a decimal amount (floats cannot hold cents exactly)")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise AmountError(field, f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise AmountError(field, f"{value!r} is not an amount")
    return amount


def wire_money(value: Any, currency: str | None, field: str) -> Any:
    """A Money, or a bare amount in a money field, as FreshBooks' ``{"amount", "code"}``, rounded
    to the minor unit. ``currency`` is the record's ``currency_code`` when known: a bare amount
    takes it, a Money in another currency is an :class:`AmountError`. A bare amount on a record of
    unknown currency (an item, a task) goes out as it is: FreshBooks reads it in its own default."""
    record_currency = currency.upper() if currency else None
    if isinstance(value, Mapping):
        if "amount" not in value:
            raise AmountError(field, f"{dict(value)!r} is not an amount: give {{amount, code}} or a decimal")
        code_given = value.get("code") or value.get("currency")
        value = Money(_amount(value["amount"], field), str(code_given)) if code_given else value["amount"]
    if isinstance(value, Money):
        amount, code = _amount(value.amount, field), value.currency.upper()
        if record_currency and code != record_currency:
            raise AmountError(field, f"an amount in {code} on a record in {record_currency}: "
                                     "FreshBooks converts nothing; give it in the record's currency")
    else:
        amount = _amount(value, field)
        if record_currency is None:
            return format(amount, "f")
        code = record_currency
    try:
        rounded = round_to_minor_unit(amount, code)
    except InvalidOperation:
        raise AmountError(field, f"{amount} {code} has too many digits to send") from None
    return {"amount": format(rounded, "f"), "code": code}
