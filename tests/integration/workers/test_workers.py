"""`syncengine worker` on procrastinate: three processes, two scheduled pipelines, one killed.

Each pipeline copies SQLite rows to another SQLite file; the ledger and procrastinate's jobs
share one PostgreSQL database made for the test. The expected rows are known (what was written
on the left), and the ledger's run history says whether two runs of a pipeline ever overlapped.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syncengine.config import load_config
from syncengine.workers.queue import JobQueue
from syncengine.workers.settings import worker_settings
from tests.integration.workers.cluster import Cluster, row, scratch_database

pytestmark = pytest.mark.xdist_group("pg")

FAST = ("  heartbeat_seconds: 0.5\n  stalled_after_seconds: 2\n  stalled_check: 1s\n  concurrency: 2\n")
ROWS = 1500


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_database() as url:
        yield url


def _shape(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {key: (r["email"], r["first_name"], r["last_name"], Decimal(str(r["balance"]))) for key, r in rows.items()}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_three_workers_never_overlap_a_pipeline_and_a_killed_workers_run_finishes_elsewhere(
        tmp_path: Path, database: str) -> None:
    cluster = Cluster(tmp_path, database, {"alpha": "1s", "beta": "1s"}, FAST)
    try:
        expected = {name: _shape(cluster.load_left(name, ROWS)) for name in ("alpha", "beta")}
        for _ in range(3):
            cluster.start_worker()

        # A first run of alpha is under way: find the worker holding its ledger lease, kill -9 it.
        def holder() -> int | None:
            rows = cluster.query("SELECT owner FROM leases WHERE name = 'pipeline:alpha'")
            running = [r for r in cluster.runs("alpha") if r.status == "running"]
            if not rows or not running:
                return None
            return int(rows[0].owner.split(" ", 1)[0].rsplit(":", 1)[1])

        cluster.wait_for("a run of alpha", lambda: holder() is not None)
        victim = holder()
        assert victim in {p.pid for p in cluster.procs}
        os.kill(victim, signal.SIGKILL)
        killed_at = datetime.now(UTC)
        next(p for p in cluster.procs if p.pid == victim).wait()
        killed_run = next(r for r in cluster.runs("alpha") if r.status == "running")

        # Its job stays 'doing' and holds alpha's lock until the stalled-job check gives it back:
        # so any later ok run of alpha proves the recovery.
        def converged() -> bool:
            return all(
                _shape(cluster.stores[name][1].rows()) == expected[name]
                and any(r.status == "ok" and _utc(r.started_at) > killed_at for r in cluster.runs(name))
                for name in ("alpha", "beta"))

        cluster.wait_for("both pipelines converged after the kill", converged, timeout=45)
        codes = cluster.stop_all()
        assert codes == [0, 0], cluster.logs()

        for name in ("alpha", "beta"):
            right = cluster.stores[name][1]
            all_rows = right.all_rows()
            assert len(all_rows) == ROWS and len({r["id"] for r in all_rows}) == ROWS  # no duplicates
            assert _shape(right.rows()) == expected[name]
            assert _shape(cluster.stores[name][0].rows()) == expected[name]  # the left side untouched
            runs = cluster.runs(name)
            assert len(runs) >= 2
            for before, after in pairwise(runs):
                end = _utc(before.finished_at) if before.finished_at else killed_at
                assert end <= _utc(after.started_at), (name, before, after)  # never two at once
        stranded = [r for r in cluster.runs("alpha") if r.finished_at is None]
        assert [r.id for r in stranded] == [killed_run.id]  # only the killed one never finished
        # The killed worker's job was given back by the stalled-job check, not left 'doing'.
        assert cluster.query("SELECT id FROM procrastinate_jobs WHERE status = 'doing'") == []
        retried = cluster.query(
            "SELECT count(*) AS n FROM procrastinate_events WHERE type IN ('retried', 'failed') "
            "AND job_id IN (SELECT id FROM procrastinate_jobs WHERE task_name = 'syncengine.run_pipeline')")
        assert retried[0].n >= 1
    finally:
        cluster.close()


def test_a_burst_of_keyed_syncs_on_one_record_is_one_job_and_the_record_arrives(
        tmp_path: Path, database: str) -> None:
    cluster = Cluster(tmp_path, database, {"gamma": None}, FAST)
    try:
        left, right = cluster.stores["gamma"]
        left.insert(row(1))
        left.insert(row(2))
        settings = worker_settings(load_config(cluster.config))
        from syncengine.workers.service import ensure_schema

        assert ensure_schema(settings, database) is True
        assert ensure_schema(settings, database) is False  # once only
        with JobQueue(settings) as queue:
            burst = [queue.enqueue_keyed_sync("gamma", "gamma_left", "clients", ["r1"])[0] for _ in range(25)]
            other = queue.enqueue_keyed_sync("gamma", "gamma_left", "clients", ["r2", "r2"])
        assert burst[0] is not None and burst[1:] == [None] * 24  # coalesced into the first
        assert len(other) == 1 and other[0] is not None
        jobs = cluster.query("SELECT task_name, status, queueing_lock FROM procrastinate_jobs ORDER BY id")
        assert [(j.task_name, j.queueing_lock) for j in jobs] == [
            ("syncengine.keyed_sync", "keyed:gamma:gamma_left:clients:r1"),
            ("syncengine.keyed_sync", "keyed:gamma:gamma_left:clients:r2")]

        cluster.start_worker("--concurrency", "1")
        cluster.wait_for("both records written on the right", lambda: set(right.rows()) == {"r1", "r2"})
        cluster.wait_for("jobs finished", lambda: all(
            j.status in ("succeeded", "cancelled") for j in cluster.query(
                "SELECT status FROM procrastinate_jobs WHERE task_name = 'syncengine.keyed_sync'")))
        assert _shape(right.rows()) == _shape({"r1": row(1), "r2": row(2)})
        # the job for r1 took r2's waiting job into its run (syncengine/workers/batch.py): one run
        assert [r.mode for r in cluster.runs("gamma")] == ["keyed"]
        jobs = cluster.query("SELECT status FROM procrastinate_jobs WHERE task_name = 'syncengine.keyed_sync' "
                             "ORDER BY id")
        assert [j.status for j in jobs] == ["succeeded", "cancelled"]
        assert cluster.stop_all() == [0]
    finally:
        cluster.close()


def test_a_keyed_sync_behind_the_pipeline_lock_starts_when_the_lock_frees_not_at_the_next_poll(
        tmp_path: Path, database: str) -> None:
    # An idle worker polls only every 300 s: the second job, refused while the first held the
    # pipeline's lock, must be announced when that lock frees (syncengine/workers/wake.py).
    # No other job may come in meanwhile (its insert would wake the worker): no stalled check.
    quiet = '  poll_seconds: 300\n  stalled_check: "0 0 1 1 *"\n  concurrency: 2\n'
    cluster = Cluster(tmp_path, database, {"delta": None}, quiet)
    try:
        left, right = cluster.stores["delta"]
        left.insert(row(1))
        left.insert(row(2))
        settings = worker_settings(load_config(cluster.config))
        from syncengine.workers.service import ensure_schema

        ensure_schema(settings, database)
        with JobQueue(settings) as queue:
            # a whole run of the pipeline waits behind a keyed sync (keyed jobs go first; a keyed
            # job takes only keyed jobs into its run)
            keyed = queue.enqueue_keyed_sync("delta", "delta_left", "clients", ["r1"])
            full = queue.enqueue_pipeline("delta")
        assert None not in keyed and full is not None
        cluster.start_worker("--concurrency", "2")  # takes the keyed job, finds the run locked, goes idle
        cluster.wait_for("both records on the right", lambda: set(right.rows()) == {"r1", "r2"}, timeout=60)
        assert _shape(right.rows()) == _shape({"r1": row(1), "r2": row(2)})
        runs = cluster.runs("delta")
        assert [r.mode for r in runs] == ["keyed", "incremental"], runs
        assert _utc(runs[0].finished_at) <= _utc(runs[1].started_at)  # one after the other, under the lock
        assert cluster.stop_all() == [0]
    finally:
        cluster.close()


def test_a_keyed_sync_takes_the_waiting_ones_into_its_run_and_a_kill_9_mid_batch_loses_none(
        tmp_path: Path, database: str) -> None:
    cluster = Cluster(tmp_path, database, {"eps": None}, FAST)
    try:
        expected = _shape(cluster.load_left("eps", 60))
        right = cluster.stores["eps"][1]
        settings = worker_settings(load_config(cluster.config))
        from syncengine.workers.service import ensure_schema

        ensure_schema(settings, database)
        with JobQueue(settings) as queue:
            ids = [queue.enqueue_keyed_sync("eps", "eps_left", "clients", [key])[0] for key in expected]
            assert None not in ids
            # the right side's SQLite file is locked: the batch's run cannot write, so it is caught mid-run
            blocker = sa.create_engine(f"sqlite:///{tmp_path / 'eps_right.db'}").connect()
            blocker.exec_driver_sql("BEGIN EXCLUSIVE")
            victim = cluster.start_worker("--concurrency", "1")

            def taken() -> bool:
                rows = cluster.query("SELECT count(*) AS n FROM procrastinate_jobs WHERE status = 'todo' "
                                     "AND task_name = 'syncengine.keyed_sync' AND queueing_lock IS NULL")
                return bool(rows[0].n == len(ids) - 1)

            cluster.wait_for("the first job to take the 59 others into its run", taken)
            # an event from now on is a new job: the taken ones no longer absorb it
            assert queue.enqueue_keyed_sync("eps", "eps_left", "clients", ["r7"])[0] is not None
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            blocker.rollback()
            blocker.close()
            assert right.rows() == {}
            cluster.start_worker("--concurrency", "1")  # retries the killed job; the taken ones ran nowhere yet
            cluster.wait_for("all 60 records on the right", lambda: _shape(right.rows()) == expected, timeout=60)
            cluster.wait_for("every keyed job ended", lambda: not cluster.query(
                "SELECT id FROM procrastinate_jobs WHERE task_name = 'syncengine.keyed_sync' "
                "AND status IN ('todo', 'doing')"))
        assert cluster.stop_all()[-1] == 0
        all_rows = right.all_rows()
        assert len(all_rows) == 60 and len({r["id"] for r in all_rows}) == 60  # no duplicates
        statuses = cluster.query("SELECT status, count(*) AS n FROM procrastinate_jobs "
                                 "WHERE task_name = 'syncengine.keyed_sync' GROUP BY status")
        assert sum(s.n for s in statuses) == 61 and {s.status for s in statuses} <= {"succeeded", "cancelled"}
    finally:
        cluster.close()
