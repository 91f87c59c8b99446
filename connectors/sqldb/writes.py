"""Applying a batch of writes to one table in one transaction.

The fast path groups the batch (one ``executemany`` per shape of insert, update, delete); if
the database rejects it (a unique or not-null constraint, a value too long), the transaction is
rolled back and the batch is replayed op by op, each in its own SAVEPOINT, so exactly the bad
ops fail with a :class:`~syncengine.errors.ValidationError` naming the column and the rest
commit. Keys are checked before writing, so a missing key is a NotFoundError, not a silent no-op.
A create whose key belongs to a soft-deleted row fails the fast path and, in the replay, revives
that row (clears the mark, writes the fields), in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any, Literal

import sqlalchemy as sa

from syncengine.errors import ConnectorError, NotFoundError
from syncengine.records import Record

from .errors import map_error
from .rows import is_deleted, record_reader
from .table import TableInfo

__all__ = [
    "Outcome",
    "PreparedOp",
    "Stamp",
    "apply_ops",
    "live_predicate",
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


def select_by_keys(
    connection: sa.Connection, info: TableInfo, keys: Iterable[Any], *, live_only: bool
) -> dict[Any, Sequence[Any]]:
    """Rows by database key value, in chunks small enough for any driver's parameter limit."""
    keys = list(dict.fromkeys(keys))
    rows: dict[Any, Sequence[Any]] = {}
    live = live_predicate(info) if live_only else None
    key_index = info.names.index(info.key.name)
    for start in range(0, len(keys), IN_CHUNK):
        stmt = sa.select(info.table).where(info.key.in_(keys[start : start + IN_CHUNK]))
        if live is not None:
            stmt = stmt.where(live)
        for row in connection.execute(stmt):
            rows[row[key_index]] = tuple(row)
    return rows


def apply_ops(
    connection: sa.Connection, info: TableInfo, ops: Sequence[PreparedOp], stamp: Stamp, *, revive: bool = False
) -> dict[int, Outcome]:
    """Run ``ops`` together; raises IntegrityError/DataError for the caller to replay one by one.

    ``revive``: creates with a given key are looked up too, and one whose key belongs to a
    soft-deleted row revives it. The replay does this: a soft-deleted twin fails the fast path's
    insert, and looking every create up front would cost the fast path ~20% on such tables."""
    outcomes: dict[int, Outcome] = {}
    deleted_index = info.position(info.deleted)
    revive = revive and deleted_index is not None
    keyed = [op for op in ops if op.kind != "create" or op.derived or (revive and op.key is not None)]
    existing = select_by_keys(connection, info, [op.key for op in keyed], live_only=False)
    creates: list[PreparedOp] = []
    updates: list[PreparedOp] = []
    deletes: list[PreparedOp] = []
    for op in ops:
        row = existing.get(op.key) if op.key is not None else None
        if op.kind == "create":
            if row is not None and deleted_index is not None and is_deleted(info, row[deleted_index]):
                # A soft-deleted row with this key: revive it (clear the mark, write the fields;
                # columns the create does not name keep the row's values).
                values = _without(op.values, info.key.name)
                assert info.deleted is not None
                values[info.deleted.name] = False if info.kinds[info.deleted.name] == "boolean" else None
                updates.append(PreparedOp(op.index, "update", op.key, values))
            elif op.derived and row is not None:
                # The same create ran before (a retry after a crash): write its fields again.
                updates.append(PreparedOp(op.index, "update", op.key, _without(op.values, info.key.name)))
            else:
                creates.append(op)  # a live row with this key fails the insert: reported for this op
            continue
        if row is None or (deleted_index is not None and is_deleted(info, row[deleted_index])):
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
        read = record_reader(info)
        for op in updates:
            record = read(rows[op.key])
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
        groups[tuple(op.values)].append(op)
    build = CreatedRecord(info, stamp)
    for columns, group in groups.items():
        if info.key.name not in columns and info.dialect == "sqlite":
            # SQLite cannot return generated keys in parameter order from one executemany
            # (SQLAlchemy would fall back to a statement per row); inside our write
            # transaction (BEGIN IMMEDIATE) nobody else can take the next ids, so we do.
            first = _next_sqlite_id(connection, info)
            for offset, op in enumerate(group):
                op.key = op.values[info.key.name] = first + offset
            columns = (*columns, info.key.name)
        if info.key.name in columns:
            _insert_many(connection, info, columns, [op.values for op in group])
            keys = [op.key for op in group]
        else:
            stmt = sa.insert(info.table).returning(info.key, sort_by_parameter_order=True)
            keys = list(connection.execute(stmt, [op.values for op in group]).scalars())
        if info.server_defaults:
            # Columns the database fills in must show in the returned record, or its hash would
            # differ from the next read's: read the new rows back (only for such tables).
            read = record_reader(info)
            stored = select_by_keys(connection, info, keys, live_only=False)
            for op, key in zip(group, keys, strict=True):
                outcomes[op.index] = Outcome(read(stored[key]))
            continue
        for op, key in zip(group, keys, strict=True):
            outcomes[op.index] = Outcome(build(key, op.values))


