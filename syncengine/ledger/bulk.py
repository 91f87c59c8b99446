"""The ledger's hot paths, written per database against the driver directly.

A first reconcile writes a million links, snapshots and intents, and a run where nothing changed
reads a million snapshot hashes. Building an ORM object, or even a SQLAlchemy parameter dict, per
row costs more than the database work itself, so these few operations speak SQL to the DB-API
connection under the SQLAlchemy transaction (which still owns BEGIN/COMMIT/ROLLBACK):

* SQLite: ``executemany`` with positional tuples (the sqlite3 module loops in C), ``IN (?, ...)``
  lists chunked below SQLite's variable limit, multi-row ``VALUES ... RETURNING`` where ids come back.
* PostgreSQL: one statement per chunk of thousands of rows, the rows passed as a few arrays and
  expanded with ``unnest`` (one round trip, set-based upserts), lookups with ``= ANY(array)``.

Everything else in the ledger uses SQLAlchemy Core on the tables of :mod:`models`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from syncengine.ledger.errors import LinkConflictError
from syncengine.ledger.rows import IntentWrite, LinkState, LinkWrite
from syncengine.records import to_json

__all__ = ["BulkOps", "PostgresBulk", "SqliteBulk", "sqlite_timestamp"]

T = TypeVar("T")

_LINK_COLUMNS = "l.id, l.left_key, l.right_key, l.status, s.left_hash, s.right_hash, s.common_json"
# The same without the snapshot text, for callers that only compare hashes.
_LINK_COLUMNS_NO_COMMON = "l.id, l.left_key, l.right_key, l.status, s.left_hash, s.right_hash, NULL"


def _columns(with_common: bool) -> str:
    return _LINK_COLUMNS if with_common else _LINK_COLUMNS_NO_COMMON


def sqlite_timestamp(value: datetime) -> str:
    """A UTC datetime in the text form SQLAlchemy's SQLite DateTime type writes and reads back."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dedupe_links(writes: Sequence[LinkWrite]) -> list[LinkWrite]:
    # Last write wins for a left key repeated within one batch (PostgreSQL's upsert refuses to
    # touch a row twice in one statement; SQLite would apply them in order: same result).
    if len({w.left_key for w in writes}) == len(writes):
        return list(writes)
    return list({w.left_key: w for w in writes}.values())


def _common_json(write: LinkWrite) -> str:
    return write.common_json if write.common_json is not None else to_json(write.common)


class BulkOps(Protocol):
    """The hot-path operations; ``dbapi`` is the raw driver connection inside an open transaction."""

    def put_links(self, dbapi: Any, pipeline: str, pair: str, writes: Sequence[LinkWrite], now: datetime) -> None: ...

    def drop_links(self, dbapi: Any, pipeline: str, pair: str, left_keys: Sequence[str]) -> int: ...

    def links_for(
        self, dbapi: Any, pipeline: str, pair: str, side: str, keys: Sequence[str], with_common: bool = True
    ) -> dict[str, LinkState]: ...

    def links_page(
        self, dbapi: Any, pipeline: str, pair: str, after_id: int, limit: int, with_common: bool = True
    ) -> list[LinkState]: ...

    def insert_intents(
        self, dbapi: Any, pipeline: str, pair: str, writes: Sequence[IntentWrite], now: datetime
    ) -> list[int]: ...

    def finish_intents(self, dbapi: Any, ids: Sequence[int], state: str, now: datetime) -> int: ...


