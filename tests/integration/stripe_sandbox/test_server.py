"""Starting and stopping: the public names, ``python -m connectors.stripe.sandbox`` and
``syncengine sandbox stripe`` printing one start line on 127.0.0.1, and ``--state FILE`` surviving a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import stripe

import connectors.stripe.sandbox as sandbox_package
from connectors.stripe.sandbox import SandboxServer

from ...conftest import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_public_names_are_pinned() -> None:
    assert sandbox_package.__all__ == ["SIGNATURE_HEADER", "SandboxServer", "run_sandbox", "signature"]


def test_same_seed_same_sandbox() -> None:
    with SandboxServer(seed=4, rng_seed=3, now=None) as one, SandboxServer(seed=4, rng_seed=3) as two:
        assert one.api_key == two.api_key
        assert one.info()["seeded"] == two.info()["seeded"]
        assert one.url != two.url and one.url.startswith("http://127.0.0.1:")


def _start(argv: list[str], port: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, wait, close the pipes; returns what the process wrote to stderr."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    return err


def test_module_entry_point_state_file_and_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe-state.json"
    port = free_port()
    argv = [sys.executable, "-m", "connectors.stripe.sandbox", "--port", str(port), "--seed", "3",
            "--state", str(state)]
    process, line = _start(argv, port)
    try:
        assert line.startswith(f"Stripe sandbox on http://127.0.0.1:{port}") and "api_key=sk_test_" in line
        info = httpx.get(f"http://127.0.0.1:{port}/_sandbox/info", trust_env=False).json()
        assert info["api_key"] in line and len(info["seeded"]["customer"]) == 3
        client = stripe.StripeClient(info["api_key"], base_addresses={"api": f"http://127.0.0.1:{port}"},
                                     max_network_retries=0)
        kept = client.v1.customers.create(params={"name": "Kept"}, options={"idempotency_key": "persist-1"})
    finally:
        _stop(process)
    assert process.returncode == 0 and state.exists()

    process, line = _start(argv, port)
    try:
        assert line.startswith("Stripe sandbox on")
        assert client.v1.customers.retrieve(kept.id).name == "Kept"
        replay = client.v1.customers.create(params={"name": "Kept"}, options={"idempotency_key": "persist-1"})
        assert replay.id == kept.id  # idempotency records survive the restart too
    finally:
        _stop(process)


def test_syncengine_cli_command() -> None:
    port = free_port()
    cli = Path(sys.executable).with_name("syncengine")
    process, line = _start([str(cli), "sandbox", "stripe", "--port", str(port), "--seed", "2"], port)
    err = _stop(process)
    assert line.startswith(f"Stripe sandbox on http://127.0.0.1:{port}"), line + err
    assert process.returncode == 0
