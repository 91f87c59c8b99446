"""Generated data: ``seed`` customers with products, prices, invoices in every state, payments and refunds.

Everything is created through the API handlers themselves (so seeded objects and their events have
exactly the shapes of live ones), on a clock that walks through the ``SPREAD_DAYS`` before "now":
part of the seeded history is older than the 30-day events window, as in a real account.
``rng_seed`` fixes every choice, so the same pair gives the same data.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from .clock import Clock
from .forms import Params
from .resources import billing, catalog, customers, payments
from .runtime import Sandbox, Settings
from .store import Store

SPREAD_DAYS = 45
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken", "Margaret",
         "Tim", "Hedy", "Linus", "Katherine", "Dennis"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman", "Thompson",
        "Hamilton", "Berners-Lee", "Lamarr", "Torvalds", "Johnson", "Ritchie"]
PRODUCTS = ["Consulting hour", "Support plan", "Design review", "Workshop day", "Audit", "Training seat",
            "Hosting month", "Migration", "Licence", "Maintenance"]
CURRENCIES = ["usd", "usd", "usd", "eur", "gbp", "jpy"]


def build_store(seed: int, rng_seed: int, now: datetime | float | None = None) -> Store:
    store = Store(rng_seed)
    clock = Clock()
    if now is not None:
        clock.set_now(now)
    end = clock.timestamp()
    steps = max(1, seed * 6)
    clock.set_now(end - SPREAD_DAYS * 86400)
    sb = Sandbox(store, clock, Settings(rng_seed=rng_seed), lambda: store)
    rng = random.Random(rng_seed)
    seeded: dict[str, list[str]] = {k: [] for k in ("customer", "product", "price", "invoice", "invoice_payment",
                                                    "payment_intent", "charge", "refund")}

    def tick() -> None:
        clock.advance(SPREAD_DAYS * 86400 / steps * rng.uniform(0.5, 1.5))

    def call(handler: Any, params: dict[str, Any], *args: str) -> dict[str, Any]:
        tick()
        result: dict[str, Any] = handler(sb, Params(params), *args)
        return result

    with store.lock:
        for i in range(seed):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            address = {"line1": f"{rng.randrange(1, 999)} Main St", "city": "Springfield", "country": "US",
                       "postal_code": f"{rng.randrange(10000, 99999)}"}
            cust = call(customers.create, {"name": f"{first} {last}",
                                           "email": f"{first}.{last}.{i}@example.com".lower(),
                                           "phone": f"+1555{rng.randrange(10**6, 10**7)}", "address": address})
            seeded["customer"].append(cust["id"])
        prices: list[dict[str, Any]] = []
        for i in range(max(1, seed // 2)):
            product = call(catalog.create_product, {"name": f"{PRODUCTS[i % len(PRODUCTS)]} {i + 1}"})
            code = rng.choice(CURRENCIES)
            amount = rng.randrange(5, 500) * (1 if code == "jpy" else 100)
            price = call(catalog.create_price, {"product": product["id"], "currency": code, "unit_amount": str(amount)})
            seeded["product"].append(product["id"])
            seeded["price"].append(price["id"])
            prices.append(price)
        for _ in range(seed // 2):
            cust_id = rng.choice(seeded["customer"])
            price = rng.choice(prices)
            inv = call(billing.create_invoice, {"customer": cust_id, "currency": price["currency"]})
            seeded["invoice"].append(inv["id"])
            for _ in range(rng.randrange(1, 4)):
                call(billing.create_item, {"invoice": inv["id"], "pricing": {"price": price["id"]},
                                           "quantity": str(rng.randrange(1, 4))})
            fate = rng.random()
            if fate < 0.2:
                continue  # stays a draft
            call(billing.finalize, {}, inv["id"])
            if fate < 0.35:
                continue  # open
            if fate < 0.45:
                call(billing.void, {}, inv["id"])
                continue
            call(billing.pay, {"payment_method": "pm_card_visa"}, inv["id"])
        for record in store.all("invoice_payment"):
            seeded["invoice_payment"].append(record["id"])
            intent = record["payment"].get("payment_intent")
            if intent:
                seeded["payment_intent"].append(intent)
                seeded["charge"].append(store.get("payment_intent", intent)["latest_charge"])
        for charge_id in seeded["charge"][: max(0, seed // 10)]:
            half = store.get("charge", charge_id)["amount"] // 2
            refund = call(payments.create_refund, {"charge": charge_id, "amount": str(half or 1)})
            seeded["refund"].append(refund["id"])
    store.seeded = seeded
    return store
