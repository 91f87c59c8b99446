"""One side's changes of a run, by key, held in memory up to a budget and spilled beyond it.

The right side's changes are collected before the left side streams past them, so they are the
one thing a run holds whole. A first sync from a million-row table would hold a million records
(about 2.7 KB each in memory). Past ``budget`` records they go to a staging table instead, with
their match key indexed, so the join with the streamed side is done by key lookups in SQL and
memory stays flat whatever the row count.

The staging table lives in a temporary SQLite file of the run, not in the ledger: a plan must
write nothing to the ledger, a crashed run's staging must not outlive it, and a PostgreSQL
ledger need not carry a million rows of scratch data across the network.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from syncengine.ledger import LinkState
from syncengine.reconcile.observe import Seen
from syncengine.records import from_json, to_json

__all__ = ["ChangeSet"]

MatchKeyFn = Callable[[Seen], tuple[Any, ...] | None]


def _encode(seen: Seen) -> str:
    link = list(seen.link) if seen.link is not None else None
    return to_json({
        "side": seen.side, "key": seen.key, "common": seen.common_json, "hash": seen.hash,
        "at": seen.updated_at, "deleted": seen.deleted, "fields": seen.fields, "link": link,
        "orphan": seen.orphan,
    })


def _decode(text: str) -> Seen:
    body = from_json(text)
    common_json = body["common"]
    link = LinkState(*body["link"]) if body["link"] is not None else None
    updated_at: datetime | None = body["at"]
    seen = Seen(body["side"], body["key"], from_json(common_json) if common_json else None, body["hash"],
                updated_at, body["deleted"], body["fields"], link, common_json)
    seen.orphan = body["orphan"]
    return seen


class ChangeSet:
    """Records by key: ``add``, ``pop``/``take`` by keys, by match key, and drain what is left."""

    def __init__(self, budget: int = 50_000, match_key: MatchKeyFn | None = None) -> None:
        self.budget = budget
        self._match_key = match_key
        self._memory: dict[str, Seen] = {}
        self._pending: list[tuple[str, str | None, str]] = []
        self._db: sqlite3.Connection | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._staged = 0
        #: in-memory unlinked records by match key (the staged ones are indexed in SQL).
        self._by_match: dict[tuple[Any, ...], str] | None = None

    # -- filling ---------------------------------------------------------------------------
    def add(self, seen: Seen) -> None:
        if seen.key in self._memory or len(self._memory) < self.budget or seen.recovered is not None:
            self._memory[seen.key] = seen
            return
        self._pending.append((seen.key, self._match_text(seen), _encode(seen)))
        if len(self._pending) >= 5_000:
            self._flush()

    def _match_text(self, seen: Seen) -> str | None:
        if self._match_key is None or seen.link is not None or seen.deleted:
            return None
        try:
            mk = self._match_key(seen)
        except Exception:  # an unmatchable record is matched by nobody
            return None
        return to_json({"m": list(mk)}) if mk is not None else None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="syncengine-staging-")
            self._db = sqlite3.connect(Path(self._dir.name) / "staging.db", isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE staged (key TEXT PRIMARY KEY, match TEXT, body TEXT NOT NULL)")
            self._db.execute("CREATE INDEX staged_match ON staged (match) WHERE match IS NOT NULL")
        return self._db

    def _flush(self) -> None:
        if not self._pending:
            return
        db = self._connect()
        db.execute("BEGIN")
        cur = db.executemany("INSERT OR REPLACE INTO staged (key, match, body) VALUES (?, ?, ?)", self._pending)
        db.execute("COMMIT")
        self._staged += max(cur.rowcount, 0)
        self._pending.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._memory) + self._staged + len(self._pending)

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def spilled(self) -> bool:
        return self._db is not None or bool(self._pending)

    def get(self, key: str) -> Seen | None:
        return self._memory.get(key)

    def pop(self, key: str) -> Seen | None:
        found = self._memory.pop(key, None)
        if found is None and self.spilled:
            found = self.take([key]).get(key)
        return found

    def take(self, keys: Iterable[str]) -> dict[str, Seen]:
        """Remove and return the records of these keys that are here (memory or staging)."""
        out: dict[str, Seen] = {}
        rest: list[str] = []
        for key in keys:
            found = self._memory.pop(key, None)
            if found is not None:
                out[key] = found
            else:
                rest.append(key)
        if rest and self.spilled:
            self._flush()
            db = self._connect()
            for start in range(0, len(rest), 500):
                chunk = rest[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, body FROM staged WHERE key IN ({marks})", chunk).fetchall()
                if rows:
                    db.execute(f"DELETE FROM staged WHERE key IN ({marks})", chunk)
                    self._staged -= len(rows)
                    out.update((key, _decode(body)) for key, body in rows)
        return out

    def take_matching(self, match_keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], Seen]:
        """Remove and return one unlinked record per match key, if any holds it."""
        wanted = list(dict.fromkeys(match_keys))
        out: dict[tuple[Any, ...], Seen] = {}
        index = self._memory_match_index()
        rest: list[tuple[Any, ...]] = []
        for mk in wanted:
            key = index.pop(mk, None)
            found = self._memory.pop(key, None) if key is not None else None
            if found is not None:
                out[mk] = found
            else:
                rest.append(mk)
        if rest and self.spilled:
            self._flush()
            db = self._connect()
            texts = {to_json({"m": list(mk)}): mk for mk in rest}
            items = list(texts)
            for start in range(0, len(items), 500):
                chunk = items[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT match, min(key) FROM staged WHERE match IN ({marks}) GROUP BY match", chunk
                ).fetchall()
                for match, key in rows:
                    body = db.execute("DELETE FROM staged WHERE key = ? RETURNING body", (key,)).fetchone()
                    if body is not None:
                        self._staged -= 1
                        out[texts[match]] = _decode(body[0])
        return out

    def _memory_match_index(self) -> dict[tuple[Any, ...], str]:
        """Built once per run over the in-memory unlinked records."""
        if self._by_match is None:
            index: dict[tuple[Any, ...], str] = {}
            if self._match_key is not None:
                for seen in self._memory.values():
                    if seen.link is None and not seen.deleted and seen.recovered is None:
                        try:
                            mk = self._match_key(seen)
                        except Exception:  # an unmatchable record is matched by nobody
                            continue
                        if mk is not None:
                            index.setdefault(mk, seen.key)
            self._by_match = index
        return self._by_match

    def drain(self, size: int) -> Iterator[list[Seen]]:
        """What is left, a batch at a time (memory first), removed as it goes."""
        items = list(self._memory.values())
        self._memory.clear()
        for start in range(0, len(items), size):
            yield items[start:start + size]
        if not self.spilled:
            return
        self._flush()
        db = self._connect()
        while True:
            rows = db.execute("SELECT key, body FROM staged ORDER BY key LIMIT ?", (size,)).fetchall()
            if not rows:
                return
            db.execute("DELETE FROM staged WHERE key <= ?", (rows[-1][0],))
            self._staged -= len(rows)
            yield [_decode(body) for _, body in rows]
