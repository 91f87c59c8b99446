"""Pipelines and keyed syncs as procrastinate tasks, in the same PostgreSQL as the ledger.

procrastinate decides *where* and *one at a time*; the engine does the work:

* ``syncengine.run_pipeline(pipeline)``: a whole run, deferred with ``lock="pipeline:<name>"``
  (no two jobs of one pipeline run at once, on any machine) and ``queueing_lock`` of the same
  name (a run already waiting absorbs the next tick: misfires coalesce). A pipeline's
  ``schedule:`` becomes a periodic task that every worker defers and the database deduplicates.
* ``syncengine.keyed_sync(pipeline, connector, object, keys)``: the records a webhook names,
  under the pipeline's ``lock`` as well (a keyed sync writes the same ledger rows as a run) and
  with ``queueing_lock="keyed:<pipeline>:<connector>:<object>:<key>"``: a burst of events for one
  record leaves one job waiting. A job already running does not absorb new events (it may have
  fetched the record before the edit), so a new one waits behind it. The job holding the lock
  takes the keyed jobs waiting behind it into its own run (:mod:`syncengine.workers.batch`): a
  burst of N records is one run, not N; when that lock frees, a job still waiting starts at once
  (:mod:`syncengine.workers.wake`).
* ``syncengine.retry_stalled_jobs``: every ``stalled_check``, jobs of workers whose heartbeat is
  older than ``stalled_after_seconds`` go back to the queue (procrastinate's own recovery,
  ``JobManager.get_stalled_jobs`` + ``retry_job``). It has no ``lock``, so a copy of it stranded
  on a dead worker cannot block the next one (procrastinate #1408).

The ledger's pipeline lease still guards each run underneath: a job retried while the dead
worker's lease has not yet expired (another machine cannot see that its process is gone) waits
for it rather than failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import structlog
from procrastinate import App, PsycopgConnector, exceptions, jobs

from syncengine.engine import Engine
from syncengine.ledger.errors import PipelineBusyError
from syncengine.observability.metrics import MetricsRecorder
from syncengine.workers.batch import Taken, WaitingJobs
from syncengine.workers.schedule import to_cron
from syncengine.workers.settings import WorkerSettings

__all__ = [
    "KEYED_SYNC",
    "RETRY_STALLED",
    "RUN_PIPELINE",
    "build_app",
    "keyed_lock",
    "pipeline_lock",
]

log = structlog.get_logger("syncengine.workers")

RUN_PIPELINE = "syncengine.run_pipeline"
KEYED_SYNC = "syncengine.keyed_sync"
RETRY_STALLED = "syncengine.retry_stalled_jobs"
#: keyed syncs go before scheduled runs waiting on the same pipeline lock.
KEYED_PRIORITY = 10
#: how long a job waits for a ledger lease left by a worker that died on another machine.
LEASE_WAIT_SECONDS = 90.0


def pipeline_lock(pipeline: str) -> str:
    return f"pipeline:{pipeline}"


def keyed_lock(pipeline: str, connector: str, obj: str, key: str) -> str:
    return f"keyed:{pipeline}:{connector}:{obj}:{key}"


class _Engines(threading.local):
    """One Engine per worker thread, opened on first use: connectors and the ledger's
    connections are not shared between threads, and reopening per job would cost a mapping
    compile on every keyed sync."""

    engine: Engine | None = None


def build_app(config_path: Path, settings: WorkerSettings, pipelines: dict[str, str | None],
              should_stop: Callable[[], bool] = lambda: False, metrics: MetricsRecorder | None = None) -> App:
    """The procrastinate app for one config: its tasks, and a periodic task per scheduled pipeline.

    ``pipelines`` maps each pipeline name to its ``schedule:`` (None: not scheduled);
    ``should_stop`` is asked between batches (a worker told to stop finishes the batch in hand);
    ``metrics`` is told of each run and, for a keyed sync a webhook asked for, of the lag from the
    event's arrival in the ledger (``arrived_at``) to its record written."""
    app = App(connector=PsycopgConnector(conninfo=settings.database))
    engines = _Engines()
    waiting = WaitingJobs(settings.database, KEYED_SYNC)

    def engine() -> Engine:
        if engines.engine is None:
            engines.engine = Engine(config_path)
        return engines.engine

    def sync(pipeline: str, keys: dict[tuple[str, str], list[str]] | None) -> dict[str, Any]:
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        while True:
            try:
                report = engine().sync(pipeline, keys=keys, should_stop=should_stop)
            except PipelineBusyError:
                # The ledger lease of a run that died elsewhere: it expires on its own.
                if time.monotonic() > deadline or should_stop():
                    raise
                time.sleep(1.0)
                continue
            if metrics is not None:
                metrics.run_finished(report)
            result = {"run_id": report.run_id, "status": report.status, "writes": report.writes}
            log.info("job done", pipeline=pipeline, keyed=keys is not None, **result)
            return result

    @app.task(name=RUN_PIPELINE, queue=settings.pipeline_queue)
    def run_pipeline(pipeline: str, timestamp: int | None = None) -> dict[str, Any]:
        """One run of ``pipeline`` (``timestamp``: the tick of a periodic job)."""
        return sync(pipeline, None)

    @app.task(name=KEYED_SYNC, queue=settings.realtime_queue, priority=KEYED_PRIORITY)
    def keyed_sync(pipeline: str, connector: str, object: str, keys: list[str],
                   arrived_at: float | None = None) -> dict[str, Any]:
        """Refetch, map, merge and apply just ``keys`` of ``object`` on ``connector``
        (``arrived_at``: Unix time the first webhook event naming them was stored), and the
        records of the keyed jobs waiting behind this pipeline's lock (syncengine.workers.batch)."""
        own = Taken(0, connector, object, [str(k) for k in keys], arrived_at)
        taken = waiting.take(pipeline_lock(pipeline))
        grouped: dict[tuple[str, str], list[str]] = {}
        for item in (own, *taken):
            grouped.setdefault((item.connector, item.obj), []).extend(item.keys)
        result = sync(pipeline, {where: list(dict.fromkeys(ks)) for where, ks in grouped.items()})
        covered = [own]
        if taken and result["status"] == "ok":  # else they run on their own: nothing is lost
            waiting.finish(taken)
            covered.extend(taken)
        if metrics is not None and result["status"] != "error":
            now = time.time()
            for item in covered:  # as the daemon does: one observation per record applied
                if item.arrived_at is not None:
                    for _ in item.keys:
                        metrics.event_applied(item.connector, now - item.arrived_at)
        return {**result, "covered_jobs": [item.job_id for item in covered[1:]]}

    @app.task(name=RETRY_STALLED, queue=settings.pipeline_queue, queueing_lock=RETRY_STALLED)
    async def retry_stalled_jobs(timestamp: int | None = None) -> int:
        """Put the jobs of dead workers back in the queue; returns how many."""
        retried = 0
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after_seconds)
        for job in stalled:
            if job.task_name == RETRY_STALLED:  # its successor (this very job) does its work
                await app.job_manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
                continue
            try:
                await app.job_manager.retry_job(job)
            except exceptions.UniqueViolation:
                # A job with the same queueing lock is already waiting (a later tick of the
                # schedule, a later event for the record) and does this job's work; retrying
                # would break the unique index on waiting jobs (procrastinate #1543).
                await app.job_manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
                log.warning("stalled job covered by a waiting one", job_id=job.id, task=job.task_name,
                            queueing_lock=job.queueing_lock)
                continue
            retried += 1
            log.warning("stalled job retried", job_id=job.id, task=job.task_name, lock=job.lock,
                        worker_id=job.worker_id)
        return retried

    app.periodic(cron=settings.stalled_check, periodic_id="stalled")(retry_stalled_jobs)
    for name, schedule in pipelines.items():
        if schedule:
            app.periodic(cron=to_cron(schedule), periodic_id=name, lock=pipeline_lock(name),
                         queueing_lock=pipeline_lock(name), task_kwargs={"pipeline": name})(cast(Any, run_pipeline))
    return app
