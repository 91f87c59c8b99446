"""Changing a mapping under a running pipeline: a field added later never erases data.

Found on main: in a `syncengine init` project, `phone` added to the CSV, to the table (ALTER
TABLE) and to the mapping, with values only in the CSV: `sync` wrote empty over the CSV values and
reported 0 conflicts (the new field has no base, both sides counted as changed, and newest_wins
picked the empty side, edited last).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syncengine.config import load_config
from syncengine.reconcile import PairOptions, RunReport, run_pipeline
from tests.integration.reconcile.world import CsvStore, SqlStore, World, now


def add_phone(world: World, csv_values: dict[str, str], sql_values: dict[str, str]) -> None:
    """The operator's steps: a column in the file, a column in the table, a field in the mapping."""
    assert isinstance(world.left, CsvStore) and isinstance(world.right, SqlStore)
    with world.left.path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = [*rows[0].keys(), "phone"]
    with world.left.path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "phone": csv_values.get(row["id"], "")})
    with world.right.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE clients ADD COLUMN phone VARCHAR"))
        for key, value in sql_values.items():
            conn.execute(sa.text("UPDATE clients SET phone = :v, updated_at = :t WHERE id = :k"),
                         {"v": value, "k": key, "t": now().replace(tzinfo=None)})
    config = world.root / "config.yaml"
    config.write_text(config.read_text().replace("balance: decimal,", "balance: decimal, phone: string,"))
    mapping = world.root / "mapping.yaml"
    mapping.write_text(mapping.read_text() + "      - {left: phone, right: phone}\n")


def sync_again(world: World, **options: Any) -> RunReport:
    config = load_config(world.root / "config.yaml")
    try:
        pipeline = config.pipeline("world")
        return run_pipeline(ledger=world.ledger, pipeline="world", mapping=config.mapping(pipeline, world.ledger),
                            left=config.connector("left", world.ledger), right=config.connector("right", world.ledger),
                            options=PairOptions(**options))
    finally:
        config.close()


@pytest.mark.parametrize("conflict", ["newest_wins", "left_wins", "right_wins"])
def test_a_new_field_with_values_on_one_side_fills_the_other(tmp_path: Path, ledger_url: str, conflict: str) -> None:
    world = World(tmp_path, ledger_url, CsvStore(tmp_path / "clients.csv"),
                  SqlStore(f"sqlite:///{tmp_path / 'target.db'}"), conflict=conflict)
    for i in range(1, 5):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": "F", "last_name": "L",
                           "balance": "1.00"})
    assert world.sync().ok
    # CSV holds c1, c2; the table holds c3 (edited last, so newest_wins would pick it); c4 nowhere.
    add_phone(world, {"c1": "555-0101", "c2": "555-0102"}, {"c3": "555-0103"})
    report = sync_again(world)
    assert report.ok, report.pairs[0].errors
    expected = {"c1": "555-0101", "c2": "555-0102", "c3": "555-0103", "c4": None}
    assert {k: (r["phone"] or None) for k, r in world.left.rows().items()} == expected
    assert {k: r["phone"] for k, r in world.right.rows().items()} == expected
    assert report.counts.get("conflicts", 0) == 0
    assert sync_again(world).writes == 0
    world.close()


def test_a_new_field_with_two_different_values_follows_the_policy(tmp_path: Path, ledger_url: str) -> None:
    world = World(tmp_path, ledger_url, CsvStore(tmp_path / "clients.csv"),
                  SqlStore(f"sqlite:///{tmp_path / 'target.db'}"), conflict="left_wins")
    world.left.insert({"id": "c1", "email": "p1@x.io", "first_name": "F", "last_name": "L", "balance": "1.00"})
    assert world.sync().ok
    add_phone(world, {"c1": "555-LEFT"}, {"c1": "555-RIGHT"})
    plan = sync_again(world, dry_run=True)
    shown = [a for a in plan.pairs[0].actions if a.kind == "update"]
    assert [(a.side, a.diff) for a in shown] == [("right", {"phone": ("555-RIGHT", "555-LEFT")})], "plan shows it"
    report = sync_again(world)
    assert report.ok
    assert world.right.rows()["c1"]["phone"] == "555-LEFT"
    assert report.counts["conflicts_settled"] == 1
    world.close()
