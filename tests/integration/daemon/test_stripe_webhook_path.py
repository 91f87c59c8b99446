"""Stripe -> signed webhook -> the daemon -> keyed sync -> SQLite, with the schedule a year away.

The Stripe sandbox delivers each event to the endpoint the daemon registered at start, signed
with that endpoint's ``whsec_`` secret (``Stripe-Signature``, checked by the ``stripe`` library);
it also replays every delivery once (``duplicates``), as Stripe warns it may. Writes are counted
from the ledger's runs against the known edits: one create, one update, nothing else.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from syncengine.config import load_config
from syncengine.daemon.app import daemon_app
from syncengine.daemon.service import Daemon

from .conftest import FAR_SCHEDULE, free_port, wait_until

sandbox = pytest.importorskip("connectors.stripe.sandbox")

MAPPING = """\
pairs:
  - name: customers
    left: customers
    right: clients
    conflict: newest_wins
    deletes: propagate
    match: {left: email, right: email}
    fields:
      - {left: email, right: email, transform: lower}
      - {left: name, right: name}
"""


@dataclass
class Running:
    daemon: Daemon
    url: str
    sb: Any
    stripe: httpx.Client
    db: sa.Engine
    created: list[str]

    def rows(self) -> dict[str, dict[str, Any]]:
        with self.db.connect() as conn:
            if not sa.inspect(conn).has_table("clients"):
                return {}
            result = conn.execute(sa.text("SELECT email, name FROM clients WHERE deleted_at IS NULL"))
            return {r.email: dict(r._mapping) for r in result}

    def runs(self) -> list[Any]:
        return self.daemon.ledger.recent_runs(limit=100, pipeline="pay-db")

    def events(self) -> list[str]:
        with self.daemon.ledger.engine.connect() as conn:
            return [r.event_id for r in conn.execute(sa.text(
                "SELECT event_id FROM webhook_events WHERE source = 'pay' ORDER BY id"))]


def _config(root: Path, sb: Any, port: int) -> Path:
    (root / "mapping.yaml").write_text(MAPPING)
    path = root / "config.yaml"
    path.write_text(f"""\
ledger: "sqlite:///{root / 'ledger.db'}"
daemon:
  public_url: "http://127.0.0.1:{port}"
  port: {port}
connectors:
  pay:
    type: stripe
    base_url: "{sb.url}"
    api_key: "{sb.api_key}"
    rate_limit_per_second: null
  db:
    type: sqldb
    url: "sqlite:///{root / 'db.sqlite'}"
    objects:
      clients:
        table: clients
        key: id
        updated_at: updated_at
        deleted: deleted_at
        create: true
        columns: {{id: integer, email: string, name: string, updated_at: datetime, deleted_at: datetime}}
pipelines:
  - name: pay-db
    left: pay
    right: db
    mapping: mapping.yaml
    schedule: "{FAR_SCHEDULE}"
