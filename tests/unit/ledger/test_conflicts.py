"""Conflicts: one open per link, resolved by a person, applied by the next run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncengine.ledger import ConflictNotOpenError, Ledger


def _open(ledger: Ledger, left_key: str = "L1", right_value: object = "b", pair: str = "c") -> int:
    with ledger.transaction() as tx:
        return tx.open_conflict(
            "p",
            pair,
            left_key,
            "R" + left_key[1:],
            {"name": "base", "amount": Decimal("1.00")},
            {"name": "a"},
            {"name": right_value},
            {"name": {"left": "a", "right": right_value}},
            ["name", "email"],
        )


def test_open_conflict_stores_every_part(ledger: Ledger) -> None:
    cid = _open(ledger)
    conflict = ledger.get_conflict(cid)
    assert conflict is not None
    assert (conflict.pipeline, conflict.pair, conflict.left_key, conflict.right_key) == ("p", "c", "L1", "R1")
    assert conflict.base == {"name": "base", "amount": Decimal("1")}
    assert conflict.left == {"name": "a"}
    assert conflict.right == {"name": "b"}
    assert conflict.diff == {"name": {"left": "a", "right": "b"}}
    assert conflict.fields == ["name", "email"]
    assert (conflict.status, conflict.resolution, conflict.resolved_at) == ("open", None, None)
    assert ledger.get_conflict(cid + 1000) is None


def test_a_second_detection_updates_the_open_conflict(ledger: Ledger) -> None:
    first = _open(ledger, right_value="b")
    second = _open(ledger, right_value="c")
    assert first == second
    [only] = ledger.list_conflicts()
    assert only.right == {"name": "c"}


def test_base_may_be_absent(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        cid = tx.open_conflict("p", "c", "L1", "R1", None, {"a": 1}, {"a": 2}, {}, [])
    conflict = ledger.get_conflict(cid)
    assert conflict is not None
    assert conflict.base is None
    assert conflict.fields == []


def test_resolve_then_apply(ledger: Ledger) -> None:
    cid = _open(ledger, "L1")
    other = _open(ledger, "L2")
    assert ledger.open_conflict_keys("p", "c") == {"L1", "L2"}
    resolved = ledger.resolve_conflict(cid, "right")
    assert (resolved.status, resolved.resolution) == ("resolved", "right")
    assert resolved.resolved_at is not None
    assert ledger.open_conflict_keys("p", "c") == {"L2"}
    assert [c.id for c in ledger.list_conflicts()] == [other]
    assert [c.id for c in ledger.list_conflicts(status="resolved")] == [cid]
    assert [c.id for c in ledger.list_conflicts(status=None)] == [cid, other]
    assert [c.id for c in ledger.resolved_unapplied_conflicts("p", "c")] == [cid]
    with ledger.transaction() as tx:
        tx.mark_conflict_applied(cid)
    assert ledger.resolved_unapplied_conflicts("p", "c") == []
    applied = ledger.get_conflict(cid)
    assert applied is not None
    assert applied.applied_at is not None


def test_resolving_twice_or_a_missing_conflict_is_an_error(ledger: Ledger) -> None:
    cid = _open(ledger)
    ledger.resolve_conflict(cid, "left")
    with pytest.raises(ConflictNotOpenError, match="already resolved"):
        ledger.resolve_conflict(cid, "right")
    still = ledger.get_conflict(cid)
    assert still is not None
    assert still.resolution == "left"
    with pytest.raises(ConflictNotOpenError, match="no conflict"):
        ledger.resolve_conflict(cid + 99, "left")
    with pytest.raises(ValueError):
        ledger.resolve_conflict(cid, "both")


def test_after_resolution_a_new_conflict_on_the_link_is_a_new_row(ledger: Ledger) -> None:
    first = _open(ledger)
    ledger.resolve_conflict(first, "left")
    second = _open(ledger)
    assert second != first
    assert ledger.open_conflict_keys("p", "c") == {"L1"}


def test_list_conflicts_filters_by_pipeline(ledger: Ledger) -> None:
    _open(ledger)
    with ledger.transaction() as tx:
        tx.open_conflict("q", "c", "L1", "R1", None, {}, {}, {}, ["x"])
    assert [c.pipeline for c in ledger.list_conflicts(pipeline="q")] == ["q"]
    assert len(ledger.list_conflicts()) == 2
