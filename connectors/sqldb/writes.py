"""Applying a batch of writes to one table in one transaction.

The fast path groups the batch (one ``executemany`` per shape of insert, update, delete); if
the database rejects it (a unique or not-null constraint, a value too long), the transaction is
rolled back and the batch is replayed op by op, each in its own SAVEPOINT, so exactly the bad
ops fail with a :class:`~syncengine.errors.ValidationError` naming the column and the rest
commit. Keys are checked before writing, so a missing key is a NotFoundError, not a silent no-op.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from syncengine.errors import ConnectorError, NotFoundError
from syncengine.records import Record

from .errors import map_error
from .table import TableInfo

__all__ = [
    "Outcome",
    "PreparedOp",
    "Stamp",
    "apply_ops",
    "live_predicate",
    "record_of",
    "replay_one_by_one",
    "select_by_keys",
]

#: SQLite allows 32766 bound parameters; IN lists stay well below on every database.
IN_CHUNK = 500

Kind = Literal["create", "update", "delete", "archive"]


@dataclass(slots=True)
class PreparedOp:
    """One op, checked and converted to database values before any SQL runs."""

    index: int
    kind: Kind
    #: the key as the database holds it (int for integer keys); None for an autoincrement create.
    key: Any
    #: column -> database value (the key included for creates that know it).
    values: dict[str, Any] = field(default_factory=dict)
    #: the key came from the idempotency key: an existing row means a retried create.
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Stamp:
    """What every write of one batch sets, as database values: updated-at, the soft-delete mark."""

    updated: dict[str, Any]
    deleted: Any
    #: connector and object names for errors.
    connector: str
    obj: str


@dataclass(slots=True)
class Outcome:
    record: Record | None = None
    error: ConnectorError | None = None


def live_predicate(info: TableInfo) -> sa.ColumnElement[bool] | None:
    """Rows not soft-deleted (None when the table has no soft-delete column)."""
    column = info.deleted
    if column is None:
        return None
    if info.kinds[column.name] == "boolean":
        return sa.or_(column.is_(None), column == sa.false())
    return column.is_(None)


def is_deleted(info: TableInfo, value: Any) -> bool:
    if info.deleted is None:
        return False
    if info.kinds[info.deleted.name] == "boolean":
        return bool(value)
    return value is not None


def record_of(info: TableInfo, row: sa.RowMapping) -> Record:
    fields: dict[str, Any] = {}
    for name, codec in info.codecs.items():
        value = row[name]
        fields[name] = codec.from_db(value) if codec.from_db is not None and value is not None else value
    updated = fields[info.updated_at.name] if info.updated_at is not None else None
    deleted = is_deleted(info, row[info.deleted.name]) if info.deleted is not None else False
    return Record(str(row[info.key.name]), fields, updated, deleted)


def select_by_keys(
    connection: sa.Connection, info: TableInfo, keys: Iterable[Any], *, live_only: bool
) -> dict[Any, sa.RowMapping]:
    """Rows by database key value, in chunks small enough for any driver's parameter limit."""
    keys = list(dict.fromkeys(keys))
    rows: dict[Any, sa.RowMapping] = {}
    live = live_predicate(info) if live_only else None
    for start in range(0, len(keys), IN_CHUNK):
        stmt = sa.select(info.table).where(info.key.in_(keys[start : start + IN_CHUNK]))
        if live is not None:
            stmt = stmt.where(live)
        for row in connection.execute(stmt).mappings():
            rows[row[info.key.name]] = row
    return rows


