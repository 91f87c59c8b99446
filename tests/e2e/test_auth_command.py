"""`syncengine auth freshbooks`: the authorization-code flow end to end, the test playing the
browser; the credentials come from --client-id/--client-secret alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.ledger import Ledger
from tests.conftest import free_port


def authorize_as_browser(args: list[str], env: dict[str, str]) -> str:
    """Run the auth command, follow the URL it prints as a browser would, and return all it said.
    The process is killed on any failure, so a broken flow never outlives its test."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        said: list[str] = []
        for line in proc.stdout:
            said.append(line)
            if line.startswith("http"):
                break
        else:
            raise AssertionError(f"no authorization URL printed: {''.join(said)}")
        httpx.get(said[-1].strip(), follow_redirects=True, timeout=30)  # the sandbox approves and redirects
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(said) + rest
        return "".join(said) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_auth_stores_tokens_that_the_api_accepts(tmp_path: Path) -> None:
    port = free_port()
    with SandboxServer(seed=2, port=0, redirect_uri=f"http://127.0.0.1:{port}/callback") as sb:
        config = tmp_path / "config.yaml"
        config.write_text(
            f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
            f"connectors:\n  books:\n    type: freshbooks\n    base_url: {sb.url}\n"
            f"    redirect_uri: http://127.0.0.1:{port}/callback\n"
            "pipelines: []\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
        rest = authorize_as_browser(
            [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config), "--port", str(port),
             "--client-id", sb.client_id, "--client-secret", sb.client_secret], env)
        url = next(line.strip() for line in rest.splitlines() if line.startswith("http"))
        assert url.startswith(f"{sb.url}/oauth/authorize?") and f"client_id={sb.client_id}" in url
        assert "authorized" in rest
        assert sb.client_secret not in rest

        ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
        try:
            token = ledger.load_token("freshbooks")
        finally:
            ledger.close()
        assert token is not None
        me = httpx.get(f"{sb.url}/auth/api/v1/users/me",
                       headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30)
        assert me.status_code == 200


#: the sandbox takes any loopback callback, so that each test's free port is a registered one.
LOOPBACK = {"redirect_uri": "any_loopback"}


def _authorize(tmp_path: Path, sb: SandboxServer, business_id: int | None = None) -> subprocess.CompletedProcess[str]:
    """`syncengine auth freshbooks` through the real command, this test playing the browser."""
    sb.set_variants(redirect_uri="any_loopback")  # a fresh listener port per call, not the registered URI
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
        f"connectors:\n  books:\n    type: freshbooks\n    base_url: {sb.url}\n"
        f"    redirect_uri: http://127.0.0.1:{port}/callback\n"
        + (f"    business_id: {business_id}\n" if business_id is not None else "")
        + "pipelines: []\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHBOOKS_", "SYNCENGINE_"))}
    env["SYNCENGINE_SECRET_KEY_FILE"] = str(tmp_path / "secret.key")
    rest = authorize_as_browser(
        [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config), "--port", str(port),
         "--client-id", sb.client_id, "--client-secret", sb.client_secret], env)
    return subprocess.CompletedProcess([], 0, rest, "")


def test_auth_lists_the_businesses_and_the_business_id_line_to_paste(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0, second_business=True, variants=LOOPBACK) as sb:
        done = _authorize(tmp_path, sb)
        businesses = sb.businesses
    assert done.returncode == 0, done.stdout
    assert len(businesses) == 2
    for b in businesses:  # one table row each: name, business id, account id
        row = next((line for line in done.stdout.splitlines() if b["name"] in line), "")
        assert str(b["business_id"]) in row and str(b["account_id"]) in row, done.stdout
    assert "several businesses" in done.stdout
    assert f"business_id: {businesses[0]['business_id']}" in done.stdout, done.stdout


def test_auth_says_whether_the_configured_business_id_is_one_of_them(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0, second_business=True, variants=LOOPBACK) as sb:
        wanted = sb.businesses[1]["business_id"]
        (tmp_path / "good").mkdir()
        (tmp_path / "bad").mkdir()
        good = _authorize(tmp_path / "good", sb, business_id=wanted)
        bad = _authorize(tmp_path / "bad", sb, business_id=4242)
    assert good.returncode == 0 and f"business_id: {wanted} is in the config: ok" in good.stdout, good.stdout
    assert bad.returncode == 0 and "business_id: 4242 in the config is not one of these" in bad.stdout, bad.stdout


def test_the_listener_takes_the_redirect_uri_port_and_says_so_over_another_redirect_port(tmp_path: Path) -> None:
    port, other = free_port(), free_port()
    with SandboxServer(seed=1, port=0, redirect_uri=f"http://127.0.0.1:{port}/callback") as sb:  # registered
        config = tmp_path / "config.yaml"
        config.write_text(
            f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
            f"connectors:\n  books:\n    type: freshbooks\n    base_url: {sb.url}\n"
            f"    redirect_uri: http://127.0.0.1:{port}/callback\n"
            "pipelines: []\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHBOOKS_", "SYNCENGINE_"))}
        env["SYNCENGINE_SECRET_KEY_FILE"] = str(tmp_path / "secret.key")
        said = authorize_as_browser(
            [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config), "--redirect-port",
             str(other), "--client-id", sb.client_id, "--client-secret", sb.client_secret], env)
    assert "authorized" in said, said
    assert (f"note: listening on port {port}, the port of redirect_uri http://127.0.0.1:{port}/callback, "
            f"not --redirect-port {other}") in said


def test_a_redirect_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.yaml"
        config.write_text(
            f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
            "connectors:\n  books:\n    type: freshbooks\n    base_url: http://127.0.0.1:9\n"
            f"    redirect_uri: http://127.0.0.1:{port}/callback\n"
            "pipelines: []\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHBOOKS_", "SYNCENGINE_"))}
        env["SYNCENGINE_SECRET_KEY_FILE"] = str(tmp_path / "secret.key")
        done = subprocess.run([sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config),
                               "--client-id", "x", "--client-secret", "y"],
                              capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port} for the authorization's redirect" in lines[0]
