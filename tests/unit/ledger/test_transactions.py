"""One batch = one transaction: all of it is committed, or none of it."""

from __future__ import annotations

import pytest

from syncengine.ledger import IntentWrite, Ledger, LedgerError, LinkConflictError, LinkWrite


class Boom(Exception):
    pass


def test_exception_rolls_back_every_write_of_the_batch(ledger: Ledger) -> None:
    [intent_id] = ledger.begin_intents("p", "c", [IntentWrite("right", "create", "L1", None, "k1", {})])
    with pytest.raises(Boom), ledger.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R1", {"a": 1}, "h", "h")])
        tx.set_cursor("p", "c", "left", "after-batch")
        tx.finish_intents([intent_id], "done")
        tx.record_failures("p", "c", "left", {"L9": "bad"})
        tx.open_conflict("p", "c", "L2", "R2", None, {"a": 1}, {"a": 2}, {}, ["a"])
        raise Boom
    assert ledger.count_links("p", "c") == 0
    assert ledger.get_cursor("p", "c", "left") is None
    assert [i.id for i in ledger.pending_intents("p", "c")] == [intent_id]
    assert ledger.failures("p", "c", "left") == []
    assert ledger.list_conflicts(status=None) == []


def test_a_failed_link_write_takes_the_whole_batch_with_it(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R1", {}, "h", "h")])
    with pytest.raises(LinkConflictError), ledger.transaction() as tx:
        tx.set_cursor("p", "c", "right", "moved")
        tx.put_links("p", "c", [LinkWrite("L2", "R2", {}, "h", "h")])
        tx.put_links("p", "c", [LinkWrite("L3", "R1", {}, "h", "h")])
    assert ledger.get_cursor("p", "c", "right") is None
    assert set(ledger.links_for("p", "c", "left", ["L1", "L2", "L3"])) == {"L1"}


def test_commit_is_visible_to_another_ledger_on_the_same_url(ledger: Ledger) -> None:
    other = Ledger.open(ledger.url)
    try:
        with ledger.transaction() as tx:
            tx.put_links("p", "c", [LinkWrite("L1", "R1", {}, "h", "h")])
            tx.set_cursor("p", "c", "left", "c1")
        assert other.get_cursor("p", "c", "left") == "c1"
        assert other.count_links("p", "c") == 1
    finally:
        other.close()


def test_a_write_nested_in_a_transaction_fails_fast_instead_of_deadlocking(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.set_cursor("p", "c", "left", "kept")
        with pytest.raises(LedgerError, match="inside a ledger transaction"):
            ledger.begin_intents("p", "c", [IntentWrite("right", "create", "L1", None, "k1", {})])
        with pytest.raises(LedgerError):
            ledger.start_run("p", "sync")
        # Reads are fine inside a batch.
        assert ledger.links_for("p", "c", "left", ["L1"]) == {}
    assert ledger.get_cursor("p", "c", "left") == "kept"
    # After the batch the same calls work.
    assert ledger.begin_intents("p", "c", [IntentWrite("right", "create", "L1", None, "k1", {})])
