"""FreshBooks sandbox <-> SQLite through the ready mapping, at the scale the issue names:
1,000 clients, 2,000 invoices with lines, payments and time entries; then edits on both sides."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.freshbooks import FreshBooksConnector
from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import Config, load_config
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline
from syncengine.records import Money
from syncengine.tokens import MemoryTokenStore

ROOT = Path(__file__).parents[2]
CONFIG = ROOT / "examples" / "freshbooks-sqldb.yaml"

pytestmark = pytest.mark.slow


class Pipeline:
    def __init__(self, sb: SandboxServer, tmp: Path) -> None:
        self.sb = sb
        self.db_url = f"sqlite:///{tmp / 'books.db'}"
        env = {"FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
               "FRESHBOOKS_CLIENT_SECRET": sb.client_secret, "FRESHBOOKS_REDIRECT_URI": sb.redirect_uri,
               "SYNCENGINE_LEDGER_URL": f"sqlite:///{tmp / 'ledger.db'}", "FRESHBOOKS_DB_URL": self.db_url}
        self._saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        self.config: Config = load_config(CONFIG)
        self.ledger = Ledger.open(self.config.ledger_url)
        with self.ledger.token_lock("freshbooks") as slot:
            slot.save(sb.issue_tokens())
        self.pipe = self.config.pipeline("books-db")
        self.mapping = self.config.mapping(self.pipe, self.ledger)
        self.db = sa.create_engine(self.db_url)
        self.created_invoices: list[int] = []

    def sync(self) -> RunReport:
        report = run_pipeline(
            ledger=self.ledger, pipeline=self.pipe.name, mapping=self.mapping,
            left=self.config.connector("books", self.ledger), right=self.config.connector("db", self.ledger),
            options=PairOptions(),
        )
        assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
        return report

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            result = conn.execute(sa.text(f"SELECT * FROM {table} WHERE deleted_at IS NULL"))
            return [dict(r._mapping) for r in result]

    def execute(self, statement: str, **params: Any) -> None:
        with self.db.begin() as conn:
            conn.execute(sa.text(statement), params)

    def close(self) -> None:
        self.config.close()
        self.ledger.close()
        self.db.dispose()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with SandboxServer(seed=1000, port=0) as sb:
        # Top the seed up to 2,000 invoices with lines, through the API like any client would.
        api = FreshBooksConnector("setup", base_url=sb.url, client_id=sb.client_id,
                                  client_secret=sb.client_secret, redirect_uri=sb.redirect_uri,
                                  store=MemoryTokenStore({"freshbooks": sb.issue_tokens()}))
        clients = [c["id"] for c in sb.state.list("clients")]
        created: list[int] = []
        for i in range(2000 - sb.state.count("invoices")):
            record = api.create("invoices", {
                "customerid": clients[i % len(clients)], "create_date": date(2026, 11, 1),
                "currency_code": "USD",
                "lines": [{"name": f"Work {i}", "qty": Decimal("2"), "unit_cost": Money(Decimal("45.50"), "USD")},
                          {"name": "Travel", "qty": Decimal("1"), "unit_cost": Money(Decimal("12.25"), "USD")}],
            }, f"setup-{i}")
            created.append(int(record.key))
        api.close()
        assert sb.state.count("invoices") == 2000
        pipe = Pipeline(sb, tmp_path)
        pipe.created_invoices = created
        try:
            yield pipe
        finally:
            pipe.close()


def test_thousand_clients_two_thousand_invoices_both_ways(pipeline: Pipeline) -> None:
    sb = pipeline.sb
    first = pipeline.sync()
    for table, obj in (("clients", "clients"), ("invoices", "invoices"), ("payments", "payments"),
                       ("time_entries", "time_entries"), ("projects", "projects"), ("expenses", "expenses")):
        assert len(pipeline.rows(table)) == sb.state.count(obj), table
    assert first.counts["created_right"] >= 1000 + 2000
    assert first.counts.get("created_left", 0) == 0

    # Lines and totals arrived intact, and the client reference was translated to the DB's key.
    invoice = next(r for r in pipeline.rows("invoices") if r["freshbooks_id"] == pipeline.created_invoices[0])
    fb_invoice = sb.state.get("invoices", invoice["freshbooks_id"])
    db_client = next(r for r in pipeline.rows("clients") if r["id"] == invoice["client_id"])
    assert db_client["freshbooks_id"] == fb_invoice["customerid"]
    assert Decimal(str(invoice["total"])) == Decimal("103.25")

    requests_before = sb.stats()["requests"]
    second = pipeline.sync()
    assert second.writes == 0
    # The echo-free rerun costs a few list calls per object, not a re-list of everything.
    assert sb.stats()["requests"] - requests_before < 60

    # Edits on both sides, and a client created in the database.
    fb_client = sb.state.list("clients")[0]
    api = pipeline.config.connector("books", pipeline.ledger)
    api.update("clients", str(fb_client["id"]), {"organization": "Renamed in FreshBooks"}, "edit-1")
    db_other = next(r for r in pipeline.rows("clients") if r["freshbooks_id"] != fb_client["id"])
    pipeline.execute("UPDATE clients SET phone = '+1 555 0100', updated_at = CURRENT_TIMESTAMP WHERE id = :id",
                     id=db_other["id"])
    pipeline.execute(
        "INSERT INTO clients (id, email, first_name, last_name, organization, currency, updated_at) "
        "VALUES ('db-new-1', 'new.client@example.com', 'New', 'Client', 'Made in the DB', 'EUR', CURRENT_TIMESTAMP)")
    third = pipeline.sync()
    assert third.counts["created_left"] == 1
    assert third.counts["updated_left"] == 1
    by_fb_id = {r["freshbooks_id"]: r for r in pipeline.rows("clients")}
    assert by_fb_id[fb_client["id"]]["organization"] == "Renamed in FreshBooks"
    assert sb.state.get("clients", db_other["freshbooks_id"])["bus_phone"] == "+1 555 0100"
    created = next(r for r in pipeline.rows("clients") if r["id"] == "db-new-1")
    assert created["freshbooks_id"], "the id FreshBooks assigned is written back at once"
    assert sb.state.get("clients", created["freshbooks_id"])["organization"] == "Made in the DB"
    assert pipeline.sync().writes == 0


def test_a_first_plan_shows_dependent_records_as_creates(tmp_path: Path) -> None:
    """Invoices refer to clients the same sync creates first: the plan must show them as creates,
    not as errors for a reference that cannot be resolved yet."""
    with SandboxServer(seed=3, port=0) as sb:
        pipe = Pipeline(sb, tmp_path)
        try:
            plan = run_pipeline(ledger=pipe.ledger, pipeline=pipe.pipe.name, mapping=pipe.mapping,
                                left=pipe.config.connector("books", pipe.ledger),
                                right=pipe.config.connector("db", pipe.ledger), options=PairOptions(dry_run=True))
            by_pair = {p.pair: p for p in plan.pairs}
            errors = [a.note for p in plan.pairs for a in p.actions if a.kind == "error"]
            assert plan.counts.get("errors", 0) == 0, errors
            for name, obj in (("invoices", "invoices"), ("payments", "payments"), ("time_entries", "time_entries")):
                creates = [a for a in by_pair[name].actions if a.kind == "create" and a.side == "right"]
                assert len(creates) == sb.state.count(obj), name
            assert pipe.rows("clients") == [], "a plan writes nothing"
        finally:
            pipe.close()