""")
    return path


@contextmanager
def _running(root: Path) -> Iterator[Running]:
    with sandbox.SandboxServer(seed=0, port=0) as sb:
        sb.set_webhook_policy(duplicates=True)  # every delivery replayed once, freshly signed
        config = load_config(_config(root, sb, free_port()))
        service = Daemon(config)
        server = uvicorn.Server(uvicorn.Config(daemon_app(service), host="127.0.0.1", port=config.daemon.port,
                                               log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, what="uvicorn")
        stripe = httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.api_key}"}, timeout=10,
                              trust_env=False)
        db = sa.create_engine(f"sqlite:///{root / 'db.sqlite'}")
        try:
            created = service.start()
            yield Running(service, f"http://127.0.0.1:{config.daemon.port}", sb, stripe, db, created)
        finally:
            server.should_exit = True
            thread.join(10)
            service.stop()
            stripe.close()
            db.dispose()


def _writes(runs: list[Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for run in runs:
        for name, count in run.counts.items():
            if ":" not in name and name.split("_")[0] in ("created", "updated", "deleted", "archived"):
                total[name] = total.get(name, 0) + count
    return total


def test_a_stripe_edit_reaches_sqlite_through_the_signed_webhook_and_replays_change_nothing(
        tmp_path: Path) -> None:
    with _running(tmp_path) as r:
        # registered at start, at public_url/webhooks/<connector>, for the customer events
        assert len(r.created) == 1 and f"{r.url}/webhooks/pay" in r.created[0], r.created
        (endpoint,) = r.stripe.get("/v1/webhook_endpoints").json()["data"]
        assert endpoint["url"] == f"{r.url}/webhooks/pay"
        assert {"customer.created", "customer.updated"} <= set(endpoint["enabled_events"])
        assert r.daemon.next_runs()["pay-db"].year > 2000  # scheduled, but not before the test ends

        made = r.stripe.post("/v1/customers", data={"email": "Hook@X.io", "name": "Ada"})
        assert made.status_code == 200, made.text
        customer = made.json()["id"]
        wait_until(lambda: r.rows().get("hook@x.io"), what="the Stripe customer in SQLite")
        changed = r.stripe.post(f"/v1/customers/{customer}", data={"name": "Ada Edited"})
        assert changed.status_code == 200, changed.text
        wait_until(lambda: r.rows().get("hook@x.io", {}).get("name") == "Ada Edited", what="the edit in SQLite")
        assert r.sb.wait_for_webhooks(20)
        wait_until(lambda: not r.daemon.ledger.pending_syncs(), what="the last keyed run to end")

        # every delivery, the replays included, was verified and answered 2xx
        attempts = r.sb.webhook_deliveries()
        assert attempts and {a["status"] for a in attempts} == {200}, attempts
        listed = r.stripe.get("/v1/events", params={"limit": "100"}).json()["data"]
        sent = sorted(e["id"] for e in listed if e["type"] in endpoint["enabled_events"])
        assert sorted(e["type"] for e in listed if e["id"] in sent) == ["customer.created", "customer.updated"]
        assert sorted(a["event_id"] for a in attempts) == sorted(sent * 2)  # each delivered, then replayed
        assert sorted(r.events()) == sent  # stored once each

        # an event type no mapping syncs: stored, answered 200, no effect
        secret = next(iter(r.daemon.ledger.load_token("webhook:pay")["secrets"].values()))
        unknown = json.dumps({"id": "evt_unknown_1", "object": "event", "type": "balance.available",
                              "data": {"object": {"object": "balance", "available": []}}}).encode()
        runs_before, pending_before = len(r.runs()), r.daemon.ledger.pending_syncs()
        answer = httpx.post(f"{r.url}/webhooks/pay", content=unknown, trust_env=False, headers={
            "Stripe-Signature": sandbox.signature(unknown, secret, int(time.time())),
            "Content-Type": "application/json"})
        assert (answer.status_code, answer.json()) == (200, {"stored": True, "records": 0})
        assert "evt_unknown_1" in r.events()
        # a replay of a real event, re-signed now (as Stripe's retries are): a no-op
        event = r.stripe.get(f"/v1/events/{sent[0]}").json()
        replay = json.dumps(event).encode()
        again = httpx.post(f"{r.url}/webhooks/pay", content=replay, trust_env=False, headers={
            "Stripe-Signature": sandbox.signature(replay, secret, int(time.time())),
            "Content-Type": "application/json"})
        assert (again.status_code, again.json()["stored"]) == (200, False)
        # a forged one: refused, nothing stored
        forged = httpx.post(f"{r.url}/webhooks/pay", content=replay, trust_env=False, headers={
            "Stripe-Signature": sandbox.signature(replay, "whsec_wrong", int(time.time()))})
        assert forged.status_code == 401
        r.daemon.queue.stop()  # nothing else may run after this
        assert r.daemon.ledger.pending_syncs() == pending_before == []
        assert len(r.runs()) == runs_before

    runs = r.runs()
    assert runs and all(run.mode == "keyed" and run.status == "ok" for run in runs), runs
    # one create and one update on the SQLite side; nothing written back to Stripe
    assert _writes(runs) == {"created_right": 1, "updated_right": 1}, [run.counts for run in runs]
    assert r.rows() == {"hook@x.io": {"email": "hook@x.io", "name": "Ada Edited"}}
    received = r.daemon.metrics.webhook_events
    assert received.labels("pay", "received")._value.get() == len(sent) + 1
    assert received.labels("pay", "duplicate")._value.get() == len(sent) + 1
    assert received.labels("pay", "rejected")._value.get() == 1
