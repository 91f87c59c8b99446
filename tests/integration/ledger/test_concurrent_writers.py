"""Several writers on one ledger: batches wait for each other instead of failing."""

from __future__ import annotations

import threading

from syncengine.ledger import IntentWrite, Ledger, LinkWrite


def test_concurrent_batches_from_two_ledgers_all_land(ledger: Ledger) -> None:
    other = Ledger.open(ledger.url)
    errors: list[BaseException] = []

    def writer(led: Ledger, prefix: str) -> None:
        try:
            for batch in range(20):
                keys = [f"{prefix}{batch}-{n}" for n in range(50)]
                ids = led.begin_intents("p", "c", [IntentWrite("right", "create", k, None, f"i-{k}", {}) for k in keys])
                with led.transaction() as tx:
                    # open_conflict reads, then writes: on SQLite a transaction that began
                    # DEFERRED fails at once ("database is locked") when another writer committed
                    # in between; BEGIN IMMEDIATE makes it wait its turn instead.
                    tx.open_conflict("p", "c", keys[0], "R" + keys[0], None, {}, {}, {}, [])
                    tx.set_cursor("p", "c", "left", f"{prefix}{batch}")
                    tx.put_links("p", "c", [LinkWrite(k, "R" + k, {"k": k}, "h", "h") for k in keys])
                    tx.finish_intents(ids, "done")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=writer, args=(led, p)) for led, p in ((ledger, "a"), (other, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert ledger.count_links("p", "c") == 2 * 20 * 50
        assert ledger.pending_intents("p", "c") == []
        assert len(ledger.open_conflict_keys("p", "c")) == 2 * 20
    finally:
        other.close()
