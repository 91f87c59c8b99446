"""Amounts go to FreshBooks rounded to their currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.currency import AmountError, minor_unit, round_to_minor_unit, wire_money
from connectors.freshbooks.wire import encode_value
from syncengine.errors import ConfigError
from syncengine.records import Money
from syncengine.tokens import MemoryTokenStore


def test_minor_units() -> None:
    assert (minor_unit("JPY"), minor_unit("usd"), minor_unit("KWD")) == (0, 2, 3)
    assert round_to_minor_unit(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_to_minor_unit(Decimal("1.2345"), "KWD") == Decimal("1.235")
    assert round_to_minor_unit(Decimal("10.005"), "USD") == Decimal("10.01")


def test_money_is_sent_in_whole_minor_units() -> None:
    assert encode_value(None, Money(Decimal("1234.6"), "JPY"), "eastern") == {"amount": "1235", "code": "JPY"}
    assert encode_value(None, Money(Decimal("5"), "USD"), "eastern") == {"amount": "5.00", "code": "USD"}
    assert encode_value(None, Money(Decimal("0.1239"), "KWD"), "eastern") == {"amount": "0.124", "code": "KWD"}


def test_a_bare_amount_in_a_money_field_takes_the_records_currency() -> None:
    assert wire_money(Decimal("1234.6"), "JPY", "unit_cost") == {"amount": "1235", "code": "JPY"}
    assert wire_money("10.005", "usd", "amount") == {"amount": "10.01", "code": "USD"}
    assert wire_money({"amount": "1.2345", "code": "KWD"}, None, "amount") == {"amount": "1.235", "code": "KWD"}
    assert wire_money({"amount": "7"}, "KWD", "amount") == {"amount": "7.000", "code": "KWD"}
    assert wire_money(Decimal("3.14159"), None, "rate") == "3.14159"  # no currency known: as it is


@pytest.mark.parametrize(
    ("value", "currency", "words"),
    [
        (Money(Decimal("5"), "EUR"), "USD", "in EUR on a record in USD"),
        (1.5, "USD", "floats"),
        ("ten", "USD", "not an amount"),
        (Decimal("Infinity"), "USD", "not an amount"),
        (Decimal("1e40"), "USD", "too many digits"),
        ({"code": "USD"}, "USD", "not an amount"),
    ],
)
def test_amounts_that_cannot_be_sent_name_their_field(value: object, currency: str, words: str) -> None:
    with pytest.raises(AmountError) as caught:
        wire_money(value, currency, "lines[2].unit_cost")
    assert caught.value.field == "lines[2].unit_cost"
    assert words in str(caught.value)


@pytest.mark.parametrize("code", ["US", "EURO", "ABC", "12$"])
def test_a_report_currency_that_is_no_iso_code_is_a_config_error(code: str) -> None:
    config = {"client_id": "id", "client_secret": "s", "redirect_uri": "https://127.0.0.1/cb", "report_currency": code}
    with pytest.raises(ConfigError) as caught:
        FreshBooksConnector.from_config("books", config, MemoryTokenStore())
    assert f"report_currency {code!r}" in str(caught.value) and "USD" in str(caught.value)


def test_a_report_currency_is_taken_in_any_case() -> None:
    config = {"client_id": "id", "client_secret": "s", "redirect_uri": "https://127.0.0.1/cb", "report_currency": "eur"}
    fb = FreshBooksConnector.from_config("books", config, MemoryTokenStore())
    try:
        assert fb.report_currency == "EUR"
    finally:
        fb.close()
    del config["report_currency"]
    fb = FreshBooksConnector.from_config("books", config, MemoryTokenStore())
    try:
        assert fb.report_currency is None  # a report per currency the business uses
    finally:
        fb.close()
