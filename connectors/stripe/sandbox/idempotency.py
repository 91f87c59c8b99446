"""Idempotent POSTs (stripe.com/docs/api/idempotent_requests; reference "Idempotency").

The first answer to a key is stored - a 500 too - and replayed for 24 hours with
``Idempotent-Replayed: true``; the same key with other parameters (or another path) is a 400
``idempotency_error``; a key in use by a request still running is a 409. Per Stripe, nothing is
stored when the request never began executing: a 429, a 401, or a parameter validation failure
(here: a 4xx answered before the request changed anything).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from .errors import StripeError
from .store import Store

TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    executed: bool = True  # False: the request never began executing, so no result is stored


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    text = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Idempotency:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def begin(self, api_key: str, key: str, print_: str, now: int) -> Answer | None:
        """The stored answer to replay, or None after reserving the key for this request."""
        if len(key) > MAX_KEY_LENGTH:
            raise StripeError(400, f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.",
                              type="idempotency_error", param="Idempotency-Key")
        scoped = f"{api_key}:{key}"
        with self.store.lock:
            for stale in [k for k, r in self.store.idempotency.items() if r["at"] < now - TTL_SECONDS]:
                del self.store.idempotency[stale]
            record = self.store.idempotency.get(scoped)
        if record is not None:
            if record["fingerprint"] != print_:
                raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters "
                                  "they were first used with. Try using a key other than "
                                  f"'{key}' if you meant to execute a different request.", type="idempotency_error",
                                  should_retry=False)
            return Answer(int(record["status"]), record["body"].encode(), dict(record["headers"]))
        with self._lock:
            if scoped in self._running:
                raise StripeError(409, "There is currently another in-progress request using this Idempotent Key "
                                  "(that probably means you submitted twice, and the other request is still "
                                  "going through): " + key + ". Please try again later.",
                                  type="idempotency_error", code="idempotency_key_in_use", should_retry=True)
            self._running.add(scoped)
        return None

    def finish(self, api_key: str, key: str, print_: str, answer: Answer | None, now: int) -> None:
        """Store ``answer`` (unless None or never executed) and free the key."""
        scoped = f"{api_key}:{key}"
        if answer is not None and answer.executed:
            with self.store.lock:
                self.store.idempotency[scoped] = {"fingerprint": print_, "status": answer.status,
                                                  "body": answer.body.decode(), "headers": answer.headers, "at": now}
        with self._lock:
            self._running.discard(scoped)
