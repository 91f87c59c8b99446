"""`Ledger.open` creates a ledger only where there is none, and refuses anything that is not ours.

A 0-byte file once opened as a new ledger: every link and snapshot was gone, and the next sync
overwrote a pending CSV edit with an older SQLite value. A file that exists is a ledger or an error.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncengine.ledger import Ledger, LedgerError, LinkWrite, NotALedgerError
from syncengine.ledger.connect import create_ledger_engine


def _open_fails(url: str) -> NotALedgerError:
    with pytest.raises(NotALedgerError) as info:
        Ledger.open(url).close()
    return info.value


def _one_line(exc: LedgerError) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


# -- SQLite files ------------------------------------------------------------------------------


def test_a_new_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.db"
    path.parent.mkdir()  # a missing folder is refused (test_bad_input_lines), not created
    led = Ledger.open(f"sqlite:///{path}")
    try:
        with led.transaction() as tx:
            tx.put_links("p", "c", [LinkWrite("L", "R", {}, "h", "h")])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for side_file in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if side_file.exists():  # SQLite gives them the database file's mode
                assert stat.S_IMODE(side_file.stat().st_mode) == 0o600
    finally:
        led.close()
    # No temporary file is left beside it.
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("ledger.db")) == []
    again = Ledger.open(f"sqlite:///{path}")
    try:
        assert again.count_links("p", "c") == 1
    finally:
        again.close()


def test_an_empty_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.touch()
    exc = _open_fails(f"sqlite:///{path}")
    text = _one_line(exc)
    assert f"ledger file {path} is empty (0 bytes): not a syncengine ledger" in text
    assert "remove it to start a new ledger, or point `ledger:` at the right file" in text
    assert exc.reason == "empty"
    assert path.stat().st_size == 0
    assert not Path(f"{path}-wal").exists()


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_text("id,email\n1,a@example.com\n")
    exc = _open_fails(f"sqlite:///{path}")
    assert exc.reason == "not_sqlite"
    assert f"ledger file {path} is not a SQLite database" in _one_line(exc)
    assert path.read_text() == "id,email\n1,a@example.com\n"


def test_a_short_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(b"SQLite")
    assert _open_fails(f"sqlite:///{path}").reason == "not_sqlite"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.mkdir()
    exc = _open_fails(f"sqlite:///{path}")
    assert exc.reason == "not_a_file"
    assert str(path) in str(exc)


def test_another_applications_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
        conn.execute("INSERT INTO orders VALUES (1, '9.99')")
    conn.close()
    before = path.read_bytes()
    exc = _open_fails(f"sqlite:///{path}")
    assert exc.reason == "foreign"
    text = _one_line(exc)
    assert f"ledger file {path} is a SQLite database of something else (tables: orders;" in text
    assert path.read_bytes() == before  # not migrated, not switched to WAL


def test_a_sqlite_database_without_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")  # a valid database file with no tables
    conn.close()
    assert path.stat().st_size > 0
    exc = _open_fails(f"sqlite:///{path}")
    assert exc.reason == "no_tables"
    assert f"ledger file {path} is a SQLite database with no tables" in _one_line(exc)


def test_a_corrupt_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    led = Ledger.open(f"sqlite:///{path}")
    with led.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite(f"L{n}", f"R{n}", {"n": n}, "h", "h") for n in range(200)])
    led.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # page 1's b-tree (sqlite_master) overwritten
    path.write_bytes(bytes(data))
    exc = _open_fails(f"sqlite:///{path}")
    assert exc.reason == "corrupt"
    text = _one_line(exc)
    assert f"ledger file {path} is corrupt" in text
    assert "restore it from a backup" in text


def test_an_unknown_schema_revision_is_refused(ledger_url: str) -> None:
    Ledger.open(ledger_url).close()
    engine, _ = create_ledger_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    finally:
        engine.dispose()
    exc = _open_fails(ledger_url)
    assert exc.reason == "unknown_revision"
    assert "schema revision 'f00dfeed', which this syncengine does not know" in _one_line(exc)


def test_an_existing_ledger_opens(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{path}").close()
    os.chmod(path, 0o640)  # an operator's own choice of mode is kept
    Ledger.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- PostgreSQL: a shared database is normal; only our own tables matter ----------------------


@pytest.mark.postgres
def test_postgres_with_other_applications_tables_is_fine(pg_schema_url: str) -> None:
    engine = sa.create_engine(pg_schema_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE orders (id int PRIMARY KEY)"))
        led = Ledger.open(pg_schema_url)
        try:
            with led.transaction() as tx:
                tx.put_links("p", "c", [LinkWrite("L", "R", {}, "h", "h")])
            assert led.count_links("p", "c") == 1
        finally:
            led.close()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_tables_named_like_ours_without_our_version_are_refused(pg_schema_url: str) -> None:
    engine = sa.create_engine(pg_schema_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE links (id int PRIMARY KEY, url text)"))
        exc = _open_fails(pg_schema_url)
        assert exc.reason == "foreign"
        text = _one_line(exc)
        assert "already has tables named like syncengine's (links)" in text
        assert "own schema" in text
        with engine.connect() as conn:  # left alone
            assert sa.inspect(conn).get_table_names() == ["links"]
    finally:
        engine.dispose()
