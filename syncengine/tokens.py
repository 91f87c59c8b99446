"""Where OAuth tokens live: a store with a lock, so a rotated refresh token is never lost.

Providers such as FreshBooks make each refresh token single-use. Two processes refreshing at
once would invalidate each other, and a new token kept only in memory dies with the process.
So a refresh happens while holding the store's lock for that token, and ``save`` is durable
(committed) when it returns, before the new access token is used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

__all__ = ["MemoryTokenStore", "TokenSlot", "TokenStore"]


class TokenSlot(Protocol):
    @property
    def value(self) -> dict[str, Any] | None: ...

    def save(self, value: dict[str, Any]) -> None:
        """Persist durably before returning."""
        ...


class TokenStore(Protocol):
    def token_lock(self, name: str) -> AbstractContextManager[TokenSlot]: ...

    def load_token(self, name: str) -> dict[str, Any] | None: ...


class _MemorySlot:
    def __init__(self, store: MemoryTokenStore, name: str) -> None:
        self._store = store
        self._name = name

    @property
    def value(self) -> dict[str, Any] | None:
        return self._store._tokens.get(self._name)

    def save(self, value: dict[str, Any]) -> None:
        self._store._tokens[self._name] = dict(value)


class MemoryTokenStore:
    """A process-local store, for tests and one-off scripts; the ledger is the real one."""

    def __init__(self, initial: dict[str, dict[str, Any]] | None = None) -> None:
        self._tokens: dict[str, dict[str, Any]] = dict(initial or {})
        self._lock = threading.RLock()

    @contextmanager
    def _locked(self, name: str) -> Iterator[TokenSlot]:
        with self._lock:
            yield _MemorySlot(self, name)

    def token_lock(self, name: str) -> AbstractContextManager[TokenSlot]:
        return self._locked(name)

    def load_token(self, name: str) -> dict[str, Any] | None:
        return self._tokens.get(name)
