"""The real `syncengine sync` on a ledger file that was lost (truncated to 0 bytes) refuses to run.

Before: the empty file was taken for a new ledger, the links and snapshots were gone, and the
sync wrote the SQL table's older value over an edit still pending in the CSV file.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _syncengine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncengine", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sync_on_an_empty_ledger_file_exits_2_with_one_line(tmp_path: Path) -> None:
    # Every command in its own process: an in-process CliRunner would point structlog at its
    # captured stderr, closed afterwards, and break logging for later tests in this worker.
    assert _syncengine("init", str(tmp_path)).returncode == 0
    config = tmp_path / "config.yaml"
    first = _syncengine("sync", "-c", str(config))
    assert first.returncode == 0, first.stderr
    ledger = tmp_path / "syncengine.db"
    database = tmp_path / "clients.db"

    # An edit waiting in the CSV file, then the ledger is lost.
    sheet = tmp_path / "clients.csv"
    rows = _csv_rows(sheet)
    rows[0]["first_name"] = "Edited"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sheet_before, database_before = sheet.read_bytes(), database.read_bytes()
    ledger.write_bytes(b"")
    for side_file in (Path(f"{ledger}-wal"), Path(f"{ledger}-shm")):
        side_file.unlink(missing_ok=True)

    result = _syncengine("sync", "-c", str(config))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"error ledger file {ledger} is empty (0 bytes): not a syncengine ledger "
        "(hint: remove it to start a new ledger, or point `ledger:` at the right file)"
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert ledger.stat().st_size == 0
    assert sheet.read_bytes() == sheet_before and database.read_bytes() == database_before
