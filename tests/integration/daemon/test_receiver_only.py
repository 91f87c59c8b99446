"""With a ``workers:`` section the daemon only receives: webhooks become procrastinate jobs, a worker syncs.

FreshBooks sandbox on the left, a CSV file on the right, the ledger and procrastinate's jobs in a
PostgreSQL database made for the test. The daemon runs on uvicorn as in the other daemon tests;
the worker is a real ``syncengine worker`` process, started only once the jobs are queued, so any
run in the ledger before it started would be the daemon's.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from connectors.freshbooks.sandbox import SandboxServer
from connectors.freshbooks.webhooks import sign
from tests.conftest import PG_URL
from tests.integration.workers.cluster import ROOT, scratch_database

from .conftest import Running, free_port, run_daemon, wait_until, write_config

pytestmark = pytest.mark.xdist_group("pg")


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture
def database() -> Iterator[str]:
    if not _pg_reachable():
        pytest.skip(f"PostgreSQL at {PG_URL} is not reachable")
    with scratch_database("h_daemon2") as url:
        yield url


def _query(r: Running, text: str) -> list[Any]:
    with r.daemon.ledger.engine.connect() as conn:
        return list(conn.execute(sa.text(text)))


def _signed_update(r: Running, client_id: str) -> tuple[bytes, dict[str, str]]:
    verifier = next(iter(r.daemon.ledger.load_token("webhook:books")["verifiers"].values()))
    fields = {"name": "client.update", "object_id": client_id, "account_id": r.sb.account_id,
              "business_id": str(r.sb.business_id), "identity_id": "1", "user_id": "1"}
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    return body, {"X-FreshBooks-Hmac-SHA256": sign(fields, verifier),
                  "Content-Type": "application/x-www-form-urlencoded"}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _lag(exposition: str, connector: str) -> tuple[float, float]:
    """(count, sum) of the event-to-write lag histogram for ``connector`` in a /metrics text."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name == "syncengine_event_to_write_lag_seconds":
            for sample in family.samples:
                if sample.labels.get("connector") == connector and sample.name.endswith(("_count", "_sum")):
                    found[sample.name.rsplit("_", 1)[1]] = sample.value
    return found.get("count", 0.0), found.get("sum", 0.0)


def test_with_workers_the_daemon_queues_one_job_per_record_and_a_worker_applies_it(
        tmp_path: Path, sb: SandboxServer, database: str) -> None:
    config = write_config(tmp_path, sb, free_port(), ledger_url=database)
    with config.open("a") as handle:
        handle.write("workers:\n  poll_seconds: 0.2\n")
    with run_daemon(config, sb) as r:
        wait_until(lambda: r.daemon.ledger.load_token("webhook:books"), what="the verifier")

        made = r.api("POST", "users/clients", json={"client": {"email": "recv@x.io", "fname": "First", "lname": "L"}})
        assert made.status_code == 200, made.text
        client_id = str(made.json()["response"]["result"]["client"]["id"])
        r.sb.sandbox.webhooks.wait_idle()  # the sandbox's signed client.create was answered (stored)
        edited = r.api("PUT", f"users/clients/{client_id}", json={"client": {"fname": "Edited"}})
        assert edited.status_code == 200, edited.text
        r.sb.sandbox.webhooks.wait_idle()  # and its client.update
        body, headers = _signed_update(r, client_id)  # one more, ours, for the same record
        assert r.http.post(f"{r.url}/webhooks/books", content=body, headers=headers).status_code == 200

        wait_until(lambda: not r.daemon.ledger.pending_syncs()
                   and not r.daemon.ledger.unprocessed_webhook_events(), what="the pending syncs handed over")
        events = _query(r, "SELECT event_id FROM webhook_events WHERE source = 'books'")
        assert len(events) >= 2, events
        assert not r.csv  # the daemon synced nothing ...
        assert r.daemon.ledger.recent_runs() == []  # ... and ran nothing
        assert r.synced == []
        jobs = _query(r, "SELECT task_name, status, queueing_lock, args FROM procrastinate_jobs")
        assert [(j.task_name, j.status, j.queueing_lock) for j in jobs] == [
            ("syncengine.keyed_sync", "todo", f"keyed:books-sheet:books:clients:{client_id}")]
        arrived_at = jobs[0].args.pop("arrived_at")  # when the first event naming the record was stored
        assert jobs[0].args == {"pipeline": "books-sheet", "connector": "books", "object": "clients",
                                "keys": [client_id]}
        first_stored = _query(r, "SELECT min(received_at) AS at FROM webhook_events WHERE source = 'books'")[0].at
        assert abs(arrived_at - _utc(first_stored).timestamp()) < 5, (arrived_at, first_stored)
        health = r.http.get(f"{r.url}/healthz")
        assert (health.status_code, health.json()) == (200, {"ok": True, "queue": "procrastinate", "ledger": True,
                                                             "jobs": True, "worker": True})
        assert r.daemon.scheduler is None and r.daemon.next_runs() is None  # the workers own the schedules

        worker_started = datetime.now(UTC)
        log_path = tmp_path / "worker.log"
        with log_path.open("wb") as log:
            metrics_port = free_port()
            worker = subprocess.Popen([sys.executable, "-m", "syncengine", "--log-level", "info", "worker",
                                       "-c", str(config), "--metrics-port", str(metrics_port)],
                                      cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                def applied() -> bool:
                    assert worker.poll() is None, log_path.read_text(errors="replace")
                    return r.csv.get("recv@x.io", {}).get("first_name") == "Edited"

                wait_until(applied, timeout=60, what="the edit in the CSV, written by the worker")
                wait_until(lambda: [j.status for j in _query(
                    r, "SELECT status FROM procrastinate_jobs WHERE task_name = 'syncengine.keyed_sync'")]
                    == ["succeeded"], timeout=30, what="the job succeeded")
                # the worker, where the write happened, observed the lag once for the one record,
                # from the event's arrival: at least as long as the event waited for the worker to start
                lag = _lag(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", trust_env=False).text, "books")
                assert lag[0] == 1, lag
                assert lag[1] >= worker_started.timestamp() - arrived_at > 0, (lag, arrived_at)
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=60) == 0, log_path.read_text(errors="replace")
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        assert set(r.csv) == {"recv@x.io"}
        runs = r.daemon.ledger.recent_runs(pipeline="books-sheet")
        assert [(run.mode, run.status) for run in runs] == [("keyed", "ok")], runs
        assert runs[0].started_at >= worker_started  # the worker's run, not the daemon's
        assert r.synced == []
