"""Schema migrations: applied on open, idempotent, safe when several processes open at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncengine.ledger import Ledger, LinkWrite
from syncengine.ledger.connect import create_ledger_engine
from syncengine.ledger.migrate import alembic_config, current_revision, head_revision
from syncengine.ledger.models import metadata

TABLES = {
    "cursors",
    "links",
    "snapshots",
    "intents",
    "conflicts",
    "failures",
    "webhook_events",
    "runs",
    "tokens",
    "leases",
}


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_open_creates_the_schema_at_head(ledger_url: str) -> None:
    led = Ledger.open(ledger_url)
    try:
        assert _tables(led.engine) >= TABLES | {"alembic_version"}
        assert current_revision(led.engine) == head_revision()
        if led.dialect == "postgresql":
            # The tables went into the schema the URL's search_path names, not into public.
            with led.engine.connect() as conn:
                schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
                assert schema.startswith("t_")
                in_schema = conn.execute(
                    sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                    {"s": schema},
                ).scalars()
                assert set(in_schema) >= TABLES
        else:
            with led.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000
    finally:
        led.close()


def test_reopening_is_a_no_op_that_keeps_the_data(ledger_url: str) -> None:
    led = Ledger.open(ledger_url)
    with led.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R1", {"a": 1}, "h", "h")])
    led.close()
    for _ in range(2):
        again = Ledger.open(ledger_url)
        try:
            assert again.links_for("p", "c", "left", ["L1"])["L1"].common == {"a": 1}
            with again.engine.connect() as conn:
                versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            assert versions == [head_revision()]
        finally:
            again.close()


def test_the_migrations_build_exactly_what_the_models_declare(ledger_url: str) -> None:
    led = Ledger.open(ledger_url)
    try:
        with led.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diffs == []
    finally:
        led.close()


def test_downgrade_to_nothing_and_back(ledger_url: str) -> None:
    engine, _ = create_ledger_engine(ledger_url)
    try:
        Ledger.open(ledger_url).close()
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert _tables(engine) & TABLES == set()
        led = Ledger.open(ledger_url)
        assert _tables(led.engine) >= TABLES
        led.close()
    finally:
        engine.dispose()


def test_several_processes_opening_a_new_ledger_at_once(ledger_url: str, tmp_path: Path) -> None:
    script = tmp_path / "open.py"
    script.write_text(
        "import sys\n"
        "from syncengine.ledger import Ledger, LinkWrite\n"
        "led = Ledger.open(sys.argv[1])\n"
        "with led.transaction() as tx:\n"
        "    tx.put_links('p', sys.argv[2], [LinkWrite('L', 'R', {}, 'h', 'h')])\n"
        "led.close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, str(script), ledger_url, f"pair{n}"], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    led = Ledger.open(ledger_url)
    try:
        assert [led.count_links("p", f"pair{n}") for n in range(4)] == [1, 1, 1, 1]
        assert current_revision(led.engine) == head_revision()
    finally:
        led.close()
