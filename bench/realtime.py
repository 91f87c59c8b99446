"""Realtime benchmark: edits in the FreshBooks sandbox -> webhook -> keyed sync -> a CSV row.

Runs the daemon on loopback with the FreshBooks sandbox on the left and a CSV file on the right.
Each edit renames a client in the sandbox; edits go one at a time for the latency figures, then
as a burst for events per second (done when every client's last name is in the CSV).

- embedded (default): SQLite ledger, in-process work queue. Latency is from just before the API
  call to the end of the keyed sync that wrote it (the daemon's ``on_synced`` hook, after the CSV
  file and the ledger are committed).
- ``--workers N``: the ledger and procrastinate's jobs in a scratch PostgreSQL database (made for the
  run, dropped after); the daemon only receives (its config has a ``workers:`` section) and N
  ``syncengine worker --concurrency 2`` processes do the keyed syncs. The hook fires in no process
  of ours, so latency is from just before the API call to the moment the new name is read in the
  CSV file (polled every 2 ms).

    .venv/bin/python bench/realtime.py [--edits 1000] [--workers N] [--out bench/results/realtime.md]

The figures are added to ``--out`` as a new dated section; earlier sections are kept.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.freshbooks.sandbox import SandboxServer
from tests.integration.daemon.conftest import Running, free_port, run_daemon, wait_until, write_config

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


@contextlib.contextmanager
def database(postgres: bool) -> Iterator[str | None]:
    if not postgres:
        yield None
        return
    from tests.integration.workers.cluster import scratch_database

    with scratch_database("h_rtbench") as url:
        yield url


@contextlib.contextmanager
def worker_processes(config: Path, count: int, url: str, root: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    import psycopg

    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for i in range(count):
            log = (root / f"worker{i}.log").open("wb")
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "-m", "syncengine", "--log-level", "warning", "worker",
                                           "-c", str(config), "--concurrency", "2"],
                                          cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))

        def registered() -> bool:
            dead = [p.pid for p in procs if p.poll() is not None]
            assert not dead, f"worker(s) {dead} exited: " + "".join(
                (root / f"worker{i}.log").read_text(errors="replace")[-2000:] for i in range(count))
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
            return row is not None and row[0] >= count

        wait_until(registered, timeout=120, what="the workers registered with procrastinate")
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def job_phases(url: str, since: datetime, until: datetime) -> list[str]:
    """Where the workers' time goes, from procrastinate's events of the keyed jobs deferred during
    the one-at-a-time phase."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e.job_id, e.type, e.at FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE j.task_name = 'syncengine.keyed_sync' ORDER BY e.id").fetchall()
    marks: dict[int, dict[str, datetime]] = {}
    for job_id, kind, at in rows:
        marks.setdefault(job_id, {})[str(kind)] = at
    chosen = [m for m in marks.values() if "deferred" in m and since <= m["deferred"] <= until]

    def between(first: str, then: str) -> list[float]:
        return [(m[then] - m[first]).total_seconds() for m in chosen if first in m and then in m]

    waits, runs = between("deferred", "started"), between("started", "succeeded")
    if not waits or not runs:
        return []
    return [f"From procrastinate's events of the {len(chosen)} one-at-a-time jobs: deferred -> started p50 "
            f"{percentile(waits, 50) * 1000:.0f} ms (p95 {percentile(waits, 95) * 1000:.0f} ms), started -> "
            f"succeeded (the keyed run) p50 {percentile(runs, 50) * 1000:.0f} ms "
            f"(p95 {percentile(runs, 95) * 1000:.0f} ms).", ""]


