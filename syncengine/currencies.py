"""ISO 4217 minor units: how many decimals each currency's amounts have, one table for the engine.

Source: ISO 4217 "list one" (current currency and funds codes) as published by its maintenance
agency, SIX Group (``six-group.com/.../lists/list-one.xml``, column "Minor unit"). Codes whose
minor unit is "N.A." (gold, silver, platinum, palladium, the SDR, the bond-market units, XTS, XXX,
XSU, XUA) are left out: they have no decimal amount to round. A few codes withdrawn lately (ANG,
CUC, HRK, SLL, ZWL) stay, so older records keep reading with the exponent they were written with.
The codes were checked against Debian's ``iso-codes`` (``iso_4217.json``): the same set, plus
XCG and ZWG (2024-2025), which that copy predates.

This is ISO's view only. A vendor that keeps a currency differently says so in its connector, as
an override on top of this table (Stripe: MGA whole units, ISK two decimals on the wire, IQD/LYD
two decimals: ``connectors/stripe/money.py``). A code outside the table is taken as two-decimal,
the most common case, so an unlisted but valid code is never refused here; whether the other
system accepts it is the other system's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from types import MappingProxyType

__all__ = ["ISO_MINOR_UNITS", "is_iso_currency", "minor_unit", "quantum", "round_to_minor_unit"]

_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN "
    "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL "
    "THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"

#: ISO 4217 code -> minor unit (digits after the decimal point), read only.
ISO_MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {code: digits for digits, codes in ((2, _TWO), (0, _ZERO), (3, _THREE), (4, _FOUR)) for code in codes.split()}
)

_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}


def is_iso_currency(code: str) -> bool:
    """Whether ``code`` (any case) is an ISO 4217 code with a minor unit."""
    return code.upper() in ISO_MINOR_UNITS


def minor_unit(code: str) -> int:
    """ISO's digits after the decimal point: JPY 0, USD 2, KWD 3, CLF 4; 2 for a code not listed."""
    return ISO_MINOR_UNITS.get(code.upper(), 2)


def quantum(digits: int) -> Decimal:
    """The smallest amount with ``digits`` decimals: 0 -> 1, 2 -> 0.01, 3 -> 0.001."""
    return _QUANTA.get(digits) or Decimal(1).scaleb(-digits)


def round_to_minor_unit(amount: Decimal, code: str, *, half_even: bool = False) -> Decimal:
    """``amount`` rounded to ``code``'s ISO minor unit: half up by default, as invoices round
    (1234.5 JPY -> 1235), or half even (banker's rounding) when asked."""
    return amount.quantize(quantum(minor_unit(code)), rounding=ROUND_HALF_EVEN if half_even else ROUND_HALF_UP)
