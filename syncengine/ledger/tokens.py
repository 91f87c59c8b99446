"""OAuth tokens in the ledger, refreshed under a lock that other processes respect.

FreshBooks refresh tokens are single-use: if two processes refresh with the same one, one of them
ends up with a dead token, and a rotated token kept only in memory dies with its process. So a
refresh happens inside :func:`token_lock`, and ``slot.save()`` commits before it returns.

* PostgreSQL: a session-level advisory lock keyed by (schema, token name), held on a dedicated
  connection for the whole ``with`` block. Session locks survive the commit that ``save()``
  performs, so the lock covers read -> refresh -> save -> use. A crashed process's session ends
  and the server releases its lock.
* SQLite: an exclusive ``flock`` on a file beside the database (``<ledger.db>-token-<hash>.lock``),
  held for the whole block; the kernel drops it when the holder dies. We first tried
  ``BEGIN IMMEDIATE`` on a dedicated connection, but that holds SQLite's single write lock for the
  length of an HTTP refresh (with retries), stalling every other ledger writer (a webhook
  receiver must answer quickly), and it cannot survive ``save()``'s commit without a gap. The
  ``save()`` itself is a short write with ``synchronous=FULL``: a rotated refresh token must
  survive even a power cut.

Values are encrypted at rest (:mod:`syncengine.secrets`): ``_write`` seals, ``_read`` opens, in
the same ``value_json`` column. A value stored before encryption is read as it is and sealed on
its next write; :func:`reseal_all` re-encrypts every row with the current first key (rotation).
Webhook secrets are stored the same way, as a token named e.g. ``webhook:freshbooks:<account>``.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from syncengine.ledger.connect import BEGIN_OPTION, DialectName
from syncengine.ledger.errors import LedgerError
from syncengine.ledger.sql import insert, tokens, utcnow
from syncengine.records import from_json, to_json
from syncengine.secrets import load_box, sealed_token
from syncengine.tokens import TokenSlot

__all__ = ["LedgerTokenSlot", "load_token", "reseal_all", "token_lock"]

#: Seconds a process waits for another one's token refresh before giving up (SQLite).
TOKEN_LOCK_TIMEOUT = 120.0

_LOCK_KEY = "hashtextextended('syncengine.token:' || current_schema() || ':' || :name, 0)"


class LedgerTokenSlot:
    """The token as read under the lock; ``save`` writes and commits it before returning."""

    def __init__(self, value: dict[str, Any] | None, saver: Any) -> None:
        self._value = value
        self._saver = saver

    @property
    def value(self) -> dict[str, Any] | None:
        return None if self._value is None else dict(self._value)

    def save(self, value: dict[str, Any]) -> None:
        self._saver(dict(value))
        self._value = dict(value)


def _read(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    text = conn.execute(sa.select(tokens.c.value_json).where(tokens.c.name == name)).scalar_one_or_none()
    return None if text is None else _open(text, name)


def _open(stored: str, name: str) -> dict[str, Any]:
    # The key is only looked for when a sealed value is read: a plain one (written before
    # encryption) needs none, and a ledger without tokens never creates a key file.
    if sealed_token(stored) is None:
        return from_json(stored)
    return from_json(load_box().open(stored, name))


def _write(conn: sa.Connection, dialect: DialectName, name: str, value: dict[str, Any]) -> None:
    sealed = load_box().seal(to_json(value))
    stmt = insert(dialect, tokens).values(name=name, value_json=sealed, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[tokens.c.name],
        set_={"value_json": stmt.excluded.value_json, "updated_at": stmt.excluded.updated_at},
    )
    conn.execute(stmt)


def reseal_all(engine: sa.Engine, dialect: DialectName) -> list[str]:
    """Re-encrypt every stored token with the current first key, in one transaction; their names.

    Rows sealed with an older key (still listed after the first) or written before encryption
    come out sealed with the first key; run after putting a new key first (``secrets rotate``)."""
    box = load_box()
    names: list[str] = []
    with engine.connect() as conn:
        if dialect == "sqlite":
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            query = sa.select(tokens.c.name, tokens.c.value_json).where(tokens.c.value_json.is_not(None))
            if dialect == "postgresql":
                query = query.with_for_update()  # a refresh saving meanwhile waits, never lost
            rows = conn.execute(query)
            for name, stored in rows.all():
                plain = box.open(stored, name) if sealed_token(stored) is not None else stored
                update = sa.update(tokens).where(tokens.c.name == name)
                conn.execute(update.values(value_json=box.seal(plain), updated_at=utcnow()))
                names.append(name)
    return names


def load_token(engine: sa.Engine, name: str) -> dict[str, Any] | None:
    """The stored token without taking the lock (for display, or to use an unexpired access token)."""
    with engine.connect() as conn:
        return _read(conn, name)


@contextmanager
def token_lock(engine: sa.Engine, dialect: DialectName, name: str) -> Iterator[TokenSlot]:
    if dialect == "postgresql":
        with _postgres_lock(engine, name) as slot:
            yield slot
    else:
        with _sqlite_lock(engine, name) as slot:
            yield slot


@contextmanager
def _postgres_lock(engine: sa.Engine, name: str) -> Iterator[TokenSlot]:
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT pg_advisory_lock({_LOCK_KEY})"), {"name": name})
        conn.commit()
        try:
            value = _read(conn, name)
            conn.commit()

            def save(new: dict[str, Any]) -> None:
                _write(conn, "postgresql", name, new)
                conn.commit()

            yield LedgerTokenSlot(value, save)
        finally:
            try:
                conn.rollback()
                conn.execute(sa.text(f"SELECT pg_advisory_unlock({_LOCK_KEY})"), {"name": name})
                conn.commit()
            except sa.exc.DBAPIError:
                # A broken session has lost its locks with it; never hand it back to the pool.
                conn.invalidate()


@contextmanager
def _sqlite_lock(engine: sa.Engine, name: str) -> Iterator[TokenSlot]:
    database = engine.url.database
    assert database, "a SQLite ledger is always a file"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    with open(f"{database}-token-{digest}.lock", "a+b") as handle:
        _flock(handle.fileno(), name)
        try:
            value = load_token(engine, name)

            def save(new: dict[str, Any]) -> None:
                with engine.connect() as conn:
                    driver = conn.connection.driver_connection
                    assert driver is not None
                    driver.execute("PRAGMA synchronous = FULL")
                    try:
                        conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
                        with conn.begin():
                            _write(conn, "sqlite", name, new)
                    finally:
                        driver.execute("PRAGMA synchronous = NORMAL")

            yield LedgerTokenSlot(value, save)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _flock(fd: int, name: str) -> None:
    """Take the exclusive lock, waiting up to TOKEN_LOCK_TIMEOUT seconds for its holder."""
    deadline = time.monotonic() + TOKEN_LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise LedgerError(
                    f"token {name!r} stayed locked for {TOKEN_LOCK_TIMEOUT:.0f} s",
                    hint="another syncengine process is refreshing it and seems stuck",
                ) from None
            time.sleep(0.02)
