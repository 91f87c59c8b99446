"""Minor units: how many decimals FreshBooks keeps for a currency's amounts (ISO 4217's).

FreshBooks documents no currency table of its own, and every amount it shows is a decimal string
in the money's ISO code, so its minor units are ISO's (:mod:`syncengine.currencies`). Amounts are
rounded (half up, as invoices are) to the minor unit before they are sent, so a JPY price
computed as 1234.6 goes out as 1235 and is stored as the other side will read it back, instead of
being refused or truncated by FreshBooks (whether it refuses fractional JPY is undocumented:
sandbox variant ``jpy_fractional``).
"""

from __future__ import annotations

from decimal import Decimal

from syncengine import currencies

__all__ = ["minor_unit", "round_to_minor_unit"]


def minor_unit(currency: str) -> int:
    """Digits after the decimal point FreshBooks keeps for ``currency`` (ISO 4217)."""
    return currencies.minor_unit(currency)


def round_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half up to the currency's minor unit (JPY whole, KWD 0.001, USD 0.01)."""
    return currencies.round_to_minor_unit(amount, currency)
