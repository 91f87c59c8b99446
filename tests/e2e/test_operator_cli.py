"""Issue 7, points 3 and 5, through the installed ``syncengine`` command (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SYNCENGINE = str(Path(sys.executable).parent / "syncengine")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCENGINE_")}
    env["SYNCENGINE_SECRET_KEY_FILE"] = str(cwd / "secret.key")
    return subprocess.run([SYNCENGINE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    assert run(tmp_path, "init", ".").returncode == 0
    return tmp_path


def test_version_and_short_help_everywhere(tmp_path: Path) -> None:
    version = run(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("syncengine "), version
    for args in (("-h",), ("sync", "-h"), ("runs", "show", "-h"), ("conflicts", "list", "-h"),
                 ("sandbox", "freshbooks", "-h")):
        result = run(tmp_path, *args)
        assert result.returncode == 0 and "Usage:" in result.stdout, (args, result.stderr)


def test_global_options_after_the_subcommand(starter: Path) -> None:
    before = run(starter, "--log-level", "info", "validate")
    after = run(starter, "validate", "--log-level", "info")
    after_eq = run(starter, "validate", "--log-level=info", "--console-logs")
    assert before.returncode == after.returncode == after_eq.returncode == 0, (after.stderr, after_eq.stderr)
    assert "ok pipeline sheet-db" in after.stdout


def test_completion_is_offered(tmp_path: Path) -> None:
    assert "--install-completion" in run(tmp_path, "-h").stdout


def test_runs_lists_runs_and_show_gives_writes_per_pair_and_every_error_once(starter: Path) -> None:
    first = run(starter, "sync")
    assert first.returncode == 0 and "3 writes, run 1" in first.stdout, first.stdout + first.stderr
    with (starter / "clients.csv").open("a", encoding="utf-8") as f:
        f.write("c4,bob@example.com,Bob,B,X,USD,notanumber,2026-11-04T14:15:00+00:00\n")
    second = run(starter, "sync")
    bad = "clients.csv:5: key 'c4': not a decimal: 'notanumber'"
    assert second.returncode == 1 and second.stderr.count(bad) == 1, second.stderr

    runs = run(starter, "runs")
    assert runs.returncode == 0
    lines = [line for line in runs.stdout.splitlines() if "sheet-db" in line]
    assert len(lines) == 2 and "created_right=3" in lines[1] and ("partial" in lines[0] or "failed" in lines[0])

    shown = run(starter, "runs", "show", "1")
    assert shown.returncode == 0
    assert any("clients" in line and "3 created" in line for line in shown.stdout.splitlines()), shown.stdout
    shown = run(starter, "runs", "show", "2")
    assert "errors: 1" in shown.stdout and shown.stderr.count(bad) == 1, shown.stdout + shown.stderr

    status = run(starter, "status")
    assert status.returncode == 0 and status.stderr.count(bad) == 1, status.stderr
    assert "runs show 2" in status.stdout
    cursor_rows = [line for line in status.stdout.splitlines() if "sheet-db" in line and "clients" in line]
    assert cursor_rows and not any("{" in line for line in cursor_rows), status.stdout

    missing = run(starter, "runs", "show", "99")
    assert missing.returncode == 2 and "no run 99" in missing.stderr


def test_reading_commands_in_a_fresh_folder_create_no_ledger(starter: Path) -> None:
    """Friction found trying the CLI as a new user: `status` in a fresh folder created an empty
    ledger as a side effect. Reading commands say there is nothing yet, exit 0, create nothing."""
    ledger = starter / "syncengine.db"
    assert not ledger.exists()
    for args, what in ((("status",), "no runs or cursors yet"), (("runs",), "no runs yet"),
                       (("conflicts", "list"), "no conflicts yet")):
        result = run(starter, *args)
        assert result.returncode == 0 and what in result.stdout and str(ledger) in result.stdout, (args, result)
        assert not ledger.exists(), args
    assert run(starter, "sync").returncode == 0 and ledger.exists()
    assert "no runs" not in run(starter, "runs").stdout
