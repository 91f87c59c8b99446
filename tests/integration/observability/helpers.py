"""Shared pieces of the observability tests: a served app, scraped samples, a CSV <-> SQLite world."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.reconcile.world import CsvStore, SqlStore, World
from tests.unit.http.conftest import serve

__all__ = ["make_world", "samples", "scrape", "serve", "world_with_trouble"]


def scrape(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET /metrics over HTTP and parse it with prometheus-client's own parser."""
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def make_world(tmp_path: Path, ledger_url: str, rows: int = 3) -> World:
    """clients.csv on the left, a SQLite table on the right, conflicts parked for a person."""
    world = World(tmp_path, ledger_url, CsvStore(tmp_path / "clients.csv"),
                  SqlStore(f"sqlite:///{tmp_path / 'target.db'}"), conflict="manual")
    for i in range(1, rows + 1):
        world.left.insert({"id": f"c{i}", "email": f"p{i}@x.io", "first_name": f"F{i}", "last_name": "L",
                           "balance": "1.00"})
    return world


def world_with_trouble(tmp_path: Path, ledger_url: str) -> World:
    """Two real runs that leave what the status page must show: a record that cannot be read
    (c9's balance), and an open conflict on c2 whose values hold markup."""
    from syncengine.engine import Engine

    world = make_world(tmp_path, ledger_url)
    world.left.insert({"id": "c9", "email": "bad@x.io", "first_name": "F", "last_name": "L", "balance": "lots"})
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        assert engine.sync("world").status == "partial"
        world.left.update("c2", first_name="<script>alert(1)</script>")
        world.right.update("c2", first_name="Bea & Co")
        assert engine.sync("world").status == "partial"
    return world
