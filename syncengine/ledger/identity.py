"""Is what the ledger URL points at a syncengine ledger? Checked on every open, before any write.

A ledger is the only memory of which records are linked and what both sides last agreed on. Taking
a lost one (a 0-byte file, a wrong path) for a new ledger makes the next sync compare against
nothing: records look new, edits look older than they are. So:

* **SQLite**: a new ledger is created only where no file exists, and never as an empty file that a
  concurrent open could mistake for a lost ledger: it is built whole in a temporary file (mode
  0600, since it will hold OAuth tokens) and hard-linked into place, which fails if another process
  got there first (then that one's ledger is used). An existing file must be a SQLite database
  with our schema: an empty file, a text file, a corrupt database, one with no tables or with
  another application's tables are refused, and left exactly as they were.
* **PostgreSQL**: a database is often shared, so other applications' tables are fine. Refused: an
  ``alembic_version`` at a revision we do not know, and tables named like ours without our version.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from syncengine.ledger.connect import (
    CORRUPT_HINT,
    DialectName,
    create_ledger_engine,
    storage_failure,
    storage_hint,
)
from syncengine.ledger.errors import LedgerStorageError, NotALedgerError
from syncengine.ledger.migrate import alembic_config, upgrade_to_head
from syncengine.ledger.models import metadata

__all__ = ["check_schema", "check_sqlite_file", "create_sqlite_ledger", "refusing_corrupt"]

SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_HEADER_SIZE = 100
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_VERSION_TABLE = "alembic_version"

_NEW_OR_ELSEWHERE = "remove it to start a new ledger, or point `ledger:` at the right file"


@cache
def known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(rev.revision for rev in script.walk_revisions())


def _refuse(where: str, message: str, reason: str, hint: str) -> NotALedgerError:
    return NotALedgerError(f"{where} {message}", location=where, reason=reason, hint=hint)


# -- SQLite: the file itself -------------------------------------------------------------------


def create_sqlite_ledger(path: Path) -> bool:
    """Create a new ledger at ``path`` if nothing is there; True if this call created it."""
    if os.path.lexists(path):
        return False
    if not path.parent.is_dir():
        # A mistyped path must not become a new, empty ledger in a new folder: refused, as a CSV
        # file in a missing folder is.
        raise _refuse(f"ledger file {path}:", f"folder {path.parent} does not exist", "no_folder",
                      f"create it (mkdir -p {path.parent}) or correct `ledger:` in the config")
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
    try:
        return _build_sqlite_ledger(path, tmp)
    except (LedgerStorageError, OSError) as exc:
        what = storage_failure(exc.__cause__ or exc) if isinstance(exc, LedgerStorageError) else storage_failure(exc)
        if what is None:
            raise
        # Named by the ledger's own path, not the temporary file's (which is gone).
        raise LedgerStorageError(f"ledger file {path}: cannot be created ({what})", hint=storage_hint()) from None


def _build_sqlite_ledger(path: Path, tmp: Path) -> bool:
    """A new ledger built whole in ``tmp`` and then linked into place at ``path``."""
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        # Rollback-journal mode while it is built, so the file is whole in itself (no -wal beside
        # it) when it is linked into place; the first open switches it to WAL.
        engine, _ = create_ledger_engine(f"sqlite:///{tmp}", wal=False)
        try:
            upgrade_to_head(engine, "sqlite")
        finally:
            engine.dispose()
        _fsync(tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False  # another process put its new ledger there first: that one is used
        except OSError:
            # A filesystem without hard links (FAT, some network shares): rename instead, which
            # could replace a ledger another process created in the last instant; check first.
            if os.path.lexists(path):
                return False
            os.replace(tmp, path)
        _fsync(path.parent)
        return True
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            with suppress(FileNotFoundError):
                leftover.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that cannot be a ledger, by its bytes alone (before SQLite touches it: even a
    connection would turn an empty file into a new WAL database)."""
    where = f"ledger file {path}"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(where, "is not a regular file (a directory?)", "not_a_file",
                          "point `ledger:` at a file, e.g. sqlite:///syncengine.db")
        if info.st_size == 0:
            raise _refuse(where, "is empty (0 bytes): not a syncengine ledger", "empty", _NEW_OR_ELSEWHERE)
        with path.open("rb") as handle:
            head = handle.read(_SQLITE_HEADER_SIZE)
    except OSError as exc:
        raise _refuse(where, f"cannot be read: {exc.strerror or exc}", "unreadable",
                      "check the path and the file's permissions") from None
    if len(head) < _SQLITE_HEADER_SIZE or not head.startswith(SQLITE_MAGIC):
        raise _refuse(where, f"is not a SQLite database (it starts with {head[:16]!r}): not a syncengine ledger",
                      "not_sqlite", "point `ledger:` at the right file, or move this one away to start a new ledger")


@contextmanager
def refusing_corrupt(where: str) -> Iterator[None]:
    """Turn SQLite's "malformed" / "not a database" into a refusal naming the file."""
    try:
        yield
    except (sa.exc.DatabaseError, sqlite3.DatabaseError) as exc:
        orig = exc.orig if isinstance(exc, sa.exc.DatabaseError) else exc
        code = getattr(orig, "sqlite_errorcode", None)
        if not isinstance(orig, sqlite3.DatabaseError) or code not in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            raise
        raise _refuse(where, f"is corrupt ({orig})", "corrupt", CORRUPT_HINT) from None


# -- the schema inside -------------------------------------------------------------------------


def check_schema(engine: sa.Engine, dialect: DialectName, where: str) -> None:
    """Refuse a database whose tables are not (or not only) a syncengine ledger's, read-only."""
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        schema = None if dialect == "sqlite" else str(conn.execute(sa.text("SELECT current_schema()")).scalar())
        versions: list[str] = []
        if _VERSION_TABLE in names:
            versions = [str(v) for v in conn.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars()]
    unknown = sorted(v for v in versions if v not in known_revisions())
    if unknown:
        raise _refuse(where, f"is at schema revision {unknown[0]!r}, which this syncengine does not know",
                      "unknown_revision",
                      "a newer syncengine made it (upgrade syncengine to open it), or its alembic_version table "
                      "belongs to another application (give the ledger its own file, database or schema)")
    if versions:
        return  # ours, at a revision we know: upgrade_to_head takes it from there
    others = sorted(names - {_VERSION_TABLE})
    if dialect == "sqlite":
        if others:
            shown = ", ".join(others[:8]) + (f", ... ({len(others)} tables)" if len(others) > 8 else "")
            raise _refuse(where, f"is a SQLite database of something else (tables: {shown}; no syncengine "
                                 "schema version): not a syncengine ledger", "foreign",
                          "point `ledger:` at the syncengine ledger, or at a new file")
        if _VERSION_TABLE not in names:
            raise _refuse(where, "is a SQLite database with no tables: not a syncengine ledger",
                          "no_tables", _NEW_OR_ELSEWHERE)
        return
    # PostgreSQL: a shared database; only tables that would collide with ours are a problem.
    clashing = sorted(set(others) & set(metadata.tables))
    if clashing:
        raise _refuse(where, f"schema {schema!r} already has tables named like syncengine's "
                             f"({', '.join(clashing)}) but no syncengine schema version", "foreign",
                      "give the ledger its own schema (add ?options=-csearch_path%3Dsyncengine to the URL "
                      "after CREATE SCHEMA syncengine) or its own database")
