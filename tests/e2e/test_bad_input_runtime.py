"""Issue 7, point 10, the cases met while a run works: a CSV file another process keeps locked, a
full disk under the ledger, a corrupt ledger, a read-only CSV file. Each through the installed
``syncengine`` command: exit code 2, one line naming the file and what to do, nothing lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_bad_input_lines import run


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    """The starter (CSV <-> SQLite), synced once."""
    assert run(tmp_path, "init", ".").returncode == 0
    first = run(tmp_path, "sync")
    assert first.returncode == 0, first.stdout + first.stderr
    return tmp_path


def _rename_in_sql(folder: Path, key: str, organization: str) -> None:
    with sqlite3.connect(folder / "clients.db") as db:
        db.execute("UPDATE clients SET organization = ?, updated_at = '2030-01-01 00:00:00' WHERE id = ?",
                   (organization, key))


HOLD = """
import sys, time
from pathlib import Path
from connectors.csvfile.locking import write_lock
with write_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_csv_file_locked_past_lock_timeout(synced: Path) -> None:
    config = synced / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "        path: clients.csv", "        path: clients.csv\n        lock_timeout: 1", 1), encoding="utf-8")
    _rename_in_sql(synced, "c1", "Renamed in SQL")
    before = (synced / "clients.csv").read_bytes()
    with subprocess.Popen([sys.executable, "-c", HOLD, str(synced / "clients.csv")],
                          stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            done = run(synced, "sync")
        finally:
            holder.kill()
    assert done.returncode == 2, done.stdout + done.stderr
    lines = _lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "clients.csv is locked" in lines[0] and f"pid {holder.pid}" in lines[0], lines[0]
    assert "for more than 1 s" in lines[0] and "lock_timeout" in lines[0] and "sync again" in lines[0]
    assert (synced / "clients.csv").read_bytes() == before

    again = run(synced, "sync")  # the lock released: the change waited and now lands
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Renamed in SQL" in (synced / "clients.csv").read_text(encoding="utf-8")
