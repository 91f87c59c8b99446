"""Records: money without floats, a canonical form that is stable, and round trips through JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncengine.records import (
    Money,
    canonical_bytes,
    canonical_bytes_stdlib,
    canonical_decimal,
    fields_hash,
    from_json,
    get_path,
    set_path,
    to_json,
)

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20), decimals,
    st.builds(Money, decimals, st.sampled_from(["USD", "eur", "JPY", "KWD"])),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    st.dates(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
records = st.dictionaries(st.text(max_size=10), values, max_size=8)


@given(records)
def test_fast_canonical_form_equals_the_standard_library_form(fields: dict[str, object]) -> None:
    assert canonical_bytes(fields) == canonical_bytes_stdlib(fields)


@given(records)
def test_json_round_trip_keeps_meaning_and_hash(fields: dict[str, object]) -> None:
    restored = from_json(to_json(fields))
    assert fields_hash(restored) == fields_hash(fields)


@pytest.mark.parametrize("fields", [
    {"meta": {"$decimal": ""}}, {"meta": {"$decimal": False}}, {"$decimal": "1.5"}, {"x": [{"$money": ["1", "USD"]}]},
    {"meta": {"$object": {"a": 1}}},
])
def test_an_object_that_looks_like_a_tag_comes_back_as_itself(fields: dict[str, object]) -> None:
    """Found by the property below: a JSON column holding {"$decimal": ""} came back as a Decimal
    (or raised), so a record could not round-trip through the ledger."""
    assert from_json(to_json(fields)) == fields
    assert canonical_bytes(fields) == canonical_bytes_stdlib(fields)
    assert fields_hash(fields) != fields_hash({"meta": Decimal("1.5")} if "meta" in fields else {"x": 1})


def test_same_meaning_same_hash() -> None:
    eastern = timezone(timedelta(hours=-5))
    a = {"amount": Money(Decimal("10.50"), "usd"), "when": datetime(2026, 1, 1, 7, 0, tzinfo=eastern), "n": 1}
    b = {"n": 1, "when": datetime(2026, 1, 1, 12, 0, tzinfo=UTC), "amount": Money(Decimal("10.5"), "USD")}
    assert fields_hash(a) == fields_hash(b)
    assert fields_hash(a) != fields_hash({**b, "n": 2})


def test_money_refuses_floats_and_keeps_decimals() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "USD")  # type: ignore[arg-type]
    assert Money("0.10", "usd") == Money(Decimal("0.1"), "USD")  # type: ignore[arg-type]
    assert str(Money(Decimal("1200.500"), "KWD")) == "1200.5 KWD"


def test_canonical_decimal_has_no_exponent_or_trailing_zeros() -> None:
    assert canonical_decimal(Decimal("1E+3")) == "1000"
    assert canonical_decimal(Decimal("-0.00")) == "0"
    assert canonical_decimal(Decimal("12.3400")) == "12.34"


def test_paths_read_and_write_nested_fields_and_money_parts() -> None:
    fields: dict[str, object] = {}
    set_path(fields, "amount.amount", Decimal("5"))
    set_path(fields, "amount.code", "USD")
    assert fields == {"amount": {"amount": Decimal("5"), "code": "USD"}}
    assert get_path({"total": Money(Decimal("3"), "EUR")}, "total.currency") == "EUR"
    assert get_path(fields, "amount.missing", "dflt") == "dflt"
    assert get_path({"d": date(2026, 1, 1)}, "d.year") is None
