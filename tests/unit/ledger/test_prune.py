"""Pruning keeps the ledger from growing without bound, and never touches live state."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncengine.ledger import IntentWrite, Ledger, LinkWrite
from syncengine.ledger.sql import conflicts, intents, runs, utcnow, webhook_events


def _age(ledger: Ledger, table: sa.Table, column: str, ids: list[int], days: int) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id.in_(ids)).values({column: utcnow() - timedelta(days=days)}))


def test_prune_removes_old_history_only(ledger: Ledger) -> None:
    ids = ledger.begin_intents("p", "c", [IntentWrite("right", "create", f"L{n}", None, f"k{n}", {}) for n in range(5)])
    old_done, old_abandoned, old_failed, recent_done, pending = ids
    with ledger.transaction() as tx:
        tx.finish_intents([old_done, recent_done], "done")
        tx.finish_intents([old_abandoned], "abandoned")
        tx.finish_intents([old_failed], "failed")
        tx.put_links("p", "c", [LinkWrite("L1", "R1", {}, "h", "h")])
        tx.set_cursor("p", "c", "left", "c")
        old_conflict = tx.open_conflict("p", "c", "L1", "R1", None, {}, {}, {}, [])
        open_conflict = tx.open_conflict("p", "c", "L2", "R2", None, {}, {}, {}, [])
    ledger.resolve_conflict(old_conflict, "left")
    with ledger.transaction() as tx:
        tx.mark_conflict_applied(old_conflict)
    _age(ledger, intents, "finished_at", [old_done, old_abandoned, old_failed], 40)
    _age(ledger, conflicts, "applied_at", [old_conflict], 40)

    ledger.record_webhook_event("fb", "old", "{}")
    ledger.record_webhook_event("fb", "new", "{}")
    ledger.record_webhook_event("fb", "unprocessed", "{}")
    events = {e.event_id: e.id for e in ledger.unprocessed_webhook_events()}
    ledger.mark_webhook_event_processed(events["old"])
    ledger.mark_webhook_event_processed(events["new"])
    _age(ledger, webhook_events, "processed_at", [events["old"]], 31)

    old_run = ledger.start_run("p", "sync")
    ledger.finish_run(old_run, "ok", {}, [])
    new_run = ledger.start_run("p", "sync")
    ledger.finish_run(new_run, "ok", {}, [])
    _age(ledger, runs, "finished_at", [old_run], 45)

    removed = ledger.prune(older_than_days=30)
    assert removed == {"intents": 2, "webhook_events": 1, "runs": 1, "conflicts": 1}

    left = {i.id: i.state for i in ledger.get_intents(ids)}
    assert left == {old_failed: "failed", recent_done: "done", pending: "pending"}
    assert [r.id for r in ledger.recent_runs()] == [new_run]
    assert [c.id for c in ledger.list_conflicts(status=None)] == [open_conflict]
    assert ledger.count_links("p", "c") == 1
    assert ledger.get_cursor("p", "c", "left") == "c"
    assert [e.event_id for e in ledger.unprocessed_webhook_events()] == ["unprocessed"]
    # The pruned event id is forgotten; the recent processed one still de-duplicates.
    assert ledger.record_webhook_event("fb", "new", "{}") is False
    assert ledger.prune(older_than_days=30) == {"intents": 0, "webhook_events": 0, "runs": 0, "conflicts": 0}
