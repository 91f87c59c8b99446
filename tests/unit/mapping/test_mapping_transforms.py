"""The simple transforms both ways, and how a chain composes (list order in, reverse order out)."""

from __future__ import annotations

import pytest

from syncengine.mapping import RecordMappingError
from syncengine.mapping.transforms import NO_REFS as REFS
from syncengine.mapping.transforms import (
    DefaultTransform,
    LowerTransform,
    UpperTransform,
    ValueMapTransform,
    chain_from_common,
    chain_to_common,
)


@pytest.mark.parametrize("side", ["left", "right"])
def test_upper_and_lower_normalise_both_ways(side: str) -> None:
    assert UpperTransform().to_common(side, "usd") == "USD"  # type: ignore[arg-type]
    assert UpperTransform().from_common(side, "usd") == "USD"  # type: ignore[arg-type]
    assert LowerTransform().to_common(side, "A@X.COM") == "a@x.com"  # type: ignore[arg-type]
    assert LowerTransform().from_common(side, "A@X.COM") == "a@x.com"  # type: ignore[arg-type]
    assert LowerTransform().to_common(side, None) is None  # type: ignore[arg-type]
    assert UpperTransform().to_common(side, 12) == 12  # type: ignore[arg-type]


@pytest.mark.parametrize("empty", [None, ""])
def test_default_fills_none_and_empty_both_ways(empty: object) -> None:
    default = DefaultTransform("USD")
    assert default.to_common("left", empty) == "USD"
    assert default.from_common("right", empty) == "USD"
    assert default.to_common("left", "EUR") == "EUR"
    assert default.to_common("left", 0) == 0  # zero is a value, not "missing"


def test_value_map_common_value_is_the_right_value() -> None:
    status = ValueMapTransform({"1": "draft", "2": "sent"}, default="draft")
    assert status.to_common("left", "2") == "sent"
    assert status.to_common("left", 2) == "sent"  # YAML "2" and a record's 2 are one key
    assert status.to_common("left", "9") == "draft"  # unmapped -> default
    assert status.to_common("right", "sent") == "sent"
    assert status.from_common("left", "sent") == "2"
    assert status.from_common("right", "sent") == "sent"
    assert status.to_common("left", None) is None


def test_value_map_without_default_fails_the_record_on_unmapped_values() -> None:
    status = ValueMapTransform({"1": "draft"})
    with pytest.raises(RecordMappingError, match="not in the map"):
        status.to_common("left", "7")
    with pytest.raises(RecordMappingError, match="no left value maps to 'paid'"):
        status.from_common("left", "paid")


def test_value_map_many_to_one_writes_back_the_first_left_value() -> None:
    status = ValueMapTransform({"1": "open", "4": "open", "2": "closed"})
    assert status.to_common("left", "4") == "open"
    assert status.from_common("left", "open") == "1"


def test_value_map_int_keys_from_yaml_match_string_values() -> None:
    assert ValueMapTransform({1: "draft"}).to_common("left", "1") == "draft"
    assert ValueMapTransform({True: "yes"}).to_common("left", True) == "yes"
    assert ValueMapTransform({"true": "yes"}).to_common("left", True) == "yes"


def test_chain_applies_in_order_and_inverts_in_reverse() -> None:
    seen: list[str] = []

    class Tag(UpperTransform):
        def __init__(self, tag: str) -> None:
            self.tag = tag

        def to_common_fn(self, side):  # type: ignore[no-untyped-def]
            return lambda v, f, r: seen.append(f"to {self.tag}") or f"{v}{self.tag}"

        def from_common_fn(self, side):  # type: ignore[no-untyped-def]
            return lambda v, f, r: seen.append(f"from {self.tag}") or f"{v}{self.tag}"

    steps = [Tag("a"), Tag("b"), Tag("c")]
    to_common = chain_to_common(steps, "left")  # type: ignore[arg-type]
    from_common = chain_from_common(steps, "left")  # type: ignore[arg-type]
    assert to_common is not None and from_common is not None
    assert to_common("x", {}, REFS) == "xabc"
    assert from_common("x", {}, REFS) == "xcba"
    assert seen == ["to a", "to b", "to c", "from c", "from b", "from a"]
    assert chain_to_common([], "left") is None


def test_upper_then_default_chain() -> None:
    steps = [UpperTransform(), DefaultTransform("USD")]
    to_common = chain_to_common(steps, "left")  # type: ignore[arg-type]
    from_common = chain_from_common(steps, "right")  # type: ignore[arg-type]
    assert to_common is not None and from_common is not None
    assert to_common("eur", {}, REFS) == "EUR"
    assert to_common(None, {}, REFS) == "USD"
    assert from_common("", {}, REFS) == "USD"
