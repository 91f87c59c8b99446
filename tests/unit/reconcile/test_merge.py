"""Three-way merge: one-sided changes propagate, true conflicts follow the policy or park."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from syncengine.reconcile.merge import Side, merge_fields
from syncengine.records import Money

NAMES = ["name", "email", "balance", "note"]


def both(side: Side, name: str) -> bool:
    return True


def merge(base, left, right, policy="newest_wins", **kw):
    return merge_fields(NAMES, base, left, right, flows_from=kw.pop("flows_from", both),
                        flows_to=kw.pop("flows_to", both), policy=policy, **kw)


BASE = {"name": "Ada", "email": "ada@x.io", "balance": Money(Decimal("10.00"), "USD"), "note": None}


def test_left_only_change_goes_right() -> None:
    left = {**BASE, "name": "Ada L."}
    result = merge(BASE, left, None)
    assert result.to_right == {"name": "Ada L."}
    assert result.to_left == {}
    assert result.merged["name"] == "Ada L."
    assert not result.conflicts


def test_different_fields_changed_on_each_side_are_both_kept() -> None:
    left = {**BASE, "name": "Ada L."}
    right = {**BASE, "email": "ada@new.io"}
    result = merge(BASE, left, right)
    assert result.merged == {**BASE, "name": "Ada L.", "email": "ada@new.io"}
    assert result.to_left == {"email": "ada@new.io"}
    assert result.to_right == {"name": "Ada L."}
    assert not result.conflicts


def test_same_change_on_both_sides_is_no_conflict_and_no_write() -> None:
    left = {**BASE, "balance": Money(Decimal("12.5"), "USD")}
    right = {**BASE, "balance": Money(Decimal("12.50"), "USD")}
    result = merge(BASE, left, right)
    assert not result.conflicts
    assert result.to_left == {} and result.to_right == {}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("left_wins", "L"), ("right_wins", "R"), ("newest_wins", "R")],
)
def test_true_conflict_follows_policy(policy: str, expected: str) -> None:
    left = {**BASE, "name": "L"}
    right = {**BASE, "name": "R"}
    result = merge(BASE, left, right, policy,
                   left_updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                   right_updated_at=datetime(2026, 1, 2, tzinfo=UTC))
    assert result.conflicts == ["name"]
    assert result.merged["name"] == expected
    assert not result.parked
    written = result.to_left if expected == "R" else result.to_right
    assert written == {"name": expected}


def test_newest_wins_prefers_the_left_when_it_is_newer() -> None:
    result = merge(BASE, {**BASE, "name": "L"}, {**BASE, "name": "R"},
                   left_updated_at=datetime(2026, 3, 1, tzinfo=UTC),
                   right_updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert result.merged["name"] == "L"


def test_manual_parks_and_writes_nothing() -> None:
    left = {**BASE, "name": "L", "email": "l@x.io"}
    right = {**BASE, "name": "R"}
    result = merge(BASE, left, right, "manual")
    assert result.parked
    assert result.conflicts == ["name"]
    assert result.to_left == {} and result.to_right == {}


def test_first_link_without_base_treats_differences_as_conflicts() -> None:
    left = {**BASE, "name": "L"}
    right = {**BASE, "name": "R"}
    result = merge(None, left, right, "left_wins")
    assert result.conflicts == ["name"]
    assert result.to_right == {"name": "L"}


def test_one_way_field_change_on_the_other_side_is_overwritten_back() -> None:
    # "note" flows left -> right only: a right-side edit is not accepted and is restored.
    def flows_from(side: Side, name: str) -> bool:
        return not (name == "note" and side == "right")

    def flows_to(side: Side, name: str) -> bool:
        return not (name == "note" and side == "left")

    right = {**BASE, "note": "edited on the right"}
    result = merge(BASE, None, right, flows_from=flows_from, flows_to=flows_to)
    assert result.merged["note"] is None
    assert result.to_right == {"note": None}
    assert result.to_left == {}


def test_needs_a_changed_side() -> None:
    with pytest.raises(ValueError):
        merge(BASE, None, None)
