"""FreshBooks sandbox <-> CSV files through the ready mapping: every object, both ways."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import load_config
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, run_pipeline

CONFIG = Path(__file__).parents[2] / "examples" / "freshbooks-csv.yaml"


def test_every_object_to_csv_and_an_edit_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(seed=40, port=0) as sb:
        for key, value in {"FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
                           "FRESHBOOKS_CLIENT_SECRET": sb.client_secret, "FRESHBOOKS_REDIRECT_URI": sb.redirect_uri,
                           "SYNCENGINE_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
                           "FRESHBOOKS_CSV_DIR": str(tmp_path / "csv")}.items():
            monkeypatch.setenv(key, value)
        config = load_config(CONFIG)
        ledger = Ledger.open(config.ledger_url)
        with ledger.token_lock("freshbooks") as slot:
            slot.save(sb.issue_tokens())
        pipe = config.pipeline("books-csv")
        mapping = config.mapping(pipe, ledger)

        def sync() -> int:
            report = run_pipeline(ledger=ledger, pipeline=pipe.name, mapping=mapping,
                                  left=config.connector("books", ledger), right=config.connector("files", ledger),
                                  options=PairOptions())
            assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
            return report.writes

        try:
            assert sync() > 0
            files = {p.stem for p in (tmp_path / "csv").glob("*.csv")}
            assert files == {p.right_object for p in mapping.pairs}
            with (tmp_path / "csv" / "clients.csv").open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            assert len(rows) == sb.state.count("clients")
            assert sync() == 0

            # An edit in the spreadsheet reaches FreshBooks.
            rows[0]["organization"] = "Edited in the CSV"
            with (tmp_path / "csv" / "clients.csv").open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            assert sync() == 1
            assert sb.state.get("clients", int(rows[0]["freshbooks_id"]))["organization"] == "Edited in the CSV"
            assert sync() == 0
        finally:
            config.close()
            ledger.close()
            os.environ.pop("FRESHBOOKS_CSV_DIR", None)
