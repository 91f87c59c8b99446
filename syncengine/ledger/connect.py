"""Turning a ledger URL into a tuned SQLAlchemy engine.

Two databases, two sets of habits:

* **SQLite** (the default): one file in WAL mode so readers never block the writer,
  ``synchronous=NORMAL`` (a commit survives a process crash; only a power cut may lose the last
  commits, which a rerun repairs), a busy timeout so a second process waits instead of failing, and
  a big page cache. We also take over ``BEGIN`` from the driver: Python's sqlite3 module opens
  transactions lazily and only before writes, which lets a read-then-write transaction fail with
  "database is locked" *without waiting*. Write transactions here start with ``BEGIN IMMEDIATE``.
* **PostgreSQL** by URL: ``postgresql://`` is rewritten to the psycopg 3 driver.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from syncengine.ledger.errors import LedgerError, LedgerStorageError, NotALedgerError

__all__ = [
    "BEGIN_OPTION",
    "CORRUPT_HINT",
    "DialectName",
    "create_ledger_engine",
    "ledger_failure",
    "normalize_url",
    "sqlite_path",
    "storage_failure",
    "storage_hint",
]

DialectName = Literal["sqlite", "postgresql"]

#: Execution option naming how a SQLite transaction begins ("DEFERRED" or "IMMEDIATE").
BEGIN_OPTION = "syncengine_sqlite_begin"

#: How long a SQLite connection waits for another writer before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000

_SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA cache_size = -65536",  # 64 MiB
    "PRAGMA temp_store = MEMORY",
    # No mmap: it bought no measurable speed here and counted the mapped file in the process's
    # RSS (+200 MB at 400k links), against the benchmark's memory ceiling.
)


def _ensure_wal(cursor: Any, attempts: int = 60) -> None:
    """Switch a new database file to WAL. Several processes opening a new ledger at once race
    here: one may read the old journal mode just before another switches it, and its own switch
    can then fail as "locked" at once rather than wait on the busy timeout. So: read the mode
    again (the other process has usually switched it already) and retry with a short backoff."""
    for attempt in range(attempts):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            if str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        time.sleep(min(0.01 * (attempt + 1), 0.25))
    raise sqlite3.OperationalError("could not switch the ledger to WAL mode: the database stayed locked")


#: SQLite's primary result codes for a storage failure: SQLITE_IOERR (a write the OS refused, such
#: as past a file-size limit) and SQLITE_FULL (the disk is full).
_SQLITE_STORAGE_CODES = (10, 13)
#: PostgreSQL's SQLSTATE class 53, "insufficient resources" (53100: disk full).
_PG_DISK_FULL = "53100"
_OS_STORAGE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO)


def storage_failure(exc: BaseException) -> str | None:
    """What failed, when ``exc`` is a storage failure under the ledger (disk full, file-size
    limit, I/O error), else None."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_STORAGE_CODES:
            return str(orig)
        return None
    if getattr(orig, "sqlstate", None) == _PG_DISK_FULL:
        return str(orig).strip().splitlines()[0]
    if isinstance(orig, OSError) and orig.errno in _OS_STORAGE_ERRNOS:
        return orig.strerror or str(orig)
    return None


#: SQLite's result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_SQLITE_CORRUPT_CODES = (11, 26)
CORRUPT_HINT = ("restore it from a backup (`sqlite3 FILE .recover` may save some of it); "
                "do not start a new ledger in its place unless both sides already agree")


def ledger_failure(exc: BaseException, where: str) -> LedgerError | None:
    """The typed error for a failure of the ledger's storage itself, met by any statement (through
    SQLAlchemy or the driver): a corrupt file (:class:`NotALedgerError`, ``corrupt``) or a full disk
    (:class:`LedgerStorageError`); None for anything else."""
    if isinstance(exc, LedgerError):
        return None
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.DatabaseError):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_CORRUPT_CODES:
            return NotALedgerError(f"{where} is corrupt ({orig})", location=where, reason="corrupt",
                                   hint=CORRUPT_HINT)
    what = storage_failure(orig)
    if what is not None:
        return LedgerStorageError(f"{where}: cannot be written ({what})", hint=storage_hint())
    return None


def storage_hint() -> str:
    return ("is the disk full, or a file-size limit (ulimit -f) reached? free some space and run again: "
            "the transaction was rolled back, nothing is half-written")


def normalize_url(url: str) -> str:
    """The URL SQLAlchemy should use: PostgreSQL always through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite ledger URL (None for any other database)."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database or sa_url.database == ":memory:":
        return None
    return Path(sa_url.database)


def create_ledger_engine(url: str, *, wal: bool = True) -> tuple[sa.Engine, DialectName]:
    """An engine for ``url`` with the pragmas and transaction handling the ledger relies on.

    ``wal=False`` (SQLite only) leaves the file in its rollback-journal mode: for building a new
    ledger in a temporary file that must be whole in itself before it is put in place."""
    sa_url = make_url(normalize_url(url))
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(sa_url, wal=wal)
        _name_storage_failures(engine, f"ledger file {sa_url.database}")
        return engine, "sqlite"
    if backend == "postgresql":
        if sa_url.get_driver_name() != "psycopg":
            sa_url = sa_url.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(sa_url, pool_pre_ping=True)
        _name_storage_failures(engine, f"ledger {sa_url.render_as_string(hide_password=True)}")
        return engine, "postgresql"
    raise ValueError(f"unsupported ledger URL {url!r}: use sqlite:///path/to/ledger.db or postgresql://...")


def _name_storage_failures(engine: sa.Engine, where: str) -> None:
    """A full disk or a file-size limit ("disk I/O error") or a damaged file ("malformed"), from any
    statement or from the connect hook: one typed error naming the ledger instead (see
    :func:`ledger_failure`)."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: sa.engine.ExceptionContext) -> None:
        failure = ledger_failure(context.original_exception, where)
        if failure is not None:
            raise failure from context.original_exception


def _sqlite_engine(sa_url: sa.URL, *, wal: bool) -> sa.Engine:
    database = sa_url.database
    if not database or database == ":memory:":
        # Every pooled connection would get its own empty database; a ledger must be a file.
        raise ValueError("the SQLite ledger must be a file: sqlite:///path/to/ledger.db")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(sa_url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level: we issue BEGIN ourselves in _on_begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            # busy_timeout first: switching a new file to WAL takes a lock another process may hold.
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
            if wal:
                _ensure_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
