"""Engine: the one entry point the CLI and the daemon share; keyed syncs; stopping between batches."""

from __future__ import annotations

import gc
from pathlib import Path

from syncengine.engine import Engine, SyncOptions
from tests.integration.reconcile.world import CsvStore, SqlStore, World


def make(tmp_path: Path, ledger_url: str, rows: int = 3) -> World:
    world = World(tmp_path, ledger_url, CsvStore(tmp_path / "clients.csv"),
                  SqlStore(f"sqlite:///{tmp_path / 'target.db'}"))
    for i in range(1, rows + 1):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": f"F{i}", "last_name": "L",
                           "balance": "1.00"})
    assert world.sync().ok
    return world


def test_a_keyed_sync_carries_just_the_named_records(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    cursors = {(c.pair, c.side): c.cursor for c in world.ledger.cursors("world")}
    world.right.update("c1", first_name="Keyed")
    world.right.update("c2", first_name="Later")
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        report = engine.sync("world", keys={("right", "clients"): ["c1"]})
        assert report.ok and report.mode == "keyed"
        assert world.left.rows()["c1"]["first_name"] == "Keyed"
        assert world.left.rows()["c2"]["first_name"] == "F2", "not named, not synced"
        assert {(c.pair, c.side): c.cursor for c in world.ledger.cursors("world")} == cursors, "no cursor moved"
        assert engine.sync("world").ok
        assert world.left.rows()["c2"]["first_name"] == "Later", "the schedule still carries the rest"
    world.close()


def test_a_keyed_sync_merges_the_partners_own_edit(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    world.left.update("c1", first_name="FromCsv")
    world.right.update("c1", last_name="FromDb")
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        assert engine.sync("world", keys={("right", "clients"): ["c1"]}).ok
    for side in (world.left, world.right):
        row = side.rows()["c1"]
        assert (row["first_name"], row["last_name"]) == ("FromCsv", "FromDb")
    world.close()


def test_a_keyed_sync_of_a_vanished_record_is_a_delete(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    world.right.delete("c3")
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        report = engine.sync("world", keys={("right", "clients"): ["c3"]})
    assert report.ok
    assert set(world.left.rows()) == {"c1", "c2"}
    world.close()


def test_should_stop_ends_the_run_between_batches_as_partial(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url, rows=0)
    for i in range(1, 31):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": "F", "last_name": "L",
                           "balance": "1.00"})
    cursor = world.ledger.get_cursor("world", "clients", "left")
    asked = []

    def stop() -> bool:
        asked.append(1)
        return True

    with Engine(world.root / "config.yaml", world.ledger) as engine:
        report = engine.sync("world", SyncOptions(batch_size=10), should_stop=stop)
        assert report.stopped and report.status == "partial"
        assert len(asked) == 1
        assert len(world.right.rows()) == 10, "the batch in hand was finished, nothing more"
        assert world.ledger.get_cursor("world", "clients", "left") == cursor, "no cursor moved"
        assert world.ledger.recent_runs(limit=1)[0].status == "partial"
        assert engine.sync("world").ok
        assert len(world.right.rows()) == 30
        assert engine.sync("world").writes == 0
    world.close()


def test_the_gc_tuning_is_scoped_to_the_run(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        assert engine.sync("world").ok
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
    world.close()
