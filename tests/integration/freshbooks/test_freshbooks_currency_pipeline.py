"""Invoices in three currencies go from a SQLite table to FreshBooks through the real engine.

Where FreshBooks refuses KWD (the sandbox's default, ``kwd=refused``), the KWD invoice is one
error of the run naming its row, the field and the currency; where it accepts KWD it is written
in thousandths (1.2345 -> 1.235). Either way the USD and JPY invoices are written, rounded to
their minor units (10.005 USD -> 10.01, 1234.6 JPY -> 1235);
the refused record is tried again once per run, never in a loop; and the amounts FreshBooks
rounded come back to the table, after which a sync writes nothing."""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncengine.config import load_config
from syncengine.http import normalize_token_response
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline
from syncengine.records import Money

from .conftest import SandboxServer

MAPPING = """\
pairs:
  - name: invoices
    left: invoices
    right: invoices
    conflict: newest_wins
    deletes: ignore
    fields:
      - {left: customerid, right: client_id}
      - {left: currency_code, right: currency, transform: upper}
      - {left: notes, right: notes}
      - {left: lines, right: lines}
"""

ROWS = [  # id, currency, unit cost
    ("usd-1", "USD", "10.005"),
    ("kwd-1", "KWD", "1.2345"),
    ("jpy-1", "JPY", "1234.6"),
]


def _config(tmp_path: Path, sb: Any) -> Path:
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    path = tmp_path / "config.yaml"
    path.write_text(f"""\
ledger: "sqlite:///{tmp_path / "ledger.db"}"
connectors:
  books:
    type: freshbooks
    base_url: "{sb.url}"
    client_id: "{sb.client_id}"
    client_secret: "{sb.client_secret}"
    redirect_uri: "{sb.redirect_uri}"
  db:
    type: sqldb
    url: "sqlite:///{tmp_path / "db.sqlite"}"
    objects:
      invoices:
        table: invoices
        key: id
        updated_at: updated_at
        create: true
        columns: {{id: string, client_id: integer, currency: string, notes: string, lines: any,
                   updated_at: datetime}}
pipelines:
  - name: books-db
    left: books
    right: db
    mapping: mapping.yaml
""")
    return path


@pytest.mark.parametrize("kwd", ["refused", "accepted"])
def test_a_refused_currency_fails_its_record_only_and_amounts_go_out_rounded(tmp_path: Path, kwd: str) -> None:
    with SandboxServer(seed=0, port=0, variants={"kwd": kwd}) as sb:
        config = load_config(_config(tmp_path, sb))
        ledger = Ledger.open(config.ledger_url)
        ledger.save_token("freshbooks", normalize_token_response(sb.issue_tokens(), now=time.time()))
        pipeline = config.pipeline("books-db")
        mapping = config.mapping(pipeline, ledger)
        books = config.connector("books", ledger)
        db = config.connector("db", ledger)
        client = books.create("clients", {"fname": "Ada", "email": "ada@example.com"}, "c1")
        db.create("invoices", {"id": "seed", "client_id": 0, "currency": "USD", "lines": []}, "t")  # makes the table
        db.delete("invoices", "seed")
        with sqlite3.connect(tmp_path / "db.sqlite") as con:
            for key, currency, cost in ROWS:
                lines = [{"name": "work", "qty": 1.0, "unit_cost": {"amount": cost, "currency": currency}}]
                con.execute("INSERT INTO invoices (id, client_id, currency, notes, lines, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)",
                            (key, int(client.key), currency, f"row {key}", json.dumps(lines)))

        def sync() -> RunReport:
            return run_pipeline(ledger=ledger, pipeline="books-db", mapping=mapping, left=books, right=db,
                                options=PairOptions())

        def refused() -> int:
            counts = sb.stats()["by_path_status"]
            return sum(n for path, n in counts.items() if path.endswith("/invoices/invoices 400"))

        try:
            first = sync()
            errors = first.errors + [e for p in first.pairs for e in p.errors]
            stored = {inv["notes"]: inv for inv in sb.state.list("invoices")}
            assert Decimal(stored["row usd-1"]["amount"]["amount"]) == Decimal("10.01")
            assert Decimal(stored["row jpy-1"]["amount"]["amount"]) == Decimal("1235")
            if kwd == "accepted":
                assert errors == [] and refused() == 0
                assert Decimal(stored["row kwd-1"]["amount"]["amount"]) == Decimal("1.235")
                assert sync().writes == 0
                return
            assert len(errors) == 1, errors
            assert "kwd-1" in errors[0] and "KWD" in errors[0] and "currency_code" in errors[0]
            assert refused() == 1
            assert sorted(stored) == ["row jpy-1", "row usd-1"]

            second = sync()
            assert refused() == 2  # tried once more in the next run, not retried in a loop
            assert len(second.errors + [e for p in second.pairs for e in p.errors]) == 1
            rows = {r.key: r for page in db.changes("invoices", None) for r in page.records}
            assert rows["jpy-1"].fields["lines"][0]["unit_cost"] == Money(Decimal("1235"), "JPY")
            assert rows["usd-1"].fields["lines"][0]["unit_cost"] == Money(Decimal("10.01"), "USD")
            third = sync()
            assert third.writes == 0
            assert len(sb.state.list("invoices")) == 2
        finally:
            books.close()
            db.close()
            ledger.close()
