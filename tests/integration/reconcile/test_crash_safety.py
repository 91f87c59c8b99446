"""A crash between the remote write and the ledger commit never duplicates or loses a record.

The target keys are assigned by the target (an autoincrement integer, a generated CSV key) and
no match rule or id mapping links records, so only the intents can prevent a duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from syncengine.connector import WriteOp, WriteResult
from tests.integration.reconcile.world import CsvStore, SqlStore, World


class Crash(BaseException):
    """Stands for the process dying: nothing in the engine catches it."""


def crash_after_write(world: World, side: str, *, after_ops: int = 1) -> None:
    """Make ``side``'s connector crash right after a batch write has succeeded remotely."""
    connector: Any = world.config.connector(side, world.ledger)
    real = connector.write_batch

    def write_then_die(obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        results: list[WriteResult] = real(obj, ops)
        if len(ops) >= after_ops:
            raise Crash(f"died after writing {len(ops)} records to {side}")
        return results

    connector.write_batch = write_then_die


def fresh(world: World, tmp: Path, ledger_url: str) -> World:
    """The same stores and ledger, opened again as a restarted process would."""
    world.close()
    return World(tmp, ledger_url, world.left, world.right, map_ids=False)


def emails(rows: dict[str, dict[str, Any]]) -> Counter[str]:
    return Counter(str(r["email"]).lower() for r in rows.values())


def make(tmp_path: Path, ledger_url: str) -> World:
    left = CsvStore(tmp_path / "clients.csv")
    right = SqlStore(f"sqlite:///{tmp_path / 'target.db'}", key_type="integer")
    return World(tmp_path, ledger_url, left, right, map_ids=False)


def test_crash_after_creating_on_the_right_then_rerun(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    for i in range(1, 6):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": f"F{i}", "last_name": "L",
                           "balance": "1.00"})
    crash_after_write(world, "right")
    with pytest.raises(Crash):
        world.sync()
    # The rows were written remotely, but the ledger knows nothing of them yet.
    assert len(world.right.rows()) == 5
    assert world.links() == {}
    pending = world.ledger.pending_intents("world", "clients")
    assert sorted(w.source_key or "" for w in pending) == [f"c{i}" for i in range(1, 6)], "one intent per write"
    assert {(w.op, w.state) for w in pending} == {("create", "sent")}
    assert len({w.idempotency_key for w in pending}) == 5

    world = fresh(world, tmp_path, ledger_url)
    report = world.sync()
    assert report.ok, report.pairs[0].errors
    assert emails(world.right.rows()) == Counter({f"p{i}@x.io": 1 for i in range(1, 6)}), "no duplicates"
    assert emails(world.left.rows()) == emails(world.right.rows()), "nothing echoed back as new"
    assert len(world.links()) == 5
    assert world.ledger.pending_intents("world", "clients") == []
    assert world.sync().writes == 0
    world.close()


def test_crash_after_creating_on_the_left_then_rerun(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    for i in range(1, 4):
        world.right.insert({"email": f"r{i}@x.io", "first_name": f"R{i}", "last_name": "L", "balance": "2.50"})
    crash_after_write(world, "left")
    with pytest.raises(Crash):
        world.sync()
    assert len(world.left.rows()) == 3

    world = fresh(world, tmp_path, ledger_url)
    report = world.sync()
    assert report.ok, report.pairs[0].errors
    assert emails(world.left.rows()) == Counter({f"r{i}@x.io": 1 for i in range(1, 4)})
    assert emails(world.right.rows()) == Counter({f"r{i}@x.io": 1 for i in range(1, 4)})
    assert world.sync().writes == 0
    world.close()


def test_crash_after_an_update_loses_nothing(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    world.left.insert({"id": "c1", "email": "p1@x.io", "first_name": "Before", "last_name": "L", "balance": "1"})
    world.sync()
    world.left.update("c1", first_name="After")
    crash_after_write(world, "right")
    with pytest.raises(Crash):
        world.sync()
    world = fresh(world, tmp_path, ledger_url)
    world.sync()
    assert [r["first_name"] for r in world.right.rows().values()] == ["After"]
    assert [r["first_name"] for r in world.left.rows().values()] == ["After"]
    assert world.sync().writes == 0
    world.close()


def test_a_create_that_never_reached_the_remote_is_retried_once(tmp_path: Path, ledger_url: str) -> None:
    world = make(tmp_path, ledger_url)
    world.left.insert({"id": "c1", "email": "p1@x.io", "first_name": "F", "last_name": "L", "balance": "1"})
    connector: Any = world.config.connector("right", world.ledger)

    def die_before_write(obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        raise Crash("died before the remote call")

    connector.write_batch = die_before_write
    with pytest.raises(Crash):
        world.sync()
    assert world.right.rows() == {}
    world = fresh(world, tmp_path, ledger_url)
    assert world.sync().ok
    assert emails(world.right.rows()) == Counter({"p1@x.io": 1})
    world.close()


def test_a_create_reported_failed_that_did_happen_is_not_duplicated(tmp_path: Path, ledger_url: str) -> None:
    """A timed-out POST: the remote made the record but the answer never arrived."""
    from syncengine.errors import TransientError

    world = make(tmp_path, ledger_url)
    for i in range(1, 4):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": "F", "last_name": "L", "balance": "1"})
    connector: Any = world.config.connector("right", world.ledger)
    real = connector.write_batch

    def write_but_lose_the_answer(obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        real(obj, ops)
        return [WriteResult(op, error=TransientError("read timed out")) for op in ops]

    connector.write_batch = write_but_lose_the_answer
    report = world.sync()
    assert not report.ok and report.counts["errors"] == 3
    assert len(world.right.rows()) == 3
    connector.write_batch = real
    again = world.sync()
    assert again.ok, again.pairs[0].errors
    assert emails(world.right.rows()) == Counter({f"p{i}@x.io": 1 for i in range(1, 4)})
    assert len(world.links()) == 3
    assert world.sync().writes == 0
    world.close()


def test_a_crash_between_creates_does_not_lose_the_deletes_of_the_same_run(tmp_path: Path, ledger_url: str) -> None:
    """Found on main: 50 rows synced; in the CSV 5 new rows and 3 deleted; killed right after the
    SQLite write of the creates, before the ledger commit. The next runs exited 0 with 0 writes
    while the 3 deleted rows stayed live: the recovered links counted as "linked records seen",
    so the delete scan was skipped and the cursor moved on (10 of 241 kill trials)."""
    left = CsvStore(tmp_path / "clients.csv")
    right = SqlStore(f"sqlite:///{tmp_path / 'target.db'}")
    world = World(tmp_path, ledger_url, left, right)
    for i in range(1, 51):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": f"F{i}", "last_name": "L",
                           "balance": "1.00"})
    assert world.sync().ok
    assert len(world.right.rows()) == 50
    for i in range(51, 56):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": f"F{i}", "last_name": "L",
                           "balance": "1.00"})
    for i in (3, 17, 42):
        world.left.delete(f"c{i}")
    crash_after_write(world, "right")
    with pytest.raises(Crash):
        world.sync()
    world.close()
    expected = {f"c{i}" for i in range(1, 56)} - {"c3", "c17", "c42"}
    for _ in range(2):
        world = World(tmp_path, ledger_url, left, right)
        report = world.sync()
        assert report.ok, report.pairs[0].errors
        world.close()
    assert set(world.right.rows()) == expected, "the deletes reached SQLite, the creates exist once"
    assert set(world.left.rows()) == expected
    world = World(tmp_path, ledger_url, left, right)
    assert set(world.links()) == expected
    assert world.sync().writes == 0
    world.close()
