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


def _run_with_file_size_limit(cwd: Path, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with no file allowed past ``limit`` bytes: a full disk, as SQLite meets it
    (a write the OS refuses: "disk I/O error"); SIGXFSZ ignored so the write fails instead."""
    import os
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCENGINE_")}
    env["SYNCENGINE_SECRET_KEY_FILE"] = str(cwd / "secret.key")
    return subprocess.run([str(Path(sys.executable).parent / "syncengine"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=limited)


def _integrity(ledger: Path) -> str:
    with sqlite3.connect(ledger) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_full_disk_when_the_ledger_is_created(tmp_path: Path) -> None:
    assert run(tmp_path, "init", ".").returncode == 0
    done = _run_with_file_size_limit(tmp_path, 20_000, "sync")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = _lines(done.stderr)
    assert len(lines) == 1 and "syncengine.db: cannot be created (disk I/O error)" in lines[0], done.stderr
    assert "disk full" in lines[0] and "free some space" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clients.csv", "clients.mapping.yaml", "config.yaml"]


def test_a_full_disk_under_the_ledger_stops_the_run_with_one_line_and_loses_nothing(synced: Path) -> None:
    with (synced / "clients.csv").open("a", encoding="utf-8") as f:
        for i in range(4, 3000):
            f.write(f"c{i},u{i}@example.com,F{i},L{i},Org {i},USD,{i}.00,2026-11-03T14:15:00+00:00\n")
    ledger = synced / "syncengine.db"
    size = ledger.stat().st_size
    # Too small for SQLite's shared-memory file: the ledger cannot even be opened.
    opening = _run_with_file_size_limit(synced, 4096, "sync")
    assert opening.returncode == 2, opening.stdout + opening.stderr
    assert len(_lines(opening.stderr)) == 1 and "cannot be written (disk I/O error)" in opening.stderr
    # Room for the first few writes only: the run stops in its middle.
    middle = _run_with_file_size_limit(synced, size + 8192, "sync")
    assert middle.returncode == 2, middle.stdout + middle.stderr
    lines = _lines(middle.stderr)
    assert len(lines) == 1, middle.stderr
    assert f"ledger file {ledger}: cannot be written (disk I/O error)" in lines[0] and "free some space" in lines[0]
    assert "Traceback" not in middle.stderr and _integrity(ledger) == "ok"

    again = run(synced, "sync")  # room again: the run carries on, nothing lost, nothing twice
    assert again.returncode == 0, again.stdout + again.stderr
    with sqlite3.connect(synced / "clients.db") as db:
        assert db.execute("SELECT count(*), count(DISTINCT id) FROM clients").fetchone() == (2999, 2999)
    assert run(synced, "sync").stdout.count("0 writes") == 1


def _add_rows(folder: Path, count: int) -> None:
    with (folder / "clients.csv").open("a", encoding="utf-8") as f:
        for i in range(4, count + 1):
            f.write(f"c{i},u{i}@example.com,F{i},L{i},Org {i},USD,{i}.00,2026-11-03T14:15:00+00:00\n")


def test_a_corrupt_ledger_is_named_in_one_line_and_left_as_it_is(synced: Path) -> None:
    import random

    _add_rows(synced, 3000)
    assert run(synced, "sync").returncode == 0
    ledger = synced / "syncengine.db"
    with sqlite3.connect(ledger) as db:  # everything in the main file, as after a clean close
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = ledger.stat().st_size
    with ledger.open("r+b") as f:  # random bytes over the middle: the header and schema still read
        f.seek(size // 2)
        f.write(random.Random(7).randbytes(8192))
    _rename_in_sql(synced, "c1", "Renamed in SQL")
    spoiled = ledger.read_bytes()
    data = (synced / "clients.csv").read_bytes(), (synced / "clients.db").read_bytes()

    for command in ("validate", "plan"):  # these write nothing: the file stays byte for byte
        done = run(synced, command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = _lines(done.stderr)
        assert lines == [f"error ledger file {ledger} is corrupt (database disk image is malformed) "
                         "(hint: restore it from a backup (`sqlite3 FILE .recover` may save some of it); "
                         "do not start a new ledger in its place unless both sides already agree)"], done.stderr
        assert ledger.read_bytes() == spoiled
    done = run(synced, "sync")  # stops at the first damaged page it reads; neither side is written
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(_lines(done.stderr)) == 1 and f"ledger file {ledger} is corrupt" in done.stderr, done.stderr
    assert ((synced / "clients.csv").read_bytes(), (synced / "clients.db").read_bytes()) == data


def test_a_read_only_csv_file_is_not_replaced(synced: Path) -> None:
    sheet = synced / "clients.csv"
    _rename_in_sql(synced, "c2", "Renamed in SQL")
    sheet.chmod(0o444)  # the tests run as root, which may write anyway: the mode bits decide
    before = sheet.read_bytes()
    done = run(synced, "sync")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = _lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "clients.csv: the file is read-only (mode 0444)" in lines[0] and "chmod u+w clients.csv" in lines[0]
    assert sheet.read_bytes() == before and sheet.stat().st_mode & 0o777 == 0o444

    sheet.chmod(0o644)
    again = run(synced, "sync")  # allowed again: the edit that waited lands
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Renamed in SQL" in sheet.read_text(encoding="utf-8")


def test_a_bad_byte_past_the_first_64_kb_is_named_by_its_line(synced: Path) -> None:
    _add_rows(synced, 1200)  # about 93 KB: past the part read when the mapping is checked
    with (synced / "clients.csv").open("ab") as f:
        f.write(b"c9999,bad@example.com,B\xe9atrice,L,Org,USD,1.00,2026-11-03T14:15:00+00:00\n")
    before = (synced / "clients.csv").read_bytes()
    bad_line = before.count(b"\n")
    for command in ("sync", "validate --online"):
        done = run(synced, *command.split())
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = _lines(done.stderr)
        assert len(lines) == 1, (command, done.stderr)
        assert f"clients.csv:{bad_line}: not utf-8 text (byte e9 at offset" in lines[0], lines[0]
        assert "save it as utf-8 or set `encoding:`" in lines[0]
    assert (synced / "clients.csv").read_bytes() == before
