"""Pure rules of the Stripe connector: minor units by currency, and the events cursor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.stripe.events import EventCursor, order_events, paged_with_cursors
from connectors.stripe.money import from_minor, to_minor
from syncengine.errors import ValidationError
from syncengine.records import Money


@pytest.mark.parametrize(("money", "minor"), [
    (Money(Decimal("10.50"), "USD"), 1050),
    (Money(Decimal("1050"), "JPY"), 1050),
    (Money(Decimal("1050"), "KRW"), 1050),
    (Money(Decimal("5.12"), "KWD"), 5120),
    (Money(Decimal("5.120"), "BHD"), 5120),
    (Money(Decimal("1200"), "ISK"), 120000),
])
def test_minor_units_by_currency(money: Money, minor: int) -> None:
    assert to_minor(money, None, field="amount") == minor
    assert from_minor(minor, money.currency.lower()) == money


@pytest.mark.parametrize("money", [
    Money(Decimal("5.124"), "KWD"),      # three-decimal: the last digit must be 0
    Money(Decimal("10.505"), "USD"),     # more decimals than the currency has
    Money(Decimal("10.5"), "JPY"),       # zero-decimal
    Money(Decimal("12.50"), "ISK"),      # whole krónur only
])
def test_amounts_stripe_would_refuse_or_round_are_refused(money: Money) -> None:
    with pytest.raises(ValidationError) as caught:
        to_minor(money, None, field="unit_amount")
    assert caught.value.field == "unit_amount"


def test_an_amount_in_another_currency_than_the_record_is_never_converted() -> None:
    with pytest.raises(ValidationError, match="never converted"):
        to_minor(Money(Decimal("10"), "EUR"), "usd", field="amount")


def _event(id: str, created: int, type: str = "customer.updated") -> dict[str, Any]:
    return {"id": id, "type": type, "created": created, "data": {"object": {"id": "cus_1", "object": "customer"}}}


def test_events_after_a_cursor_are_deduplicated_and_ordered_oldest_first() -> None:
    cursor = EventCursor(100, frozenset({"evt_a"}))
    raw = [_event("evt_c", 101), _event("evt_a", 100), _event("evt_b", 100), _event("evt_c", 101), _event("evt_z", 99)]
    assert [e.id for e in order_events(raw, cursor)] == ["evt_b", "evt_c"]


def test_each_page_cursor_resumes_exactly_after_it() -> None:
    events = order_events([_event(f"evt_{n}", 100 + n // 3) for n in range(7)], EventCursor(100))
    pages = list(paged_with_cursors(events, EventCursor(100), 2))
    assert [[e.id for e in page] for page, _ in pages] == [["evt_0", "evt_1"], ["evt_2", "evt_3"],
                                                            ["evt_4", "evt_5"], ["evt_6"]]
    # after the 2nd page: second 101 with evt_3 seen; resuming re-reads 101 but drops evt_3
    assert pages[1][1] == EventCursor(101, frozenset({"evt_3"}))
    rest = order_events([_event(f"evt_{n}", 100 + n // 3) for n in range(7)], pages[1][1])
    assert [e.id for e in rest] == ["evt_4", "evt_5", "evt_6"]
    assert EventCursor.decode(pages[-1][1].encode()) == pages[-1][1]
