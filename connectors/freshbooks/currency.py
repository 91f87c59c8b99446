"""Minor units: how many decimals FreshBooks can keep for a currency's amounts.

ISO 4217 exponents for the currencies that differ from two decimals. Amounts are rounded (half
up, as invoices are) to the minor unit before they are sent, so a JPY price computed as 1234.6
goes out as 1235 and is stored as the other side will read it back, instead of being refused or
truncated by FreshBooks (whether it refuses fractional JPY is undocumented: sandbox variant
``jpy_fractional``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                          "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def minor_unit(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def round_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half up to the currency's minor unit (JPY whole, KWD 0.001, USD 0.01)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)
