"""The SQL connector on SQLite and PostgreSQL: types, soft deletes, batches, cursors, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.sqldb import SqlConnector, SqlObjectConfig
from connectors.sqldb.config import normalize_url
from syncengine.connector import Capability, WriteOp
from syncengine.errors import (
    ConfigError,
    NotFoundError,
    SyncEngineError,
    TransientError,
    ValidationError,
)
from syncengine.incremental import decode_cursor


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data.db'}"
    value: str = request.getfixturevalue("pg_schema_url")
    return value


@pytest.fixture
def raw(url: str) -> Iterator[sa.Engine]:
    """Plain SQLAlchemy on the same database: 'another program' writing to the tables."""
    engine = sa.create_engine(normalize_url(url))
    yield engine
    engine.dispose()


def connector(url: str, **options: Any) -> SqlConnector:
    options.setdefault("columns", {"name": "string", "email": "string", "balance": "decimal"})
    options.setdefault("create", True)
    return SqlConnector("sql", url, {"clients": SqlObjectConfig("clients", **options)})


def pull_all(conn: SqlConnector, cursor: str | None = None) -> dict[str, Any]:
    return {r.key: r for page in conn.changes("clients", cursor) for r in page.records}


def test_reflected_types_numeric_is_decimal_never_float(url: str, raw: sa.Engine) -> None:
    serial = "INTEGER PRIMARY KEY" if raw.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
    with raw.begin() as c:
        c.execute(
            sa.text(
                f"CREATE TABLE clients (id {serial}, name VARCHAR(50) NOT NULL, balance NUMERIC(12, 2),"
                " rate FLOAT, active BOOLEAN, born DATE, changed TIMESTAMP)"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO clients (id, name, balance, rate, active, born, changed)"
                " VALUES (1, 'A', 10.10, 0.5, true, '1990-01-02', '2025-01-01 10:00:00')"
            )
        )
    conn = connector(url, create=False, columns={}, updated_at="changed")
    try:
        spec = conn.objects()["clients"]
        kinds = {name: f.type for name, f in spec.fields.items()}
        assert kinds == {
            "id": "integer",
            "name": "string",
            "balance": "decimal",
            "rate": "decimal",
            "active": "boolean",
            "born": "date",
            "changed": "datetime",
        }
        assert spec.fields["name"].required and spec.fields["id"].read_only
        assert Capability.INCREMENTAL in spec.capabilities and Capability.ARCHIVE not in spec.capabilities
        (record,) = pull_all(conn).values()
        assert record.fields["balance"] == Decimal("10.10") and isinstance(record.fields["balance"], Decimal)
        assert record.fields["rate"] == Decimal("0.5")
        assert record.fields["active"] is True
        assert record.updated_at == datetime(2025, 1, 1, 10, tzinfo=UTC), "naive timestamps are UTC"
    finally:
        conn.close()


def test_decimals_are_exact(url: str) -> None:
    conn = connector(url)
    try:
        values = [Decimal("0.1") + Decimal("0.2"), Decimal("1234567890123.45"), Decimal("-0.01"), Decimal("100")]
        created = [conn.create("clients", {"name": str(v), "balance": v}, f"c{i}") for i, v in enumerate(values)]
        stored = {r.key: r.fields["balance"] for r in conn.get("clients", [r.key for r in created])}
        assert [stored[r.key] for r in created] == values
        big = Decimal("12345678901234567890.123456789")  # more than a float's 15 digits, on every database
        record = conn.create("clients", {"balance": big}, "big")
        assert conn.get("clients", [record.key])[0].fields["balance"] == big
        with pytest.raises(ValidationError):
            conn.create("clients", {"balance": 0.1}, "float")
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["boolean", "datetime"])
def test_soft_deletes(url: str, kind: str) -> None:
    conn = connector(
        url,
        updated_at="updated_at",
        deleted="deleted",
        columns={"name": "string", "deleted": kind},
    )
    try:
        spec = conn.objects()["clients"]
        assert {Capability.ARCHIVE, Capability.DELETES_IN_CHANGES} <= spec.capabilities
        a = conn.create("clients", {"name": "A"}, "a")
        b = conn.create("clients", {"name": "B"}, "b")
        cursor = list(conn.changes("clients", None))[-1].cursor
        conn.delete("clients", a.key)
        conn.archive("clients", b.key)
        assert conn.get("clients", [a.key, b.key]) == []
        assert conn.find("clients", "name", ["A", "B"]) == []
        changed = pull_all(conn, cursor)
        assert changed[a.key].deleted and changed[b.key].deleted
        full = pull_all(conn)
        assert full[a.key].deleted and full[b.key].deleted, "a full listing shows soft-deleted rows as deleted"
        with pytest.raises(NotFoundError):
            conn.update("clients", a.key, {"name": "again"}, "u")
        with pytest.raises(NotFoundError):
            conn.delete("clients", a.key)
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["boolean", "datetime"])
def test_a_create_on_a_soft_deleted_rows_key_revives_that_row(url: str, raw: sa.Engine, kind: str) -> None:
    """Before: every run failed this create with "UNIQUE constraint failed" (the twin still holds the key)."""
    conn = connector(url, updated_at="updated_at", deleted="deleted",
                     columns={"id": "string", "name": "string", "email": "string", "deleted": kind})
    try:
        conn.write_batch("clients", [WriteOp("create", None, {"id": "k1", "name": "A", "email": "a@x"}, "c1"),
                                     WriteOp("create", None, {"id": "k2", "name": "B", "email": "b@x"}, "c2")])
        conn.delete("clients", "k1")
        assert conn.get("clients", ["k1"]) == []
        cursor = list(conn.changes("clients", None))[-1].cursor
        results = conn.write_batch("clients", [
            WriteOp("create", None, {"id": "k1", "name": "A again"}, "c1-again"),
            WriteOp("create", None, {"id": "k3", "name": "C"}, "c3"),
            WriteOp("create", None, {"id": "k2", "name": "B twice"}, "c2-again"),  # a live row: still refused
        ])
        assert [r.ok for r in results] == [True, True, False], [r.error for r in results]
        assert isinstance(results[2].error, ValidationError)
        revived = results[0].record
        assert revived is not None and revived.key == "k1" and not revived.deleted
        assert revived.fields["name"] == "A again"
        assert revived.fields["deleted"] in (None, False)
        [again] = conn.get("clients", ["k1"])
        assert again.fields["name"] == "A again" and again == revived
        assert again.fields["email"] == "a@x"  # a column the create does not name keeps its value
        changed = pull_all(conn, cursor)
        assert not changed["k1"].deleted and changed["k1"].fields["name"] == "A again"
        assert {k for k, r in pull_all(conn).items() if not r.deleted} == {"k1", "k2", "k3"}
        with raw.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM clients WHERE id = 'k1'")).scalar_one() == 1
        assert conn.get("clients", ["k2"])[0].fields["name"] == "B"
    finally:
        conn.close()


def test_constraint_violation_fails_only_that_op(url: str, raw: sa.Engine) -> None:
    conn = connector(url, columns={"name": "string", "email": "string"})
    try:
        conn.table("clients")
        with raw.begin() as c:
            c.execute(sa.text("CREATE UNIQUE INDEX ux_clients_email ON clients (email)"))
        taken = conn.create("clients", {"name": "A", "email": "a@x"}, "a")
        ops = [
            WriteOp("create", None, {"name": "B", "email": "b@x"}, "b"),
            WriteOp("create", None, {"name": "Dup", "email": "a@x"}, "dup"),
            WriteOp("update", taken.key, {"name": "A2"}, "upd"),
            WriteOp("create", None, {"name": "C", "email": "c@x"}, "c"),
            WriteOp("create", None, {"name": "Dup in batch", "email": "c@x"}, "dup2"),
        ]
        results = conn.write_batch("clients", ops)
        assert [r.ok for r in results] == [True, False, True, True, False]
        for bad in (results[1], results[4]):
            assert isinstance(bad.error, ValidationError)
            assert bad.error.field == "email"
        names = sorted(r.fields["name"] for r in pull_all(conn).values())
        assert names == ["A2", "B", "C"]
    finally:
        conn.close()


def test_not_null_violation_names_the_column(url: str, raw: sa.Engine) -> None:
    with raw.begin() as c:
        c.execute(sa.text("CREATE TABLE clients (id VARCHAR(40) PRIMARY KEY, name VARCHAR(40) NOT NULL, note TEXT)"))
    conn = connector(url, create=False, columns={})
    try:
        results = conn.write_batch(
            "clients",
            [WriteOp("create", None, {"note": "no name"}, "x"), WriteOp("create", None, {"name": "ok"}, "y")],
        )
        assert isinstance(results[0].error, ValidationError) and results[0].error.field == "name"
        assert results[1].ok
    finally:
        conn.close()


def test_a_thousand_inserts_in_one_batch(url: str) -> None:
    conn = connector(url, updated_at="updated_at", columns={"name": "string", "balance": "decimal"})
    try:
        ops = [WriteOp("create", None, {"name": f"n{i}", "balance": Decimal(i) / 100}, f"c{i}") for i in range(1000)]
        results = conn.write_batch("clients", ops)
        assert all(r.ok for r in results)
        keys = [r.record.key for r in results if r.record is not None]
        assert len(set(keys)) == 1000
        stored = pull_all(conn)
        assert len(stored) == 1000
        assert stored[keys[999]].fields["balance"] == Decimal("9.99")
        assert stored[keys[5]].fields == results[5].record.fields  # type: ignore[union-attr]
    finally:
        conn.close()


def test_ops_on_the_same_row_in_one_batch_run_in_order(url: str) -> None:
    conn = connector(url, columns={"id": "string", "name": "string"})
    try:
        results = conn.write_batch(
            "clients",
            [
                WriteOp("create", None, {"id": "k1", "name": "first"}, "c"),
                WriteOp("update", "k1", {"name": "second"}, "u"),
                WriteOp("create", None, {"id": "k2", "name": "gone"}, "c2"),
                WriteOp("delete", "k2", {}, "d"),
            ],
        )
        assert all(r.ok for r in results), [r.error for r in results]
        assert {k: r.fields["name"] for k, r in pull_all(conn).items()} == {"k1": "second"}
    finally:
        conn.close()


def test_string_keys_from_idempotency_keys_make_retries_safe(url: str) -> None:
    conn = connector(url, columns={"id": "string", "name": "string"})
    try:
        first = conn.create("clients", {"name": "A"}, "idem-1")
        again = conn.create("clients", {"name": "A again"}, "idem-1")
        assert first.key == again.key
        assert [r.fields["name"] for r in pull_all(conn).values()] == ["A again"]
    finally:
        conn.close()


def test_pages_sharing_one_timestamp_skip_nothing(url: str, raw: sa.Engine) -> None:
    conn = SqlConnector(
        "sql",
        url,
        {
            "clients": SqlObjectConfig(
                "clients", updated_at="updated_at", columns={"name": "string"}, create=True, batch_size=4
            )
        },
    )
    try:
        conn.write_batch("clients", [WriteOp("create", None, {"name": f"n{i}"}, f"c{i}") for i in range(10)])
        pages = list(conn.changes("clients", None))
        keys = [r.key for p in pages for r in p.records]
        assert len(keys) == len(set(keys)) == 10, "keyset pagination inside one timestamp"
        assert len({r.updated_at for p in pages for r in p.records}) == 1
        # Resume from the first page: the rest of the same-instant rows must come again.
        resumed = {r.key for r in pull_all(conn, pages[0].cursor).values()}
        assert set(keys) <= resumed
    finally:
        conn.close()


def test_cursor_never_passes_the_pull_start(url: str, raw: sa.Engine) -> None:
    conn = connector(url, updated_at="updated_at", columns={"name": "string"})
    try:
        record = conn.create("clients", {"name": "future"}, "c")
        future = datetime.now(UTC) + timedelta(days=1)
        info = conn.table("clients")
        with raw.begin() as c:
            c.execute(
                sa.text("UPDATE clients SET updated_at = :t WHERE id = :k"),
                {"t": info.codecs["updated_at"].to_db(future), "k": int(record.key)},
            )
        before = datetime.now(UTC)
        pages = list(conn.changes("clients", None))
        mark, _ = decode_cursor(pages[-1].cursor)
        assert mark is not None and mark.updated_at <= datetime.now(UTC)
        assert mark.updated_at >= before - timedelta(seconds=1)
        assert record.key in pull_all(conn, pages[-1].cursor), "a row stamped in the future is read again"
    finally:
        conn.close()


def test_rows_without_a_timestamp_appear_in_full_listings(url: str, raw: sa.Engine) -> None:
    conn = connector(url, updated_at="updated_at", columns={"name": "string"})
    try:
        conn.table("clients")
        with raw.begin() as c:
            c.execute(sa.text("INSERT INTO clients (name) VALUES ('legacy')"))
        conn.create("clients", {"name": "new"}, "c")
        pages = list(conn.changes("clients", None))
        assert sorted(r.fields["name"] for p in pages for r in p.records) == ["legacy", "new"]
        assert all(p.full for p in pages)
    finally:
        conn.close()


def test_without_updated_at_every_pull_is_a_full_listing(url: str) -> None:
    conn = connector(url, columns={"name": "string"})
    try:
        assert Capability.INCREMENTAL not in conn.objects()["clients"].capabilities
        conn.create("clients", {"name": "a"}, "a")
        first = list(conn.changes("clients", None))
        again = list(conn.changes("clients", first[-1].cursor))
        assert all(p.full for p in first + again)
        assert [r.fields["name"] for p in again for r in p.records] == ["a"]
    finally:
        conn.close()


def test_unknown_columns_and_bad_values_are_validation_errors(url: str) -> None:
    conn = connector(url, columns={"name": "string", "age": "integer", "born": "date", "vip": "boolean"})
    try:
        for fields, field in (
            ({"nickname": "x"}, "nickname"),
            ({"age": "old"}, "age"),
            ({"age": True}, "age"),
            ({"born": "yesterday"}, "born"),
            ({"vip": "maybe"}, "vip"),
        ):
            with pytest.raises(ValidationError) as caught:
                conn.create("clients", fields, "x")
            assert caught.value.field == field
        with pytest.raises(ValidationError):
            conn.find("clients", "nickname", ["x"])
    finally:
        conn.close()


def test_missing_table_without_create_is_not_found(url: str) -> None:
    conn = connector(url, create=False)
    try:
        with pytest.raises(NotFoundError):
            conn.objects()
    finally:
        conn.close()


def test_a_configured_column_missing_from_the_table_is_a_config_error(url: str) -> None:
    creator = connector(url)
    creator.table("clients")  # creates the table without 'modified'
    creator.close()
    conn = connector(url, create=False, updated_at="modified")
    try:
        with pytest.raises(ConfigError, match="modified"):
            conn.objects()
    finally:
        conn.close()


def test_unreachable_databases_are_transient_errors(tmp_path: Path) -> None:
    sqlite = connector(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")
    pg = connector("postgresql://postgres@127.0.0.1:1/test")
    try:
        for conn in (sqlite, pg):
            with pytest.raises(TransientError):
                conn.objects()
            with pytest.raises(SyncEngineError):
                conn.create("clients", {"name": "x"}, "x")
    finally:
        sqlite.close()
        pg.close()


def test_from_config(tmp_path: Path) -> None:
    conn = SqlConnector.from_config(
        "sql",
        {"url": "sqlite:///data/app.db", "objects": {"clients": {"table": "clients", "updated_at": "updated_at"}}},
        base_dir=tmp_path,
    )
    assert conn.engine.url.database == str(tmp_path / "data" / "app.db")
    conn.close()
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    for bad in (
        {},
        {"url": "sqlite://"},
        {"url": "nonsense", "objects": {"a": {}}},
        {"url": "sqlite://", "objects": {"a": {"tabel": "x"}}},
        {"url": "sqlite://", "objects": {"a": {"columns": {"x": "money"}}}},
        {"url": "sqlite://", "objects": {"a": {"batch_size": 0}}},
    ):
        with pytest.raises(ConfigError):
            SqlConnector.from_config("sql", bad, base_dir=tmp_path)


def test_timezones_are_utc_both_ways(url: str) -> None:
    conn = connector(url, columns={"name": "string", "seen": "datetime"})
    try:
        eastern = datetime(2025, 6, 1, 8, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
        record = conn.create("clients", {"name": "tz", "seen": eastern}, "c")
        (stored,) = conn.get("clients", [record.key])
        assert stored.fields["seen"] == datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
        assert stored.fields["seen"].tzinfo is UTC
    finally:
        conn.close()


def test_concurrent_writers_get_distinct_generated_keys(url: str) -> None:
    """Two connectors inserting at once: the database (or our id allocation under the write
    lock on SQLite) never hands one key out twice, and nobody sees 'database is locked'."""
    import threading

    creator = connector(url)
    creator.table("clients")  # create the table once, before the race
    creator.close()
    errors: list[BaseException] = []
    keys: list[str] = []

    def insert(prefix: str) -> None:
        conn = connector(url)
        try:
            for batch in range(10):
                results = conn.write_batch(
                    "clients", [WriteOp("create", None, {"name": f"{prefix}{batch}-{i}"}, "x") for i in range(20)]
                )
                keys.extend(r.record.key for r in results if r.record is not None)
                errors.extend(r.error for r in results if r.error is not None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=insert, args=(p,)) for p in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(keys) == len(set(keys)) == 600


def test_connectors_racing_to_create_the_table_both_succeed(url: str) -> None:
    import threading

    conns = [connector(url) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(conns))

    def start(conn: SqlConnector) -> None:
        barrier.wait()
        try:
            conn.create("clients", {"name": "x"}, "x")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(c,)) for c in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for conn in conns:
        conn.close()
    assert not errors


@pytest.mark.postgres
def test_a_created_record_equals_the_stored_one_after_rounding(pg_schema_url: str) -> None:
    """NUMERIC(12,2) rounds 1.005 to 1.01: the record create returns says so too (no echo)."""
    engine = sa.create_engine(normalize_url(pg_schema_url))
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE clients (id SERIAL PRIMARY KEY, balance NUMERIC(12, 2))"))
    engine.dispose()
    conn = connector(pg_schema_url, create=False, columns={})
    try:
        created = conn.create("clients", {"balance": Decimal("1.005")}, "c")
        (stored,) = conn.get("clients", [created.key])
        assert created.fields["balance"] == stored.fields["balance"] == Decimal("1.01")
        negative = conn.create("clients", {"balance": Decimal("-2.345")}, "n")
        assert conn.get("clients", [negative.key])[0].fields["balance"] == negative.fields["balance"]
    finally:
        conn.close()


def test_a_created_record_shows_the_values_the_database_filled_in(url: str, raw: sa.Engine) -> None:
    serial = "INTEGER PRIMARY KEY" if raw.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
    with raw.begin() as c:
        c.execute(sa.text(f"CREATE TABLE clients (id {serial}, name TEXT, status TEXT DEFAULT 'new')"))
    conn = connector(url, create=False, columns={})
    try:
        created = conn.create("clients", {"name": "A"}, "c")
        assert created.fields["status"] == "new"
        assert conn.get("clients", [created.key])[0].fields == created.fields
    finally:
        conn.close()


def test_a_row_another_program_filled_with_garbage_is_a_record_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    conn = connector(url, updated_at="updated_at", columns={"name": "string", "balance": "decimal", "seen": "datetime"})
    try:
        good = conn.create("clients", {"name": "good"}, "g")
        bad = conn.create("clients", {"name": "bad"}, "b")
        engine = sa.create_engine(url)
        with engine.begin() as c:
            c.execute(sa.text("UPDATE clients SET seen = 'yesterday' WHERE id = :k"), {"k": int(bad.key)})
        engine.dispose()
        pages = list(conn.changes("clients", None))
        records = {r.key for p in pages for r in p.records}
        errors = [e for p in pages for e in p.errors]
        assert records == {good.key}
        (error,) = errors
        assert error.key == bad.key and error.field == "seen"
        assert conn.get("clients", [good.key, bad.key])[0].key == good.key
    finally:
        conn.close()
