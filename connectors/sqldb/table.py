"""One configured table, resolved against the live database: reflected (or created) once.

Everything the read and write paths need is computed here a single time: the columns, which one
is the key / updated-at / soft-delete column, and a codec per column. On SQLite, decimal columns
bypass SQLAlchemy's float conversion (which loses digits) and use our own exact codec instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from syncengine.connector import FieldType
from syncengine.errors import ConfigError

from .config import SqlObjectConfig
from .values import SQLITE_DECIMAL_TYPE, ColumnCodec, FromDb, ToDb, codec_for, field_type_of, sa_type_for

__all__ = ["TableInfo", "resolve_table"]


@dataclass(slots=True)
class TableInfo:
    table: sa.Table
    key: sa.Column[Any]
    kinds: dict[str, FieldType]
    codecs: dict[str, ColumnCodec]
    updated_at: sa.Column[Any] | None
    deleted: sa.Column[Any] | None
    #: the database assigns the key when a create does not give one.
    autoincrement: bool
    dialect: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.table.columns]

    #: column -> to_db, for the columns a write may set.
    writers: dict[str, ToDb] = field(default_factory=dict)
    #: the columns the connector sets itself on every write (updated-at, soft-delete).
    managed: frozenset[str] = frozenset()
    #: some column besides the key gets a value from the database when an insert omits it.
    server_defaults: bool = False

    def __post_init__(self) -> None:
        self.managed = frozenset(c.name for c in (self.updated_at, self.deleted) if c is not None)
        self.server_defaults = any(
            c.server_default is not None or c.computed is not None
            for c in self.table.columns
            if c is not self.key and c.name not in self.managed
        )
        self.writers = {name: codec.to_db for name, codec in self.codecs.items() if name not in self.managed}

    @property
    def converters(self) -> list[tuple[int, FromDb]]:
        """(position, from_db) of the columns whose values need converting on read."""
        return [(i, codec.from_db) for i, codec in enumerate(self.codecs.values()) if codec.from_db is not None]

    def position(self, column: sa.Column[Any] | None) -> int | None:
        return None if column is None else self.names.index(column.name)


def resolve_table(connection: sa.Connection, config: SqlObjectConfig) -> TableInfo:
    dialect = connection.dialect.name
    schema, _, name = config.table.rpartition(".")
    metadata = sa.MetaData()
    inspector = sa.inspect(connection)
    if not inspector.has_table(name, schema=schema or None):
        if not config.create:
            raise sa.exc.NoSuchTableError(config.table)
        table = _declared_table(metadata, name, schema or None, config)
        table.create(connection)
    else:
        table = sa.Table(name, metadata, schema=schema or None, autoload_with=connection)
    columns = {c.name: c for c in table.columns}
    for role, column_name in (("key", config.key), ("updated_at", config.updated_at), ("deleted", config.deleted)):
        if column_name and column_name not in columns:
            raise ConfigError(
                f"table {config.table!r} has no column {column_name!r} (configured as {role})",
                hint=f"its columns are: {', '.join(columns)}",
            )
    kinds: dict[str, FieldType] = {}
    codecs: dict[str, ColumnCodec] = {}
    declared = _sqlite_declared_types(connection, name, schema) if dialect == "sqlite" else {}
    for column in table.columns:
        as_text = declared.get(column.name) == SQLITE_DECIMAL_TYPE  # decimals kept as text
        column_type = sa.Text() if as_text else column.type
        kind = config.columns.get(column.name) or ("decimal" if as_text else field_type_of(column_type))
        kinds[column.name] = kind
        codecs[column.name] = codec = codec_for(column_type, kind, dialect)
        if codec.raw:
            # Our codec converts both ways; SQLAlchemy's would go through float (decimals on
            # SQLite), a slow regex (datetimes on SQLite) or the driver's JSON parser (floats).
            column.type = codec.raw_type if codec.raw_type is not None else sa.types.NullType()
    if config.updated_at and kinds[config.updated_at] != "datetime":
        raise ConfigError(
            f"updated_at column {config.updated_at!r} of table {config.table!r} is {kinds[config.updated_at]}, "
            "not a timestamp",
            hint="point 'updated_at' at a DATETIME/TIMESTAMP column, or leave it out for full listings",
        )
    key = columns[config.key]
    autoincrement = kinds[config.key] == "integer" and _is_autoincrement(table, key, dialect)
    return TableInfo(
        table=table,
        key=key,
        kinds=kinds,
        codecs=codecs,
        updated_at=columns[config.updated_at] if config.updated_at else None,
        deleted=columns[config.deleted] if config.deleted else None,
        autoincrement=autoincrement,
        dialect=dialect,
    )


def _sqlite_declared_types(connection: sa.Connection, name: str, schema: str) -> dict[str, str]:
    """Column -> declared type as written in CREATE TABLE (reflection maps DECIMAL_TEXT to TEXT)."""
    quote = connection.dialect.identifier_preparer.quote
    prefix = f"{quote(schema)}." if schema else ""
    rows = connection.exec_driver_sql(f"PRAGMA {prefix}table_info({quote(name)})").all()
    return {str(row[1]): str(row[2]).upper() for row in rows}


def _is_autoincrement(table: sa.Table, key: sa.Column[Any], dialect: str) -> bool:
    """Whether the database fills the key in: SQLite's rowid alias, a serial or identity column."""
    primary = list(table.primary_key.columns)
    if len(primary) != 1 or primary[0] is not key or key.autoincrement is False:
        return False
    return dialect == "sqlite" or key.identity is not None or key.server_default is not None


def _declared_table(metadata: sa.MetaData, name: str, schema: str | None, config: SqlObjectConfig) -> sa.Table:
    declared: dict[str, FieldType] = dict(config.columns)
    declared.setdefault(config.key, "integer")
    if config.updated_at:
        declared.setdefault(config.updated_at, "datetime")
    if config.deleted:
        declared.setdefault(config.deleted, "datetime")
    items: list[sa.schema.SchemaItem] = [
        sa.Column(config.key, sa_type_for(declared[config.key], key=True), primary_key=True)
    ]
    for column_name, kind in declared.items():
        if column_name != config.key:
            items.append(sa.Column(column_name, sa_type_for(kind), nullable=True))
    if config.updated_at:
        # changes() reads in (updated_at, key) order: keyset pagination wants this index.
        items.append(sa.Index(f"ix_{name}_{config.updated_at}_{config.key}", config.updated_at, config.key))
    return sa.Table(name, metadata, *items, schema=schema)