def measure(r: Running, args: argparse.Namespace) -> tuple[list[float], list[float], float, tuple[datetime, datetime]]:
    """Latencies of the one-at-a-time edits in s (to ``on_synced``: embedded only; to the CSV read),
    the wall time of the burst in s, and when the one-at-a-time phase began and ended."""
    synced: dict[str, list[float]] = {}
    lock = threading.Lock()

    def on_synced(items: list) -> None:  # type: ignore[type-arg]
        now = time.perf_counter()
        with lock:
            for item in items:
                synced.setdefault(item.key, []).append(now)

    def csv_now() -> dict[str, dict[str, str]]:
        try:
            return r.csv
        except (OSError, ValueError, KeyError):  # caught mid-replace: read again
            return {}

    r.daemon.on_synced = on_synced
    ids = []
    emails = {}
    for i in range(args.clients):
        made = r.api("POST", "users/clients", json={"client": {"email": f"b{i}@x.io", "fname": "F"}})
        ids.append(str(made.json()["response"]["result"]["client"]["id"]))
        emails[ids[-1]] = f"b{i}@x.io"
    # the creates also warm up each worker thread's Engine (not counted)
    wait_until(lambda: all(e in csv_now() for e in emails.values()), timeout=120, what="the clients")
    if not args.workers:
        wait_until(lambda: all(k in synced for k in ids), timeout=60, what="the clients synced")
    latencies: list[float] = []  # embedded: to the on_synced hook
    read: list[float] = []  # both modes: to the new name read in the CSV file
    window_start = datetime.now(UTC)
    for n in range(args.edits):
        key = ids[n % len(ids)]
        name = f"E{n}"
        with lock:
            seen = len(synced.get(key, []))
        started = time.perf_counter()
        r.api("PUT", f"users/clients/{key}", json={"client": {"fname": name}})
        deadline = time.monotonic() + 60
        while csv_now().get(emails[key], {}).get("first_name") != name:
            assert time.monotonic() < deadline, f"edit {n} not written within 60 s"
            time.sleep(0.002)
        read.append(time.perf_counter() - started)
        if not args.workers:
            wait_until(lambda key=key, seen=seen: len(synced.get(key, [])) > seen, timeout=30, what="on_synced")
            latencies.append(synced[key][seen] - started)
    window = (window_start, datetime.now(UTC))
    burst_start = time.perf_counter()
    for n in range(args.edits):
        r.api("PUT", f"users/clients/{ids[n % len(ids)]}", json={"client": {"fname": f"B{n}"}})
    last = {ids[n % len(ids)]: f"B{n}" for n in range(args.edits)}
    wait_until(lambda: all(csv_now().get(emails[k], {}).get("first_name") == v for k, v in last.items()),
               timeout=600, what="the burst")
    return latencies, read, time.perf_counter() - burst_start, window


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="N syncengine worker processes (0: embedded)")
    parser.add_argument("--postgres", action="store_true",
                        help="embedded daemon on a scratch PostgreSQL ledger (always so with --workers)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/realtime.md"))
    args = parser.parse_args()
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    load_before = load()
    began = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(seed=5, port=0, rng_seed=3) as sb, \
            database(args.postgres or bool(args.workers)) as url:
        root = Path(tmp)
        config = write_config(root, sb, free_port(), ledger_url=url)
        if args.workers:
            with config.open("a") as handle:
                handle.write("workers:\n  concurrency: 2\n")
        with run_daemon(config, sb) as r:
            wait_until(lambda: r.daemon.ledger.load_token("webhook:books"), what="the verifier")
            phases: list[str] = []
            if url and args.workers:
                with worker_processes(config, args.workers, url, root):
                    latencies, read, burst, window = measure(r, args)
                phases = job_phases(url, *window)
            else:
                latencies, read, burst, _ = measure(r, args)
    load_after = load()
    mode = (f"{args.workers} `syncengine worker` processes (--concurrency 2), daemon receiving only, "
            "PostgreSQL ledger and procrastinate queue" if args.workers
            else f"embedded daemon, {'PostgreSQL' if args.postgres else 'SQLite'} ledger, in-process work queue")
    command = f"`.venv/bin/python bench/realtime.py --edits {args.edits}" + (
        f" --workers {args.workers}`" if args.workers else " --postgres`" if args.postgres else "`")
    label = f"{args.workers} workers" if args.workers else "embedded, PostgreSQL" if args.postgres else "embedded"

    def row(what: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (f"| {what} | {args.edits} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} "
                f"| {percentile(ms, 99):.0f} | {max(ms):.0f} | {statistics.mean(ms):.0f} "
                f"| {args.edits / (sum(read) or 1):.1f} | {args.edits / burst:.1f} |")

    lines = [
        f"## {began:%Y-%m-%d %H:%M} UTC: {'workers' if args.workers else 'embedded daemon'}",
        "",
        f"{command}: {mode}; loopback, 2 shared cores; load average (1, 5, 15 min) {load_before} before, "
        f"{load_after} after. Latency from just before the edit's API call.",
        "",
        "| mode, latency to | edits | p50 ms | p95 ms | p99 ms | max ms | mean ms | sequential events/s "
        "| burst events/s |",
        "|---|---|---|---|---|---|---|---|---|",
        *([row(f"{label}, keyed sync done (`on_synced`)", latencies)] if latencies else []),
        row(f"{label}, new name read in the CSV (2 ms poll)", read),
        "",
        *phases,
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    earlier = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(earlier.rstrip("\n") + "\n\n" + "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
