"""The sandbox's state: every business's records, OAuth grants and tokens, behind one lock.

Records are kept exactly as the API shows them (plain JSON-able dicts), plus hidden bookkeeping
keys that start with ``_`` and never leave the sandbox: ``_updated`` (UTC ISO of the last change,
which filters compare on; time entries show no updated field at all), ``_deleted`` (time entries
are soft-deleted server-side although the API has no vis_state for them) and ``_verifier``
(a webhook callback's secret). Keeping wire-shaped records means the state file is readable and a
test can assert on ``sb.state.get("clients", 7)`` exactly as the connector will see it.

One re-entrant lock guards everything: handlers take it around a whole read-modify-write (a
payment changes its invoice too), tests read through it from another thread, and the webhook
thread reads callbacks under it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Key = int | str

# Object collections every business has; ids start at distinct bases so a mixed-up id
# (an invoice id used as a client id) is a 404, not a silent hit.
COLLECTIONS: dict[str, int] = {
    "clients": 1001,
    "estimates": 30001,
    "expenses": 50001,
    "expense_categories": 3000001,
    "invoices": 100001,
    "items": 7001,
    "payments": 200001,
    "taxes": 9001,
    "tasks": 11001,
    "projects": 600001,
    "time_entries": 900001,
    "ledger_accounts": 1,
    "callbacks": 1201,
}


def public(record: Record) -> Record:
    """A deep copy without the hidden ``_`` keys: what the API would show."""
    return {k: _copy(v) for k, v in record.items() if not k.startswith("_")}


def _copy(value: Any) -> Any:
    """Deep copy of plain JSON data (records hold nothing else), several times faster than deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def is_deleted(record: Record) -> bool:
    return bool(record.get("_deleted")) or record.get("vis_state") == 1


@dataclass
class Book:
    """One business: its ids and its records, collection -> key -> record."""

    account_id: str
    business_id: int
    business_uuid: str
    name: str
    base_currency: str = "USD"
    collections: dict[str, dict[Key, Record]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, start in COLLECTIONS.items():
            self.collections.setdefault(name, {})
            self.next_ids.setdefault(name, start)

    def new_id(self, collection: str) -> int:
        value = self.next_ids[collection]
        self.next_ids[collection] = value + 1
        return value

    def table(self, collection: str) -> dict[Key, Record]:
        return self.collections[collection]

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "business_id": self.business_id,
            "business_uuid": self.business_uuid,
            "name": self.name,
            "base_currency": self.base_currency,
            "next_ids": dict(self.next_ids),
            # JSON object keys are strings; records carry their own id so keys rebuild from them.
            "collections": {name: list(rows.values()) for name, rows in self.collections.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Book:
        book = cls(
            account_id=data["account_id"],
            business_id=int(data["business_id"]),
            business_uuid=data["business_uuid"],
            name=data["name"],
            base_currency=data.get("base_currency", "USD"),
            next_ids={k: int(v) for k, v in data["next_ids"].items()},
        )
        for name, rows in data["collections"].items():
            book.collections[name] = {record_key(name, row): row for row in rows}
        return book


def record_key(collection: str, record: Record) -> Key:
    if collection == "ledger_accounts":
        return str(record["uuid"])
    if collection == "callbacks":
        return int(record["callbackid"])
    return int(record["id"])


@dataclass
class Grant:
    """An authorization code waiting to be exchanged (5 minutes, single use)."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float


@dataclass
class AccessToken:
    token: str
    scope: str
    created_at: int
    expires_at: float


class Store:
    """All sandbox state. ``get``/``list``/``count`` are the test-facing read API."""

    def __init__(self, books: list[Book]) -> None:
        self.lock = threading.RLock()
        self.books: dict[str, Book] = {b.account_id: b for b in books}
        self.primary = books[0].account_id
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        # refresh token -> scope; a used refresh token is removed (single use, rotated).
        self.refresh_tokens: dict[str, str] = {}
        # refresh token -> the access token issued with it (revoked by a refresh: token_after_refresh)
        self.paired_access: dict[str, str] = {}
        # The one user every token belongs to (identity_id, names, email); see seed.py.
        self.identity: dict[str, Any] = {}

    # -- lookup -----------------------------------------------------------------------------
    def book(self, account_id: str | None = None) -> Book:
        return self.books[account_id or self.primary]

    def book_by_account(self, account_id: str) -> Book | None:
        return self.books.get(account_id)

    def book_by_business_id(self, business_id: int) -> Book | None:
        return next((b for b in self.books.values() if b.business_id == business_id), None)

    def book_by_uuid(self, business_uuid: str) -> Book | None:
        return next((b for b in self.books.values() if b.business_uuid == business_uuid), None)

    # -- test-facing reads --------------------------------------------------------------------
    def get(self, collection: str, key: Key, account_id: str | None = None) -> Record | None:
        """One record as the API shows it (hidden keys removed), or None; deleted ones included."""
        with self.lock:
            row = self.book(account_id).table(collection).get(_coerce_key(collection, key))
            return public(row) if row is not None else None

    def list(
        self, collection: str, include_deleted: bool = False, account_id: str | None = None
    ) -> list[Record]:
        """Every record of a collection in id order; deleted ones only when asked."""
        with self.lock:
            return [public(r) for r in self.rows(collection, account_id) if include_deleted or not is_deleted(r)]

    def count(self, collection: str, include_deleted: bool = False, account_id: str | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.rows(collection, account_id) if include_deleted or not is_deleted(r))

    def raw(self, collection: str, key: Key, account_id: str | None = None) -> Record | None:
        """The stored record itself, hidden keys and all (a deep copy)."""
        with self.lock:
            row = self.book(account_id).table(collection).get(_coerce_key(collection, key))
            return copy.deepcopy(row) if row is not None else None

    def rows(self, collection: str, account_id: str | None = None) -> Iterator[Record]:
        """Live stored records in key order; callers hold the lock."""
        table = self.book(account_id).table(collection)
        for key in sorted(table):
            yield table[key]

    # -- persistence --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "version": 1,
                "primary": self.primary,
                "books": [b.to_json() for b in self.books.values()],
                "access_tokens": [vars(t) for t in self.access_tokens.values()],
                "refresh_tokens": dict(self.refresh_tokens),
                "paired_access": dict(self.paired_access),
                "identity": self.identity,
            }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Store:
        books = [Book.from_json(b) for b in data["books"]]
        books.sort(key=lambda b: b.account_id != data["primary"])
        store = cls(books)
        store.access_tokens = {t["token"]: AccessToken(**t) for t in data.get("access_tokens", [])}
        store.refresh_tokens = dict(data.get("refresh_tokens", {}))
        store.paired_access = dict(data.get("paired_access", {}))
        store.identity = dict(data.get("identity", {}))
        return store


def _coerce_key(collection: str, key: Key) -> Key:
    if collection == "ledger_accounts":
        return str(key)
    return int(key)
