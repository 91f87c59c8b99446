"""One reconcile batch = one ledger transaction.

The reconciler applies a batch of writes remotely, then records everything that batch changed
(links and snapshots, finished intents, failures, conflicts, the advanced cursor) in a single
:class:`LedgerTransaction`. Either all of it is committed or none of it is, so a crash can never
leave a cursor advanced past a link that was not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from syncengine.ledger.bulk import BulkOps
from syncengine.ledger.connect import DialectName
from syncengine.ledger.rows import INTENT_FINAL_STATES, SIDES, LinkWrite
from syncengine.ledger.sql import chunks, conflicts, cursors, failures, insert, utcnow
from syncengine.records import to_json

__all__ = ["LedgerTransaction", "check_side"]


def check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")


class LedgerTransaction:
    """The writes of one batch; obtained from ``Ledger.transaction()``, valid inside its ``with``."""

    def __init__(self, conn: sa.Connection, dialect: DialectName, bulk: BulkOps) -> None:
        self._conn = conn
        self._dialect = dialect
        self._bulk = bulk

    @property
    def connection(self) -> sa.Connection:
        """The SQLAlchemy connection of this transaction, for a caller that needs one more query."""
        return self._conn

    def _dbapi(self) -> Any:
        return self._conn.connection.driver_connection

    # -- links and snapshots -------------------------------------------------------------------

    def put_links(self, pipeline: str, pair: str, writes: Sequence[LinkWrite]) -> None:
        """Upsert links with their snapshots, by left key. A re-link may change the right key.

        Raises :class:`~syncengine.ledger.errors.LinkConflictError` if a right key is already
        linked to another left key (links are unique both ways); the transaction is then rolled back.
        """
        if writes:
            self._bulk.put_links(self._dbapi(), pipeline, pair, writes, utcnow())

    def drop_links(self, pipeline: str, pair: str, left_keys: Sequence[str]) -> int:
        """Remove links and their snapshots; returns how many links were removed."""
        if not left_keys:
            return 0
        return self._bulk.drop_links(self._dbapi(), pipeline, pair, list(left_keys))

    # -- cursors ---------------------------------------------------------------------------------

    def set_cursor(self, pipeline: str, pair: str, side: str, cursor: str | None) -> None:
        check_side(side)
        stmt = insert(self._dialect, cursors).values(
            pipeline=pipeline, pair=pair, side=side, cursor=cursor, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[cursors.c.pipeline, cursors.c.pair, cursors.c.side],
            set_={"cursor": stmt.excluded.cursor, "updated_at": stmt.excluded.updated_at},
        )
        self._conn.execute(stmt)

    # -- intents ---------------------------------------------------------------------------------

    def finish_intents(self, ids: Sequence[int], state: str) -> int:
        """Move intents to a final state ('done', 'abandoned' or 'failed'); returns rows changed."""
        if state not in INTENT_FINAL_STATES:
            raise ValueError(f"an intent finishes as one of {sorted(INTENT_FINAL_STATES)}, not {state!r}")
        if not ids:
            return 0
        return self._bulk.finish_intents(self._dbapi(), list(ids), state, utcnow())

    # -- failures --------------------------------------------------------------------------------

    def record_failures(self, pipeline: str, pair: str, side: str, errors: Mapping[str, str]) -> None:
        """Remember records that failed; a record failing again gets ``attempts + 1``."""
        check_side(side)
        if not errors:
            return
        now = utcnow()
        stmt = insert(self._dialect, failures)
        stmt = stmt.on_conflict_do_update(
            index_elements=[failures.c.pipeline, failures.c.pair, failures.c.side, failures.c.key],
            set_={
                "error": stmt.excluded.error,
                "attempts": failures.c.attempts + 1,
                "last_seen": stmt.excluded.last_seen,
            },
        )
        rows = [
            {
                "pipeline": pipeline,
                "pair": pair,
                "side": side,
                "key": key,
                "error": error,
                "attempts": 1,
                "first_seen": now,
                "last_seen": now,
            }
            for key, error in errors.items()
        ]
        for chunk in chunks(rows, 1_000):
            self._conn.execute(stmt, list(chunk))

    def clear_failures(self, pipeline: str, pair: str, side: str, keys: Sequence[str]) -> int:
        check_side(side)
        cleared = 0
        for chunk in chunks(list(keys)):
            result = self._conn.execute(
                sa.delete(failures).where(
                    failures.c.pipeline == pipeline,
                    failures.c.pair == pair,
                    failures.c.side == side,
                    failures.c.key.in_(chunk),
                )
            )
            cleared += result.rowcount
        return cleared

    # -- conflicts -------------------------------------------------------------------------------

    def open_conflict(
        self,
        pipeline: str,
        pair: str,
        left_key: str,
        right_key: str,
        base: Mapping[str, Any] | None,
        left: Mapping[str, Any],
        right: Mapping[str, Any],
        diff: Mapping[str, Any],
        fields: Sequence[str],
    ) -> int:
        """Park a conflict for a person; if the link already has an open one, refresh it instead."""
        values = {
            "right_key": right_key,
            "base_json": None if base is None else to_json(base),
            "left_json": to_json(left),
            "right_json": to_json(right),
            "diff_json": to_json(diff),
            "fields": ",".join(fields),
        }
        existing = self._conn.execute(
            sa.select(conflicts.c.id).where(
                conflicts.c.pipeline == pipeline,
                conflicts.c.pair == pair,
                conflicts.c.left_key == left_key,
                conflicts.c.status == "open",
            )
        ).scalar_one_or_none()
        if existing is not None:
            self._conn.execute(sa.update(conflicts).where(conflicts.c.id == existing).values(**values))
            return int(existing)
        new_id = self._conn.execute(
            sa.insert(conflicts)
            .values(
                pipeline=pipeline,
                pair=pair,
                left_key=left_key,
                status="open",
                created_at=utcnow(),
                **values,
            )
            .returning(conflicts.c.id)
        ).scalar_one()
        return int(new_id)

    def mark_conflict_applied(self, conflict_id: int) -> None:
        """Record that a resolved conflict's choice was written to the other side."""
        self._conn.execute(
            sa.update(conflicts)
            .where(conflicts.c.id == conflict_id, conflicts.c.status == "resolved")
            .values(applied_at=utcnow())
        )
