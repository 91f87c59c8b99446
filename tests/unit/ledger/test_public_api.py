"""The ledger's public surface changes only on purpose."""

from __future__ import annotations

import syncengine.ledger as ledger_pkg
from syncengine.ledger import Ledger


def test_public_names_are_pinned() -> None:
    assert sorted(ledger_pkg.__all__) == [
        "Conflict",
        "ConflictNotOpenError",
        "CursorInfo",
        "Failure",
        "Intent",
        "IntentWrite",
        "LeaseInfo",
        "Ledger",
        "LedgerError",
        "LedgerTransaction",
        "LinkConflictError",
        "LinkState",
        "LinkWrite",
        "NotALedgerError",
        "PipelineBusyError",
        "RunInfo",
        "Side",
        "WebhookEventInfo",
    ]


def test_ledger_methods_the_reconciler_relies_on() -> None:
    expected = {
        "open",
        "close",
        "transaction",
        "get_cursor",
        "cursors",
        "links_for",
        "iter_links",
        "count_links",
        "begin_intents",
        "pending_intents",
        "failures",
        "list_conflicts",
        "get_conflict",
        "resolve_conflict",
        "resolved_unapplied_conflicts",
        "open_conflict_keys",
        "start_run",
        "finish_run",
        "recent_runs",
        "token_lock",
        "load_token",
        "record_webhook_event",
        "unprocessed_webhook_events",
        "mark_webhook_event_processed",
        "acquire_lease",
        "release_lease",
        "prune",
    }
    assert expected <= {name for name in dir(Ledger) if not name.startswith("_")}
