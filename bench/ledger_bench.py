"""Times the ledger's hot paths at reconcile scale: put_links, links_for, iter_links, intents.

Not a test: ``python bench/ledger_bench.py [--rows 1000000] [--url sqlite:///...]``. It prints one
line per operation with wall time and rows per second. Rows look like the benchmark's clients
(a ~250-byte canonical JSON snapshot, two SHA-256 hashes), written in reconcile-sized batches,
one transaction per batch, as the reconciler does.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from syncengine.ledger import IntentWrite, Ledger, LinkWrite

PIPELINE, PAIR = "bench", "clients"


def _common(i: int) -> str:
    fields = {
        "id": str(i),
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "email": f"user{i}@example.com",
        "organization": f"Org {i % 5000}",
        "phone": f"+1-555-{i % 10_000:04d}",
        "currency": ("USD", "EUR", "CAD", "GBP", "JPY")[i % 5],
        "balance": {"$decimal": f"{i % 100_000}.{i % 100:02d}"},
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def _batches(rows: int, batch: int, salt: str = "") -> Iterator[list[LinkWrite]]:
    for start in range(0, rows, batch):
        out = []
        for i in range(start, min(start + batch, rows)):
            text = _common(i) + salt
            digest = hashlib.sha256(text.encode()).hexdigest()
            out.append(LinkWrite(f"L{i}", f"R{i}", {}, digest, digest, common_json=text))
        yield out


class _Timer:
    """Wall and CPU time of one step: on a shared machine the CPU time of this process is the
    steadier figure (SQLite runs in-process; PostgreSQL's share is only in the wall time)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def report(self, name: str, rows: int) -> None:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        print(f"{name:<34} {wall:7.2f} s wall {cpu:7.2f} s cpu {rows / wall:>11,.0f} rows/s", flush=True)


def run(url: str, rows: int, batch: int) -> None:
    led = Ledger.open(url)
    print(f"ledger {led.dialect}: {rows:,} rows, batches of {batch:,}")
    try:
        # Build the inputs first so only ledger time is measured.
        batches = list(_batches(rows, batch))
        t = _Timer()
        for writes in batches:
            with led.transaction() as tx:
                tx.put_links(PIPELINE, PAIR, writes)
        t.report("put_links (insert)", rows)
        del batches, writes

        keys = [f"L{i}" for i in range(rows)]
        t = _Timer()
        found = 0
        for start in range(0, rows, batch):
            found += len(led.links_for(PIPELINE, PAIR, "left", keys[start : start + batch]))
        t.report("links_for (left, batches)", found)
        assert found == rows, found

        t = _Timer()
        found = 0
        for start in range(0, rows, batch):
            chunk = keys[start : start + batch]
            found += len(led.links_for(PIPELINE, PAIR, "left", chunk, with_common=False))
        t.report("links_for (left, hashes only)", found)

        t = _Timer()
        found = len(led.links_for(PIPELINE, PAIR, "right", [f"R{i}" for i in range(rows)]))
        t.report("links_for (right, one call)", found)

        t = _Timer()
        seen = sum(len(page) for page in led.iter_links(PIPELINE, PAIR))
        t.report("iter_links", seen)
        assert seen == rows, seen

        t = _Timer()
        seen = sum(len(page) for page in led.iter_links(PIPELINE, PAIR, with_common=False))
        t.report("iter_links (hashes only)", seen)

        changed = max(rows // 100, 1)
        updates = next(_batches(changed, changed, salt=" "))
        t = _Timer()
        for start in range(0, changed, batch):
            with led.transaction() as tx:
                tx.put_links(PIPELINE, PAIR, updates[start : start + batch])
        t.report("put_links (update 1%)", changed)

        intents = [
            IntentWrite("right", "create", f"L{i}", None, f"bench:{i}", {"email": f"user{i}@example.com"})
            for i in range(rows)
        ]
        t = _Timer()
        ids: list[int] = []
        for start in range(0, rows, batch):
            ids += led.begin_intents(PIPELINE, PAIR, intents[start : start + batch])
        t.report("begin_intents", rows)

        t = _Timer()
        for start in range(0, rows, batch):
            with led.transaction() as tx:
                tx.finish_intents(ids[start : start + batch], "done")
        t.report("finish_intents", rows)
    finally:
        led.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--url", help="ledger URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the cyclic GC (it rescans the million result tuples a run holds; see the report)",
    )
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    if args.url:
        run(args.url, args.rows, args.batch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'ledger.db'}", args.rows, args.batch)


if __name__ == "__main__":
    main()
