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
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config), "--port", str(port),
             "--client-id", sb.client_id, "--client-secret", sb.client_secret],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        assert proc.stdout is not None
        url = next(line.strip() for line in proc.stdout if line.startswith("http"))
        assert url.startswith(f"{sb.url}/oauth/authorize?") and f"client_id={sb.client_id}" in url
        httpx.get(url, follow_redirects=True, timeout=30)  # the sandbox approves and redirects
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, rest
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
