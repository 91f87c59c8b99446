"""The ledger: the engine's state on SQLite (default) or PostgreSQL.

``Ledger.open(url)`` migrates to the newest schema and returns the :class:`Ledger`; see
:mod:`syncengine.ledger.store` for the API and :mod:`syncengine.ledger.models` for the tables.
"""

from syncengine.ledger.batch import LedgerTransaction
from syncengine.ledger.errors import (
    ConflictNotOpenError,
    LedgerError,
    LinkConflictError,
    NotALedgerError,
    PipelineBusyError,
)
from syncengine.ledger.rows import (
    Conflict,
    CursorInfo,
    Failure,
    Intent,
    IntentWrite,
    LeaseInfo,
    LinkState,
    LinkWrite,
    RunInfo,
    Side,
    WebhookEventInfo,
)
from syncengine.ledger.store import Ledger

__all__ = [
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