def _insert_many(
    connection: sa.Connection, info: TableInfo, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """One executemany; straight to the driver when no column needs SQLAlchemy's conversion.

    SQLAlchemy's executemany spends more time building each row's parameters than the driver
    spends inserting it; our codecs already produced driver-ready values for these columns.
    """
    dialect = connection.dialect
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    direct = marker is not None and all(
        info.table.c[name].type.dialect_impl(dialect).bind_processor(dialect) is None for name in columns
    )
    if marker is None or not direct:
        connection.execute(sa.insert(info.table), rows)
        return
    quote = dialect.identifier_preparer.quote
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        dialect.identifier_preparer.format_table(info.table),
        ", ".join(quote(name) for name in columns),
        ", ".join([marker] * len(columns)),
    )
    connection.exec_driver_sql(
        sql, list(map(itemgetter(*columns), rows)) if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    )


def _next_sqlite_id(connection: sa.Connection, info: TableInfo) -> int:
    """The next rowid SQLite itself would give: above the largest key and any AUTOINCREMENT high mark."""
    top = connection.execute(sa.select(sa.func.max(info.key))).scalar() or 0
    has_sequence = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).scalar()
    if has_sequence:
        seq = connection.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (info.table.name,)).scalar()
        top = max(top, seq or 0)
    return int(top) + 1


def _from_db(info: TableInfo, name: str, value: Any) -> Any:
    convert = info.codecs[name].from_db
    return convert(value) if convert is not None and value is not None else value


class CreatedRecord:
    """The Record of a row we just inserted, from the values we sent (no read-back).

    Columns we did not send are None (a server-side default is not seen until the next read).
    """

    def __init__(self, info: TableInfo, stamp: Stamp) -> None:
        self.key_name = info.key.name
        self.empty = dict.fromkeys(info.names)
        # The stamp is the same for the whole batch: convert it once.
        self.stamped = {name: _from_db(info, name, value) for name, value in stamp.updated.items()}
        self.converters = [
            (name, codec.from_db)
            for name, codec in info.codecs.items()
            if codec.from_db is not None and name not in self.stamped
        ]
        self.updated_name = info.updated_at.name if info.updated_at is not None else None

    def __call__(self, key: Any, values: dict[str, Any]) -> Record:
        fields = {**self.empty, **values, self.key_name: key}
        for name, convert in self.converters:
            value = fields[name]
            if value is not None:
                fields[name] = convert(value)
        fields.update(self.stamped)
        updated = fields[self.updated_name] if self.updated_name is not None else None
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
                outcomes.update(apply_ops(connection, info, [op], stamp, revive=True))
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            key = None if op.key is None else str(op.key)
            outcomes[op.index] = Outcome(error=map_error(exc, connector=stamp.connector, obj=stamp.obj, key=key))
    return outcomes