def apply_ops(
    connection: sa.Connection, info: TableInfo, ops: Sequence[PreparedOp], stamp: Stamp
) -> dict[int, Outcome]:
    """Run ``ops`` together; raises IntegrityError/DataError for the caller to replay one by one."""
    outcomes: dict[int, Outcome] = {}
    keyed = [op for op in ops if op.kind != "create" or op.derived]
    existing = select_by_keys(connection, info, [op.key for op in keyed], live_only=False)
    creates: list[PreparedOp] = []
    updates: list[PreparedOp] = []
    deletes: list[PreparedOp] = []
    for op in ops:
        row = existing.get(op.key) if op.key is not None else None
        if op.kind == "create":
            if op.derived and row is not None:
                # The same create ran before (a retry after a crash): write its fields again.
                updates.append(PreparedOp(op.index, "update", op.key, _without(op.values, info.key.name)))
            else:
                creates.append(op)
            continue
        if row is None or is_deleted(info, row[info.deleted.name] if info.deleted is not None else None):
            outcomes[op.index] = Outcome(
                error=NotFoundError(
                    f"no row with key {op.key!r} in table {info.table.name}",
                    connector=stamp.connector,
                    obj=stamp.obj,
                    key=str(op.key),
                )
            )
        elif op.kind == "delete" and info.deleted is None:
            deletes.append(op)
        else:
            updates.append(op)
    _insert(connection, info, creates, stamp, outcomes)
    _update(connection, info, updates, stamp)
    if deletes:
        stmt = sa.delete(info.table).where(info.key == sa.bindparam("k_key"))
        connection.execute(stmt, [{"k_key": op.key} for op in deletes])
        for op in deletes:
            outcomes[op.index] = Outcome()
    if updates:
        rows = select_by_keys(connection, info, [op.key for op in updates], live_only=False)
        for op in updates:
            record = record_of(info, rows[op.key])
            outcomes[op.index] = Outcome(None if op.kind in ("delete", "archive") else record)
    return outcomes


def _without(values: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != name}


def _insert(
    connection: sa.Connection,
    info: TableInfo,
    creates: list[PreparedOp],
    stamp: Stamp,
    outcomes: dict[int, Outcome],
) -> None:
    groups: dict[tuple[str, ...], list[PreparedOp]] = defaultdict(list)
    for op in creates:
        op.values.update(stamp.updated)
        groups[tuple(sorted(op.values))].append(op)
    for columns, group in groups.items():
        rows = [op.values for op in group]
        if info.key.name in columns:
            connection.execute(sa.insert(info.table), rows)
            keys = [op.key for op in group]
        else:
            stmt = sa.insert(info.table).returning(info.key, sort_by_parameter_order=True)
            keys = list(connection.execute(stmt, rows).scalars())
        for op, key in zip(group, keys, strict=True):
            outcomes[op.index] = Outcome(_created_record(info, key, op.values))


def _created_record(info: TableInfo, key: Any, values: dict[str, Any]) -> Record:
    fields: dict[str, Any] = {}
    for name, codec in info.codecs.items():
        value = key if name == info.key.name else values.get(name)
        fields[name] = codec.from_db(value) if codec.from_db is not None and value is not None else value
    updated = fields[info.updated_at.name] if info.updated_at is not None else None
    return Record(str(key), fields, updated if isinstance(updated, datetime) else None)


def _update(connection: sa.Connection, info: TableInfo, updates: list[PreparedOp], stamp: Stamp) -> None:
    groups: dict[tuple[str, ...], list[PreparedOp]] = defaultdict(list)
    for op in updates:
        values = dict(op.values)
        if op.kind in ("delete", "archive"):
            assert info.deleted is not None
            values[info.deleted.name] = stamp.deleted
        values.update(stamp.updated)
        values.pop(info.key.name, None)
        op.values = values
        groups[tuple(sorted(values))].append(op)
    for columns, group in groups.items():
        if not columns:
            continue
        stmt = (
            sa.update(info.table)
            .where(info.key == sa.bindparam("k_key"))
            .values({name: sa.bindparam(f"v_{i}") for i, name in enumerate(columns)})
        )
        params = [{"k_key": op.key, **{f"v_{i}": op.values[name] for i, name in enumerate(columns)}} for op in group]
        connection.execute(stmt, params)


def replay_one_by_one(
    connection: sa.Connection, info: TableInfo, ops: Sequence[PreparedOp], stamp: Stamp
) -> dict[int, Outcome]:
    """Each op in its own SAVEPOINT: a constraint violation fails that op only."""
    outcomes: dict[int, Outcome] = {}
    for op in ops:
        try:
            with connection.begin_nested():
                outcomes.update(apply_ops(connection, info, [op], stamp))
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            key = None if op.key is None else str(op.key)
            outcomes[op.index] = Outcome(error=map_error(exc, connector=stamp.connector, obj=stamp.obj, key=key))
    return outcomes
