"""Intents: committed before the remote write, finished in the batch that records its outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from syncengine.ledger import IntentWrite, Ledger
from syncengine.ledger.store import pending_intents_query


def _iw(n: int, side: str = "right", op: str = "create") -> IntentWrite:
    return IntentWrite(side, op, f"L{n}", None if op == "create" else f"R{n}", f"idem-{n}", {"n": n})  # type: ignore[arg-type]


def test_begin_intents_returns_ids_in_order_and_commits_at_once(ledger: Ledger) -> None:
    ids = ledger.begin_intents("p", "c", [_iw(3), _iw(1, "left", "update"), _iw(2, op="delete")])
    assert len(set(ids)) == 3
    other = Ledger.open(ledger.url)  # another connection sees them without any further commit
    try:
        pending = other.pending_intents("p", "c")
    finally:
        other.close()
    assert [i.id for i in pending] == sorted(ids)
    by_id = {i.id: i for i in pending}
    first = by_id[ids[0]]
    assert (first.side, first.op, first.source_key, first.target_key) == ("right", "create", "L3", None)
    assert first.idempotency_key == "idem-3"
    assert first.payload == {"n": 3}
    assert first.state == "pending"
    assert first.finished_at is None
    assert by_id[ids[1]].target_key == "R1"


def test_finish_intents_moves_them_out_of_pending(ledger: Ledger) -> None:
    ids = ledger.begin_intents("p", "c", [_iw(n) for n in range(4)])
    with ledger.transaction() as tx:
        assert tx.finish_intents(ids[:2], "done") == 2
        tx.finish_intents([ids[2]], "failed")
    assert [i.id for i in ledger.pending_intents("p", "c")] == [ids[3]]
    finished = {i.id: i for i in ledger.get_intents(ids)}
    assert finished[ids[0]].state == "done"
    assert finished[ids[2]].state == "failed"
    assert finished[ids[0]].finished_at is not None
    assert ledger.pending_intents("p", "other") == []


def test_finish_state_must_be_final(ledger: Ledger) -> None:
    ids = ledger.begin_intents("p", "c", [_iw(1)])
    with pytest.raises(ValueError), ledger.transaction() as tx:
        tx.finish_intents(ids, "pending")


def test_a_retried_idempotency_key_reuses_its_row(ledger: Ledger) -> None:
    [first] = ledger.begin_intents("p", "c", [_iw(1)])
    with ledger.transaction() as tx:
        tx.finish_intents([first], "abandoned")
    retry = IntentWrite("right", "create", "L1", None, "idem-1", {"n": "again"})
    [second] = ledger.begin_intents("p", "c", [retry, _iw(2)])[:1]
    assert second == first
    [intent] = [i for i in ledger.pending_intents("p", "c") if i.id == first]
    assert intent.payload == {"n": "again"}
    assert intent.finished_at is None


def test_many_intents_cross_statement_chunks(ledger: Ledger) -> None:
    writes = [_iw(n) for n in range(12_345)]
    ids = ledger.begin_intents("p", "c", writes)
    assert len(set(ids)) == len(writes)
    assert ids == sorted(ids)  # one batch inserted in order gets increasing ids
    with ledger.transaction() as tx:
        assert tx.finish_intents(ids, "done") == len(ids)
    assert ledger.pending_intents("p", "c") == []


def test_the_unsettled_intents_of_a_pair_are_read_through_the_partial_index(tmp_path: Path) -> None:
    """Found by bench/freshbooks_bench.py: with the states as bound values SQLite could not use
    the partial index on unsettled intents and scanned all of them, every pair of every run
    (83 ms a pair at 41,563 intents, about 4 s an incremental sync at business size)."""
    path = tmp_path / "ledger.db"
    led = Ledger.open(f"sqlite:///{path}")
    try:
        ids = led.begin_intents("p", "c", [_iw(n) for n in range(50)])
        with led.transaction() as tx:
            tx.finish_intents(ids[:45], "done")
        assert [i.id for i in led.pending_intents("p", "c")] == ids[45:]
    finally:
        led.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        compiled = pending_intents_query("p", "c").compile(engine, compile_kwargs={"render_postcompile": True})
        assert compiled.positiontup is not None
        with engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params[k] for k in compiled.positiontup)))
    finally:
        engine.dispose()
    assert "ix_intents_pipeline_pair" in plan and "SCAN" not in plan, plan
