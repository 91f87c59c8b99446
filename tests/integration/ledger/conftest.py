"""A migrated ledger per test, on SQLite and on PostgreSQL (see tests/conftest.py's ``ledger_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncengine.ledger import Ledger


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    led = Ledger.open(ledger_url)
    try:
        yield led
    finally:
        led.close()
