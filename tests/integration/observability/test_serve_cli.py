"""`syncengine status --serve`: the standalone server, as an operator starts it, in its own process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.integration.observability.helpers import samples, world_with_trouble

ROOT = Path(__file__).resolve().parents[3]


def test_status_serve_answers_the_page_and_metrics_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    world = world_with_trouble(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    world.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "syncengine", "status", "-c", str(tmp_path / "config.yaml"),
                             "--serve", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(base + "/", timeout=5)
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        metrics = httpx.get(base + "/metrics", timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert page.status_code == 200 and "left c9" in page.text and 'id="conflict-1"' in page.text
    got = samples(metrics.text)
    assert got[("syncengine_conflicts_open", frozenset({("pipeline", "world")}))] == 1
    assert got[("syncengine_runs_total", frozenset({("pipeline", "world"), ("outcome", "ok")}))] == 0
    assert proc.returncode == 0, err
    assert f"status page on http://127.0.0.1:{port}/" in out
