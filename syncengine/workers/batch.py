"""A keyed sync takes the keyed syncs waiting behind its pipeline's lock into its own run.

Keyed syncs of one pipeline share its procrastinate ``lock``, so they run one after another; a
burst of N records was N runs. The job holding the lock now takes over the keyed jobs waiting
behind it (up to :data:`BATCH_LIMIT`) and syncs all their records in one run:

1. *take*: one ``UPDATE ... RETURNING`` clears the waiting jobs' ``queueing_lock`` and reads
   their records. They stay ``todo``: if this worker dies or the run fails, they still run on
   their own (at least once). With the queueing lock gone, an event that comes in from now on
   defers a *new* job rather than being absorbed into one whose record is already being fetched.
2. the run refetches every record (after the take, so each edit before it is covered);
3. *finish*: only when the run ended ``ok``, the taken jobs are cancelled through procrastinate's
   own ``procrastinate_cancel_job_v1`` (status ``cancelled``: their work was done by this job).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog

__all__ = ["BATCH_LIMIT", "Taken", "WaitingJobs"]

log = structlog.get_logger("syncengine.workers")

#: at most this many waiting keyed jobs are taken into one run.
BATCH_LIMIT = 500

_TAKE = """
UPDATE procrastinate_jobs SET queueing_lock = NULL
WHERE id IN (
    SELECT id FROM procrastinate_jobs
    WHERE task_name = %(task)s AND lock = %(lock)s AND status = 'todo'
      AND (scheduled_at IS NULL OR scheduled_at <= now())
    ORDER BY id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
  AND status = 'todo'
RETURNING id, args
"""


@dataclass(frozen=True, slots=True)
class Taken:
    job_id: int
    connector: str
    obj: str
    keys: list[str]
    arrived_at: float | None


class _Conn(threading.local):
    conn: psycopg.Connection[Any] | None = None


class WaitingJobs:
    """The keyed jobs waiting behind a lock, taken over by the job holding it (one connection per thread)."""

    def __init__(self, database: str, task_name: str, limit: int = BATCH_LIMIT) -> None:
        self.database = database
        self.task_name = task_name
        self.limit = limit
        self._local = _Conn()

    def _conn(self) -> psycopg.Connection[Any]:
        conn = self._local.conn
        if conn is None or conn.closed or conn.broken:
            conn = self._local.conn = psycopg.connect(self.database, autocommit=True)
        return conn

    def take(self, lock: str) -> list[Taken]:
        """Clear the queueing lock of the jobs waiting behind ``lock`` and return their records."""
        try:
            rows = self._conn().execute(_TAKE, {"task": self.task_name, "lock": lock, "limit": self.limit}).fetchall()
        except psycopg.Error as exc:  # the batch is an optimisation: without it each job runs alone
            log.warning("waiting keyed jobs not taken", lock=lock, error=str(exc))
            return []
        taken: list[Taken] = []
        for job_id, args in rows:
            arrived = args.get("arrived_at")
            taken.append(Taken(int(job_id), str(args["connector"]), str(args["object"]),
                               [str(k) for k in args.get("keys") or []],
                               float(arrived) if arrived is not None else None))
        return taken

    def finish(self, taken: Sequence[Taken]) -> int:
        """Cancel the jobs whose records a run covered; how many were still waiting."""
        if not taken:
            return 0
        try:
            rows = self._conn().execute(
                "SELECT procrastinate_cancel_job_v1(id, false, false) FROM unnest(%s::bigint[]) AS id",
                ([item.job_id for item in taken],)).fetchall()
        except psycopg.Error as exc:  # they run on their own later: a repeat, no loss
            log.warning("covered keyed jobs not cancelled", jobs=len(taken), error=str(exc))
            return 0
        return sum(1 for row in rows if row[0] is not None)

    def close(self) -> None:
        conn = self._local.conn
        if conn is not None:
            conn.close()
            self._local.conn = None
