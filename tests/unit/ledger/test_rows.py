"""The plain values the ledger hands out: lazy snapshot decoding, side accessors, URL handling."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from syncengine.ledger import LinkState
from syncengine.ledger.bulk import sqlite_timestamp
from syncengine.ledger.connect import create_ledger_engine, normalize_url
from syncengine.records import Money, to_json


def test_link_state_decodes_common_only_when_asked() -> None:
    broken = LinkState(1, "L", "R", "active", "lh", "rh", "{not json")
    assert broken.left_hash == "lh"  # building it did not parse the JSON
    with pytest.raises(ValueError):
        _ = broken.common


def test_link_state_common_restores_types() -> None:
    common = {"amount": Money(Decimal("10.50"), "usd"), "when": datetime(2025, 1, 2, tzinfo=UTC)}
    state = LinkState(1, "L", "R", "active", None, None, to_json(common))
    assert state.common == {"amount": Money(Decimal("10.5"), "USD"), "when": datetime(2025, 1, 2, tzinfo=UTC)}
    assert state.common is not state.common  # a fresh dict each time: callers may change it


def test_link_state_without_snapshot_has_empty_common_and_side_accessors() -> None:
    state = LinkState(7, "L7", "R7", "tombstone", "a", "b", None)
    assert state.common == {}
    assert (state.key("left"), state.key("right")) == ("L7", "R7")
    assert (state.hash("left"), state.hash("right")) == ("a", "b")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalize_url_uses_psycopg3(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_unsupported_ledger_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        create_ledger_engine(url)


def test_sqlite_timestamp_matches_sqlalchemy_text_form() -> None:
    assert sqlite_timestamp(datetime(2026, 1, 2, 3, 4, 5, 6)) == "2026-01-02 03:04:05.000006"
