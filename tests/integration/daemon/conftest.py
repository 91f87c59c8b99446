"""A daemon on a free loopback port, FreshBooks sandbox on the left, a CSV file on the right."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import load_config
from syncengine.daemon.app import daemon_app
from syncengine.daemon.service import Daemon
from syncengine.http import normalize_token_response
from syncengine.ledger import Ledger

MAPPING = """\
pairs:
  - name: clients
    left: clients
    right: clients
    conflict: newest_wins
    deletes: propagate
    fields:
      - {left: email, right: email, transform: lower}
      - {left: fname, right: first_name}
      - {left: lname, right: last_name}
"""

#: once a year: the schedule never fires during a test, so only the webhook path can move records.
FAR_SCHEDULE = "0 0 1 1 *"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(root: Path, sb: SandboxServer, port: int, schedule: str = FAR_SCHEDULE,
                 ledger_url: str | None = None) -> Path:
    (root / "mapping.yaml").write_text(MAPPING)
    ledger_url = ledger_url or f"sqlite:///{root / 'ledger.db'}"
    path = root / "config.yaml"
    path.write_text(f"""\
ledger: "{ledger_url}"
daemon:
  public_url: "http://127.0.0.1:{port}"
  port: {port}
connectors:
  books:
    type: freshbooks
    base_url: "{sb.url}"
    client_id: "{sb.client_id}"
    client_secret: "{sb.client_secret}"
    redirect_uri: "{sb.redirect_uri}"
    rate_limit_per_minute: 100000
  sheet:
    type: csvfile
    objects:
      clients:
        path: {root / "clients.csv"}
        key: id
        updated_at: updated_at
        columns: {{id: string, email: string, first_name: string, last_name: string, updated_at: datetime}}
pipelines:
  - name: books-sheet
    left: books
    right: sheet
    mapping: mapping.yaml
    schedule: "{schedule}"
""")
    ledger = Ledger.open(ledger_url)
    ledger.save_token("freshbooks", normalize_token_response(sb.issue_tokens(ttl=400 * 86400), now=time.time()))
    ledger.close()
    return path


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["email"]: row for row in csv.DictReader(handle)}


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Polls for an outcome that arrives asynchronously; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@dataclass
class Running:
    root: Path
    sb: SandboxServer
    daemon: Daemon
    url: str
    http: httpx.Client
    synced: list[tuple[str, str, str]] = field(default_factory=list)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.sb.url}/accounting/account/{self.sb.account_id}/{path}", **kwargs)

    @property
    def csv(self) -> dict[str, dict[str, str]]:
        return csv_rows(self.root / "clients.csv")


@contextmanager
def run_daemon(config_path: Path, sb: SandboxServer) -> Iterator[Running]:
    """The daemon's app on uvicorn in a thread, started the way ``syncengine daemon`` starts it."""
    config = load_config(config_path)
    service = Daemon(config)
    server = uvicorn.Server(uvicorn.Config(daemon_app(service), host="127.0.0.1", port=config.daemon.port,
                                           log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn")
    tokens = sb.issue_tokens(ttl=400 * 86400)
    http = httpx.Client(headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10,
                        trust_env=False)
    running = Running(config_path.parent, sb, service, f"http://127.0.0.1:{config.daemon.port}", http)
    service.on_synced = lambda items: running.synced.extend((i.connector, i.obj, i.key) for i in items)
    try:
        service.start()
        yield running
    finally:
        server.should_exit = True
        thread.join(10)
        service.stop()
        http.close()


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(seed=5, port=0, rng_seed=3) as server:
        yield server


@pytest.fixture
def running(tmp_path: Path, sb: SandboxServer) -> Iterator[Running]:
    with run_daemon(write_config(tmp_path, sb, free_port()), sb) as r:
        # the handshake: the sandbox posts a verifier, the daemon confirms it through the API
        wait_until(lambda: r.daemon.ledger.load_token("webhook:books"), what="the verifier")
        yield r
