"""One ISO 4217 table for the engine, and Stripe's documented view as overrides on top of it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.freshbooks.currency import minor_unit as freshbooks_minor_unit
from connectors.stripe.money import OVERRIDES, THREE_DECIMAL, ZERO_DECIMAL
from connectors.stripe.money import exponent as stripe_exponent
from syncengine.currencies import ISO_MINOR_UNITS, is_iso_currency, minor_unit, round_to_minor_unit
from syncengine.mapping.money import minor_exponent

# Known values from ISO 4217 list one ("Minor unit" column).
ISO_KNOWN = {"JPY": 0, "KRW": 0, "ISK": 0, "UGX": 0, "CLP": 0, "USD": 2, "EUR": 2, "MGA": 2, "HUF": 2,
             "TWD": 2, "KWD": 3, "BHD": 3, "IQD": 3, "LYD": 3, "TND": 3, "CLF": 4, "UYW": 4}


@pytest.mark.parametrize(("code", "digits"), sorted(ISO_KNOWN.items()))
def test_iso_minor_units(code: str, digits: int) -> None:
    assert minor_unit(code) == digits
    assert minor_unit(code.lower()) == digits
    assert minor_exponent(code) == digits  # the mapping's money transform reads the same table
    assert freshbooks_minor_unit(code) == digits  # FreshBooks keeps ISO's minor units


def test_the_table_holds_every_code_once_with_a_known_exponent() -> None:
    assert len(ISO_MINOR_UNITS) >= 150
    assert set(ISO_MINOR_UNITS.values()) == {0, 2, 3, 4}
    assert all(len(code) == 3 and code.isupper() for code in ISO_MINOR_UNITS)
    # no minor unit in ISO (metals, SDR, test code): not in the table, read as two-decimal
    assert not any(is_iso_currency(code) for code in ("XAU", "XDR", "XTS", "XXX"))
    assert minor_unit("XAU") == 2 and minor_unit("ZZZ") == 2


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert round_to_minor_unit(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_to_minor_unit(Decimal("1234.4"), "JPY") == Decimal("1234")
    assert round_to_minor_unit(Decimal("1.2345"), "KWD") == Decimal("1.235")
    assert round_to_minor_unit(Decimal("10.005"), "USD") == Decimal("10.01")
    assert round_to_minor_unit(Decimal("-10.005"), "USD") == Decimal("-10.01")
    assert round_to_minor_unit(Decimal("0.12345"), "CLF") == Decimal("0.1235")
    assert round_to_minor_unit(Decimal("10.005"), "USD", half_even=True) == Decimal("10.00")
    assert str(round_to_minor_unit(Decimal("7"), "KWD")) == "7.000"


@pytest.mark.parametrize(
    ("code", "iso", "stripe"),
    [("ISK", 0, 2), ("MGA", 2, 0), ("IQD", 3, 2), ("LYD", 3, 2), ("JPY", 0, 0), ("KWD", 3, 3), ("USD", 2, 2),
     ("HUF", 2, 2), ("TWD", 2, 2), ("UGX", 0, 0)],
)
def test_stripe_differs_from_iso_only_where_it_documents_it(code: str, iso: int, stripe: int) -> None:
    assert (minor_unit(code), stripe_exponent(code)) == (iso, stripe)


def test_stripe_overrides_follow_its_documented_lists() -> None:
    """Stripe: its zero-decimal list whole, its three-decimal list in thousandths, everything else 2."""
    for code in ISO_MINOR_UNITS:
        expected = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
        assert stripe_exponent(code) == expected, code
    assert set(ISO_MINOR_UNITS) >= ZERO_DECIMAL | THREE_DECIMAL
    assert set(OVERRIDES) == {"ISK", "MGA", "IQD", "LYD", "CLF", "UYW", "UYI"}
