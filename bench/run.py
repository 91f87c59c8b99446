"""`make bench`: a 1,000,000-row CSV <-> SQLite two-way reconcile, measured beside dlt.

Phases, each in its own process so wall time and peak RSS are its own:
  1. first full reconcile (creates every row in SQLite, every link and snapshot);
  2. full reconcile with nothing changed;
  3. incremental reconcile after 1% of the CSV rows changed;
  4. dlt loading the same CSV into SQLite (merge on id), for comparison.
Results go to bench/results/ as JSON and Markdown. Usage: python -m bench.run [--rows N] [--no-dlt]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results"
CURRENCIES = ["USD", "EUR", "CAD", "GBP", "JPY"]
COLUMNS = ["id", "first_name", "last_name", "email", "organization", "phone", "currency", "balance", "updated_at"]

CONFIG = """\
ledger: sqlite:///{work}/ledger.db
connectors:
  sheet:
    type: csvfile
    objects:
      clients: {{path: {csv}, key: id, updated_at: updated_at,
                columns: {{balance: decimal, updated_at: datetime}}}}
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
    fields:
      - {left: id, right: id}
      - {left: first_name, right: first_name}
      - {left: last_name, right: last_name}
      - {left: email, right: email}
      - {left: organization, right: organization}
      - {left: phone, right: phone}
      - {left: currency, right: currency}
      - {left: balance, right: balance}
"""

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"]


def generate(path: Path, rows: int, seed: int = 20261125) -> None:
    """Clients-like rows: unique email, 2-place balance, updated_at spread over 2025 (fixed seed)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(1, rows + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            when = start + timedelta(seconds=rng.randrange(365 * 86400))
            writer.writerow([
                f"c{i}", first, last, f"{first.lower()}.{last.lower()}.{i}@example.com",
                f"{last} & Co {i % 997}", f"+1-555-{i % 10000:04d}", rng.choice(CURRENCIES),
                f"{rng.randrange(0, 10_000_000) / 100:.2f}", when.isoformat(),
            ])


def change_one_percent(path: Path, seed: int = 7) -> int:
    """Rewrite the CSV with 1% of rows given a new balance and a new updated_at."""
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    changed = 0
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    with path.open(newline="", encoding="utf-8") as src, tmp.open("w", newline="", encoding="utf-8") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < 0.01:
                row[7] = f"{rng.randrange(0, 10_000_000) / 100:.2f}"
                row[8] = now
                changed += 1
            writer.writerow(row)
    os.replace(tmp, path)
    return changed


def measure(argv: list[str], label: str) -> dict[str, Any]:
    """Run a child process; its wall time and peak RSS (from wait4's rusage)."""
    shown = argv[argv.index("sync"):] if "sync" in argv else argv[1:]
    print(f"  {label}: {' '.join(shown)}", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    result = {"label": label, "wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
              "exit_code": proc.returncode}
    if proc.returncode != 0:
        result["output_tail"] = output[-3000:]
        print(output[-3000:])
    print(f"    {result['wall_s']} s, {result['peak_rss_mb']} MB peak, exit {proc.returncode}", flush=True)
    return result


def engine_sync(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "syncengine", "--log-level", "error", "sync", "-c", str(config), *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-dlt", action="store_true", help="Skip the dlt comparison.")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(exist_ok=True)
    csv_path = WORK / "clients.csv"
    print(f"generating {args.rows:,} rows ...", flush=True)
    t0 = time.perf_counter()
    generate(csv_path, args.rows)
    print(f"  {time.perf_counter() - t0:.1f} s, {csv_path.stat().st_size / 1e6:.0f} MB", flush=True)
    (WORK / "mapping.yaml").write_text(MAPPING)
    config = WORK / "config.yaml"
    config.write_text(CONFIG.format(work=WORK, csv=csv_path))

    phases: list[dict[str, Any]] = []
    phases.append(measure(engine_sync(config), "first full reconcile (creates all rows, links, snapshots)"))
    phases.append(measure(engine_sync(config, "--full"), "full reconcile, nothing changed"))
    changed = change_one_percent(csv_path)
    phases.append(measure(engine_sync(config), f"incremental reconcile, {changed:,} rows (1%) changed"))
    if not args.no_dlt:
        phases.append(measure([sys.executable, str(HERE / "dlt_load.py"), str(csv_path), str(WORK / "dlt.db")],
                              "dlt 'merge' load of the same CSV into SQLite"))
    for phase in phases:
        phase["rows_per_s"] = round(args.rows / phase["wall_s"]) if phase["wall_s"] else None

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    report = {"when": stamp, "rows": args.rows, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                             "platform": platform.platform()}, "phases": phases}
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    lines = [f"# CSV <-> SQLite reconcile, {args.rows:,} rows ({stamp})", "",
             "| phase | wall (s) | rows/s | peak RSS (MB) | exit |", "|---|---|---|---|---|"]
    for p in phases:
        lines.append(f"| {p['label']} | {p['wall_s']} | {p['rows_per_s']:,} | {p['peak_rss_mb']} | {p['exit_code']} |")
    (RESULTS / f"{stamp}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if any(p["exit_code"] != 0 for p in phases):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
