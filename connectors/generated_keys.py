"""Keys for rows a person added without one (``key: {column: id, generate: uuid}``), CSV and SQL.

A row's key is a UUID derived from the row's content (and, for identical rows, which one it is),
so a ``plan`` shows the key a ``sync`` will write, and a sync interrupted before the write makes
the same key again. A ``sync`` writes the keys into the file (one atomic rewrite) or the table
(one transaction) before the rows are read as records, so a key never changes once anything was
linked to it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from syncengine.errors import ConfigError

__all__ = ["GENERATED_KEY_NAMESPACE", "KEY_GENERATORS", "RowKeys", "parse_key"]

#: how a missing key can be made: ``uuid`` (a UUID derived from the row, stable until it is written).
KEY_GENERATORS = ("uuid",)

#: namespace of generated row keys (uuid5), fixed forever.
GENERATED_KEY_NAMESPACE = uuid.UUID("3d1f8a3e-5b7c-5e2a-9c41-7a0b6d2e9f18")


class RowKeys:
    """Derives keys in file order; call it for every keyless row of the right width, in order."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._seen: Counter[str] = Counter()

    def __call__(self, row_text: str) -> str:
        text = row_text.rstrip("\r\n")
        occurrence = self._seen[text]
        self._seen[text] += 1
        return str(uuid.uuid5(GENERATED_KEY_NAMESPACE, f"{self.scope}\x00{text}\x00{occurrence}"))


def parse_key(raw: Any, where: str) -> tuple[str, str | None]:
    """``key: id`` or ``key: {column: id, generate: uuid}`` -> (column, generator or None)."""
    if isinstance(raw, str) and raw:
        return raw, None
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"column", "generate"}
        if unknown:
            raise ConfigError(f"{where}.key: unknown setting(s) {', '.join(sorted(map(str, unknown)))}",
                              hint="write key: {column: id, generate: uuid}")
        column = raw.get("column", "id")
        generate = raw.get("generate")
        if not isinstance(column, str) or not column:
            raise ConfigError(f"{where}.key.column: expected a column name")
        if generate is not None and generate not in KEY_GENERATORS:
            raise ConfigError(f"{where}.key.generate: unknown generator {generate!r}",
                              hint=f"use one of {', '.join(KEY_GENERATORS)}")
        return column, generate
    raise ConfigError(f"{where}.key: expected a column name, or {{column: id, generate: uuid}}")
