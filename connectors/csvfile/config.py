"""How a CSV file is described in config: path, key column, typed columns, dialect.

Plain YAML fills :func:`parse_objects`; mistakes become :class:`~syncengine.errors.ConfigError`
naming the object and the key, so an operator can fix the config without reading code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from connectors.generated_keys import KEY_GENERATORS, parse_key
from syncengine.connector import FieldType
from syncengine.errors import ConfigError

from .cells import CELL_TYPES
from .locking import DEFAULT_LOCK_TIMEOUT

__all__ = ["CsvObjectConfig", "parse_objects"]


@dataclass(frozen=True, slots=True)
class CsvObjectConfig:
    """One CSV file as one object. Columns not named in ``columns`` are strings."""

    path: Path | str
    key: str = "id"
    #: a column holding when the row last changed (ISO; naive = UTC); fills ``Record.updated_at``.
    updated_at: str | None = None
    columns: Mapping[str, FieldType] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    #: create the file with the declared columns when it is missing.
    create: bool = True
    #: a flag column: a non-empty, non-false cell marks the row archived (seen as deleted).
    archive_column: str | None = None
    #: ``"uuid"``: a row added without a key gets one, written into the file before it syncs.
    generate_key: str | None = None
    #: seconds a write waits for another writer of the file (its lock) before the run stops.
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        for name, kind in self.columns.items():
            if kind not in CELL_TYPES:
                raise ConfigError(
                    f"column {name!r}: type {kind!r} cannot be held in a CSV cell",
                    hint=f"use one of {', '.join(sorted(CELL_TYPES))}",
                )
        if self.updated_at and self.columns.get(self.updated_at, "datetime") != "datetime":
            raise ConfigError(
                f"updated_at column {self.updated_at!r} must be a datetime, not {self.columns[self.updated_at]!r}"
            )
        if self.generate_key not in (None, *KEY_GENERATORS):
            raise ConfigError(
                f"key.generate: unknown generator {self.generate_key!r}", hint=f"use one of {', '.join(KEY_GENERATORS)}"
            )
        if self.generate_key and self.columns.get(self.key, "string") != "string":
            raise ConfigError(
                f"key.generate: {self.generate_key} keys are text, but column {self.key!r} is {self.columns[self.key]}",
                hint=f"declare {self.key}: string, or drop 'generate'",
            )
        if len(self.delimiter) != 1:
            raise ConfigError(f"delimiter must be one character, got {self.delimiter!r}")

    @property
    def file(self) -> Path:
        return cast(Path, self.path)


_KEYS = {"path", "key", "updated_at", "columns", "delimiter", "encoding", "create", "archive_column", "lock_timeout"}


def parse_objects(raw: Mapping[str, Any], base_dir: Path | str | None) -> dict[str, CsvObjectConfig]:
    """``{"objects": {name: {...}}}`` from YAML -> configs, relative paths resolved against base_dir."""
    objects = raw.get("objects") if isinstance(raw, Mapping) else None
    if not isinstance(objects, Mapping) or not objects:
        raise ConfigError("a csv connector needs 'objects': a mapping of object name -> file settings")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    result: dict[str, CsvObjectConfig] = {}
    for name, body in objects.items():
        where = f"objects.{name}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: expected a mapping with at least 'path'")
        unknown = set(body) - _KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting(s) {', '.join(sorted(map(str, unknown)))}",
                hint=f"known settings: {', '.join(sorted(_KEYS))}",
            )
        if not isinstance(body.get("path"), str) or not body["path"]:
            raise ConfigError(f"{where}.path: a file path is required")
        path = Path(body["path"]).expanduser()
        if not path.is_absolute():
            path = base / path
        columns = body.get("columns") or {}
        if not isinstance(columns, Mapping):
            raise ConfigError(f"{where}.columns: expected a mapping of column -> type")
        key, generate = parse_key(body.get("key", "id"), where)
        for option in ("updated_at", "delimiter", "encoding", "archive_column"):
            if option in body and body[option] is not None and not isinstance(body[option], str):
                raise ConfigError(f"{where}.{option}: expected a string")
        if "create" in body and not isinstance(body["create"], bool):
            raise ConfigError(f"{where}.create: expected true or false")
        lock_timeout = body.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int | float) or lock_timeout < 0:
            raise ConfigError(f"{where}.lock_timeout: expected a number of seconds (0 or more), got {lock_timeout!r}")
        try:
            result[str(name)] = CsvObjectConfig(
                path=path,
                key=key,
                updated_at=body.get("updated_at"),
                columns={str(k): cast(FieldType, str(v)) for k, v in columns.items()},
                generate_key=generate,
                delimiter=body.get("delimiter", ","),
                encoding=body.get("encoding", "utf-8"),
                create=body.get("create", True),
                archive_column=body.get("archive_column"),
                lock_timeout=float(lock_timeout),
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
    return result
