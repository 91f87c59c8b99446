"""A run whose changes exceed the memory budget gives the same answers as one that does not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.reconcile.world import CsvStore, SqlStore, World


@pytest.mark.parametrize("budget", [3, 100_000])
def test_the_same_answers_with_changes_staged_on_disk(tmp_path: Path, ledger_url: str, budget: int) -> None:
    world = World(tmp_path, ledger_url, CsvStore(tmp_path / "clients.csv"),
                  SqlStore(f"sqlite:///{tmp_path / 'target.db'}"), match=True, map_ids=False)
    # The table already holds 20 clients; 10 of them are in the CSV too (linked by email).
    for i in range(1, 21):
        world.right.insert({"id": f"db{i}", "email": f"p{i}@x.io", "first_name": f"D{i}", "last_name": "L",
                            "balance": Decimal("1.00")})
    for i in range(11, 31):
        world.left.insert({"id": f"c{i}", "email": f"P{i}@x.io", "first_name": f"D{i}", "last_name": "L",
                           "balance": "1.00"})
    first = world.sync(memory_budget=budget)
    assert first.ok, first.pairs[0].errors
    assert first.counts["linked"] == 10
    assert first.counts["created_left"] == 10 and first.counts["created_right"] == 10
    emails = {f"p{i}@x.io" for i in range(1, 31)}
    assert {r["email"].lower() for r in world.left.rows().values()} == emails
    assert {r["email"].lower() for r in world.right.rows().values()} == emails
    # Edits on both sides and a delete, with more changes than the budget.
    db_key = {r["email"]: k for k, r in world.right.rows().items()}
    for i in range(1, 8):
        world.right.update(db_key[f"p{i}@x.io"], first_name=f"Edited{i}")
    world.left.update("c25", last_name="Changed")
    world.right.delete(db_key["p15@x.io"])
    second = world.sync(memory_budget=budget, full=True)
    assert second.ok, second.pairs[0].errors
    left = {r["email"].lower(): r for r in world.left.rows().values()}
    right = {r["email"]: r for r in world.right.rows().values()}
    assert set(left) == set(right) == emails - {"p15@x.io"}
    assert all(left[f"p{i}@x.io"]["first_name"] == f"Edited{i}" for i in range(1, 8))
    assert right["p25@x.io"]["last_name"] == "Changed"
    assert world.sync(memory_budget=budget).writes == 0
    world.close()
