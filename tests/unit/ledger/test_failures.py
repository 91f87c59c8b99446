"""The retry queue of records that failed: one row per record, attempts counted."""

from __future__ import annotations

from syncengine.ledger import Ledger


def test_failures_count_attempts_and_keep_the_latest_error(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.record_failures("p", "c", "right", {"R1": "timeout", "R2": "422 email invalid"})
    with ledger.transaction() as tx:
        tx.record_failures("p", "c", "right", {"R1": "503"})
    [r1, r2] = ledger.failures("p", "c", "right")
    assert (r1.key, r1.attempts, r1.error) == ("R1", 2, "503")
    assert (r2.key, r2.attempts, r2.error) == ("R2", 1, "422 email invalid")
    assert r1.first_seen < r1.last_seen
    assert r2.first_seen == r2.last_seen
    assert ledger.failures("p", "c", "left") == []


def test_clear_failures_only_removes_the_named_keys_of_that_side(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.record_failures("p", "c", "right", {"K1": "x", "K2": "y"})
        tx.record_failures("p", "c", "left", {"K1": "z"})
    with ledger.transaction() as tx:
        assert tx.clear_failures("p", "c", "right", ["K1", "nope"]) == 1
    assert [f.key for f in ledger.failures("p", "c", "right")] == ["K2"]
    assert [f.key for f in ledger.failures("p", "c", "left")] == ["K1"]
    # Failing again after being cleared starts counting from one.
    with ledger.transaction() as tx:
        tx.record_failures("p", "c", "right", {"K1": "again"})
    assert {f.key: f.attempts for f in ledger.failures("p", "c", "right")} == {"K1": 1, "K2": 1}
