"""Amounts go to FreshBooks rounded to their currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

from connectors.freshbooks.currency import minor_unit, round_to_minor_unit
from connectors.freshbooks.wire import encode_value
from syncengine.records import Money


def test_minor_units() -> None:
    assert (minor_unit("JPY"), minor_unit("usd"), minor_unit("KWD")) == (0, 2, 3)
    assert round_to_minor_unit(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_to_minor_unit(Decimal("1.2345"), "KWD") == Decimal("1.235")
    assert round_to_minor_unit(Decimal("10.005"), "USD") == Decimal("10.01")


def test_money_is_sent_in_whole_minor_units() -> None:
    assert encode_value(None, Money(Decimal("1234.6"), "JPY"), "eastern") == {"amount": "1235", "code": "JPY"}
    assert encode_value(None, Money(Decimal("5"), "USD"), "eastern") == {"amount": "5.00", "code": "USD"}
    assert encode_value(None, Money(Decimal("0.1239"), "KWD"), "eastern") == {"amount": "0.124", "code": "KWD"}
