"""Two real `syncengine sync` of one CSV <-> SQLite pipeline started at once: one runs, one exits 2.

Before, both ran: in the issue, 5 of 10 such pairs soft-deleted the 150 rows just created; here,
one run's creates failed ("UNIQUE constraint failed", "a row with key ... already exists") on the
rows the other run had written in between.
"""

from __future__ import annotations

import csv
import re
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.csvfile.locking import write_lock
from tests.integration.reconcile.world import CSV_COLUMNS, CsvStore, SqlStore, World, now

ROOT = Path(__file__).parents[3]
ROWS_PER_SIDE = 4000


def _row(side: str, i: int) -> dict[str, str]:
    return {"id": f"{side}{i}", "email": f"{side}{i}@example.com", "first_name": f"First{side}{i}",
            "last_name": f"Last{i}", "balance": f"{i}.25"}


def _sync(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "syncengine", "sync", "-c", str(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_syncs_at_once_one_runs_the_other_exits_2_and_the_data_is_right(tmp_path: Path) -> None:
    csv_store = CsvStore(tmp_path / "clients.csv", lock_timeout=120)  # held by the test up to 30 s
    sql_store = SqlStore(f"sqlite:///{tmp_path / 'clients.db'}")
    world = World(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", csv_store, sql_store)
    try:
        stamp = now().isoformat()
        written = {**{r["id"]: r for r in (_row("csv", i) for i in range(ROWS_PER_SIDE))},
                   **{r["id"]: r for r in (_row("sql", i) for i in range(ROWS_PER_SIDE))}}
        with csv_store.path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows({**_row("csv", i), "updated_at": stamp, "archived": ""} for i in range(ROWS_PER_SIDE))
        table = sa.Table("clients", sa.MetaData(), autoload_with=sql_store.engine)
        with sql_store.engine.begin() as conn:
            conn.execute(table.insert(), [{**_row("sql", i), "balance": f"{i}.25",
                                           "updated_at": now().replace(tzinfo=None)} for i in range(ROWS_PER_SIDE)])

        config = tmp_path / "config.yaml"
        # Both start at once. So that they overlap however loaded the machine is, the CSV file's
        # write lock is held meanwhile: whichever run gets to write first waits there, mid-run,
        # until the other has exited (or, when nothing keeps them apart, both have waited 30 s).
        with write_lock(csv_store.path):
            procs = [_sync(config), _sync(config)]
            deadline = time.monotonic() + 30
            while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
                time.sleep(0.05)
        outcomes = [(p, *p.communicate(timeout=240)) for p in procs]
        codes = sorted(p.returncode for p in procs)
        assert codes == [0, 2], [(p.returncode, err[-2000:]) for p, _out, err in outcomes]
        winner = next(p for p in procs if p.returncode == 0)
        _loser, _out, loser_err = next(o for o in outcomes if o[0].returncode == 2)
        pattern = (rf"error pipeline 'world' is being synced by {re.escape(socket.gethostname())}:{winner.pid} "
                   r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(lease [0-9a-f]{6}\); wait for it or retry later")
        assert [line for line in loser_err.splitlines() if line.startswith("error")] != []
        assert any(re.fullmatch(pattern, line) for line in loser_err.splitlines()), loser_err
        assert "Traceback" not in loser_err
        assert world.ledger.lease_holder("pipeline:world") is None  # the winner let go
        assert len(world.ledger.recent_runs(limit=10)) == 1  # the loser recorded no run

        _assert_exactly(written, csv_store, sql_store)
        again = world.sync()
        assert again.ok and again.writes == 0
        _assert_exactly(written, csv_store, sql_store)
    finally:
        world.close()


def _assert_exactly(written: dict[str, dict[str, str]], csv_store: CsvStore, sql_store: SqlStore) -> None:
    """Both sides hold exactly the rows written, once each, live, with the values written."""
    csv_rows = csv_store.all_rows()
    csv_ids = [r["id"] for r in csv_rows]
    assert len(csv_ids) == len(set(csv_ids)), "duplicate rows in the CSV file"
    assert set(csv_ids) == set(written)
    assert [r["id"] for r in csv_rows if r["archived"]] == []
    sql_rows = sql_store.all_rows()
    assert sorted(str(r["id"]) for r in sql_rows) == sorted(written)
    assert [r["id"] for r in sql_rows if r["deleted_at"] is not None] == []
    for row in csv_rows:
        want = written[row["id"]]
        assert (row["email"].lower(), row["first_name"], row["last_name"], Decimal(row["balance"])) == (
            want["email"], want["first_name"], want["last_name"], Decimal(want["balance"])), row
    for sql_row in sql_rows:
        want = written[str(sql_row["id"])]
        assert (str(sql_row["email"]).lower(), sql_row["first_name"], sql_row["last_name"],
                Decimal(str(sql_row["balance"]))) == (
            want["email"], want["first_name"], want["last_name"], Decimal(want["balance"])), sql_row
