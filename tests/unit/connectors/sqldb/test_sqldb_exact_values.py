"""Exact, readable values: decimals never REAL in SQLite, JSON columns in plain JSON a person can edit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.sqldb import SqlConnector, SqlObjectConfig
from connectors.sqldb.config import normalize_url
from connectors.sqldb.plain_json import dumps, loads
from syncengine.errors import ValidationError
from syncengine.records import Money, fields_hash

LINES = [
    {"lineid": 7, "name": "Design", "qty": Decimal("2"), "unit_cost": Money(Decimal("12.30"), "EUR"),
     "amount": Money(Decimal("24.60"), "EUR"), "taxAmount1": Decimal("19.5"), "updated": datetime(2026, 11, 30, 14, 5,
                                                                                                  tzinfo=UTC),
     "due": date(2026, 12, 31), "note": None, "billable": True},
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data.db'}"
    value: str = request.getfixturevalue("pg_schema_url")
    return value


@pytest.fixture
def raw(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(normalize_url(url))
    yield engine
    engine.dispose()


def invoices(url: str, **options: Any) -> SqlConnector:
    options.setdefault("columns", {"id": "string", "total": "decimal", "lines": "any"})
    options.setdefault("create", True)
    options.setdefault("updated_at", "updated_at")
    return SqlConnector("db", url, {"invoices": SqlObjectConfig("invoices", **options)})


def test_plain_json_round_trips_every_engine_value_to_the_same_hash() -> None:
    text = dumps(LINES)
    assert '"unit_cost": {"amount": "12.30", "currency": "EUR"}' in text
    assert '"qty": 2.0' in text and '"taxAmount1": 19.5' in text and '"lineid": 7' in text
    assert '"updated": "2026-11-30T14:05:00+00:00"' in text and '"due": "2026-12-31"' in text
    assert "$" not in text
    back = loads(text)
    assert fields_hash({"lines": back}) == fields_hash({"lines": LINES})
    # the engine's older tagged form is still read
    assert loads('{"$money": ["12.3", "EUR"]}') == Money(Decimal("12.3"), "EUR")
    assert loads('[{"$decimal": "1.5"}, {"$datetime": "2026-01-01T00:00:00+00:00"}]') == [
        Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC)]


def test_decimals_keep_every_digit_and_are_text_in_sqlite(url: str, raw: sa.Engine) -> None:
    conn = invoices(url)
    try:
        big = Decimal("12345678901234567890.123456789")
        conn.create("invoices", {"id": "a", "total": big}, "a")
        conn.create("invoices", {"id": "b", "total": Decimal("12.30")}, "b")
        assert {r.key: r.fields["total"] for page in conn.changes("invoices", None) for r in page.records} == {
            "a": big, "b": Decimal("12.30")}
        if raw.dialect.name == "sqlite":
            with raw.connect() as c:
                stored = c.execute(sa.text("SELECT id, total, typeof(total) FROM invoices ORDER BY id")).all()
            assert [tuple(r) for r in stored] == [("a", str(big), "text"), ("b", "12.30", "text")]
        # a match rule finds a decimal however it was written
        assert [r.key for r in conn.find("invoices", "total", [Decimal("12.3")])] == ["b"]
        assert [r.key for r in conn.find("invoices", "total", [big])] == ["a"]
    finally:
        conn.close()
    again = invoices(url, columns={})  # reflected, not declared: still a decimal column
    try:
        assert again.objects()["invoices"].fields["total"].type == "decimal"
        assert again.get("invoices", ["a"])[0].fields["total"] == big
    finally:
        again.close()


def test_an_older_numeric_sqlite_column_still_reads_and_says_how_to_keep_every_digit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE invoices (id VARCHAR(255) PRIMARY KEY, total NUMERIC, lines JSON,"
                          " updated_at DATETIME)"))
        c.execute(sa.text("INSERT INTO invoices VALUES ('old', 10.5, :lines, '2026-01-01 00:00:00.000000')"),
                  {"lines": json.dumps([{"qty": {"$decimal": "1"}, "unit_cost": {"$money": ["10.5", "USD"]}}])})
    engine.dispose()
    conn = invoices(url, create=False, columns={})
    try:
        (record,) = conn.get("invoices", ["old"])
        assert record.fields["total"] == Decimal("10.5")
        assert record.fields["lines"] == [{"qty": Decimal("1"), "unit_cost": Money(Decimal("10.5"), "USD")}]
        with pytest.raises(ValidationError, match="DECIMAL_TEXT"):
            conn.update("invoices", "old", {"total": Decimal("12345678901234567890.5")}, "u")
        updated = conn.update("invoices", "old", {"lines": record.fields["lines"]}, "u2")
        assert updated.fields["lines"] == record.fields["lines"]
    finally:
        conn.close()


def test_json_cells_are_plain_json_a_person_can_write(url: str, raw: sa.Engine) -> None:
    conn = invoices(url)
    try:
        conn.create("invoices", {"id": "i1", "lines": LINES}, "i1")
        with raw.connect() as c:
            stored = c.execute(sa.text("SELECT lines FROM invoices WHERE id = 'i1'")).scalar_one()
        text = stored if isinstance(stored, str) else json.dumps(stored)
        assert "$" not in text and '"currency": "EUR"' in text
        # a person edits it in SQL, the way the README shows
        person = '[{"name": "Hosting", "qty": 3.0, "unit_cost": {"amount": "9.99", "currency": "EUR"}}]'
        cast = "CAST(:v AS JSON)" if raw.dialect.name == "postgresql" else ":v"
        with raw.begin() as c:
            c.execute(sa.text(f"UPDATE invoices SET lines = {cast} WHERE id = 'i1'"), {"v": person})
        (record,) = conn.get("invoices", ["i1"])
        assert record.fields["lines"] == [
            {"name": "Hosting", "qty": Decimal("3"), "unit_cost": Money(Decimal("9.99"), "EUR")}]
    finally:
        conn.close()


def test_bad_json_in_a_cell_is_that_records_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    conn = invoices(url)
    try:
        conn.create("invoices", {"id": "good", "lines": []}, "g")
        conn.create("invoices", {"id": "bad", "lines": []}, "b")
        engine = sa.create_engine(url)
        with engine.begin() as c:
            c.execute(sa.text("UPDATE invoices SET lines = '[{\"qty\": 1.0,' WHERE id = 'bad'"))
        engine.dispose()
        pages = list(conn.changes("invoices", None))
        assert [r.key for p in pages for r in p.records] == ["good"]
        (error,) = [e for p in pages for e in p.errors]
        assert (error.source, error.key, error.field) == ("invoices", "bad", "lines")
        assert "not valid JSON" in error.message
    finally:
        conn.close()


def test_rows_inserted_without_a_key_get_one_when_the_table_generates_keys(url: str, raw: sa.Engine) -> None:
    sqlite = raw.dialect.name == "sqlite"
    if sqlite:  # a table made by hand: SQLite lets its text primary key be NULL
        with raw.begin() as c:
            c.execute(sa.text("CREATE TABLE invoices (id TEXT PRIMARY KEY, total DECIMAL_TEXT, lines JSON,"
                              " updated_at DATETIME)"))
    conn = invoices(url, key="id", generate_key="uuid")
    try:
        conn.create("invoices", {"id": "k1", "total": Decimal("1")}, "c")
        with raw.begin() as c:
            c.execute(sa.text("INSERT INTO invoices (id, total) VALUES ('', '5.50')"))
            if sqlite:
                c.execute(sa.text("INSERT INTO invoices (id, total) VALUES (NULL, '6.60')"))
        conn.dry_run = True  # a plan: the keys a sync will write, nothing written
        planned = {r.fields["total"]: r.key for page in conn.changes("invoices", None) for r in page.records}
        with raw.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM invoices WHERE id = '' OR id IS NULL")).scalar() >= 1
        conn.dry_run = False
        pulled = {r.fields["total"]: r.key for page in conn.changes("invoices", None) for r in page.records}
        assert pulled == planned and len(pulled) == (3 if sqlite else 2)
        assert all(uuid.UUID(key) for total, key in pulled.items() if total != Decimal("1"))
        with raw.connect() as c:
            stored = dict(c.execute(sa.text("SELECT total, id FROM invoices")).all())
            assert c.execute(sa.text("SELECT count(*) FROM invoices WHERE id = '' OR id IS NULL")).scalar() == 0
        assert stored[Decimal("5.50") if not sqlite else "5.50"] == pulled[Decimal("5.50")]
    finally:
        conn.close()


def test_a_row_without_a_key_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    conn = invoices(url)
    try:
        conn.create("invoices", {"id": "k1"}, "c")
        engine = sa.create_engine(url)
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO invoices (id, total) VALUES ('', '5.50')"))
        engine.dispose()
        pages = list(conn.changes("invoices", None))
        assert [r.key for p in pages for r in p.records] == ["k1"]
        (error,) = [e for p in pages for e in p.errors]
        assert error.source == "invoices" and "key: {column: id, generate: uuid}" in error.message
    finally:
        conn.close()
