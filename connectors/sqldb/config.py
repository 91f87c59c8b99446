"""How a SQL table is described in config, and how a database URL is made ready for SQLAlchemy.

Plain YAML fills :func:`parse_config`; mistakes become :class:`~syncengine.errors.ConfigError`
naming the object and the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from connectors.generated_keys import KEY_GENERATORS, parse_key
from syncengine.connector import FieldType
from syncengine.errors import ConfigError

__all__ = ["COLUMN_TYPES", "SqlObjectConfig", "normalize_url", "parse_config"]

#: the field types a column can be created with (``money`` is two columns: map its parts).
COLUMN_TYPES: frozenset[str] = frozenset(
    {"string", "integer", "decimal", "boolean", "date", "datetime", "object", "array", "any"}
)

#: the look-back under a watermark, for clock skew and rows written in the same instant.
DEFAULT_OVERLAP_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class SqlObjectConfig:
    """One table as one object. ``columns`` are used only to CREATE a missing table."""

    table: str
    key: str = "id"
    #: a timestamp column set on every write; makes ``changes`` incremental.
    updated_at: str | None = None
    #: a soft-delete column: boolean, or a timestamp (non-null / true means deleted).
    deleted: str | None = None
    columns: Mapping[str, FieldType] = field(default_factory=dict)
    create: bool = False
    batch_size: int = 1000
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS
    #: ``"uuid"``: a row inserted without a key (NULL or '') gets one, written before it syncs.
    generate_key: str | None = None

    def __post_init__(self) -> None:
        if self.generate_key not in (None, *KEY_GENERATORS):
            raise ConfigError(f"key.generate: unknown generator {self.generate_key!r}",
                              hint=f"use one of {', '.join(KEY_GENERATORS)}")
        if self.generate_key and self.columns.get(self.key, "string") != "string":
            raise ConfigError(
                f"key.generate: {self.generate_key} keys are text, but column {self.key!r} is {self.columns[self.key]}",
                hint=f"declare {self.key}: string, or drop 'generate' (an integer key can autoincrement)",
            )
        for name, kind in self.columns.items():
            if kind not in COLUMN_TYPES:
                raise ConfigError(
                    f"column {name!r}: unknown type {kind!r}",
                    hint=f"use one of {', '.join(sorted(COLUMN_TYPES))}",
                )
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {self.batch_size}")
        if self.overlap_seconds < 0:
            raise ConfigError(f"overlap_seconds must not be negative, got {self.overlap_seconds}")


def normalize_url(url: str, base_dir: Path | str | None = None) -> str:
    """``postgresql://`` gets the psycopg 3 driver; a relative SQLite path is taken from base_dir."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r} ({exc})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").expanduser()
        if not path.is_absolute() and base_dir is not None:
            parsed = parsed.set(database=str(Path(base_dir) / path))
    return parsed.render_as_string(hide_password=False)


_KEYS = {"table", "key", "updated_at", "deleted", "columns", "create", "batch_size", "overlap_seconds"}


def parse_config(raw: Mapping[str, Any], base_dir: Path | str | None) -> tuple[str, dict[str, SqlObjectConfig]]:
    """``{"url": ..., "objects": {name: {"table": ..., ...}}}`` -> (url, configs)."""
    if not isinstance(raw, Mapping):
        raise ConfigError("a sql connector needs a mapping with 'url' and 'objects'")
    url = raw.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError("a sql connector needs 'url' (any SQLAlchemy URL, e.g. sqlite:///data.db)")
    objects = raw.get("objects")
    if not isinstance(objects, Mapping) or not objects:
        raise ConfigError("a sql connector needs 'objects': a mapping of object name -> table settings")
    configs: dict[str, SqlObjectConfig] = {}
    for name, body in objects.items():
        where = f"objects.{name}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: expected a mapping with at least 'table'")
        unknown = set(body) - _KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting(s) {', '.join(sorted(map(str, unknown)))}",
                hint=f"known settings: {', '.join(sorted(_KEYS))}",
            )
        table = body.get("table", name)
        if not isinstance(table, str) or not table:
            raise ConfigError(f"{where}.table: a table name is required")
        key, generate = parse_key(body.get("key", "id"), where)
        for option in ("updated_at", "deleted"):
            if body.get(option) is not None and not isinstance(body[option], str):
                raise ConfigError(f"{where}.{option}: expected a column name")
        columns = body.get("columns") or {}
        if not isinstance(columns, Mapping):
            raise ConfigError(f"{where}.columns: expected a mapping of column -> type")
        if "create" in body and not isinstance(body["create"], bool):
            raise ConfigError(f"{where}.create: expected true or false")
        batch_size = body.get("batch_size", 1000)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool):
            raise ConfigError(f"{where}.batch_size: expected an integer")
        overlap = body.get("overlap_seconds", DEFAULT_OVERLAP_SECONDS)
        if not isinstance(overlap, int | float) or isinstance(overlap, bool):
            raise ConfigError(f"{where}.overlap_seconds: expected a number of seconds")
        try:
            configs[str(name)] = SqlObjectConfig(
                table=table,
                key=key,
                generate_key=generate,
                updated_at=body.get("updated_at"),
                deleted=body.get("deleted"),
                columns={str(k): cast(FieldType, str(v)) for k, v in columns.items()},
                create=body.get("create", False),
                batch_size=batch_size,
                overlap_seconds=float(overlap),
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
    return normalize_url(url, base_dir), configs
