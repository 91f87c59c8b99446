"""Money between Money, minor units and decimals, for every class of currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncengine.mapping import RecordMappingError
from syncengine.mapping.money import (
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    MoneyTransform,
    from_minor,
    minor_exponent,
    to_minor,
)
from syncengine.records import Money

CURRENCIES = sorted(ZERO_DECIMAL_CURRENCIES | THREE_DECIMAL_CURRENCIES | {"USD", "EUR", "GBP", "CAD"})


def minor_right(**kw: object) -> MoneyTransform:
    """Left holds Money, right holds minor units with the currency in ``currency``."""
    return MoneyTransform(
        {"left": "money", "right": "minor"},
        {"left": None, "right": "currency"},
        {"left": None, "right": None},
        **kw,  # type: ignore[arg-type]
    )


def decimal_left_minor_right() -> MoneyTransform:
    return MoneyTransform(
        {"left": "decimal", "right": "minor"},
        {"left": "code", "right": "currency"},
        {"left": None, "right": None},
    )


def test_exponents() -> None:
    assert minor_exponent("usd") == 2
    assert minor_exponent("JPY") == 0
    assert minor_exponent("KWD") == 3
    assert {minor_exponent(c) for c in ZERO_DECIMAL_CURRENCIES} == {0}
    assert {minor_exponent(c) for c in THREE_DECIMAL_CURRENCIES} == {3}
    assert from_minor(1050, "USD") == Money(Decimal("10.50"), "USD")
    assert from_minor(1050, "JPY") == Money(Decimal("1050"), "JPY")
    assert from_minor(1050, "KWD") == Money(Decimal("1.050"), "KWD")
    assert to_minor(Money(Decimal("10.5"), "USD")) == 1050


@given(st.sampled_from(CURRENCIES), st.integers(min_value=-(10**15), max_value=10**15))
def test_minor_round_trips_through_common(currency: str, minor: int) -> None:
    money = minor_right()
    common = money.to_common("right", minor, {"currency": currency.lower()})
    assert isinstance(common, Money) and common.currency == currency
    assert money.from_common("right", common) == minor
    assert money.from_common("left", common) == common


@given(
    st.sampled_from(CURRENCIES),
    st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False),
)
def test_decimal_and_minor_sides_project_equal(currency: str, amount: Decimal) -> None:
    money = decimal_left_minor_right()
    left = money.to_common("left", amount, {"code": currency})
    minor = money.from_common("right", left)
    right = money.to_common("right", minor, {"currency": currency})
    # the common value is rounded to the minor unit, so an unchanged pair never flip-flops
    assert left == right
    assert money.to_common("left", money.from_common("left", right), {"code": currency}) == right
    assert left.amount == amount.quantize(Decimal(1).scaleb(-minor_exponent(currency)), "ROUND_HALF_EVEN")


@given(st.sampled_from(CURRENCIES), st.integers(min_value=0, max_value=10**12))
def test_money_dicts_pass_through(currency: str, minor: int) -> None:
    money = minor_right()
    value = from_minor(minor, currency)
    as_dict = {"amount": str(value.amount), "code": currency}
    assert money.to_common("left", as_dict) == value
    assert money.to_common("left", {"amount": value.amount, "currency": currency}) == value


def test_floats_are_refused() -> None:
    with pytest.raises(RecordMappingError, match="float"):
        minor_right().to_common("right", 10.5, {"currency": "USD"})
    with pytest.raises(RecordMappingError, match="float"):
        decimal_left_minor_right().to_common("left", 0.1, {"code": "USD"})


def test_minor_amount_must_be_whole() -> None:
    with pytest.raises(RecordMappingError, match="whole number"):
        minor_right().to_common("right", "10.5", {"currency": "USD"})


def test_missing_currency_fails_the_record_unless_a_fixed_one_backs_it() -> None:
    with pytest.raises(RecordMappingError, match="no currency in field 'currency'"):
        minor_right().to_common("right", 100, {})
    backed = MoneyTransform({"left": "money", "right": "minor"}, {"right": "currency"}, {"right": "EUR"})
    assert backed.to_common("right", 100, {}) == Money(Decimal("1.00"), "EUR")


def test_fixed_currency_side_refuses_another_currency() -> None:
    fixed = MoneyTransform({"left": "money", "right": "minor"}, {}, {"right": "USD"})
    assert fixed.to_common("right", 250) == Money(Decimal("2.50"), "USD")
    with pytest.raises(RecordMappingError, match="in EUR but this side holds USD"):
        fixed.from_common("right", Money(Decimal("1"), "EUR"))


def test_none_stays_none() -> None:
    money = minor_right()
    assert money.to_common("right", None, {"currency": "USD"}) is None
    assert money.to_common("left", None) is None
    assert money.from_common("right", None) is None


def test_minor_side_writes_its_currency_field() -> None:
    money = minor_right()
    assert money.extra_writes("right") == ("currency",)
    assert money.extra_writes("left") == ()
    assert money.extra_value("right", "currency", Money(Decimal("1"), "JPY")) == "JPY"
