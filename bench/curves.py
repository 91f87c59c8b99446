"""`make bench-curves`: time per row of each reconcile path at 10k / 100k / 1M rows.

A path whose time per row grows with the row count is quadratic somewhere (on 2026-12-01 the
first link by a match rule took 3.4 s at 10k, 21 s at 100k and 65 s at 200k; creates into a CSV
file 3.0 s, 40 s and 102 s). The goal: time per row at 1M within 1.5x of 10k, peak < 500 MB.

Paths, each a real `syncengine sync` in its own process:
  * link:        both sides hold the same rows under different keys; a match rule on email links them;
  * csv-creates: rows in SQLite, an empty CSV file: every row is created in the CSV;
  * sql-creates: rows in the CSV, an empty table: every row is created in SQLite;
  * one-percent: after sql-creates, 1% of the CSV rows change; an incremental sync.
Usage: python -m bench.curves [--sizes 10000,100000,1000000] [--paths link,csv-creates,...]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import COLUMNS, HERE, RESULTS, change_one_percent, engine_sync, generate, measure

WORK = HERE / "work-curves"

CONFIG = """\
ledger: sqlite:///{work}/ledger.db
connectors:
  sheet:
    type: csvfile
    objects:
      clients: {{path: {csv}, key: id, updated_at: updated_at,
                columns: {{id: string, first_name: string, last_name: string, email: string, organization: string,
                           phone: string, currency: string, balance: decimal, updated_at: datetime}}}}
  db:
    type: sqldb
    url: sqlite:///{work}/target.db
    objects:
      clients:
        table: clients
        key: id
        updated_at: updated_at
        create: true
        columns: {{id: string, first_name: string, last_name: string, email: string, organization: string,
                   phone: string, currency: string, balance: decimal, updated_at: datetime}}
pipelines:
  - {{name: bench, left: sheet, right: db, mapping: {work}/mapping.yaml}}
safety: {{max_delete_fraction: 0.5, min_mass_delete: 1000}}
"""

MAPPING = """\
pairs:
  - name: clients
    left: clients
    right: clients
{match}    fields:
{id_field}      - {{left: first_name, right: first_name}}
      - {{left: last_name, right: last_name}}
      - {{left: email, right: email}}
      - {{left: organization, right: organization}}
      - {{left: phone, right: phone}}
      - {{left: currency, right: currency}}
      - {{left: balance, right: balance}}
"""


def load_sqlite(csv_path: Path, db: Path, key_prefix: str = "") -> None:
    """The same rows into the target table (what a database already holding them looks like)."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE clients (id VARCHAR PRIMARY KEY, first_name VARCHAR, last_name VARCHAR, "
                 "email VARCHAR, organization VARCHAR, phone VARCHAR, currency VARCHAR, balance NUMERIC, "
                 "updated_at DATETIME)")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.executemany("INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         ([key_prefix + row[0], *row[1:]] for row in reader))
    conn.commit()
    conn.close()


def prepare(path: str, rows: int) -> Path:
    work = WORK / f"{path}-{rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source = work / "source.csv"
    generate(source, rows)
    csv_path = work / "clients.csv"
    match = "    match: {left: email, right: email}\n" if path == "link" else ""
    id_field = "" if path == "link" else "      - {left: id, right: id}\n"
    (work / "mapping.yaml").write_text(MAPPING.format(match=match, id_field=id_field))
    (work / "config.yaml").write_text(CONFIG.format(work=work, csv=csv_path))
    if path == "link":
        shutil.copy(source, csv_path)
        load_sqlite(source, work / "target.db", key_prefix="db-")
    elif path == "csv-creates":
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(COLUMNS)
        load_sqlite(source, work / "target.db")
    else:
        shutil.copy(source, csv_path)
    source.unlink()
    return work


def run_path(path: str, rows: int) -> dict[str, Any]:
    if path == "one-percent":
        work = prepare("sql-creates", rows)
        config = work / "config.yaml"
        first = measure(engine_sync(config), f"one-percent {rows:,}: first sync")
        if first["exit_code"] != 0:
            return {**first, "path": path, "rows": rows}
        changed = change_one_percent(work / "clients.csv")
        result = measure(engine_sync(config), f"one-percent {rows:,}: {changed:,} rows changed")
    else:
        work = prepare(path, rows)
        result = measure(engine_sync(work / "config.yaml"), f"{path} {rows:,}")
    result.update(path=path, rows=rows, us_per_row=round(result["wall_s"] * 1e6 / rows, 1))
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--paths", default="link,csv-creates,sql-creates,one-percent")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [run_path(path, rows) for path in args.paths.split(",") for rows in sizes]
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    lines = [f"# Growth curves ({stamp})", "", "| path | rows | wall (s) | µs/row | peak RSS (MB) | exit |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['path']} | {r['rows']:,} | {r['wall_s']} | {r.get('us_per_row', '')} | "
                     f"{r['peak_rss_mb']} | {r['exit_code']} |")
    by_path: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_path.setdefault(r["path"], []).append(r)
    lines += ["", "| path | time per row, largest / smallest |", "|---|---|"]
    for path, rs in by_path.items():
        if len(rs) > 1 and rs[0].get("us_per_row"):
            lines.append(f"| {path} | {rs[-1]['us_per_row'] / rs[0]['us_per_row']:.2f}x |")
    (RESULTS / f"curves-{stamp}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "curves-latest.json").write_text(json.dumps({"when": stamp, "results": results}, indent=2))
    print("\n".join(lines))
    if any(r["exit_code"] != 0 for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
