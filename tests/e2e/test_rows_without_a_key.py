"""Rows added without a key: `key: {column: id, generate: uuid}` assigns one and writes it back;
without it, the error names the file, the line and the setting to add. Through the real command."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest


def _run(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncengine", *args, "-c", str(workdir / "config.yaml")],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "syncengine", "init", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return tmp_path


def _add_keyless_rows(workdir: Path) -> bytes:
    with open(workdir / "clients.csv", "a", encoding="utf-8", newline="") as handle:
        handle.write(",new@example.com,New,Person,Acme,EUR,10.00,\n")
        handle.write(",twin@example.com,Twin,Row,,USD,1,\n")
    return (workdir / "clients.csv").read_bytes()


def _rows(workdir: Path) -> list[dict[str, str]]:
    with open(workdir / "clients.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_generated_keys_are_written_back_and_synced(starter: Path) -> None:
    config = (starter / "config.yaml").read_text()
    (starter / "config.yaml").write_text(config.replace(
        "        key: id               # the column that identifies a row",
        "        key: {column: id, generate: uuid}", 1))
    assert _run(starter, "sync").returncode == 0
    before = _add_keyless_rows(starter)

    plan = _run(starter, "plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout.count("create") >= 2
    assert (starter / "clients.csv").read_bytes() == before, "a plan writes nothing, not even keys"

    sync = _run(starter, "sync")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    rows = {r["email"]: r for r in _rows(starter)}
    new_key, twin_key = rows["new@example.com"]["id"], rows["twin@example.com"]["id"]
    assert uuid.UUID(new_key) and uuid.UUID(twin_key) and new_key != twin_key
    assert new_key in plan.stdout, "the plan showed the key the sync assigned"
    text = (starter / "clients.csv").read_text()
    assert text.startswith(before.decode().split("\n", 1)[0])  # header and old rows untouched
    assert f"{new_key},new@example.com,New,Person,Acme,EUR,10.00," in text
    with sqlite3.connect(starter / "clients.db") as db:
        stored = dict(db.execute("SELECT email, id FROM clients").fetchall())
    # the mapping maps id to id: the SQL row carries the key the CSV row was given
    assert stored["new@example.com"] == new_key and stored["twin@example.com"] == twin_key
    again = _run(starter, "sync")
    assert again.returncode == 0 and "0 writes" in again.stdout, again.stdout


def test_without_generate_a_keyless_row_says_what_to_do(starter: Path) -> None:
    assert _run(starter, "sync").returncode == 0
    _add_keyless_rows(starter)
    lines = (starter / "clients.csv").read_text().splitlines()
    sync = _run(starter, "sync")
    assert sync.returncode == 1
    message = " ".join(sync.stderr.split())
    assert f"clients.csv:{len(lines) - 1}" in message
    assert "row has an empty key" in message and "key: {column: id, generate: uuid}" in message


def test_a_table_row_inserted_without_a_key_gets_one_and_syncs(starter: Path) -> None:
    config = (starter / "config.yaml").read_text()
    marker = "        table: clients\n        key: id\n"
    assert marker in config
    (starter / "config.yaml").write_text(config.replace(
        marker, "        table: clients\n        key: {column: id, generate: uuid}\n", 1))
    assert _run(starter, "sync").returncode == 0
    with sqlite3.connect(starter / "clients.db") as db:
        db.execute("INSERT INTO clients (id, email, first_name, currency, balance, updated_at)"
                   " VALUES ('', 'sql@example.com', 'Sql', 'EUR', '3.30', '2026-12-01 00:00:00.000000')")
    sync = _run(starter, "sync")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    with sqlite3.connect(starter / "clients.db") as db:
        (key,) = db.execute("SELECT id FROM clients WHERE email = 'sql@example.com'").fetchone()
    assert uuid.UUID(key)
    rows = {r["email"]: r for r in _rows(starter)}
    assert rows["sql@example.com"]["id"] == key and rows["sql@example.com"]["balance"] == "3.30"
    assert "0 writes" in _run(starter, "sync").stdout
