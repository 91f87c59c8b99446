"""One worker process: the schema in place, procrastinate's worker running, SIGTERM handled.

SIGTERM or SIGINT: take no new job, let the job in hand finish its current batch (the engine
asks ``should_stop`` between batches, and a run stopped so is recorded as partial), unregister,
return. A second signal is not special: the job in hand still ends at its batch boundary.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from typing import Any

import psycopg
from procrastinate import worker as procrastinate_worker
from procrastinate.schema import SchemaManager
from prometheus_client import start_http_server

from syncengine.config import Config
from syncengine.observability.metrics import MetricsRecorder
from syncengine.workers.settings import WorkerSettings
from syncengine.workers.tasks import build_app
from syncengine.workers.wake import install_lock_wake

__all__ = ["ensure_schema", "run_worker"]

#: any fixed number: the advisory lock that makes concurrent first starts apply the schema once.
_SCHEMA_LOCK = 0x5E_C0_DE_01


def ensure_schema(settings: WorkerSettings, ledger_url: str) -> bool:
    """Apply procrastinate's schema if it is missing (``procrastinate schema --apply``), add the
    lock-freed wake-up (:mod:`syncengine.workers.wake`) and migrate the ledger, under an advisory
    lock so workers starting together do it once.
    Returns True when the schema was applied now."""
    from syncengine.ledger import Ledger

    with psycopg.connect(settings.database, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            applied = row is None or row[0] is None
            if applied:
                conn.execute(SchemaManager.get_schema())
            install_lock_wake(conn)  # a job behind a freed lock starts at once (wake.py)
            Ledger.open(ledger_url).close()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
    return applied


async def _serve(config: Config, settings: WorkerSettings, concurrency: int, queues: list[str] | None,
                 metrics: MetricsRecorder | None) -> None:
    stopping = threading.Event()
    pipelines = {name: pipe.schedule for name, pipe in config.pipelines.items()}
    app = build_app(config.path, settings, pipelines, should_stop=stopping.is_set, metrics=metrics)
    async with app.open_async():
        worker = procrastinate_worker.Worker(
            app=app, queues=queues, concurrency=concurrency, name=f"{socket.gethostname()}:{os.getpid()}",
            install_signal_handlers=False, update_heartbeat_interval=settings.heartbeat_seconds,
            stalled_worker_timeout=settings.stalled_after_seconds, fetch_job_polling_interval=settings.poll_seconds,
        )
        loop = asyncio.get_running_loop()

        def stop() -> None:
            stopping.set()
            worker.stop()  # type: ignore[no-untyped-call]

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        try:
            await worker.run()  # type: ignore[no-untyped-call]
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


def run_worker(config: Config, settings: WorkerSettings, *, concurrency: int | None = None,
               queues: list[str] | None = None, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> None:
    """Run until SIGTERM/SIGINT; the job in hand ends at its batch boundary first.

    ``metrics_port``: serve this worker's Prometheus metrics (runs, records written, HTTP calls,
    event-to-write lag of the keyed syncs it applies) at ``http://metrics_host:metrics_port/``."""
    ensure_schema(settings, config.ledger_url)
    metrics: MetricsRecorder | None = None
    server: Any = None
    if metrics_port is not None:
        metrics = MetricsRecorder(pipelines=list(config.pipelines)).observe_http()
        server, _ = start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    try:
        asyncio.run(_serve(config, settings, concurrency or settings.concurrency, queues or None, metrics))
    finally:
        if server is not None:
            server.shutdown()
        if metrics is not None:
            metrics.close()
