"""Webhook events are stored once per (source, event id): a retried delivery is a no-op."""

from __future__ import annotations

from syncengine.ledger import Ledger


def test_a_retried_delivery_is_not_stored_twice(ledger: Ledger) -> None:
    assert ledger.record_webhook_event("freshbooks", "evt-1", '{"a": 1}') is True
    assert ledger.record_webhook_event("freshbooks", "evt-1", '{"a": "changed"}') is False
    assert ledger.record_webhook_event("stripe", "evt-1", "{}") is True
    events = ledger.unprocessed_webhook_events()
    assert [(e.source, e.event_id) for e in events] == [("freshbooks", "evt-1"), ("stripe", "evt-1")]
    assert events[0].payload_dict() == {"a": 1}


def test_processed_events_leave_the_queue_and_stay_deduplicated(ledger: Ledger) -> None:
    for n in range(5):
        ledger.record_webhook_event("fb", f"e{n}", "{}")
    ledger.record_webhook_event("stripe", "s1", "{}")
    queue = ledger.unprocessed_webhook_events(source="fb", limit=3)
    assert [e.event_id for e in queue] == ["e0", "e1", "e2"]
    ledger.mark_webhook_event_processed(queue[0].id)
    assert [e.event_id for e in ledger.unprocessed_webhook_events(source="fb")] == ["e1", "e2", "e3", "e4"]
    assert ledger.record_webhook_event("fb", "e0", "{}") is False
    assert len(ledger.unprocessed_webhook_events()) == 5
