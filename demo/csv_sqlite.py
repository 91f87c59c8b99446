"""The CSV <-> SQLite demo: the engine end to end, with nothing but files.

Each step runs the real `syncengine` command an operator would type, and prints its output.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from demo.steps import banner, run, say

WORK = Path("demo-work/csv")


def _edit_csv(path: Path, key: str, **changes: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        if row["id"] == key:
            row.update(changes)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _append_csv(path: Path, row: dict[str, str]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=header).writerow(row)


def _sql(db: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(statement, params)


def main() -> None:
    if WORK.exists():
        for child in sorted(WORK.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
    WORK.mkdir(parents=True, exist_ok=True)
    config = str(WORK / "config.yaml")
    csv_path, db_path = WORK / "clients.csv", WORK / "clients.db"

    banner("1. A starter project: a CSV file of 3 clients and an empty SQLite table")
    run("init", str(WORK))
    mapping = WORK / "clients.mapping.yaml"
    mapping.write_text(mapping.read_text().replace("conflict: newest_wins", "conflict: manual"))
    say("(the demo sets `conflict: manual`, so a true conflict waits for a person)")
    run("validate", "-c", config)

    banner("2. plan shows what the first sync would do; sync does it")
    run("plan", "-c", config)
    run("sync", "-c", config)

    banner("3. Edits on both sides: a rename in the CSV, a new row in the CSV, a balance and a new row in SQLite")
    _edit_csv(csv_path, "c1", first_name="Augusta Ada", updated_at="2026-11-20T09:00:00+00:00")
    _append_csv(csv_path, {"id": "c4", "email": "KATHERINE@example.com", "first_name": "Katherine",
                           "last_name": "Johnson", "organization": "NASA", "currency": "usd", "balance": "10.00",
                           "updated_at": "2026-11-20T09:05:00+00:00"})
    # An application writing to the table stamps updated_at with the current time (UTC).
    _sql(db_path, "UPDATE clients SET balance = 99.90, updated_at = datetime('now') WHERE id = 'c2'")
    _sql(db_path, "INSERT INTO clients (id, email, first_name, last_name, organization, currency, balance, "
         "updated_at) VALUES ('c5', 'edsger@example.com', 'Edsger', 'Dijkstra', 'THE', 'EUR', 5.00, "
         "datetime('now'))")
    run("plan", "-c", config)
    run("sync", "-c", config)

    banner("4. The same field changed on both sides: a conflict, parked for a person")
    _edit_csv(csv_path, "c3", last_name="Turing (CSV)", updated_at="2026-11-21T08:00:00+00:00")
    _sql(db_path, "UPDATE clients SET last_name = 'Turing (DB)', updated_at = datetime('now') WHERE id = 'c3'")
    run("sync", "-c", config, check=False)
    run("conflicts", "list", "-c", config)
    run("conflicts", "show", "1", "-c", config)

    banner("5. Settle it: the database's value wins; the next sync writes it to the CSV")
    run("conflicts", "resolve", "1", "--take", "right", "-c", config)
    run("sync", "-c", config)

    banner("6. Nothing changed: a second sync writes nothing")
    run("sync", "-c", config)
    run("status", "-c", config)
    say("final CSV:\n" + csv_path.read_text())


if __name__ == "__main__":
    main()
