"""Stripe amounts: integers in the currency's minor unit, checked before any request.

Stripe's rules (reference, "Money"): most currencies have two decimals; the zero-decimal ones
take whole units (1050 JPY is ``1050``); the three-decimal ones take thousandths whose last digit
must be 0 (5.120 KWD is ``5120``; 5.124 KWD is refused); ISK is two-decimal on the wire but must
be a whole number of krónur. Records hold :class:`~syncengine.records.Money` in major units; a
value that Stripe would refuse, or round, is a :class:`ValidationError` naming the field before
anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from syncengine.currencies import ISO_MINOR_UNITS, minor_unit
from syncengine.errors import ValidationError
from syncengine.records import Money

__all__ = ["OVERRIDES", "THREE_DECIMAL", "ZERO_DECIMAL", "exponent", "from_minor", "to_minor"]

#: Stripe's documented zero-decimal currencies (reference "Money"): whole units on the wire.
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
#: Stripe's documented three-decimal currencies: thousandths whose last digit must be 0.
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
#: currencies whose two-decimal minor amount must be a multiple of 100 (whole units only).
WHOLE_UNITS_ONLY = frozenset({"ISK"})

#: Where Stripe's wire exponent differs from ISO 4217's (:mod:`syncengine.currencies`). Stripe's
#: rule is its two lists above and two decimals for every other currency, so: MGA whole units
#: (ISO: 2); ISK two-decimal on the wire (ISO: 0; whole krónur, hence WHOLE_UNITS_ONLY); IQD and
#: LYD two-decimal (ISO: 3); CLF, UYW (ISO: 4) and UYI (ISO: 0) two-decimal, though Stripe takes
#: none of these three. HUF and TWD charges are two-decimal at Stripe, as in ISO.
OVERRIDES: Mapping[str, int] = MappingProxyType({
    code: stripe
    for code, iso in ISO_MINOR_UNITS.items()
    if (stripe := 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2) != iso
})


def exponent(currency: str) -> int:
    """Digits of Stripe's integer minor unit for ``currency``: ISO 4217's, unless Stripe overrides it."""
    code = currency.upper()
    return OVERRIDES.get(code, minor_unit(code))


def from_minor(amount: Any, currency: str) -> Money | None:
    """A wire amount (integer minor units, or a decimal string of them) as Money."""
    if amount is None or amount == "" or not currency:
        return None
    minor = Decimal(str(amount))
    return Money(minor.scaleb(-exponent(currency)), currency.upper())


def to_minor(value: Any, currency: str | None, *, field: str, obj: str | None = None, connector: str | None = None,
             key: str | None = None) -> int:
    """Money (or a decimal amount in ``currency``) as Stripe's integer minor units."""
    def refuse(reason: str) -> ValidationError:
        return ValidationError(f"{field}: {reason}", connector=connector, obj=obj, key=key, field=field)

    if isinstance(value, Money):
        amount, code = value.amount, value.currency
        if currency and currency.upper() != code:
            raise refuse(f"amount in {code} on a record in {currency.upper()}: never converted")
    else:
        if isinstance(value, (float, bool)):
            raise refuse(f"{value!r} is not a decimal amount (floats are refused)")
        if not currency:
            raise refuse("an amount needs a currency")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise refuse(f"{value!r} is not an amount") from None
        code = currency.upper()
    if not amount.is_finite():
        raise refuse(f"{amount} is not an amount")
    digits = exponent(code)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise refuse(f"{amount} {code} has more than {digits} decimals; Stripe takes {code} in units of "
                     f"{Decimal(1).scaleb(-digits)}")
    whole = int(minor)
    if digits == 3 and whole % 10:
        raise refuse(f"{amount} {code}: Stripe takes three-decimal currencies in steps of 0.010")
    if code in WHOLE_UNITS_ONLY and whole % 100:
        raise refuse(f"{amount} {code}: Stripe takes {code} in whole units only")
    return whole
