"""The running sandbox as handlers see it: state, clock, app credentials and the traffic switches.

One :class:`Sandbox` is shared by the Starlette app, the admin endpoints, the control API in
``server.py`` and the webhook thread. It also turns the write layer's events into webhook jobs
for the verified callbacks that subscribe to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .billing import Event
from .budget import RequestBudget
from .clock import Clock
from .errors import ApiError
from .faults import Faults
from .oauth import DEFAULT_SCOPES, AppCredentials, issue
from .stats import Stats
from .store import Book, Store
from .variants import Variants
from .webhooks import WebhookDispatcher


@dataclass
class Settings:
    token_ttl: int = 43200
    requests_per_minute: int | None = None
    rng_seed: int = 1
    variants: dict[str, str] = field(default_factory=dict)


class Sandbox:
    def __init__(self, store: Store, clock: Clock, app: AppCredentials, settings: Settings,
                 reseed: Callable[[], Store]) -> None:
        self.store = store
        self.clock = clock
        self.app = app
        self.settings = settings
        self.faults = Faults(settings.rng_seed)
        self.budget = RequestBudget(clock, settings.requests_per_minute)
        self.stats = Stats()
        self.webhooks = WebhookDispatcher()
        self.variants = Variants(settings.variants)
        self._reseed = reseed

    # -- tokens ---------------------------------------------------------------------------------
    def issue_tokens(self, ttl: int | None = None, scope: str = DEFAULT_SCOPES) -> dict[str, Any]:
        return issue(self.store, self.clock, self.settings.token_ttl if ttl is None else ttl, scope)

    # -- businesses -----------------------------------------------------------------------------
    def book_for_account(self, account_id: str) -> Book:
        book = self.store.book_by_account(account_id)
        if book is None:
            raise ApiError(403, 1003, "You do not have access to this account.", field="account_id",
                           object="account", value=account_id)
        return book

    def book_for_business(self, business_id: str) -> Book:
        book = self.store.book_by_business_id(int(business_id)) if business_id.isdigit() else None
        if book is None:
            raise ApiError(403, 1003, "You do not have access to this business.", field="business_id",
                           object="business", value=business_id)
        return book

    def book_for_uuid(self, business_uuid: str) -> Book:
        book = self.store.book_by_uuid(business_uuid)
        if book is None:
            raise ApiError(403, 1003, "You do not have access to this business.", field="business_uuid",
                           object="business", value=business_uuid)
        return book

    # -- webhooks -------------------------------------------------------------------------------
    def emit(self, book: Book, events: list[Event]) -> None:
        """Queue a signed delivery of each event to every verified callback subscribed to it."""
        if not events:
            return
        identity_id = str(self.store.identity.get("identity_id", 1))
        with self.store.lock:
            callbacks = [dict(c) for c in book.table("callbacks").values() if c.get("verified")]
        for name, object_id in events:
            resource = name.split(".", 1)[0]
            for callback in callbacks:
                if callback["event"] not in (name, resource):
                    continue
                fields = {"name": name, "object_id": str(object_id), "account_id": book.account_id,
                          "business_id": str(book.business_id), "identity_id": identity_id, "user_id": "1"}
                self.webhooks.enqueue(int(callback["callbackid"]), callback["uri"], callback["_verifier"],
                                      fields)

    # -- admin ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to freshly seeded data; tokens, the clock and the app credentials are kept."""
        fresh = self._reseed()
        with self.store.lock:
            self.store.books = fresh.books
            self.store.primary = fresh.primary
            self.store.grants.clear()
        self.faults.reset()
        self.budget.set(self.settings.requests_per_minute)
        self.stats.reset()
        self.webhooks.clear()
