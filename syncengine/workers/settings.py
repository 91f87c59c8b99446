"""The config's ``workers:`` section: where procrastinate keeps its jobs and how workers run.

    workers:
      database: postgresql://...   # default: the ledger's URL (it must then be PostgreSQL)
      concurrency: 2               # jobs one worker process runs at once (each in its own thread)
      queues: {pipelines: pipelines, realtime: realtime}
      heartbeat_seconds: 10        # how often a worker says it is alive
      stalled_after_seconds: 30    # a worker silent this long is dead: its jobs are retried
      stalled_check: 1m            # how often a worker looks for such jobs (interval or cron line)
      poll_seconds: 0.5            # how often an idle worker asks for work it was not notified of
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncengine.config import Config
from syncengine.errors import ConfigError, ConfigErrors
from syncengine.mapping.diagnostics import did_you_mean
from syncengine.workers.schedule import ScheduleError, to_cron

__all__ = ["WorkerSettings", "worker_settings"]

_KEYS = ("database", "concurrency", "queues", "heartbeat_seconds", "stalled_after_seconds", "stalled_check",
         "poll_seconds")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    #: a libpq connection string (``postgresql://...``), no SQLAlchemy driver suffix.
    database: str
    concurrency: int = 2
    pipeline_queue: str = "pipelines"
    realtime_queue: str = "realtime"
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0
    stalled_check: str = "* * * * *"
    #: how often an idle worker asks for work it was not notified of (new jobs are announced by
    #: procrastinate, a freed lock by syncengine.workers.wake): a fallback, e.g. after a lost connection.
    poll_seconds: float = 0.5

    @property
    def queues(self) -> list[str]:
        return [self.pipeline_queue, self.realtime_queue]


def _libpq(url: str) -> str | None:
    """``postgresql+psycopg://u@h/db`` -> ``postgresql://u@h/db``; None for a database that is not PostgreSQL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        return None
    return f"postgresql://{rest}"


def worker_settings(config: Config) -> WorkerSettings:
    """Check the ``workers:`` section; each mistake names its file:line."""
    raw: dict[str, Any] = config.workers
    errors: list[ConfigError] = []
    loc = ("workers",)
    if "" in raw:
        raise ConfigErrors([config.error("workers must be a mapping (database, concurrency, queues, ...)", loc)])
    for key in raw:
        if key not in _KEYS:
            errors.append(config.error(f"unknown workers key {key!r}{did_you_mean(str(key), _KEYS)}", (*loc, key)))
    database = _libpq(str(raw.get("database") or config.ledger_url))
    if database is None:
        where = "workers.database" if raw.get("database") else "the ledger"
        errors.append(config.error(
            f"workers need PostgreSQL: {where} is not a postgresql:// URL",
            (*loc, "database") if raw.get("database") else ("ledger",),
            "set workers.database, or put the ledger on PostgreSQL"))
        database = ""
    defaults = WorkerSettings(database)
    concurrency = raw.get("concurrency", defaults.concurrency)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        errors.append(config.error("workers.concurrency must be a whole number >= 1", (*loc, "concurrency")))
        concurrency = defaults.concurrency
    numbers: dict[str, float] = {}
    for key in ("heartbeat_seconds", "stalled_after_seconds", "poll_seconds"):
        value = raw.get(key, getattr(defaults, key))
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            errors.append(config.error(f"workers.{key} must be a number of seconds > 0", (*loc, key)))
            value = getattr(defaults, key)
        numbers[key] = float(value)
    if numbers["stalled_after_seconds"] <= numbers["heartbeat_seconds"]:
        errors.append(config.error("workers.stalled_after_seconds must be longer than heartbeat_seconds "
                                   "(a live worker would be taken for dead)", (*loc, "stalled_after_seconds")))
    queues = raw.get("queues") or {}
    if not isinstance(queues, dict) or set(queues) - {"pipelines", "realtime"}:
        errors.append(config.error("workers.queues maps pipelines and realtime to queue names", (*loc, "queues")))
        queues = {}
    stalled_check = defaults.stalled_check
    if "stalled_check" in raw:
        try:
            stalled_check = to_cron(str(raw["stalled_check"]))
        except ScheduleError as exc:
            errors.append(config.error(str(exc), (*loc, "stalled_check")))
    for pipeline in config.pipelines.values():  # each becomes a periodic task: refused here, not at start
        if pipeline.schedule:
            try:
                to_cron(pipeline.schedule)
            except ScheduleError as exc:
                errors.append(config.error(f"pipeline {pipeline.name!r}: {exc}", (*pipeline.loc, "schedule")))
    if errors:
        raise ConfigErrors(errors)
    return WorkerSettings(
        database, concurrency, str(queues.get("pipelines", defaults.pipeline_queue)),
        str(queues.get("realtime", defaults.realtime_queue)), numbers["heartbeat_seconds"],
        numbers["stalled_after_seconds"], stalled_check, numbers["poll_seconds"],
    )
