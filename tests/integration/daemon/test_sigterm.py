"""SIGTERM to a real ``syncengine daemon`` process in the middle of a scheduled run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.ledger import Ledger

from .conftest import csv_rows, free_port, wait_until, write_config


def test_sigterm_mid_sync_exits_0_with_no_half_written_batch(tmp_path: Path) -> None:
    with SandboxServer(seed=300, port=0, rng_seed=3) as sb:
        config = write_config(tmp_path, sb, free_port(), schedule="1s")
        ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "syncengine", "daemon", "-c", str(config)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            def running_run() -> bool:
                with ledger.engine.connect() as conn:
                    return conn.execute(sa.text("SELECT count(*) FROM runs WHERE status = 'running'")).scalar_one() > 0

            wait_until(running_run, timeout=60, what="a scheduled run in progress")
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err
        runs = ledger.recent_runs(pipeline="books-sheet")
        assert runs and all(run.status in ("ok", "partial") for run in runs), [(r.status, r.reason) for r in runs]
        # every link the ledger committed names a row the CSV holds, and the CSV has no row without one
        rows = csv_rows(tmp_path / "clients.csv")
        with ledger.engine.connect() as conn:
            linked = {row.right_key for row in conn.execute(sa.text("SELECT right_key FROM links"))}
        assert linked == {row["id"] for row in rows.values()}
        ledger.close()
