"""Cursors: one per (pipeline, pair, side), written inside a batch transaction."""

from __future__ import annotations

import pytest

from syncengine.ledger import Ledger


def test_cursor_is_none_until_set_then_updates(ledger: Ledger) -> None:
    assert ledger.get_cursor("p", "clients", "left") is None
    with ledger.transaction() as tx:
        tx.set_cursor("p", "clients", "left", "c1")
    assert ledger.get_cursor("p", "clients", "left") == "c1"
    with ledger.transaction() as tx:
        tx.set_cursor("p", "clients", "left", "c2")
    assert ledger.get_cursor("p", "clients", "left") == "c2"
    assert ledger.get_cursor("p", "clients", "right") is None
    assert ledger.get_cursor("other", "clients", "left") is None


def test_cursors_lists_for_status(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.set_cursor("p", "invoices", "right", "r")
        tx.set_cursor("p", "clients", "left", "l")
        tx.set_cursor("q", "clients", "left", "x")
    listed = ledger.cursors()
    assert [(c.pipeline, c.pair, c.side, c.cursor) for c in listed] == [
        ("p", "clients", "left", "l"),
        ("p", "invoices", "right", "r"),
        ("q", "clients", "left", "x"),
    ]
    assert all(c.updated_at.tzinfo is not None for c in listed)
    assert [c.pipeline for c in ledger.cursors("q")] == ["q"]


def test_bad_side_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError), ledger.transaction() as tx:
        tx.set_cursor("p", "clients", "middle", "x")
    with pytest.raises(ValueError):
        ledger.get_cursor("p", "clients", "up")
