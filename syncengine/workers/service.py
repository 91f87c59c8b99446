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

import psycopg
from procrastinate import worker as procrastinate_worker
from procrastinate.schema import SchemaManager

from syncengine.config import Config
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


async def _serve(config: Config, settings: WorkerSettings, concurrency: int, queues: list[str] | None) -> None:
    stopping = threading.Event()
    pipelines = {name: pipe.schedule for name, pipe in config.pipelines.items()}
    app = build_app(config.path, settings, pipelines, should_stop=stopping.is_set)
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
               queues: list[str] | None = None) -> None:
    """Run until SIGTERM/SIGINT; the job in hand ends at its batch boundary first."""
    ensure_schema(settings, config.ledger_url)
    asyncio.run(_serve(config, settings, concurrency or settings.concurrency, queues or None))