def _rows_per_statement(dbapi: sqlite3.Connection, params_per_row: int) -> int:
    """How many rows fit in one multi-row statement under SQLite's bound-variable limit."""
    limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(10_000, (limit - 16) // params_per_row))


class SqliteBulk:
    """Hot paths for SQLite through the sqlite3 module."""

    #: Rows per IN list; far below SQLITE_MAX_VARIABLE_NUMBER (32766 since SQLite 3.32).
    in_chunk = 10_000

    def put_links(
        self, dbapi: sqlite3.Connection, pipeline: str, pair: str, writes: Sequence[LinkWrite], now: datetime
    ) -> None:
        ts = sqlite_timestamp(now)
        writes = _dedupe_links(writes)
        ids: dict[str, int] = {}
        # Multi-row VALUES so that RETURNING hands back every link's id (inserted or updated) in
        # the same statement; the snapshots are then plain appends keyed by id. (Looking the id up
        # per snapshot row with a sub-select cost twice as much at a million rows.)
        for chunk in _chunks(writes, _rows_per_statement(dbapi, 3)):
            params: list[Any] = [pipeline, pair, ts, ts]
            for w in chunk:
                params += (w.left_key, w.right_key, w.status)
            values = ",".join(["(?, ?, ?)"] * len(chunk))
            try:
                rows = dbapi.execute(
                    "INSERT INTO links (pipeline, pair, created_at, updated_at, left_key, right_key, status) "
                    f"SELECT ?, ?, ?, ?, column1, column2, column3 FROM (VALUES {values}) WHERE true "
                    "ON CONFLICT (pipeline, pair, left_key) DO UPDATE SET "
                    "right_key = excluded.right_key, status = excluded.status, "
                    "updated_at = CASE WHEN links.right_key IS NOT excluded.right_key "
                    "OR links.status IS NOT excluded.status THEN excluded.updated_at ELSE links.updated_at END "
                    "RETURNING id, left_key",
                    params,
                ).fetchall()
            except sqlite3.IntegrityError as exc:
                raise LinkConflictError.from_driver(pipeline, pair, exc) from exc
            ids.update((left_key, link_id) for link_id, left_key in rows)
        dbapi.executemany(
            "INSERT INTO snapshots (link_id, common_json, left_hash, right_hash, updated_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (link_id) DO UPDATE SET common_json = excluded.common_json, "
            "left_hash = excluded.left_hash, right_hash = excluded.right_hash, "
            "updated_at = excluded.updated_at",
            [(ids[w.left_key], _common_json(w), w.left_hash, w.right_hash, ts) for w in writes],
        )

    def drop_links(self, dbapi: sqlite3.Connection, pipeline: str, pair: str, left_keys: Sequence[str]) -> int:
        dropped = 0
        for chunk in _chunks(left_keys, self.in_chunk):
            marks = ",".join("?" * len(chunk))
            params = (pipeline, pair, *chunk)
            dbapi.execute(
                "DELETE FROM snapshots WHERE link_id IN (SELECT id FROM links "
                f"WHERE pipeline = ? AND pair = ? AND left_key IN ({marks}))",
                params,
            )
            cur = dbapi.execute(f"DELETE FROM links WHERE pipeline = ? AND pair = ? AND left_key IN ({marks})", params)
            dropped += cur.rowcount
        return dropped

    def links_for(
        self,
        dbapi: sqlite3.Connection,
        pipeline: str,
        pair: str,
        side: str,
        keys: Sequence[str],
        with_common: bool = True,
    ) -> dict[str, LinkState]:
        column = "left_key" if side == "left" else "right_key"
        found: dict[str, LinkState] = {}
        make = LinkState._make
        for chunk in _chunks(keys, self.in_chunk):
            marks = ",".join("?" * len(chunk))
            rows = dbapi.execute(
                f"SELECT {_columns(with_common)} FROM links l LEFT JOIN snapshots s ON s.link_id = l.id "
                f"WHERE l.pipeline = ? AND l.pair = ? AND l.{column} IN ({marks})",
                (pipeline, pair, *chunk),
            ).fetchall()
            index = 1 if side == "left" else 2
            found.update((row[index], make(row)) for row in rows)
        return found

    def links_page(
        self, dbapi: sqlite3.Connection, pipeline: str, pair: str, after_id: int, limit: int, with_common: bool = True
    ) -> list[LinkState]:
        rows = dbapi.execute(
            f"SELECT {_columns(with_common)} FROM links l LEFT JOIN snapshots s ON s.link_id = l.id "
            "WHERE l.pipeline = ? AND l.pair = ? AND l.id > ? ORDER BY l.id LIMIT ?",
            (pipeline, pair, after_id, limit),
        ).fetchall()
        return list(map(LinkState._make, rows))

    def insert_intents(
        self,
        dbapi: sqlite3.Connection,
        pipeline: str,
        pair: str,
        writes: Sequence[IntentWrite],
        now: datetime,
    ) -> list[int]:
        ts = sqlite_timestamp(now)
        ids: dict[str, int] = {}
        # Multi-row VALUES so RETURNING hands back the ids (executemany cannot return rows).
        for chunk in _chunks(_dedupe_intents(writes), _rows_per_statement(dbapi, 7)):
            values = ",".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            params: list[Any] = [pipeline, pair, ts]
            for w in chunk:
                params += (w.side, w.op, w.source_key, w.target_key, w.idempotency_key, to_json(w.payload),
                           None if w.expect is None else to_json(w.expect))
            rows = dbapi.execute(
                "INSERT INTO intents (pipeline, pair, created_at, side, op, source_key, target_key, "
                "idempotency_key, payload_json, expect_json, state) "
                f"SELECT ?, ?, ?, v.*, 'pending' FROM (VALUES {values}) AS v WHERE true "
                "ON CONFLICT (idempotency_key) DO UPDATE SET state = 'pending', finished_at = NULL, "
                "payload_json = excluded.payload_json, expect_json = excluded.expect_json, "
                "created_at = excluded.created_at "
                "RETURNING id, idempotency_key",
                params,
            ).fetchall()
            ids.update((key, id_) for id_, key in rows)
        return [ids[w.idempotency_key] for w in writes]

    def finish_intents(self, dbapi: sqlite3.Connection, ids: Sequence[int], state: str, now: datetime) -> int:
        ts = sqlite_timestamp(now)
        changed = 0
        for chunk in _chunks(ids, self.in_chunk):
            marks = ",".join("?" * len(chunk))
            cur = dbapi.execute(
                f"UPDATE intents SET state = ?, finished_at = ? WHERE id IN ({marks})", (state, ts, *chunk)
            )
            changed += cur.rowcount
        return changed


# A LATERAL sub-select with LIMIT is never flattened into a plain join, so each row costs one
# primary-key probe. As a plain join the planner would hash or merge-join against the whole
# snapshots table for every batch: a million-row scan per 10,000-row page.
_PG_SNAPSHOT_JOIN = "LEFT JOIN LATERAL (SELECT * FROM snapshots WHERE link_id = l.id LIMIT 1) AS s ON true"


class PostgresBulk:
    """Hot paths for PostgreSQL through psycopg 3: arrays in, ``unnest`` on the server.

    PostgreSQL plans by table statistics, and a table filled within one reconcile has none until
    autovacuum gets round to it (a minute later): the planner then takes a million-row table for
    an empty one and scans it for every batch. So this class runs ``ANALYZE`` itself each time a
    hot table has doubled since it last did (a few times over a first reconcile of a million
    links), and writes its lookups as per-key index probes (``LATERAL``) that stay cheap whatever
    the statistics say (a ``LIMIT`` inside keeps the planner from turning them back into a
    whole-table hash join).
    """

    chunk = 10_000
    #: Rows written to a table before it is worth analysing at all.
    analyze_after = 20_000

    def __init__(self) -> None:
        self._written: dict[str, int] = {}

    def _note_written(self, cur: Any, table: str, rows: int) -> None:
        written = self._written.get(table, 0) + rows
        self._written[table] = written
        if written < self.analyze_after:
            return
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (table,))
        found = cur.fetchone()
        estimate = float(found[0]) if found else -1.0
        if estimate < 0 or written >= estimate:
            cur.execute(f"ANALYZE {table}")
            self._written[table] = 0

    def put_links(self, dbapi: Any, pipeline: str, pair: str, writes: Sequence[LinkWrite], now: datetime) -> None:
        import psycopg

        writes = _dedupe_links(writes)
        with dbapi.cursor() as cur:
            for chunk in _chunks(writes, self.chunk):
                try:
                    # One statement per chunk: the link upsert hands its ids (new or existing) to
                    # the snapshot upsert through RETURNING, so no lookup of links is planned.
                    cur.execute(
                        "WITH u AS (SELECT * FROM unnest(%(lk)b::text[], %(rk)b::text[], %(st)b::text[], "
                        "%(c)b::text[], %(lh)b::text[], %(rh)b::text[]) AS u(lk, rk, st, c, lh, rh)), "
                        "up AS (INSERT INTO links "
                        "(pipeline, pair, left_key, right_key, status, created_at, updated_at) "
                        "SELECT %(p)s, %(q)s, lk, rk, st, %(now)s, %(now)s FROM u "
                        "ON CONFLICT (pipeline, pair, left_key) DO UPDATE SET "
                        "right_key = excluded.right_key, status = excluded.status, "
                        "updated_at = CASE WHEN links.right_key IS DISTINCT FROM excluded.right_key "
                        "OR links.status IS DISTINCT FROM excluded.status "
                        "THEN excluded.updated_at ELSE links.updated_at END "
                        "RETURNING id, left_key) "
                        "INSERT INTO snapshots (link_id, common_json, left_hash, right_hash, updated_at) "
                        "SELECT up.id, u.c, u.lh, u.rh, %(now)s FROM up JOIN u ON u.lk = up.left_key "
                        "ON CONFLICT (link_id) DO UPDATE SET common_json = excluded.common_json, "
                        "left_hash = excluded.left_hash, right_hash = excluded.right_hash, "
                        "updated_at = excluded.updated_at",
                        {
                            "p": pipeline,
                            "q": pair,
                            "now": now,
                            "lk": [w.left_key for w in chunk],
                            "rk": [w.right_key for w in chunk],
                            "st": [w.status for w in chunk],
                            "c": [_common_json(w) for w in chunk],
                            "lh": [w.left_hash for w in chunk],
                            "rh": [w.right_hash for w in chunk],
                        },
                    )
                except psycopg.errors.IntegrityError as exc:
                    raise LinkConflictError.from_driver(pipeline, pair, exc) from exc
            self._note_written(cur, "links", len(writes))
            self._note_written(cur, "snapshots", len(writes))

    def _link_ids(self, cur: Any, pipeline: str, pair: str, left_keys: Sequence[str]) -> list[int]:
        cur.execute(
            "SELECT l.id FROM unnest(%b::text[]) AS k(key) CROSS JOIN LATERAL "
            "(SELECT id FROM links WHERE pipeline = %s AND pair = %s AND left_key = k.key LIMIT 1) AS l",
            (list(left_keys), pipeline, pair),
        )
        return [row[0] for row in cur.fetchall()]

    def drop_links(self, dbapi: Any, pipeline: str, pair: str, left_keys: Sequence[str]) -> int:
        dropped = 0
        with dbapi.cursor() as cur:
            for chunk in _chunks(left_keys, self.chunk):
                ids = self._link_ids(cur, pipeline, pair, chunk)
                if not ids:
                    continue
                cur.execute("DELETE FROM snapshots WHERE link_id = ANY(%b::bigint[])", (ids,))
                cur.execute("DELETE FROM links WHERE id = ANY(%b::bigint[])", (ids,))
                dropped += cur.rowcount
        return dropped

    def links_for(
        self, dbapi: Any, pipeline: str, pair: str, side: str, keys: Sequence[str], with_common: bool = True
    ) -> dict[str, LinkState]:
        column = "left_key" if side == "left" else "right_key"
        index = 1 if side == "left" else 2
        found: dict[str, LinkState] = {}
        make = LinkState._make
        with dbapi.cursor() as cur:
            for chunk in _chunks(keys, self.chunk * 5):
                cur.execute(
                    f"SELECT {_columns(with_common)} FROM unnest(%b::text[]) AS k(key) CROSS JOIN LATERAL "
                    f"(SELECT * FROM links WHERE pipeline = %s AND pair = %s AND {column} = k.key LIMIT 1) AS l "
                    f"{_PG_SNAPSHOT_JOIN}",
                    (list(chunk), pipeline, pair),
                )
                found.update((row[index], make(row)) for row in cur.fetchall())
        return found

    def links_page(
        self, dbapi: Any, pipeline: str, pair: str, after_id: int, limit: int, with_common: bool = True
    ) -> list[LinkState]:
        with dbapi.cursor() as cur:
            cur.execute(
                f"SELECT {_columns(with_common)} FROM (SELECT * FROM links "
                "WHERE pipeline = %s AND pair = %s AND id > %s ORDER BY id LIMIT %s) AS l "
                f"{_PG_SNAPSHOT_JOIN} ORDER BY l.id",
                (pipeline, pair, after_id, limit),
            )
            return list(map(LinkState._make, cur.fetchall()))

    def insert_intents(
        self, dbapi: Any, pipeline: str, pair: str, writes: Sequence[IntentWrite], now: datetime
    ) -> list[int]:
        ids: dict[str, int] = {}
        unique = _dedupe_intents(writes)
        with dbapi.cursor() as cur:
            for chunk in _chunks(unique, self.chunk):
                cur.execute(
                    "INSERT INTO intents (pipeline, pair, created_at, side, op, source_key, target_key, "
                    "idempotency_key, payload_json, expect_json, state) "
                    "SELECT %(p)s, %(q)s, %(now)s, u.* , 'pending' FROM unnest(%(side)b::text[], "
                    "%(op)b::text[], %(sk)b::text[], %(tk)b::text[], %(ik)b::text[], %(pl)b::text[], "
                    "%(ex)b::text[]) AS u(side, op, sk, tk, ik, pl, ex) "
                    "ON CONFLICT (idempotency_key) DO UPDATE SET state = 'pending', finished_at = NULL, "
                    "payload_json = excluded.payload_json, expect_json = excluded.expect_json, "
                    "created_at = excluded.created_at "
                    "RETURNING id, idempotency_key",
                    {
                        "p": pipeline,
                        "q": pair,
                        "now": now,
                        "side": [w.side for w in chunk],
                        "op": [w.op for w in chunk],
                        "sk": [w.source_key for w in chunk],
                        "tk": [w.target_key for w in chunk],
                        "ik": [w.idempotency_key for w in chunk],
                        "pl": [to_json(w.payload) for w in chunk],
                        "ex": [None if w.expect is None else to_json(w.expect) for w in chunk],
                    },
                )
                ids.update((key, id_) for id_, key in cur.fetchall())
            self._note_written(cur, "intents", len(unique))
        return [ids[w.idempotency_key] for w in writes]

    def finish_intents(self, dbapi: Any, ids: Sequence[int], state: str, now: datetime) -> int:
        changed = 0
        with dbapi.cursor() as cur:
            for chunk in _chunks(ids, self.chunk * 5):
                cur.execute(
                    "UPDATE intents SET state = %s, finished_at = %s WHERE id = ANY(%b::bigint[])",
                    (state, now, list(chunk)),
                )
                changed += cur.rowcount
        return changed


def _dedupe_intents(writes: Sequence[IntentWrite]) -> list[IntentWrite]:
    return list({w.idempotency_key: w for w in writes}.values())
