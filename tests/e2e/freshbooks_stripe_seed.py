"""A known FreshBooks data set for the FreshBooks <-> Stripe end-to-end tests, and the reference
model the tests compare both sides with: every name, email, amount (in minor units by currency),
line and status follows from the seed, not from reading either side.

The data is written through the FreshBooks sandbox's public API (real HTTP), into a sandbox built
with ``seed=0``: no clients, no invoices; its five default items are deleted first, so the items
in the FreshBooks account are exactly the seeded ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from bench.reliability.freshbooks_stripe import Env
from syncengine.mapping.money import minor_exponent

#: currencies of the seed: two-decimal ones and a zero-decimal one (JPY: 1050 JPY is 1050 minor units).
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD")
COUNTRIES = {"USD": ("US", "Boston", "MA"), "EUR": ("DE", "Berlin", ""), "GBP": ("GB", "London", ""),
             "JPY": ("JP", "Tokyo", ""), "CAD": ("CA", "Toronto", "ON")}


def minor(amount: Decimal | str, currency: str) -> int:
    return int(Decimal(str(amount)).scaleb(minor_exponent(currency)))


def major(minor_units: int, currency: str) -> Decimal:
    return Decimal(minor_units).scaleb(-minor_exponent(currency))


def _amount(rng: random.Random, currency: str, low: int, high: int) -> Decimal:
    """An amount Stripe can hold in ``currency``: whole yen, cents otherwise."""
    if minor_exponent(currency) == 0:
        return Decimal(rng.randint(low, high) * 100)
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


@dataclass
class Client:
    index: int
    organization: str
    email: str
    currency: str
    phone: str
    street: str
    city: str
    province: str
    postal_code: str
    country: str
    fb_id: int | None = None


@dataclass
class Item:
    name: str
    description: str
    amount: Decimal
    currency: str
    fb_id: int | None = None

    @property
    def unit_minor(self) -> int:
        return minor(self.amount, self.currency)


@dataclass
class Line:
    name: str
    qty: int
    unit: Decimal


@dataclass
class Invoice:
    index: int
    client: int  # index into Seed.clients
    currency: str
    notes: str
    lines: list[Line]
    sent: bool
    fb_id: int | None = None

    @property
    def lines_minor(self) -> list[tuple[str, int, int]]:
        """(description, quantity, amount in minor units) per line, as Stripe shows them."""
        return [(ln.name, ln.qty, minor(ln.unit, self.currency) * ln.qty) for ln in self.lines]

    @property
    def total_minor(self) -> int:
        return sum(amount for _, _, amount in self.lines_minor)


@dataclass
class Seed:
    clients: list[Client]
    items: list[Item]
    invoices: list[Invoice]
    #: FreshBooks item ids that existed before the seed and were deleted.
    removed_items: list[str] = field(default_factory=list)


def make_seed(clients: int, items: int, invoices: int, rng_seed: int = 8) -> Seed:
    """``invoices`` invoices for as many distinct clients (so a Stripe invoice is identified by its
    customer), 1 to 3 lines each, about seven in ten sent."""
    assert invoices <= clients
    rng = random.Random(rng_seed)
    made_clients = []
    for n in range(clients):
        currency = CURRENCIES[n % len(CURRENCIES)]
        country, city, province = COUNTRIES[currency]
        made_clients.append(Client(
            index=n, organization=f"Seeded Org {n:03d} {rng.choice(('Ltd', 'Inc', 'GmbH', 'LLC'))}",
            email=f"client{n:03d}@seed-{rng.randint(10, 99)}.example.com", currency=currency,
            phone=f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            street=f"{rng.randint(1, 999)} Seed Street", city=city, province=province,
            postal_code=f"{rng.randint(10000, 99999)}", country=country))
    made_items = []
    for n in range(items):
        currency = CURRENCIES[(n * 2) % len(CURRENCIES)]
        made_items.append(Item(name=f"Seeded Item {n:02d}", description=f"Item number {n}",
                               amount=_amount(rng, currency, 5, 900), currency=currency))
    made_invoices = []
    for n, client in enumerate(rng.sample(made_clients, invoices)):
        lines = [Line(rng.choice(made_items).name, rng.randint(1, 5), _amount(rng, client.currency, 10, 500))
                 for _ in range(rng.randint(1, 3))]
        made_invoices.append(Invoice(index=n, client=client.index, currency=client.currency,
                                     notes=f"Seeded invoice {n:03d}", lines=lines, sent=rng.random() < 0.7))
    return Seed(made_clients, made_items, made_invoices)


class FreshBooksApi:
    """The FreshBooks sandbox's accounting API over HTTP, as any API user calls it."""

    def __init__(self, env: Env) -> None:
        token = env.fb.issue_tokens()["access_token"]
        self.http = httpx.Client(base_url=f"{env.fb.url}/accounting/account/{env.fb.account_id}/",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, single: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.http.request(method, path, json={single: body} if body is not None else None)
        assert answer.status_code == 200, (method, path, answer.text)
        result: dict[str, Any] = answer.json()["response"]["result"][single]
        return result

    def create(self, path: str, single: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, single, body)

    def update(self, path: str, single: str, key: int | str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"{path}/{key}", single, body)

    def list(self, path: str, plural: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.http.get(path, params={"page": page, "per_page": 100})
            assert answer.status_code == 200, answer.text
            result = answer.json()["response"]["result"]
            rows.extend(result[plural])
            if page >= int(result["pages"]):
                return rows
            page += 1


def load(env: Env, seed: Seed) -> None:
    """Write ``seed`` into the FreshBooks sandbox through its API; sets each record's ``fb_id``."""
    api = FreshBooksApi(env)
    try:
        for existing in api.list("items/items", "items"):
            if not existing.get("vis_state"):
                api.update("items/items", "item", existing["id"], {"vis_state": 1})
                seed.removed_items.append(str(existing["id"]))
        for client in seed.clients:
            made = api.create("users/clients", "client", {
                "organization": client.organization, "email": client.email, "currency_code": client.currency,
                "fname": "Seed", "lname": f"Person {client.index}", "bus_phone": client.phone,
                "p_street": client.street, "p_city": client.city, "p_province": client.province,
                "p_code": client.postal_code, "p_country": client.country})
            client.fb_id = int(made["id"])
        for item in seed.items:
            made = api.create("items/items", "item", {
                "name": item.name, "description": item.description, "qty": "1",
                "unit_cost": {"amount": f"{item.amount:.2f}", "code": item.currency}})
            item.fb_id = int(made["id"])
        today = date.today().isoformat()
        for invoice in seed.invoices:
            made = api.create("invoices/invoices", "invoice", {
                "customerid": seed.clients[invoice.client].fb_id, "create_date": today, "due_offset_days": 30,
                "currency_code": invoice.currency, "notes": invoice.notes,
                "lines": [{"name": ln.name, "qty": str(ln.qty),
                           "unit_cost": {"amount": f"{ln.unit:.2f}", "code": invoice.currency}}
                          for ln in invoice.lines]})
            invoice.fb_id = int(made["id"])
            if invoice.sent:
                api.update("invoices/invoices", "invoice", invoice.fb_id, {"action_mark_as_sent": True})
    finally:
        api.close()
