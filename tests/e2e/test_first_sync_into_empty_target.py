"""A first sync of each ready mapping into an empty target writes nothing to the source.

Found on main (2026-12-01): a first FreshBooks -> CSV sync rewrote 112 FreshBooks records (30
clients, 42 invoices, ...): the CSV reads "" as null, and the write-back of "values the other
system assigned" sent the nulls back, moving every `updated` to now. A SQLite pipeline on the same
account then copied 103 "" -> NULL changes into its database. Any write to a side must be
explained by a change on the other side; on a first sync into an empty target nothing changed on
the target, so the source is only read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import load_config
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline

ROOT = Path(__file__).parents[2]

EXAMPLES = {
    "freshbooks-csv": ("examples/freshbooks-csv.yaml", "books-csv", "files"),
    "freshbooks-sqldb": ("examples/freshbooks-sqldb.yaml", "books-db", "db"),
}


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    saved = dict(os.environ)
    yield os.environ  # type: ignore[misc]
    os.environ.clear()
    os.environ.update(saved)


def writes_to(report: RunReport, side: str) -> dict[str, int]:
    return {k: v for k, v in report.counts.items()
            if k.endswith(f"_{side}") and k.split("_")[0] in ("created", "updated", "deleted", "archived") and v}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_first_sync_into_an_empty_target_never_writes_the_source(
    example: str, tmp_path: Path, environment: dict[str, str]
) -> None:
    config_file, pipeline_name, target = EXAMPLES[example]
    with SandboxServer(seed=40, port=0) as sb:
        # The seed holds the values that broke it: empty optional text fields.
        empties = sum(1 for c in sb.state.list("clients") for n in ("mob_phone", "p_street2", "vat_number")
                      if c.get(n) == "")
        assert empties > 0
        environment.update({
            "FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
            "FRESHBOOKS_CLIENT_SECRET": sb.client_secret, "FRESHBOOKS_REDIRECT_URI": sb.redirect_uri,
            "SYNCENGINE_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "FRESHBOOKS_DB_URL": f"sqlite:///{tmp_path / 'books.db'}",
            "FRESHBOOKS_CSV_DIR": str(tmp_path / "csv"),
        })
        config = load_config(ROOT / config_file)
        ledger = Ledger.open(config.ledger_url)
        with ledger.token_lock("freshbooks") as slot:
            slot.save(sb.issue_tokens())
        pipeline = config.pipeline(pipeline_name)
        mapping = config.mapping(pipeline, ledger)
        before = sb.stats()["by_method"]
        try:
            runs = []
            for _ in range(2):
                runs.append(run_pipeline(
                    ledger=ledger, pipeline=pipeline_name, mapping=mapping,
                    left=config.connector("books", ledger), right=config.connector(target, ledger),
                    options=PairOptions(),
                ))
            first, second = runs
            assert first.ok, first.errors + [e for p in first.pairs for e in p.errors][:10]
            assert first.counts["created_right"] > 100, "the target was filled"
            assert writes_to(first, "left") == {}, "the first sync wrote to FreshBooks"
            assert first.counts.get("updated_right", 0) == 0, "nothing to update in a target just created"
            after = sb.stats()["by_method"]
            assert after.get("PUT", 0) == before.get("PUT", 0), "FreshBooks got updates"
            assert after.get("DELETE", 0) == before.get("DELETE", 0)
            assert second.ok and second.writes == 0, writes_to(second, "left") | writes_to(second, "right")
        finally:
            config.close()
            ledger.close()
