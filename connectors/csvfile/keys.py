"""Keys for rows a person added without one (``key: {column: id, generate: uuid}``).

A row's key is a UUID derived from the row's text (and, for identical rows, which one it is),
so a ``plan`` shows the key a ``sync`` will write, and a sync interrupted before the write makes
the same key again. A ``sync`` writes the keys into the file (one atomic rewrite) before the rows
are read as records, so a key never changes once anything was linked to it.
"""

from __future__ import annotations

import uuid
from collections import Counter

__all__ = ["GENERATED_KEY_NAMESPACE", "RowKeys"]

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
