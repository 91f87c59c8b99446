"""Object ids in Stripe's form (``cus_`` + 14-24 characters), reproducible from the sandbox's seed."""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

PREFIXES = {
    "customer": "cus", "product": "prod", "price": "price", "invoiceitem": "ii", "invoice": "in",
    "line_item": "il", "invoice_payment": "inpay", "payment_intent": "pi", "charge": "ch", "refund": "re",
    "event": "evt", "webhook_endpoint": "we", "payment_record": "pr", "request": "req",
}
KIND_OF_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}


def token(seed: int, counter: int, length: int = 24) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{seed}:{counter}".encode()).digest(), "big")
    chars = []
    for _ in range(length):
        digest, index = divmod(digest, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def kind_of(object_id: str) -> str | None:
    """The object type an id names, from its prefix (``cus_...`` -> ``customer``)."""
    prefix, sep, _ = object_id.partition("_")
    return KIND_OF_PREFIX.get(prefix) if sep else None
