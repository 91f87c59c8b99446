"""FreshBooks callbacks registered once across restarts; schedules and daemon keys checked at load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import load_config
from syncengine.errors import ConfigErrors

from .conftest import free_port, run_daemon, wait_until, write_config


def test_a_restart_registers_no_second_callback(tmp_path: Path, sb: SandboxServer) -> None:
    config = write_config(tmp_path, sb, free_port())
    with run_daemon(config, sb) as first:
        wait_until(lambda: first.daemon.ledger.load_token("webhook:books"), what="the verifier")
        callbacks = first.http.get(f"{sb.url}/events/account/{sb.account_id}/events/callbacks").json()
    with run_daemon(config, sb) as second:
        again = second.daemon.register_webhooks()
        after = second.http.get(f"{sb.url}/events/account/{sb.account_id}/events/callbacks").json()
    listed = callbacks["response"]["result"]["callbacks"]
    assert [(c["event"], c["uri"]) for c in listed] == [("client", f"{second.url}/webhooks/books")]
    assert again == []
    assert after["response"]["result"]["callbacks"] == listed


def test_bad_schedules_are_file_line_errors(tmp_path: Path, sb: SandboxServer) -> None:
    config = write_config(tmp_path, sb, free_port(), schedule="every 5 minutes")
    text = config.read_text().replace('    mapping: mapping.yaml\n    schedule: "every 5 minutes"',
                                      '    mapping: mapping.yaml\n    schedule: "every 5 minutes"\n'
                                      '  - name: second\n    left: books\n    right: sheet\n'
                                      '    mapping: mapping.yaml\n    schedule: "61 * * * *"')
    config.write_text(text)
    with pytest.raises(ConfigErrors) as caught:
        load_config(config)
    lines = text.splitlines()
    found = [(e.line, e.message) for e in caught.value.errors]
    assert len(found) == 2
    assert "every 5 minutes" in lines[found[0][0] - 1] and "neither an interval" in found[0][1]
    assert "61 * * * *" in lines[found[1][0] - 1]
    daemon = subprocess.run([sys.executable, "-m", "syncengine", "daemon", "-c", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert daemon.returncode == 2
    assert f"{config}:{found[0][0]}" in daemon.stderr and "Traceback" not in daemon.stderr


@pytest.mark.parametrize("good", ["30s", "5m", "2h", "1d", "*/5 * * * *", "0 3 * * mon-fri"])
def test_good_schedules_load(tmp_path: Path, sb: SandboxServer, good: str) -> None:
    assert load_config(write_config(tmp_path, sb, free_port(), schedule=good)).pipelines["books-sheet"].schedule == good
