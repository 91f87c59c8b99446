"""The Ledger: the engine's whole state behind one object, on SQLite or PostgreSQL.

``Ledger.open(url)`` connects and migrates; reads are methods on the ledger, each in its own short
transaction; the writes of one reconcile batch go through ``with ledger.transaction() as tx``.
Intents are the exception on purpose: :meth:`Ledger.begin_intents` commits on its own, *before*
the remote write, so that after a crash the engine knows which writes may have happened.

The ledger is safe to share between threads (each call checks out its own connection) and
between processes (SQLite's file locks with a busy timeout; PostgreSQL's row and advisory locks).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from syncengine.ledger import identity as _identity
from syncengine.ledger import leases as _leases
from syncengine.ledger import tokens as _tokens
from syncengine.ledger.batch import LedgerTransaction, check_side
from syncengine.ledger.bulk import BulkOps, PostgresBulk, SqliteBulk
from syncengine.ledger.connect import (
    BEGIN_OPTION,
    CORRUPT_HINT,
    DialectName,
    create_ledger_engine,
    ledger_failure,
    sqlite_path,
)
from syncengine.ledger.errors import ConflictNotOpenError, LedgerError, NotALedgerError
from syncengine.ledger.migrate import upgrade_to_head
from syncengine.ledger.rows import (
    Conflict,
    CursorInfo,
    Failure,
    Intent,
    IntentWrite,
    LeaseInfo,
    LinkState,
    PendingSyncInfo,
    RunInfo,
    WebhookEventInfo,
)
from syncengine.ledger.sql import (
    aware,
    aware_or_none,
    conflicts,
    cursors,
    failures,
    insert,
    intents,
    links,
    pending_syncs,
    runs,
    utcnow,
    webhook_events,
)
from syncengine.records import from_json
from syncengine.tokens import TokenSlot

__all__ = ["Ledger"]

#: where a run's reason (why partial or failed) is kept inside ``runs.counts_json``.
RUN_REASON_KEY = "_reason"


class Ledger:
    """The engine's state: cursors, links + snapshots, intents, conflicts, failures, runs, tokens,
    webhook events and leases. Implements :class:`syncengine.tokens.TokenStore`."""

    def __init__(self, url: str, engine: sa.Engine, dialect: DialectName) -> None:
        self.url = url
        self.dialect: DialectName = dialect
        self._engine = engine
        self._bulk: BulkOps = PostgresBulk() if dialect == "postgresql" else SqliteBulk()
        self._local = threading.local()
        path = sqlite_path(url)
        self._where = (f"ledger file {path}" if path is not None
                       else f"ledger {engine.url.render_as_string(hide_password=True)}")

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Connect to the ledger at ``url`` and migrate it to the newest schema.

        A SQLite ledger is created (mode 0600) only if its file does not exist; an existing file
        or database that is not a syncengine ledger raises :class:`NotALedgerError` untouched
        (see :mod:`syncengine.ledger.identity`)."""
        path = sqlite_path(url)
        if path is not None:
            _identity.create_sqlite_ledger(path)
            _identity.check_sqlite_file(path)  # before the first connection can write to it
            # Looked at without switching it to WAL: a foreign database is left byte for byte.
            probe, _ = create_ledger_engine(url, wal=False)
            try:
                with _identity.refusing_corrupt(f"ledger file {path}"):
                    _identity.check_schema(probe, "sqlite", f"ledger file {path}")
            finally:
                probe.dispose()
        engine, dialect = create_ledger_engine(url)
        shown = engine.url.render_as_string(hide_password=True)
        where = f"ledger file {path}" if path is not None else f"ledger {shown}"
        try:
            with _identity.refusing_corrupt(where):
                if dialect == "postgresql":
                    _identity.check_schema(engine, dialect, where)
                upgrade_to_head(engine, dialect)
        except BaseException:
            engine.dispose()
            raise
        return cls(url, engine, dialect)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    # -- transactions ----------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        if getattr(self._local, "writing", False):
            # On SQLite the inner write would wait for the outer one's lock until the busy
            # timeout and then fail; say so at once, on every database, so it is caught in tests.
            raise LedgerError(
                "a ledger write was started inside a ledger transaction on the same thread",
                hint="commit the batch first: begin_intents, runs, conflicts and webhook events "
                "commit on their own, outside `with ledger.transaction()`",
            )
        self._local.writing = True
        try:
            with self._storage_failures(), self._engine.connect() as conn:
                if self.dialect == "sqlite":
                    # Take the write lock up front: a deferred transaction that reads and then
                    # writes fails at once with "database is locked" if another writer got in.
                    conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
                with conn.begin():
                    yield conn
        finally:
            self._local.writing = False

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._storage_failures(), self._engine.connect() as conn, conn.begin():
            yield conn

    def verify(self) -> None:
        """Read a SQLite ledger whole once (``PRAGMA quick_check``, about 0.15 s per 40 MB): a damaged
        page anywhere raises :class:`NotALedgerError` (``corrupt``). Writes nothing. PostgreSQL
        checks its own pages: nothing to do there."""
        if self.dialect != "sqlite":
            return
        with self._read() as conn:
            found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
        if found != ["ok"]:
            raise NotALedgerError(f"{self._where} is corrupt ({'; '.join(found)})", location=self._where,
                                  reason="corrupt", hint=CORRUPT_HINT)

    @contextmanager
    def _storage_failures(self) -> Iterator[None]:
        """Bulk work goes to the driver directly, past the engine's error hook: a corrupt file or
        a full disk met there is named the same way (NotALedgerError / LedgerStorageError)."""
        try:
            yield
        except Exception as exc:
            failure = ledger_failure(exc, self._where)
            if failure is None:
                raise
            raise failure from exc

    @contextmanager
    def transaction(self) -> Iterator[LedgerTransaction]:
        """One batch's writes: committed when the block ends, rolled back if it raises."""
        with self._write() as conn:
            yield LedgerTransaction(conn, self.dialect, self._bulk)

    # -- cursors ---------------------------------------------------------------------------------

    def get_cursor(self, pipeline: str, pair: str, side: str) -> str | None:
        check_side(side)
        with self._read() as conn:
            value = conn.execute(
                sa.select(cursors.c.cursor).where(
                    cursors.c.pipeline == pipeline, cursors.c.pair == pair, cursors.c.side == side
                )
            ).scalar_one_or_none()
        return None if value is None else str(value)

    def cursors(self, pipeline: str | None = None) -> list[CursorInfo]:
        query = sa.select(cursors).order_by(cursors.c.pipeline, cursors.c.pair, cursors.c.side)
        if pipeline is not None:
            query = query.where(cursors.c.pipeline == pipeline)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [CursorInfo(r.pipeline, r.pair, r.side, r.cursor, aware(r.updated_at)) for r in rows]

    # -- links and snapshots ---------------------------------------------------------------------

    def links_for(
        self, pipeline: str, pair: str, side: str, keys: Sequence[str], *, with_common: bool = True
    ) -> dict[str, LinkState]:
        """The links (with snapshots) of these keys on ``side``, keyed by that side's key.

        ``with_common=False`` leaves the snapshot text out (``common_json`` is None): about a third
        cheaper, for a first pass that only compares hashes and then asks again for the changed keys.
        """
        check_side(side)
        if not keys:
            return {}
        with self._read() as conn:
            return self._bulk.links_for(conn.connection.driver_connection, pipeline, pair, side, keys, with_common)

    def iter_links(
        self, pipeline: str, pair: str, batch_size: int = 10_000, *, with_common: bool = True
    ) -> Iterator[list[LinkState]]:
        """Every link of the pair in id order, a batch at a time (keyset pagination, one short
        read per batch, so a long scan never holds a snapshot open)."""
        after = 0
        while True:
            with self._read() as conn:
                page = self._bulk.links_page(
                    conn.connection.driver_connection, pipeline, pair, after, batch_size, with_common
                )
            if not page:
                return
            yield page
            if len(page) < batch_size:
                return
            after = page[-1].id

    def count_links(self, pipeline: str, pair: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(links)
                    .where(links.c.pipeline == pipeline, links.c.pair == pair)
                ).scalar_one()
            )

    # -- intents ---------------------------------------------------------------------------------

    def begin_intents(self, pipeline: str, pair: str, writes: Sequence[IntentWrite]) -> list[int]:
        """Record writes about to be made, committed before this returns; ids in the given order.

        An idempotency key that is already stored (a write retried after a crash) reuses its row,
        which goes back to 'pending' with the new payload.
        """
        for w in writes:
            check_side(w.side)
        if not writes:
            return []
        with self._write() as conn:
            return self._bulk.insert_intents(conn.connection.driver_connection, pipeline, pair, writes, utcnow())

    def pending_intents(self, pipeline: str, pair: str) -> list[Intent]:
        """Writes of earlier runs whose outcome is not settled: 'pending' (never sent) and 'sent'."""
        with self._read() as conn:
            rows = conn.execute(pending_intents_query(pipeline, pair)).all()
        return [_intent(r) for r in rows]

    def mark_intents_sent(self, ids: Sequence[int]) -> None:
        """The remote calls for these intents are about to be made (committed before they are)."""
        if not ids:
            return
        with self._write() as conn:
            for start in range(0, len(ids), 5_000):
                chunk = list(ids[start : start + 5_000])
                conn.execute(
                    sa.update(intents).where(intents.c.id.in_(chunk), intents.c.state == "pending")
                    .values(state="sent")
                )

    def get_intents(self, ids: Sequence[int]) -> list[Intent]:
        """Intents by id (any state), in id order."""
        found: list[Intent] = []
        with self._read() as conn:
            for start in range(0, len(ids), 5_000):
                chunk = list(ids[start : start + 5_000])
                rows = conn.execute(sa.select(intents).where(intents.c.id.in_(chunk))).all()
                found.extend(_intent(r) for r in rows)
        return sorted(found, key=lambda i: i.id)

    # -- failures --------------------------------------------------------------------------------

    def failures(self, pipeline: str, pair: str, side: str) -> list[Failure]:
        check_side(side)
        with self._read() as conn:
            rows = conn.execute(
                sa.select(failures)
                .where(failures.c.pipeline == pipeline, failures.c.pair == pair, failures.c.side == side)
                .order_by(failures.c.key)
            ).all()
        return [
            Failure(
                r.pipeline,
                r.pair,
                r.side,
                r.key,
                r.error,
                r.attempts,
                aware(r.first_seen),
                aware(r.last_seen),
            )
            for r in rows
        ]

    # -- conflicts -------------------------------------------------------------------------------

    def list_conflicts(self, status: str | None = "open", pipeline: str | None = None) -> list[Conflict]:
        query = sa.select(conflicts).order_by(conflicts.c.id)
        if status is not None:
            query = query.where(conflicts.c.status == status)
        if pipeline is not None:
            query = query.where(conflicts.c.pipeline == pipeline)
        with self._read() as conn:
            return [_conflict(r) for r in conn.execute(query).all()]

    def get_conflict(self, conflict_id: int) -> Conflict | None:
        with self._read() as conn:
            row = conn.execute(sa.select(conflicts).where(conflicts.c.id == conflict_id)).first()
        return None if row is None else _conflict(row)

    def resolve_conflict(self, conflict_id: int, take: str) -> Conflict:
        """Settle an open conflict by taking one side's values; the reconciler applies it next run."""
        check_side(take)
        with self._write() as conn:
            result = conn.execute(
                sa.update(conflicts)
                .where(conflicts.c.id == conflict_id, conflicts.c.status == "open")
                .values(status="resolved", resolution=take, resolved_at=utcnow())
            )
            if result.rowcount == 0:
                status = conn.execute(
                    sa.select(conflicts.c.status).where(conflicts.c.id == conflict_id)
                ).scalar_one_or_none()
                if status is None:
                    raise ConflictNotOpenError(
                        f"no conflict with id {conflict_id}", hint="`syncengine conflicts` lists them"
                    )
                raise ConflictNotOpenError(f"conflict {conflict_id} is already {status}")
            row = conn.execute(sa.select(conflicts).where(conflicts.c.id == conflict_id)).one()
        return _conflict(row)

    def resolved_unapplied_conflicts(self, pipeline: str, pair: str) -> list[Conflict]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(conflicts)
                .where(
                    conflicts.c.pipeline == pipeline,
                    conflicts.c.pair == pair,
                    conflicts.c.status == "resolved",
                    conflicts.c.applied_at.is_(None),
                )
                .order_by(conflicts.c.id)
            ).all()
        return [_conflict(r) for r in rows]

    def open_conflict_keys(self, pipeline: str, pair: str) -> set[str]:
        """Left keys of the links with an open conflict (the reconciler leaves them alone)."""
        with self._read() as conn:
            return set(
                conn.execute(
                    sa.select(conflicts.c.left_key).where(
                        conflicts.c.pipeline == pipeline,
                        conflicts.c.pair == pair,
                        conflicts.c.status == "open",
                    )
                ).scalars()
            )

    # -- runs ------------------------------------------------------------------------------------

    def start_run(self, pipeline: str, mode: str) -> int:
        with self._write() as conn:
            run_id = conn.execute(
                sa.insert(runs)
                .values(
                    pipeline=pipeline,
                    mode=mode,
                    started_at=utcnow(),
                    status="running",
                    counts_json="{}",
                    errors_json="[]",
                )
                .returning(runs.c.id)
            ).scalar_one()
        return int(run_id)

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, int], errors: list[str], reason: str | None = None
    ) -> None:
        """Close a run. ``reason`` (why it is partial or failed, one line) rides in the counts'
        JSON under ``_reason``, so that it needs no schema change; :meth:`recent_runs` takes it out."""
        stored: dict[str, object] = dict(counts)
        if reason:
            stored[RUN_REASON_KEY] = reason
        with self._write() as conn:
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=utcnow(),
                    counts_json=json.dumps(stored, sort_keys=True),
                    errors_json=json.dumps(errors),
                )
            )

    def recent_runs(self, limit: int = 10, pipeline: str | None = None) -> list[RunInfo]:
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(runs.c.pipeline == pipeline)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_run(r) for r in rows]

    def get_run(self, run_id: int) -> RunInfo | None:
        with self._read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        return _run(row) if row is not None else None

    # -- tokens (syncengine.tokens.TokenStore) ---------------------------------------------------

    def token_lock(self, name: str) -> AbstractContextManager[TokenSlot]:
        """Hold the token's lock (excluding other processes) and read it; ``save`` commits."""
        return _tokens.token_lock(self._engine, self.dialect, name)

    def load_token(self, name: str) -> dict[str, Any] | None:
        return _tokens.load_token(self._engine, name)

    def save_token(self, name: str, value: dict[str, Any]) -> None:
        """Store a token under its lock (e.g. after a person authorizes the app)."""
        with self.token_lock(name) as slot:
            slot.save(value)

    def reseal_tokens(self) -> list[str]:
        """Re-encrypt every stored token and secret with the current first key (see syncengine.secrets)."""
        return _tokens.reseal_all(self._engine, self.dialect)

    # -- webhook events --------------------------------------------------------------------------

    def record_webhook_event(self, source: str, event_id: str, payload: str) -> bool:
        """Store a delivery once; False if (source, event_id) was already stored (a retry)."""
        stmt = (
            insert(self.dialect, webhook_events)
            .values(source=source, event_id=event_id, payload=payload, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=[webhook_events.c.source, webhook_events.c.event_id])
            .returning(webhook_events.c.id)
        )
        with self._write() as conn:
            return conn.execute(stmt).first() is not None

    def store_webhook_event(
        self, source: str, event_id: str, payload: str, records: Sequence[tuple[str, str, str]],
        *, repeatable: bool = False,
    ) -> bool:
        """Store a delivery and queue a keyed sync of each (connector, object, key) it names, in one
        transaction; False (and nothing queued) if (source, event_id) was stored before. With
        ``repeatable`` (an identity a later, different change can share, as FreshBooks' bodies do),
        an identity whose sync was already taken is a new event; before that it is a duplicate."""
        now = utcnow()
        where = (webhook_events.c.source == source, webhook_events.c.event_id == event_id)
        with self._write() as conn:
            old = conn.execute(sa.select(webhook_events.c.id, webhook_events.c.processed_at).where(*where)).first()
            if old is not None:
                if not (repeatable and old.processed_at is not None):
                    return False
                conn.execute(sa.update(webhook_events).where(webhook_events.c.id == old.id)
                             .values(event_id=f"{event_id}~{old.id}"))
            conn.execute(sa.insert(webhook_events).values(
                source=source, event_id=event_id, payload=payload, received_at=now,
                processed_at=None if records else now))
            for connector, obj, key in records:
                queue = insert(self.dialect, pending_syncs).values(
                    connector=connector, object=obj, record_key=key, version=1, first_event_at=now)
                conn.execute(queue.on_conflict_do_update(
                    index_elements=[pending_syncs.c.connector, pending_syncs.c.object, pending_syncs.c.record_key],
                    set_={"version": pending_syncs.c.version + 1},
                ))
        return True

    def take_webhook_events(self) -> int:
        """Mark every stored event as taken (its records are about to be refetched); a delivery
        after this is a new event even if its body repeats one of these."""
        with self._write() as conn:
            result = conn.execute(sa.update(webhook_events).where(webhook_events.c.processed_at.is_(None))
                                  .values(processed_at=utcnow()))
            return int(result.rowcount or 0)

    def pending_syncs(self, limit: int = 500) -> list[PendingSyncInfo]:
        """Records waiting for a keyed sync, oldest first."""
        query = sa.select(pending_syncs).order_by(pending_syncs.c.first_event_at, pending_syncs.c.id).limit(limit)
        with self._read() as conn:
            return [PendingSyncInfo(r.connector, r.object, r.record_key, r.version, aware(r.first_event_at))
                    for r in conn.execute(query).all()]

    def finish_pending_syncs(self, done: Sequence[PendingSyncInfo]) -> None:
        """Drop the rows a keyed sync covered, unless a delivery came in since (a newer version)."""
        if not done:
            return
        with self._write() as conn:
            for item in done:
                conn.execute(sa.delete(pending_syncs).where(
                    pending_syncs.c.connector == item.connector, pending_syncs.c.object == item.obj,
                    pending_syncs.c.record_key == item.key, pending_syncs.c.version == item.version))

    def unprocessed_webhook_events(self, source: str | None = None, limit: int = 100) -> list[WebhookEventInfo]:
        query = (
            sa.select(webhook_events)
            .where(webhook_events.c.processed_at.is_(None))
            .order_by(webhook_events.c.id)
            .limit(limit)
        )
        if source is not None:
            query = query.where(webhook_events.c.source == source)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [WebhookEventInfo(r.id, r.source, r.event_id, aware(r.received_at), r.payload, None) for r in rows]

    def mark_webhook_event_processed(self, event_id: int) -> None:
        with self._write() as conn:
            conn.execute(sa.update(webhook_events).where(webhook_events.c.id == event_id).values(processed_at=utcnow()))

    # -- leases ----------------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """True if the lease was free, expired, or already ours (then renewed). Atomic."""
        with self._write() as conn:
            return _leases.acquire_lease(conn, self.dialect, name, owner, ttl_seconds)

    def release_lease(self, name: str, owner: str) -> bool:
        with self._write() as conn:
            return _leases.release_lease(conn, name, owner)

    def lease_holder(self, name: str) -> LeaseInfo | None:
        with self._read() as conn:
            return _leases.lease_holder(conn, self.dialect, name)

    # -- housekeeping ----------------------------------------------------------------------------

    def prune(self, older_than_days: float = 30) -> dict[str, int]:
        """Delete history the engine no longer needs, so the ledger does not grow without bound:
        finished ('done'/'abandoned') intents, processed webhook events, finished runs and
        conflicts resolved and applied, all older than ``older_than_days``. Pending and failed
        intents, open or unapplied conflicts, links and snapshots are never pruned."""
        cutoff = utcnow() - timedelta(days=older_than_days)
        with self._write() as conn:
            removed = {
                "intents": conn.execute(
                    sa.delete(intents).where(intents.c.state.in_(("done", "abandoned")), intents.c.finished_at < cutoff)
                ).rowcount,
                "webhook_events": conn.execute(
                    sa.delete(webhook_events).where(webhook_events.c.processed_at < cutoff)
                ).rowcount,
                "runs": conn.execute(sa.delete(runs).where(runs.c.finished_at < cutoff)).rowcount,
                "conflicts": conn.execute(
                    sa.delete(conflicts).where(conflicts.c.status == "resolved", conflicts.c.applied_at < cutoff)
                ).rowcount,
            }
        return {name: int(count) for name, count in removed.items()}


