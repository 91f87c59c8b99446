"""The daemon as a receiver only: its work goes to the procrastinate workers (``syncengine worker``).

With a ``workers:`` section in the config, the daemon stores each webhook delivery with its
pending syncs as always (``Ledger.store_webhook_event``, before answering), and a thread of its own
turns those rows into ``syncengine.keyed_sync`` jobs, one per (pipeline, connector, object, key)
with the record's ``queueing_lock``: a burst on one record leaves one job waiting. At least once:
the jobs are deferred *first*, then the rows are removed (at the version read, so a delivery that
came in meanwhile stays and is deferred again, absorbed by the job still waiting). The daemon runs
no sync and no schedule itself: the workers' periodic tasks own the schedules.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import psycopg
import structlog

from syncengine.config import Config
from syncengine.ledger import Ledger
from syncengine.ledger.rows import PendingSyncInfo
from syncengine.workers.queue import JobQueue
from syncengine.workers.settings import WorkerSettings

__all__ = ["ProcrastinateQueue"]

_log = structlog.get_logger("syncengine.daemon")


class ProcrastinateQueue:
    """A :class:`~syncengine.daemon.queue.WorkQueue` that defers work to procrastinate."""

    name = "procrastinate"

    def __init__(self, config: Config, ledger: Ledger, settings: WorkerSettings) -> None:
        self.config = config
        self.ledger = ledger
        self.settings = settings
        self.jobs = JobQueue(settings)
        self.poll_seconds = 5.0
        #: called after each hand-over with the pending syncs it deferred (tests).
        self.on_deferred: Callable[[list[PendingSyncInfo]], None] | None = None
        self._wake = threading.Condition()
        self._pending = True  # a restart hands over what a previous process left
        self._due: list[str] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="syncengine-defer", daemon=True)

    # -- WorkQueue -------------------------------------------------------------------------------

    def start(self) -> None:
        from syncengine.workers.service import ensure_schema

        ensure_schema(self.settings, self.config.ledger_url)  # a daemon may start before any worker
        self.jobs.open()
        self._thread.start()

    def notify_pending(self) -> None:
        with self._wake:
            self._pending = True
            self._wake.notify()

    def run_pipeline(self, pipeline: str) -> None:
        with self._wake:
            if pipeline not in self._due:
                self._due.append(pipeline)
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()
        self.jobs.close()

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def reachable(self) -> bool:
        """procrastinate's database answers (it may be another one than the ledger's)."""
        try:
            with psycopg.connect(self.settings.database, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    # -- the hand-over ---------------------------------------------------------------------------

    def hand_over(self) -> int:
        """Defer a keyed sync job per pending record and pipeline, then drop the rows deferred;
        returns how many rows were handed over."""
        handed = 0
        while not self._stopping:
            # before the worker refetches: a later delivery with the same body is a new edit
            self.ledger.take_webhook_events()
            pending = self.ledger.pending_syncs()
            if not pending:
                break
            groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
            arrived: dict[tuple[str, str, str], datetime] = {}
            for item in pending:
                arrived[(item.connector, item.obj, item.key)] = item.first_event_at
                for pipe in self.config.pipelines.values():
                    if item.connector in (pipe.left, pipe.right):
                        groups[(pipe.name, item.connector, item.obj)].append(item.key)
            for (pipeline, connector, obj), keys in groups.items():
                # the worker observes the event-to-write lag from when the event was stored
                self.jobs.enqueue_keyed_sync(pipeline, connector, obj, keys,
                                             arrived={k: arrived[(connector, obj, k)] for k in keys})
            self.ledger.finish_pending_syncs(pending)  # orphans (no pipeline) go too: nothing syncs them
            handed += len(pending)
            _log.info("daemon.deferred", records=len(pending), jobs=len(groups))
            if self.on_deferred is not None:
                self.on_deferred(pending)
        return handed

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not (self._stopping or self._pending or self._due):
                    if not self._wake.wait(timeout=self.poll_seconds):
                        self._pending = True  # what a failed hand-over left, or another receiver stored
                if self._stopping:
                    return
                pending, self._pending = self._pending, False
                due, self._due = self._due, []
            try:
                if pending:
                    self.hand_over()
                for pipeline in due:
                    self.jobs.enqueue_pipeline(pipeline)
            except Exception as exc:  # the database away: the rows stay, the next wake retries
                _log.error("daemon.defer_failed", error=str(exc), pipelines=due)
