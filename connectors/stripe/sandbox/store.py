"""The sandbox's state: every object as the API shows it, plus hidden ``_`` keys, behind one lock.

Objects live per type in insertion order; ``_seq`` (a global counter) orders them newest first even
when many share one ``created`` second. Hidden keys (``_seq``, ``_deleted``, ``_secret``,
``_delivery``...) never leave the sandbox: :func:`public` strips them. The whole state is plain JSON,
so ``--state FILE`` can save and load it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from . import ids
from .errors import missing

KINDS = ("customer", "product", "price", "invoiceitem", "invoice", "line_item", "invoice_payment",
         "payment_intent", "charge", "refund", "event", "webhook_endpoint")


class Store:
    def __init__(self, rng_seed: int = 1) -> None:
        self.lock = threading.RLock()
        self.rng_seed = rng_seed
        self.counter = 0
        self.changes = 0  # bumped by every add/remove: tells a failed request that changed nothing
        self.objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.seeded: dict[str, list[str]] = {}

    def new_id(self, kind: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{ids.PREFIXES[kind]}_{ids.token(self.rng_seed, self.counter)}"

    def next_seq(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj["_seq"] = self.next_seq()
        self.objects[kind][obj["id"]] = obj
        self.changes += 1
        return obj

    def get(self, kind: str, object_id: str, *, label: str | None = None, param: str = "id",
            include_deleted: bool = False) -> dict[str, Any]:
        obj = self.objects[kind].get(object_id)
        if obj is None or (obj.get("_deleted") and not include_deleted):
            raise missing(label or kind, object_id, param)
        return obj

    def find(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.objects[kind].get(object_id)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.objects[kind].values())

    def remove(self, kind: str, object_id: str) -> None:
        self.objects[kind].pop(object_id, None)
        self.changes += 1

    def count(self, kind: str) -> int:
        return sum(1 for o in self.objects[kind].values() if not o.get("_deleted"))

    # -- persistence ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({"rng_seed": self.rng_seed, "counter": self.counter, "objects": self.objects,
                                  "idempotency": self.idempotency, "seeded": self.seeded})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Store:
        store = cls(int(data["rng_seed"]))
        store.counter = int(data["counter"])
        for kind in KINDS:
            store.objects[kind] = dict(data["objects"].get(kind, {}))
        store.idempotency = dict(data.get("idempotency", {}))
        store.seeded = {k: list(v) for k, v in data.get("seeded", {}).items()}
        return store


def public(value: Any) -> Any:
    """A deep copy without hidden ``_`` keys: what the API shows."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value
