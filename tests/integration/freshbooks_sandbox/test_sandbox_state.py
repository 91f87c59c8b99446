"""``--state FILE``: state survives a restart (records, tokens, clock); saves are atomic and periodic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import SEED_NOW, accounting


def test_state_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with SandboxServer(seed=4, state_file=state, now=SEED_NOW) as first:
        tokens = first.issue_tokens()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        made = httpx.post(f"{first.url}{accounting(first, 'users/clients')}", headers=headers, trust_env=False,
                          json={"client": {"email": "kept@x.com"}})
        client_id = made.json()["response"]["result"]["client"]["id"]
        account_id, clock = first.account_id, first.now()
    assert state.exists() and [p.name for p in tmp_path.iterdir()] == ["sandbox.json"]  # no temp files left
    assert json.loads(state.read_text())["store"]["primary"] == account_id

    with SandboxServer(seed=50, rng_seed=99, state_file=state) as second:  # the file wins over the seeds
        assert second.account_id == account_id and second.client_id == first.client_id
        assert abs((second.now() - clock).total_seconds()) < 60
        answer = httpx.get(f"{second.url}{accounting(second, f'users/clients/{client_id}')}", headers=headers,
                           trust_env=False)
        assert answer.status_code == 200 and answer.json()["response"]["result"]["client"]["email"] == "kept@x.com"
        refreshed = httpx.post(f"{second.url}/auth/oauth/token", trust_env=False, data={
            "client_id": second.client_id, "client_secret": second.client_secret, "grant_type": "refresh_token",
            "redirect_uri": second.redirect_uri, "refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        assert second.state.count("clients") == 5


def test_state_is_saved_periodically(tmp_path: Path) -> None:
    state = tmp_path / "periodic.json"
    with SandboxServer(seed=2, state_file=state, save_interval=0.1) as server:
        deadline = time.monotonic() + 3
        while not state.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        server.issue_tokens()


def test_module_entry_point_serves_and_saves_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "cli.json"
    with SandboxServer(seed=0) as probe:  # borrow a free loopback port
        port = probe.port
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    process = subprocess.Popen([sys.executable, "-m", "connectors.freshbooks.sandbox", "--port", str(port),
                                "--seed", "3", "--state", str(state)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/_sandbox/info", trust_env=False).json()
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()  # type: ignore[union-attr]
                time.sleep(0.05)
        assert info["client_id"].startswith("sbx_")
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}" in out
    assert len(json.loads(state.read_text())["store"]["books"][0]["collections"]["clients"]) == 3
