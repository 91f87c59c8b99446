"""The ledger's tables, declared once as SQLModel classes.

These declarations are the source of truth for the schema's *shape*; the alembic migrations under
``migrations/versions`` are its *history*, and a test checks the two never drift apart. The hot
paths (links, snapshots, intents) do not build ORM objects from these classes: they use the table
objects with SQLAlchemy Core or the driver directly. The classes stay useful for reading a row in
a REPL or a one-off script.

The tables live in their own metadata (not ``SQLModel.metadata``) so the ledger's migrations never
see tables that a connector or a test might declare with SQLModel, and constraint names follow a
naming convention so that later migrations can refer to them on every database.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "Conflict",
    "Cursor",
    "Failure",
    "Intent",
    "Lease",
    "LedgerTable",
    "Link",
    "PendingSync",
    "Run",
    "Snapshot",
    "Token",
    "WebhookEvent",
    "metadata",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class LedgerTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of every ledger table; binds them to the ledger's own metadata."""


# 64-bit ids on PostgreSQL (a busy ledger passes 2**31 intents); on SQLite INTEGER PRIMARY KEY is
# the rowid itself, which is already 64-bit and the cheapest key SQLite has.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timestamps are UTC. PostgreSQL stores timestamptz; SQLite stores the naive UTC text.
TIMESTAMP = sa.DateTime(timezone=True)


def _id_column() -> sa.Column[int]:
    return sa.Column(ID, primary_key=True, autoincrement=True)


