"""The daemon's parts wired together: Engine, scheduler, webhook sources, work queue, metrics.

Scheduled runs and keyed syncs all go through one :class:`~syncengine.engine.Engine` on the work
queue's thread. A webhook delivery is stored with its pending syncs in one ledger transaction
(``Ledger.store_webhook_event``) before it is answered, so a crash loses nothing; the drain then
syncs each named record (refetched on both sides, so the order of deliveries never decides) and
removes its row only at the version it synced, so a delivery that came in meanwhile stays queued.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from syncengine.config import Config
from syncengine.daemon.queue import InProcessQueue, WorkQueue
from syncengine.engine import Engine
from syncengine.ledger.errors import PipelineBusyError
from syncengine.ledger.rows import PendingSyncInfo
from syncengine.ledger.run_lease import lease_name
from syncengine.observability.metrics import MetricsRecorder
from syncengine.schedule import schedule_trigger
from syncengine.webhooks import WebhookSource, WebhookSourceFactory, webhook_source_types

__all__ = ["Daemon"]

_log = structlog.get_logger("syncengine.daemon")


class Daemon:
    def __init__(self, config: Config, queue: WorkQueue | None = None) -> None:
        self.config = config
        self.engine = Engine(config)
        self.ledger = self.engine.ledger
        self.metrics = MetricsRecorder(self.ledger, list(config.pipelines))
        #: with a ``workers:`` section the daemon only receives: the workers sync and own the schedules.
        self.receiver_only = bool(config.workers)
        if queue is None:
            queue = self._receiver_queue() if self.receiver_only else InProcessQueue(self.drain_pending,
                                                                                     self.run_scheduled)
        self.queue: WorkQueue = queue
        self._sources: dict[str, WebhookSource] = {}
        self._source_lock = threading.Lock()
        self.scheduler: Any = None
        #: called after each keyed sync with the records it covered (benchmarks, tests).
        self.on_synced: Callable[[list[PendingSyncInfo]], None] | None = None
        #: how often a pipeline lease held elsewhere is looked at while keyed syncs wait for it.
        self.lease_check_seconds = 0.1
        self._lease_waits: set[str] = set()
        self._lease_watch: threading.Thread | None = None
        self._lease_watch_lock = threading.Lock()
        self._closing = threading.Event()

    def _receiver_queue(self) -> WorkQueue:
        from syncengine.daemon.procrastinate_queue import ProcrastinateQueue
        from syncengine.workers.settings import worker_settings

        return ProcrastinateQueue(self.config, self.ledger, worker_settings(self.config))

    @property
    def queue_kind(self) -> str:
        return "procrastinate" if self.receiver_only else "in-process"

    # -- webhook sources -------------------------------------------------------------------------

    def source(self, connector: str) -> WebhookSource | None:
        """The webhook source of a connector named in the config (None: it has none)."""
        with self._source_lock:
            if connector in self._sources:
                return self._sources[connector]
            spec = self.config.connectors.get(connector)
            if spec is None:
                return None
            factory: WebhookSourceFactory | None = webhook_source_types().get(spec.type)
            if factory is None:
                return None
            built = factory(self.config.connector(connector, self.ledger), self.ledger)
            self._sources[connector] = built
            return built

    def webhook_objects(self) -> dict[str, set[str]]:
        """Per connector, the objects some pipeline's mapping syncs (what to register webhooks for)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for pipe in self.config.pipelines.values():
            for pair in self.engine.mapping(pipe.name).pairs:
                wanted[pipe.left].add(pair.left_object)
                wanted[pipe.right].add(pair.right_object)
        return wanted

    def register_webhooks(self) -> list[str]:
        """Register the callbacks / endpoints the mappings need at ``daemon.public_url``."""
        base = self.config.daemon.public_url
        if not base:
            return []
        created: list[str] = []
        for connector, objects in sorted(self.webhook_objects().items()):
            source = self.source(connector)
            if source is not None:
                created.extend(source.register(f"{base}/webhooks/{connector}", sorted(objects)))
        return created

    # -- work ------------------------------------------------------------------------------------

    def drain_pending(self, should_stop: Callable[[], bool]) -> None:
        """Keyed syncs of every record the inbox queued, grouped per pipeline.

        A pipeline whose ledger lease another process holds (a ``syncengine sync``, a second
        daemon) keeps its records queued; :meth:`_watch_leases` wakes the queue the moment that
        lease is released, instead of the queue's next poll."""
        blocked: set[str] = set()
        while not should_stop():
            pending = self.ledger.pending_syncs()
            if blocked:  # left for the lease watch: draining them again now would only spin
                pending = [item for item in pending if not self._pipelines_of(item.connector) & blocked]
            if not pending:
                break  # a read, no write: the check after each run costs no ledger lock
            self.ledger.take_webhook_events()  # before the refetch: a later delivery is a new change
            by_connector: dict[str, list[PendingSyncInfo]] = defaultdict(list)
            for item in pending:
                by_connector[item.connector].append(item)
            for pipe in self.config.pipelines.values():
                items = by_connector.get(pipe.left, []) + by_connector.get(pipe.right, [])
                if not items:
                    continue
                keys: dict[tuple[str, str], list[str]] = defaultdict(list)
                for item in items:
                    keys[(item.connector, item.obj)].append(item.key)
                try:
                    report = self.engine.sync(pipe.name, keys=keys, should_stop=should_stop)
                except PipelineBusyError as exc:
                    _log.info("daemon.keyed_sync_waits_for_lease", pipeline=pipe.name, holder=exc.holder)
                    blocked.add(pipe.name)
                    continue
                self.metrics.run_finished(report)
                if report.status == "error":
                    _log.warning("daemon.keyed_sync_failed", pipeline=pipe.name, errors=report.errors[:5])
                    return  # left queued: the next drain retries them
            # a record is done once every pipeline that syncs its connector did; orphans go too
            finished = [item for item in pending if not self._pipelines_of(item.connector) & blocked]
            done = [item for item in finished if self._pipelines_of(item.connector)]
            if finished:
                self.ledger.finish_pending_syncs(finished)
            now = datetime.now(UTC)
            for item in done:
                self.metrics.event_applied(item.connector, (now - item.first_event_at).total_seconds())
            if done and self.on_synced is not None:
                self.on_synced(done)
        if blocked and not should_stop():
            self._watch_leases(blocked)

    def _pipelines_of(self, connector: str) -> set[str]:
        return {p.name for p in self.config.pipelines.values() if connector in (p.left, p.right)}

    def _watch_leases(self, pipelines: set[str]) -> None:
        """Wake the work queue as soon as none of ``pipelines``' leases is held (a lease row read
        every ``lease_check_seconds``, on a thread of its own so other pipelines' work goes on)."""
        with self._lease_watch_lock:
            self._lease_waits |= pipelines
            if self._lease_watch is not None and self._lease_watch.is_alive():
                return
            self._lease_watch = threading.Thread(target=self._lease_watch_loop, name="syncengine-lease-watch",
                                                 daemon=True)
            self._lease_watch.start()

    def _lease_watch_loop(self) -> None:
        while not self._closing.wait(self.lease_check_seconds):
            with self._lease_watch_lock:
                waiting = set(self._lease_waits)
            try:
                free = {name for name in waiting if self.ledger.lease_holder(lease_name(name)) is None}
            except Exception as exc:  # the ledger briefly away: look again
                _log.warning("daemon.lease_check_failed", error=str(exc))
                continue
            if not free:
                continue
            with self._lease_watch_lock:
                self._lease_waits -= free
                last = not self._lease_waits
                if last:
                    self._lease_watch = None
            self.queue.notify_pending()
            if last:
                return

    def run_scheduled(self, pipeline: str, should_stop: Callable[[], bool]) -> None:
        started = time.monotonic()
        report = self.engine.sync(pipeline, should_stop=should_stop)
        self.metrics.run_finished(report)
        _log.info("daemon.scheduled_run", pipeline=pipeline, status=report.status,
                  reason=report.reason, seconds=round(time.monotonic() - started, 3))

    # -- scheduler -------------------------------------------------------------------------------

    def start_scheduler(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone="UTC")
        for pipe in self.config.pipelines.values():
            if pipe.schedule:
                scheduler.add_job(self.queue.run_pipeline, schedule_trigger(pipe.schedule), args=[pipe.name],
                                  id=pipe.name, name=pipe.name, max_instances=1, coalesce=True,
                                  misfire_grace_time=None, replace_existing=True)
        scheduler.start()
        self.scheduler = scheduler

    def next_runs(self) -> dict[str, datetime | None] | None:
        if self.scheduler is None:
            return None
        runs: dict[str, datetime | None] = {name: None for name in self.config.pipelines}
        for job in self.scheduler.get_jobs():
            runs[job.id] = job.next_run_time
        return runs

    def scheduler_alive(self) -> bool:
        return bool(self.scheduler is not None and self.scheduler.running)

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Register webhooks, start the work queue and the scheduler; the registration lines."""
        created = self.register_webhooks() if self.config.daemon.register else []
        for line in created:
            _log.info("daemon.registered", endpoint=line)
        self.metrics.observe_http()
        self.queue.start()
        if not self.receiver_only:
            self.start_scheduler()
        return created

    def stop(self) -> None:
        """Stop taking work, let the batch in hand finish and commit, then close."""
        self._closing.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.queue.stop()
        self.metrics.close()
        self.engine.close()
