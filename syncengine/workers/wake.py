"""Wake idle workers when a job's ``lock`` frees, not only when a job is inserted.

procrastinate announces new jobs (its ``procrastinate_jobs_notify_queue_job_inserted_v1``
trigger NOTIFYs the queue's channel) but says nothing when a job holding a ``lock`` ends. A keyed
sync waiting behind its pipeline's lock was then fetched only at the next poll of an idle worker
(``workers.poll_seconds``), although the lock freed long before.

This trigger closes that gap with procrastinate's own mechanism: when a job leaves ``doing``
(finished, failed, aborted, retried or deleted) and jobs with the same lock are waiting, it sends
the notification procrastinate sends for an insert (``{"type": "job_inserted", ...}``) on the
waiting jobs' queue channels. Workers already LISTEN there and fetch at once; the notification is
delivered on commit, so the lock is free when they look. Nothing else of procrastinate changes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install_lock_wake", "lock_wake_installed"]

TRIGGER = "syncengine_jobs_notify_lock_freed_v1"
FUNCTION = "syncengine_notify_lock_freed_v1"

_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    waiting RECORD;
    payload TEXT;
BEGIN
    FOR waiting IN
        SELECT queue_name, min(id) AS job_id FROM procrastinate_jobs
        WHERE lock = OLD.lock AND status = 'todo' GROUP BY queue_name
    LOOP
        payload := json_build_object('type', 'job_inserted', 'job_id', waiting.job_id)::text;
        PERFORM pg_notify('procrastinate_queue_v1#' || waiting.queue_name, payload);
        PERFORM pg_notify('procrastinate_any_queue_v1', payload);
    END LOOP;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS {TRIGGER} ON procrastinate_jobs;
DROP TRIGGER IF EXISTS {TRIGGER}_delete ON procrastinate_jobs;
CREATE TRIGGER {TRIGGER}
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND NEW.status <> 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION {FUNCTION}();
CREATE TRIGGER {TRIGGER}_delete
    AFTER DELETE ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION {FUNCTION}();
"""


def lock_wake_installed(conn: Any) -> bool:
    """Whether both triggers are on ``procrastinate_jobs`` (``conn``: a psycopg connection)."""
    row = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname IN (%s, %s)",
                       (TRIGGER, f"{TRIGGER}_delete")).fetchone()
    return bool(row and row[0] == 2)


def install_lock_wake(conn: Any) -> bool:
    """Add the triggers when missing (in one transaction); True when they were added now.

    Run under the schema's advisory lock: the DDL takes a short exclusive lock on the jobs table,
    so workers that find the triggers in place do not take it again."""
    if lock_wake_installed(conn):
        return False
    with conn.transaction():
        conn.execute(_SQL)
    return True