def _run(r: Any) -> RunInfo:
    counts = json.loads(r.counts_json)
    reason = counts.pop(RUN_REASON_KEY, None)
    return RunInfo(
        r.id,
        r.pipeline,
        r.mode,
        aware(r.started_at),
        aware_or_none(r.finished_at),
        r.status,
        counts,
        json.loads(r.errors_json),
        None if reason is None else str(reason),
    )


#: the partial index's own condition (migration 0002), so the planner can use that index.
UNSETTLED_INTENTS = sa.text("state IN ('pending', 'sent')")


def pending_intents_query(pipeline: str, pair: str) -> sa.Select[Any]:
    """The unsettled intents of one pair. The states are written as SQL text, not bound values,
    so the planner can match the partial index ``ix_intents_pipeline_pair`` (its WHERE is the
    same text): with bound values SQLite scanned every intent ever kept, 83 ms a pair at 41,563
    intents, about 4 s a run at business size (bench/freshbooks_bench.py)."""
    return (sa.select(intents)
            .where(intents.c.pipeline == pipeline, intents.c.pair == pair, UNSETTLED_INTENTS)
            .order_by(intents.c.id))


def _intent(r: Any) -> Intent:
    return Intent(
        r.id,
        r.pipeline,
        r.pair,
        r.side,
        r.op,
        r.source_key,
        r.target_key,
        r.idempotency_key,
        r.payload_json,
        r.state,
        aware(r.created_at),
        aware_or_none(r.finished_at),
        r.expect_json,
    )


def _conflict(r: Any) -> Conflict:
    return Conflict(
        r.id,
        r.pipeline,
        r.pair,
        r.left_key,
        r.right_key,
        None if r.base_json is None else from_json(r.base_json),
        from_json(r.left_json),
        from_json(r.right_json),
        from_json(r.diff_json),
        [f for f in r.fields.split(",") if f],
        r.status,
        r.resolution,
        aware(r.created_at),
        aware_or_none(r.resolved_at),
        aware_or_none(r.applied_at),
    )
