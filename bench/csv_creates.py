"""Creates into a CSV file through the connector's write path, as the reconciler sends them.

Not a test: ``python -m bench.csv_creates [--rows 10000 100000 200000] [--batch 2000]``. Each size
runs in its own process (so peak RSS is its own) and starts from a header-only file; the ops come
in batches of ``--batch`` (the reconciler's default batch size), each row with its key given, as a
pipeline that maps ids sends them. Prints wall and CPU time, time per row, peak RSS and file size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from connectors.csvfile import CsvConnector, CsvObjectConfig
from syncengine.connector import WriteOp

COLUMNS = {"balance": "decimal", "updated_at": "datetime"}
HEADER = "id,first_name,last_name,email,organization,phone,currency,balance,updated_at\n"


def _fields(i: int) -> dict[str, object]:
    return {"id": f"c{i}", "first_name": f"First{i}", "last_name": f"Last{i}", "email": f"user{i}@example.com",
            "organization": f"Org {i % 5000}", "phone": f"+1-555-{i % 10_000:04d}",
            "currency": ("USD", "EUR", "CAD", "GBP", "JPY")[i % 5], "balance": Decimal(f"{i % 100_000}.25")}


def run_one(rows: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clients.csv"
        path.write_text(HEADER, encoding="utf-8")
        connector = CsvConnector("sheet", {"clients": CsvObjectConfig(path, columns=COLUMNS, updated_at="updated_at")})
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, rows, batch):
            ops = [WriteOp("create", None, _fields(i), f"create-{i}") for i in range(start, min(start + batch, rows))]
            results = connector.write_batch("clients", ops)
            assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = path.stat().st_size
        with path.open(encoding="utf-8") as handle:
            assert sum(1 for _ in handle) == rows + 1
    return {"rows": rows, "batch": batch, "wall_s": wall, "cpu_s": cpu, "us_per_row": wall / rows * 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "file_mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 200_000])
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.rows[0], args.batch)))
        return
    print(f"{'rows':>8} {'batches':>8} {'wall s':>8} {'cpu s':>8} {'us/row':>8} {'peak RSS MB':>12} {'file MB':>8}")
    for rows in args.rows:
        out = subprocess.run([sys.executable, "-m", "bench.csv_creates", "--one", "--rows", str(rows),
                              "--batch", str(args.batch)], check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        print(f"{r['rows']:>8} {-(-r['rows'] // r['batch']):>8} {r['wall_s']:>8.2f} {r['cpu_s']:>8.2f} "
              f"{r['us_per_row']:>8.1f} {r['peak_rss_mb']:>12.0f} {r['file_mb']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
