"""The Stripe connector inside a real run (CSV <-> localstripe through the Engine): creates carry
their back-reference, a second run writes nothing, and a cursor past the events window is
answered by a full listing that the run's counts report (not an error, not silent)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog

from connectors.stripe.events import EventCursor
from syncengine.engine import Engine, SyncOptions

from .localstripe_peer import API_KEY, LocalStripe

MAPPING = """pairs:
  - name: clients
    left: clients
    right: customers
    direction: both
    conflict: newest_wins
    deletes: propagate
    match: {left: email, right: email}
    fields:
      - {left: name, right: name}
      - {left: email, right: email, transform: lower}
"""


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _config(tmp_path: Path, url: str) -> Path:
    (tmp_path / "clients.csv").write_text(
        "id,name,email\n1,Ada,ada@example.com\n2,Bob,bob@example.com\n3,Cy,cy@example.com\n", encoding="utf-8")
    (tmp_path / "clients.mapping.yaml").write_text(MAPPING, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"""ledger: sqlite:///{tmp_path / 'ledger.db'}
connectors:
  sheet:
    type: csvfile
    objects:
      clients: {{path: clients.csv, key: id}}
  pay:
    type: stripe
    base_url: {url}
    api_key: {API_KEY}
    event_filter: none
    expand_default_price: false
    rate_limit_per_second: null
    page_size: 2
pipelines:
  - {{name: sheet-stripe, left: sheet, right: pay, mapping: clients.mapping.yaml}}
""", encoding="utf-8")
    return config


def test_a_cursor_past_the_events_window_is_a_reported_full_listing(tmp_path: Path, peer: LocalStripe) -> None:
    config = _config(tmp_path, peer.url)
    with Engine(config) as engine:
        first = engine.sync("sheet-stripe", SyncOptions())
        assert first.ok, first.errors
        customers = httpx.get(f"{peer.url}/v1/customers", params={"limit": "100"},
                              headers={"Authorization": f"Bearer {API_KEY}"}).json()["data"]
        assert sorted(c["name"] for c in customers) == ["Ada", "Bob", "Cy"]
        assert all(c["metadata"].get("syncengine_ref", "").startswith("se-") for c in customers)

        stale = EventCursor(int((datetime.now(UTC) - timedelta(days=31)).timestamp())).encode()
        with engine.ledger.transaction() as tx:
            tx.set_cursor("sheet-stripe", "clients", "right", stale)
        second = engine.sync("sheet-stripe", SyncOptions())
        resumed = engine.ledger.get_cursor("sheet-stripe", "clients", "right")
    assert second.ok, second.errors
    (pair,) = second.pairs
    assert pair.counts["right_events_window_expired_full_listing"] == 1
    assert pair.writes == 0, "the full listing compared by hash: nothing changed, nothing written"
    assert EventCursor.decode(resumed) is not None and resumed != stale, "the cursor moved back into the window"
