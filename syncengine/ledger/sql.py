"""Small SQL helpers shared by the ledger's modules: table handles, clocks, dialect upserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from syncengine.ledger import models
from syncengine.ledger.connect import DialectName

__all__ = [
    "aware",
    "chunks",
    "conflicts",
    "cursors",
    "failures",
    "insert",
    "intents",
    "leases",
    "links",
    "pending_syncs",
    "runs",
    "snapshots",
    "tokens",
    "utcnow",
    "webhook_events",
]

T = TypeVar("T")


def _table(model: type[models.LedgerTable]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


cursors = _table(models.Cursor)
links = _table(models.Link)
snapshots = _table(models.Snapshot)
intents = _table(models.Intent)
conflicts = _table(models.Conflict)
failures = _table(models.Failure)
webhook_events = _table(models.WebhookEvent)
runs = _table(models.Run)
tokens = _table(models.Token)
leases = _table(models.Lease)
pending_syncs = _table(models.PendingSync)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def insert(dialect: DialectName, table: sa.Table) -> Any:
    """An INSERT that knows ``ON CONFLICT`` on this database (both dialects spell it the same)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[T], size: int = 5_000) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
