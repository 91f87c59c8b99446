"""decide(): every combination of (snapshot, left, right, rules) from a table, with known answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncengine.reconcile.decide import Base, Kind, Observed, Rules, SideState, decide, decide_new

NAMES = ("name", "email", "phone")
BASE = {"name": "Ada", "email": "ada@x.io", "phone": None}
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 2, tzinfo=UTC)


def rules(policy: str = "newest_wins", deletes: str = "propagate", direction: str = "both") -> Rules:
    return Rules(NAMES, policy, deletes, direction)  # type: ignore[arg-type]


def seen(at: datetime | None = None, **fields: Any) -> Observed:
    return Observed({**BASE, **fields}, updated_at=at)


GONE = Observed(None, deleted=True)


def summary(decision: Any) -> tuple[Any, ...]:
    writes = {side: (op, dict(sorted(fields.items()))) for side, (op, fields) in decision.writes.items()}
    return decision.kind, writes, decision.unlink, sorted(decision.conflicts)


# (id, base states, left, right, rules, expected (kind, writes, unlink, conflicts))
LINKED: list[tuple[str, tuple[SideState, SideState], Observed | None, Observed | None, Rules, tuple[Any, ...]]] = [
    ("left edit goes right", (SideState.LIVE, SideState.LIVE), seen(name="Ada L."), None, rules(),
     (Kind.UPDATE, {"right": ("update", {"name": "Ada L."})}, False, [])),
    ("right edit goes left", (SideState.LIVE, SideState.LIVE), None, seen(email="a@y.io"), rules(),
     (Kind.UPDATE, {"left": ("update", {"email": "a@y.io"})}, False, [])),
    ("different fields merge", (SideState.LIVE, SideState.LIVE), seen(name="L"), seen(email="r@x.io"), rules(),
     (Kind.UPDATE, {"left": ("update", {"email": "r@x.io"}), "right": ("update", {"name": "L"})}, False, [])),
    ("same change both sides: no write", (SideState.LIVE, SideState.LIVE), seen(name="B"), seen(name="B"), rules(),
     (Kind.UPDATE, {}, False, [])),
    ("conflict newest wins (right newer)", (SideState.LIVE, SideState.LIVE), seen(T1, name="L"),
     seen(T2, name="R"), rules(), (Kind.UPDATE, {"left": ("update", {"name": "R"})}, False, ["name"])),
    ("conflict newest wins (left newer)", (SideState.LIVE, SideState.LIVE), seen(T2, name="L"),
     seen(T1, name="R"), rules(), (Kind.UPDATE, {"right": ("update", {"name": "L"})}, False, ["name"])),
    ("conflict left wins", (SideState.LIVE, SideState.LIVE), seen(T1, name="L"), seen(T2, name="R"),
     rules("left_wins"), (Kind.UPDATE, {"right": ("update", {"name": "L"})}, False, ["name"])),
    ("conflict right wins", (SideState.LIVE, SideState.LIVE), seen(T2, name="L"), seen(T1, name="R"),
     rules("right_wins"), (Kind.UPDATE, {"left": ("update", {"name": "R"})}, False, ["name"])),
    ("conflict manual parks", (SideState.LIVE, SideState.LIVE), seen(name="L"), seen(name="R"), rules("manual"),
     (Kind.PARK, {}, False, ["name"])),
    ("left deleted, propagate", (SideState.LIVE, SideState.LIVE), GONE, None, rules(),
     (Kind.DELETE, {"right": ("delete", {})}, True, [])),
    ("right deleted, propagate", (SideState.LIVE, SideState.LIVE), None, GONE, rules(),
     (Kind.DELETE, {"left": ("delete", {})}, True, [])),
    ("left deleted, archive", (SideState.LIVE, SideState.LIVE), GONE, None, rules(deletes="archive"),
     (Kind.DELETE, {"right": ("archive", {})}, False, [])),
    ("left deleted, ignore keeps a tombstone", (SideState.LIVE, SideState.LIVE), GONE, None,
     rules(deletes="ignore"), (Kind.DELETE, {}, False, [])),
    ("deleted on a side that may not flow: unlink, no write", (SideState.LIVE, SideState.LIVE), None, GONE,
     rules(direction="left_to_right"), (Kind.DELETE, {}, True, [])),
    ("both deleted: unlink", (SideState.LIVE, SideState.LIVE), GONE, GONE, rules(), (Kind.UNLINK, {}, True, [])),
    ("deleted before, partner edited: skip", (SideState.DELETED, SideState.LIVE), None, seen(name="R"), rules(),
     (Kind.SKIP, {}, False, [])),
    ("deleted on one side, edited on the other, manual: park", (SideState.LIVE, SideState.LIVE), GONE,
     seen(name="R"), rules("manual"), (Kind.PARK, {}, False, ["<deleted>"])),
    ("deleted on one side, edited on the other: the delete wins", (SideState.LIVE, SideState.LIVE), GONE,
     seen(name="R"), rules(), (Kind.DELETE, {"right": ("delete", {})}, True, [])),
    ("one-way field: right's change is overwritten back", (SideState.LIVE, SideState.LIVE), None,
     seen(name="R"), Rules(NAMES, "newest_wins", flows_from=lambda s, n: s == "left" or n != "name"),
     (Kind.UPDATE, {"right": ("update", {"name": "Ada"})}, False, [])),
]


@pytest.mark.parametrize(("states", "left", "right", "rule", "expected"),
                         [case[1:] for case in LINKED], ids=[case[0] for case in LINKED])
def test_linked(states: tuple[SideState, SideState], left: Observed | None, right: Observed | None,
                rule: Rules, expected: tuple[Any, ...]) -> None:
    assert summary(decide(Base(BASE, *states), left, right, rule)) == expected


def test_a_frozen_pair_is_skipped_whatever_changed() -> None:
    decision = decide(Base(BASE, frozen=True), seen(name="L"), GONE, rules())
    assert decision.kind is Kind.SKIP and decision.counter == "skipped_open_conflict"
    assert decision.writes == {}


def test_deletes_wait_for_the_valve() -> None:
    assert decide(Base(BASE), GONE, None, rules()).deferred
    assert not decide(Base(BASE), seen(name="x"), None, rules()).deferred


# A field new to the mapping: the snapshot has no value for it.
NEW_FIELD: list[tuple[str, Any, Any, str, tuple[Any, ...]]] = [
    ("value on the right only: it reaches the left", None, "555-1", "newest_wins",
     (Kind.UPDATE, {"left": ("update", {"fax": "555-1"})}, False, [])),
    ("value on the left only: it reaches the right", "555-2", None, "right_wins",
     (Kind.UPDATE, {"right": ("update", {"fax": "555-2"})}, False, [])),
    ("empty string counts as empty", "", "555-3", "left_wins",
     (Kind.UPDATE, {"left": ("update", {"fax": "555-3"})}, False, [])),
    ("both empty: nothing", None, "", "newest_wins", (Kind.UPDATE, {}, False, [])),
    ("two values: the policy", "L", "R", "left_wins", (Kind.UPDATE, {"right": ("update", {"fax": "L"})}, False,
                                                       ["fax"])),
    ("two values, manual: parked", "L", "R", "manual", (Kind.PARK, {}, False, ["fax"])),
]


@pytest.mark.parametrize(("left", "right", "policy", "expected"), [c[1:] for c in NEW_FIELD],
                         ids=[c[0] for c in NEW_FIELD])
def test_a_field_new_to_the_mapping_never_erases_a_value(left: Any, right: Any, policy: str,
                                                          expected: tuple[Any, ...]) -> None:
    names = (*NAMES, "fax")
    rule = Rules(names, policy)  # type: ignore[arg-type]
    decision = decide(Base(BASE), Observed({**BASE, "fax": left}, updated_at=T2),
                      Observed({**BASE, "fax": right}, updated_at=T1), rule)
    assert summary(decision) == expected


def test_empty_string_and_null_are_one_value_against_a_snapshot() -> None:
    base = {**BASE, "phone": ""}  # a snapshot from before the projection folded them
    assert summary(decide(Base(base), seen(phone=None), seen(phone=""), rules())) == (Kind.UPDATE, {}, False, [])


@pytest.mark.parametrize(("source", "direction", "expected"), [
    ("left", "both", (Kind.CREATE, {"right": ("create", BASE)}, False, [])),
    ("right", "both", (Kind.CREATE, {"left": ("create", BASE)}, False, [])),
    ("left", "right_to_left", (Kind.SKIP, {}, False, [])),
    ("right", "left_to_right", (Kind.SKIP, {}, False, [])),
])
def test_new_record_without_partner(source: str, direction: str, expected: tuple[Any, ...]) -> None:
    decision = decide_new(source, seen(), None, rules(direction=direction))  # type: ignore[arg-type]
    assert summary(decision) == (expected[0], {k: (v[0], dict(sorted(v[1].items())))
                                               for k, v in expected[1].items()}, *expected[2:])


def test_create_writes_only_fields_that_flow_to_the_target() -> None:
    rule = Rules(NAMES, "newest_wins", flows_to=lambda side, name: name != "phone")
    decision = decide_new("left", seen(phone="1"), None, rule)
    assert decision.writes == {"right": ("create", {"name": "Ada", "email": "ada@x.io"})}


def test_matched_records_merge_with_no_base_and_empty_never_wins() -> None:
    left = Observed({"name": "Ada", "email": "ada@x.io", "phone": "555"}, updated_at=T2)
    right = Observed({"name": "Ada Lovelace", "email": "ada@x.io", "phone": None}, updated_at=T1)
    decision = decide_new("left", left, right, rules("right_wins"))
    assert summary(decision) == (Kind.LINK, {"left": ("update", {"name": "Ada Lovelace"}),
                                             "right": ("update", {"phone": "555"})}, False, ["name"])
