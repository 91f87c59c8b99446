"""mappings/freshbooks-stripe.yaml is accepted by `syncengine validate` against the real connectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from syncengine.cli import app

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures structlog for the process; later tests in this worker expect the defaults."""
    yield
    structlog.reset_defaults()


def test_syncengine_validate_accepts_the_freshbooks_stripe_mapping(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""ledger: sqlite:///{tmp_path / 'ledger.db'}
connectors:
  books:
    type: freshbooks
    base_url: http://127.0.0.1:9
    client_id: id
    client_secret: secret
    redirect_uri: https://127.0.0.1:8976/callback
  pay:
    type: stripe
    base_url: http://127.0.0.1:9
    api_key: sk_test_validate
pipelines:
  - name: books-stripe
    left: books
    right: pay
    mapping: {ROOT / 'mappings' / 'freshbooks-stripe.yaml'}
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "books-stripe" in result.output


def test_validate_names_the_line_of_a_bad_stripe_option(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""ledger: sqlite:///{tmp_path / 'ledger.db'}
connectors:
  pay:
    type: stripe
    api_key: sk_test_validate
    event_filter: sometimes
  other:
    type: stripe
    api_key: sk_test_validate
pipelines:
  - name: p
    left: pay
    right: other
    mapping: {ROOT / 'mappings' / 'freshbooks-stripe.yaml'}
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "config.yaml:6:" in result.output and "event_filter" in result.output
