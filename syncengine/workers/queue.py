"""Deferring work to the workers from anywhere (a webhook receiver on another machine, the CLI).

A :class:`JobQueue` needs only the database, not the tasks' code: it names tasks by their
registered names. ``connection=`` (a psycopg connection) defers inside the caller's own
transaction, so an inbox can store an event and queue its work atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from procrastinate import App, PsycopgConnector, exceptions

from syncengine.workers.settings import WorkerSettings
from syncengine.workers.tasks import KEYED_PRIORITY, KEYED_SYNC, RUN_PIPELINE, keyed_lock, pipeline_lock

__all__ = ["JobQueue"]


class JobQueue:
    """Defers pipeline runs and keyed syncs; a burst for one record is coalesced into one job."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.app = App(connector=PsycopgConnector(conninfo=settings.database))
        self._open = False

    def open(self) -> JobQueue:
        if not self._open:
            self.app.open()
            self._open = True
        return self

    def close(self) -> None:
        if self._open:
            self.app.close()
            self._open = False

    def __enter__(self) -> JobQueue:
        return self.open()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def enqueue_pipeline(self, pipeline: str, *, connection: Any = None) -> int | None:
        """Queue one run of ``pipeline``; None when a run of it is already waiting (coalesced)."""
        self.open()
        deferrer = self.app.configure_task(
            RUN_PIPELINE, queue=self.settings.pipeline_queue, lock=pipeline_lock(pipeline),
            queueing_lock=pipeline_lock(pipeline), task_kwargs={"pipeline": pipeline}, connection=connection,
        )
        try:
            return int(deferrer.defer())
        except exceptions.AlreadyEnqueued:
            return None

    def enqueue_keyed_sync(self, pipeline: str, connector: str, obj: str, keys: Iterable[str], *,
                           connection: Any = None, arrived: Mapping[str, datetime] | None = None) -> list[int | None]:
        """Queue a keyed sync per key (one job per record, so each coalesces on its own);
        per key, the job id, or None when a sync of that record is already waiting.

        ``arrived``: per key, when the first webhook event naming it was stored (the ledger's
        ``first_event_at``); the worker measures its event-to-write lag from it."""
        self.open()
        out: list[int | None] = []
        for key in dict.fromkeys(str(k) for k in keys):
            kwargs: dict[str, Any] = {"pipeline": pipeline, "connector": connector, "object": obj, "keys": [key]}
            if arrived is not None and key in arrived:
                kwargs["arrived_at"] = arrived[key].timestamp()
            deferrer = self.app.configure_task(
                KEYED_SYNC, queue=self.settings.realtime_queue, priority=KEYED_PRIORITY,
                lock=pipeline_lock(pipeline), queueing_lock=keyed_lock(pipeline, connector, obj, key),
                task_kwargs=kwargs, connection=connection,
            )
            try:
                out.append(int(deferrer.defer()))
            except exceptions.AlreadyEnqueued:
                out.append(None)
        return out


def enqueue_keyed_sync(settings: WorkerSettings, pipeline: str, connector: str, obj: str,
                       keys: Iterable[str]) -> list[int | None]:
    """One-shot :meth:`JobQueue.enqueue_keyed_sync` (opens and closes a connection pool)."""
    with JobQueue(settings) as queue:
        return queue.enqueue_keyed_sync(pipeline, connector, obj, keys)