def _when(nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(TIMESTAMP, nullable=nullable)


def _text(nullable: bool = False) -> sa.Column[str]:
    return sa.Column(sa.Text(), nullable=nullable)


SIDE_CHECK = "side IN ('left', 'right')"


class Cursor(LedgerTable, table=True):
    """Where each side's last committed pull ended, per pipeline and object pair."""

    __tablename__ = "cursors"
    __table_args__ = (sa.CheckConstraint(SIDE_CHECK, name="side"),)

    pipeline: str = Field(primary_key=True)
    pair: str = Field(primary_key=True)
    side: str = Field(primary_key=True)
    cursor: str | None = Field(default=None, sa_column=_text(nullable=True))
    updated_at: datetime = Field(sa_column=_when())


class Link(LedgerTable, table=True):
    """A left record and a right record that are the same thing. Unique both ways."""

    __tablename__ = "links"
    __table_args__ = (
        sa.UniqueConstraint("pipeline", "pair", "left_key"),
        sa.UniqueConstraint("pipeline", "pair", "right_key"),
        # Serves iter_links' keyset pagination (ORDER BY id within one pair).
        sa.Index(None, "pipeline", "pair", "id"),
        sa.CheckConstraint("status IN ('active', 'tombstone')", name="status"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    pipeline: str
    pair: str
    left_key: str
    right_key: str
    status: str = "active"
    created_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())


class Snapshot(LedgerTable, table=True):
    """The last state both sides agreed on for one link: the common fields and each side's hash.

    Kept apart from ``links`` so that a link's identity (which rarely changes) and its content
    (which changes on every sync) are written independently; one row per link, keyed by its id.
    """

    __tablename__ = "snapshots"

    # No foreign key on purpose: the ledger writes and drops a link and its snapshot together
    # (batch.py), and on PostgreSQL the per-row FK check cost a quarter of put_links' time.
    link_id: int | None = Field(default=None, sa_column=sa.Column(ID, primary_key=True, autoincrement=False))
    common_json: str = Field(sa_column=_text())
    left_hash: str | None = None
    right_hash: str | None = None
    updated_at: datetime = Field(sa_column=_when())


class Intent(LedgerTable, table=True):
    """A remote write about to happen, committed before the call so a crash never duplicates it."""

    __tablename__ = "intents"
    __table_args__ = (
        # Only unfinished intents are ever looked up by pair; a partial index stays tiny.
        sa.Index(
            None,
            "pipeline",
            "pair",
            sqlite_where=sa.text("state IN ('pending', 'sent')"),
            postgresql_where=sa.text("state IN ('pending', 'sent')"),
        ),
        sa.CheckConstraint(SIDE_CHECK, name="side"),
        sa.CheckConstraint("op IN ('create', 'update', 'delete', 'archive')", name="op"),
        sa.CheckConstraint("state IN ('pending', 'sent', 'done', 'abandoned', 'failed')", name="state"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    pipeline: str
    pair: str
    side: str
    op: str
    source_key: str | None = None
    target_key: str | None = None
    idempotency_key: str = Field(unique=True)
    payload_json: str = Field(sa_column=_text())
    #: the common shape the write aims at (creates): how a later run recognises what it made.
    expect_json: str | None = Field(default=None, sa_column=_text(nullable=True))
    state: str = "pending"
    created_at: datetime = Field(sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class Conflict(LedgerTable, table=True):
    """A field changed on both sides to different values, parked for a person to decide."""

    __tablename__ = "conflicts"
    __table_args__ = (
        # At most one open conflict per link: a second detection updates the first.
        sa.Index(
            "uq_conflicts_open_link",
            "pipeline",
            "pair",
            "left_key",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index(None, "status"),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
        sa.CheckConstraint("resolution IS NULL OR resolution IN ('left', 'right')", name="resolution"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    pipeline: str
    pair: str
    left_key: str
    right_key: str
    base_json: str | None = Field(default=None, sa_column=_text(nullable=True))
    left_json: str = Field(sa_column=_text())
    right_json: str = Field(sa_column=_text())
    diff_json: str = Field(sa_column=_text())
    fields: str = Field(sa_column=_text())
    status: str = "open"
    resolution: str | None = None
    created_at: datetime = Field(sa_column=_when())
    resolved_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    applied_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class Failure(LedgerTable, table=True):
    """A record that failed to sync, retried on later runs; ``attempts`` counts the tries."""

    __tablename__ = "failures"
    __table_args__ = (
        sa.UniqueConstraint("pipeline", "pair", "side", "key"),
        sa.CheckConstraint(SIDE_CHECK, name="side"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    pipeline: str
    pair: str
    side: str
    key: str
    error: str = Field(sa_column=_text())
    attempts: int = 1
    first_seen: datetime = Field(sa_column=_when())
    last_seen: datetime = Field(sa_column=_when())


class WebhookEvent(LedgerTable, table=True):
    """A webhook delivery, stored once per (source, event id) so a retried delivery is a no-op."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("source", "event_id"),
        sa.Index(
            "ix_webhook_events_unprocessed",
            "id",
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    source: str
    event_id: str
    received_at: datetime = Field(sa_column=_when())
    payload: str = Field(sa_column=_text())
    processed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class Run(LedgerTable, table=True):
    """One reconcile run: when, how it ended, what it did."""

    __tablename__ = "runs"
    __table_args__ = (sa.Index(None, "pipeline", "started_at"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    pipeline: str
    mode: str
    started_at: datetime = Field(sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    status: str = "running"
    counts_json: str = Field(default="{}", sa_column=_text())
    errors_json: str = Field(default="[]", sa_column=_text())


class Token(LedgerTable, table=True):
    """An OAuth token set (access + refresh) by name; rewritten under the token lock."""

    __tablename__ = "tokens"

    name: str = Field(primary_key=True)
    value_json: str | None = Field(default=None, sa_column=_text(nullable=True))
    updated_at: datetime = Field(sa_column=_when())


class Lease(LedgerTable, table=True):
    """A named lease with an owner and an expiry, so several daemons run a pipeline one at a time."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True)
    owner: str
    expires_at: datetime = Field(sa_column=_when())


class PendingSync(LedgerTable, table=True):
    """A record a webhook named, waiting for its keyed sync: one row per (connector, object, key),
    so a burst of deliveries about one record is one sync. ``version`` grows with each delivery;
    the daemon deletes the row only at the version it synced, so a delivery during the sync stays."""

    __tablename__ = "pending_syncs"
    __table_args__ = (sa.UniqueConstraint("connector", "object", "record_key"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    connector: str
    object: str
    record_key: str
    version: int = 1
    #: when the oldest delivery still waiting arrived (event-to-write lag).
    first_event_at: datetime = Field(sa_column=_when())
