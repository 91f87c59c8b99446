"""FreshBooks (sandbox) <-> a CSV file through the real engine: config, mapping, ledger, two-way sync.

Proves the connector where it matters: the first sync creates, a rerun writes nothing (our own
writes come back as echoes with the same hash), edits flow both ways, deletes propagate.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.config import load_config
from syncengine.http import normalize_token_response
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline

from .conftest import SandboxServer

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
      - {left: organization, right: company}
"""


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["email"]: row for row in csv.DictReader(handle)}


def test_two_way_sync_with_a_csv_file(tmp_path: Path) -> None:
    with SandboxServer(seed=12, port=0) as sb:
        (tmp_path / "mapping.yaml").write_text(MAPPING)
        (tmp_path / "config.yaml").write_text(
            f"""\
ledger: "sqlite:///{tmp_path / "ledger.db"}"
connectors:
  books:
    type: freshbooks
    base_url: "{sb.url}"
    client_id: "{sb.client_id}"
    client_secret: "{sb.client_secret}"
    redirect_uri: "{sb.redirect_uri}"
    rate_limit_per_minute: 600
  sheet:
    type: csvfile
    objects:
      clients:
        path: {tmp_path / "clients.csv"}
        key: id
        updated_at: updated_at
        columns: {{id: string, email: string, first_name: string, last_name: string, company: string,
                   updated_at: datetime}}
pipelines:
  - name: books-sheet
    left: books
    right: sheet
    mapping: mapping.yaml
"""
        )
        config = load_config(tmp_path / "config.yaml")
        ledger = Ledger.open(config.ledger_url)
        ledger.save_token("freshbooks", normalize_token_response(sb.issue_tokens(), now=time.time()))
        pipeline = config.pipeline("books-sheet")
        mapping = config.mapping(pipeline, ledger)
        books = config.connector("books", ledger)
        assert isinstance(books, FreshBooksConnector)

        def sync() -> RunReport:
            report = run_pipeline(
                ledger=ledger,
                pipeline="books-sheet",
                mapping=mapping,
                left=books,
                right=config.connector("sheet", ledger),
                options=PairOptions(),
            )
            assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
            return report

        try:
            first = sync()
            rows = csv_rows(tmp_path / "clients.csv")
            assert len(rows) == 12 and first.writes == 12
            assert sync().writes == 0  # echoes of our own writes are not changes

            # edited in FreshBooks -> the sheet
            client = sb.state.list("clients")[0]
            books.update("clients", str(client["id"]), {"organization": "Renamed in FreshBooks"}, "edit-1")
            assert sync().writes == 1
            assert csv_rows(tmp_path / "clients.csv")[client["email"].lower()]["company"] == "Renamed in FreshBooks"

            # edited in the sheet -> FreshBooks
            other = sb.state.list("clients")[1]
            path = tmp_path / "clients.csv"
            with path.open(newline="", encoding="utf-8") as handle:
                table = list(csv.DictReader(handle))
            for row in table:
                if row["email"] == other["email"].lower():
                    row["first_name"] = "Edited"
                    row["updated_at"] = "2099-01-01T00:00:00+00:00"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(table[0]))
                writer.writeheader()
                writer.writerows(table)
            assert sync().writes == 1
            assert sb.state.get("clients", other["id"])["fname"] == "Edited"
            assert sync().writes == 0

            # deleted in FreshBooks (vis_state 1) -> gone from the sheet
            books.delete("clients", str(sb.state.list("clients")[2]["id"]))
            gone: Any = sb.state.get("clients", sb.state.list("clients", include_deleted=True)[2]["id"])
            assert gone["vis_state"] == 1
            assert sync().writes == 1
            assert gone["email"].lower() not in csv_rows(tmp_path / "clients.csv")
        finally:
            books.close()
            config.connector("sheet", ledger).close()
            ledger.close()
