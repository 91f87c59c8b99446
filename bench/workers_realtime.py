"""Keyed-sync latency through `syncengine worker` (procrastinate): enqueue -> row written on the other side.

Not a test: ``python -m bench.workers_realtime [--edits 1000] [--workers 2]``. A SQLite <-> SQLite
pipeline with a PostgreSQL ledger (a scratch database, dropped after) and N worker processes.
Two phases: *latency* (one edit at a time: edit the left row, enqueue its keyed sync, wait until
the right row has the new value) and *throughput* (every edit enqueued at once, then wait for
all). The webhook receiver is left out: this is the worker half of bench/realtime.py's path.
Writes the figures to bench/results/workers.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from syncengine.config import load_config
from syncengine.engine import Engine
from syncengine.workers.queue import JobQueue
from syncengine.workers.service import ensure_schema
from syncengine.workers.settings import worker_settings
from tests.integration.workers.cluster import Cluster, scratch_database

RESULTS = Path(__file__).parent / "results" / "workers.md"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--latency-edits", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=4, help="edits before the latency phase, not counted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as database:
        cluster = Cluster(Path(tmp), database, {"rt": None}, "  heartbeat_seconds: 2\n  stalled_after_seconds: 10\n")
        try:
            rows = cluster.load_left("rt", args.edits)
            with Engine(cluster.config) as engine:
                engine.sync("rt")  # the starting point: both sides agree
            left, right = cluster.stores["rt"]
            ltable = sa.Table("clients", sa.MetaData(), autoload_with=left.engine)
            rtable = sa.Table("clients", sa.MetaData(), autoload_with=right.engine)
            settings = worker_settings(load_config(cluster.config))
            ensure_schema(settings, database)
            for _ in range(args.workers):
                cluster.start_worker("--concurrency", "2")

            def edit(key: str, tag: str) -> None:
                stamp = datetime.now(UTC).replace(tzinfo=None)
                with left.engine.begin() as conn:
                    conn.execute(ltable.update().where(ltable.c.id == key).values(first_name=f"{key}-{tag}",
                                                                                 updated_at=stamp))

            def arrived(tag: str) -> set[str]:
                with right.engine.connect() as conn:
                    return {r.id for r in conn.execute(sa.select(rtable.c.id).where(
                        rtable.c.first_name.like(f"%-{tag}")))}

            # workers up (registered with procrastinate), then a few edits not counted: each worker
            # thread opens its Engine on its first job, and the first jobs would time worker start-up
            deadline = time.monotonic() + 120
            while cluster.query("SELECT count(*) AS n FROM procrastinate_workers")[0].n < args.workers:
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.1)
            latencies: list[float] = []
            latency_jobs: list[int] = []
            job_latency: dict[int, float] = {}
            with JobQueue(settings) as queue:
                keys = list(rows)
                for key in keys[args.latency_edits: args.latency_edits + args.warmup]:
                    edit(key, "warm")
                    queue.enqueue_keyed_sync("rt", "rt_left", "clients", [key])
                    while key not in arrived("warm"):
                        time.sleep(0.002)
                for key in keys[: args.latency_edits]:
                    edit(key, "lat")
                    start = time.perf_counter()
                    job = queue.enqueue_keyed_sync("rt", "rt_left", "clients", [key])[0]
                    while key not in arrived("lat"):
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - start)
                    if job is not None:
                        latency_jobs.append(job)
                        job_latency[job] = latencies[-1]
                # where the one-at-a-time time goes, from procrastinate's own job events
                phases = cluster.query(
                    "SELECT job_id, type, at FROM procrastinate_events WHERE job_id = ANY(:ids) ORDER BY id",
                    ids=latency_jobs)
                marks: dict[int, dict[str, datetime]] = {}
                for event in phases:
                    marks.setdefault(event.job_id, {})[event.type] = event.at
                waits = [(m["started"] - m["deferred"]).total_seconds() * 1000 for m in marks.values()
                         if {"deferred", "started"} <= set(m)]
                runs = [(m["succeeded"] - m["started"]).total_seconds() * 1000 for m in marks.values()
                        if {"started", "succeeded"} <= set(m)]
                slowest = []  # the outliers' timelines: where their time went
                for job_id in sorted(job_latency, key=job_latency.__getitem__, reverse=True)[:3]:
                    m = marks.get(job_id, {})
                    base = m.get("deferred")
                    steps = ", ".join(f"{kind} +{(at - base).total_seconds() * 1000:.0f} ms"
                                      for kind, at in m.items() if base is not None)
                    slowest.append(f"job {job_id}: {job_latency[job_id] * 1000:.0f} ms ({steps})")
                for key in keys:
                    edit(key, "tp")
                started: dict[str, float] = {}
                begin = time.perf_counter()
                for key in keys:
                    started[key] = time.perf_counter()
                    queue.enqueue_keyed_sync("rt", "rt_left", "clients", [key])
                enqueued = time.perf_counter() - begin
                seen: dict[str, float] = {}
                deadline = time.monotonic() + 900
                while len(seen) < len(keys) and time.monotonic() < deadline:
                    now = time.perf_counter()
                    for key in arrived("tp") - set(seen):
                        seen[key] = now
                    time.sleep(0.01)
                total = time.perf_counter() - begin
            cluster.stop_all()
        finally:
            cluster.close()
    backlog = [seen[k] - started[k] for k in seen]
    ms = [v * 1000 for v in latencies]
    lines = [
        "# Keyed-sync latency through procrastinate workers",
        "",
        f"`python -m bench.workers_realtime --edits {args.edits} --latency-edits {args.latency_edits} "
        f"--workers {args.workers}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (2 shared cores, loopback "
        f"PostgreSQL, SQLite <-> SQLite, each worker --concurrency 2; {args.warmup} warm-up edits not counted).",
        "",
        "| phase | edits | p50 | p95 | p99 | max | throughput |",
        "|---|---|---|---|---|---|---|",
        f"| one at a time (enqueue -> written) | {len(ms)} | {statistics.median(ms):.0f} ms | "
        f"{_quantile(ms, 0.95):.0f} ms | {_quantile(ms, 0.99):.0f} ms | {max(ms):.0f} ms | "
        f"{len(ms) / (sum(latencies) or 1):.1f}/s |",
        f"| all enqueued at once (enqueue -> written, incl. queueing) | {len(seen)}/{len(keys)} | "
        f"{_quantile(backlog, 0.5) * 1000:.0f} ms | {_quantile(backlog, 0.95) * 1000:.0f} ms | "
        f"{_quantile(backlog, 0.99) * 1000:.0f} ms | {max(backlog) * 1000:.0f} ms | {len(seen) / total:.1f}/s "
        f"(enqueue alone: {len(keys) / enqueued:.0f}/s) |",
        "",
        f"One at a time, from procrastinate's events: deferred -> started p50 {statistics.median(waits or [0]):.0f} ms "
        f"(p95 {_quantile(waits or [0], 0.95):.0f} ms), started -> succeeded (the keyed run) p50 "
        f"{statistics.median(runs or [0]):.0f} ms (p95 {_quantile(runs or [0], 0.95):.0f} ms).",
        "",
        "Slowest one-at-a-time edits: " + "; ".join(slowest) + ".",
        "",
        "Keyed syncs of one pipeline share its `lock`; the job holding it takes the keyed jobs waiting behind",
        "it into its own run (syncengine/workers/batch.py), so a burst is a few runs, not one per record.",
    ]
    # newest first; earlier runs stay below for comparison
    earlier = RESULTS.read_text() if RESULTS.exists() else ""
    title = lines[0]
    earlier = earlier.removeprefix(title).lstrip("\n")
    RESULTS.write_text("\n".join(lines) + ("\n\n## Earlier\n\n" + earlier.replace("## Earlier\n\n", "")
                                           if earlier else "\n"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
