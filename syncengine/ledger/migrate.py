"""Bringing a ledger's schema to the newest revision, safely when several processes open it at once.

``Ledger.open`` calls :func:`upgrade_to_head` every time: on a ledger that is already current it is
a quick no-op. The upgrade runs on the ledger's own connection, inside one transaction:

* PostgreSQL: the transaction first takes a transaction-scoped advisory lock keyed by the current
  schema, so two daemons starting together migrate one after the other (the second then finds the
  schema at head). DDL is transactional there, so a failed migration leaves nothing behind.
* SQLite: the transaction begins ``IMMEDIATE``, which takes the database's write lock up front; a
  second process waits on the busy timeout and then finds the schema at head.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from syncengine.ledger.connect import BEGIN_OPTION, DialectName

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# An arbitrary constant so the migration lock does not collide with other advisory-lock users.
_LOCK_NAMESPACE = "syncengine.ledger.migrate"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An alembic Config built in code (no ini file needed), optionally bound to a connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("the ledger has no migrations")
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: sa.Engine, dialect: DialectName) -> None:
    """Migrate the ledger behind ``engine`` to the newest revision (a no-op when it is already)."""
    # Fast path without any lock: opening a current ledger must not wait for a writer (or, on
    # SQLite, for a process holding the write lock) just to learn there is nothing to do.
    if current_revision(engine) == head_revision():
        return
    with engine.connect() as conn:
        if dialect == "sqlite":
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            if dialect == "postgresql":
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:ns || current_schema(), 0))"),
                    {"ns": _LOCK_NAMESPACE},
                )
            command.upgrade(alembic_config(conn), "head")
