"""Recognising what an interrupted create made: in the common shape, never by raw payload.

Found on main: recovery compared the saved payload with what FreshBooks returns, which never
matches for invoices (customerid "1024" vs 1024, an assigned invoice_number, lines with extra
fields), so the create was made again: 14 of 112 kill -9 trials ended with duplicate invoices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from syncengine.reconcile.recovery import PendingCreate, RecoveryIndex, idempotency_key, loose, matches_shape
from syncengine.records import Money

SENT = {"customer": "1024", "number": None, "amount": Money(Decimal("12.3"), "usd"),
        "lines": [{"name": "Work", "qty": 2, "unit_cost": Money(Decimal("45.5"), "USD")}], "notes": ""}
BACK = {"customer": 1024, "number": "INV-0042", "amount": Money(Decimal("12.30"), "USD"),
        "lines": [{"lineid": 7, "name": "Work", "qty": "2", "unit_cost": Money(Decimal("45.50"), "USD"),
                   "amount": Money(Decimal("91.00"), "USD")}], "notes": None, "status": "draft"}


def create(intent_id: int, merged: dict[str, Any], names: tuple[str, ...], source: str = "s1") -> PendingCreate:
    return PendingCreate(intent_id, "right", source, f"k{intent_id}", {}, names, merged, True)


def test_loose_values_ignore_representation() -> None:
    assert loose("1024") == loose(1024) == loose(Decimal("1024.00"))
    assert loose(" a ") == loose("a")
    assert loose("") is None and loose(None) is None
    assert loose(Money(Decimal("1.5"), "usd")) == loose(Money(Decimal("1.50"), "USD"))
    assert loose(datetime(2026, 1, 1, 12, tzinfo=UTC)) == loose(datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert loose("1024") != loose("1025")
    assert loose(True) != loose(1)


def test_the_record_freshbooks_returns_matches_what_was_sent() -> None:
    names = ("customer", "amount", "lines", "notes")
    assert matches_shape({n: SENT[n] for n in names}, BACK)


def test_a_different_record_does_not_match() -> None:
    names = ("customer", "amount", "lines")
    for change in ({"customer": 1025}, {"amount": Money(Decimal("12.31"), "USD")},
                   {"lines": [{"name": "Other", "qty": "2", "unit_cost": Money(Decimal("45.50"), "USD")}]},
                   {"lines": []}):
        assert not matches_shape({n: SENT[n] for n in names}, {**BACK, **change}), change


def test_the_index_claims_each_record_once_in_constant_time() -> None:
    names = ("customer", "amount", "lines")
    creates = [create(i, {**SENT, "customer": str(i)}, names, source=f"s{i}") for i in range(1, 2001)]
    index = RecoveryIndex(creates)
    assert len(index) == 2000
    claimed = index.claim({**BACK, "customer": 1500})
    assert claimed is not None and claimed.source_key == "s1500"
    assert index.claim({**BACK, "customer": 1500}) is None, "claimed once"
    assert index.claim({**BACK, "customer": 99999}) is None
    assert len(index) == 1999


def test_two_creates_with_equal_payloads_claim_two_records() -> None:
    names = ("customer", "amount")
    index = RecoveryIndex([create(1, SENT, names, "a"), create(2, SENT, names, "b")])
    first, second = index.claim(BACK), index.claim(BACK)
    assert first is not None and second is not None
    assert {first.source_key, second.source_key} == {"a", "b"}
    assert index.claim(BACK) is None


def test_idempotency_keys_follow_the_payload_and_the_prior_state() -> None:
    key = idempotency_key("p", "invoices", "right", "create", "s1", {"a": 1})
    assert key == idempotency_key("p", "invoices", "right", "create", "s1", {"a": 1}), "a retry keeps its key"
    assert key != idempotency_key("p", "invoices", "right", "create", "s1", {"a": 2}), "a new payload never reuses"
    assert key != idempotency_key("p", "invoices", "right", "create", "s2", {"a": 1})
    update = idempotency_key("p", "invoices", "right", "update", "r1", {"a": 1}, prior="h1")
    # The same update over another prior state (A -> B, B -> A, A -> B again) is a new write.
    assert update != idempotency_key("p", "invoices", "right", "update", "r1", {"a": 1}, prior="h2")
