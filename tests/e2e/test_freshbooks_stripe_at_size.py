"""FreshBooks <-> Stripe at the size issue 8 names: 200 clients, 50 items, 100 invoices and their
payments, edits on both sides, and SIGKILL of the real `syncengine sync` at 20 random moments.

Everything is compared with the seed's reference model (tests/e2e/freshbooks_stripe_seed.py) and
the edits this test makes, never only with the other side: names, emails, prices in minor units,
invoice lines and totals, which invoices are paid, and the payments per currency. After every kill
nothing may be duplicated; after the last clean sync every value must be the model's, and one more
sync must write nothing.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.reliability.freshbooks_stripe import Env, SyncResult
from tests.e2e.freshbooks_stripe_seed import Client, FreshBooksApi, Seed, load, make_seed, minor

pytestmark = pytest.mark.slow

CLIENTS, ITEMS, INVOICES = 200, 50, 100
KILLS = 20
#: about how many requests a first sync and a round of edits take (kill points are drawn in them)
FIRST_SYNC_REQUESTS, ROUND_REQUESTS = 700, 40


class Model:
    """What both systems must hold: the seed plus the edits made during the test."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self.organization = {c.email: c.organization for c in seed.clients}
        self.item_amount = {i.name: i.amount for i in seed.items}
        self.paid: set[str] = set()  # emails of the clients whose invoice was paid in Stripe
        self.strays = 0  # old prices left active by a kill in the one window (see check())

    def invoice_status(self, email: str, sent: bool) -> str:
        if email in self.paid:
            return "paid"
        return "open" if sent else "draft"


def live_fb(env: Env, collection: str) -> list[dict[str, Any]]:
    return [r for r in env.fb.state.list(collection) if not r.get("vis_state")]


def sync_killed(env: Env, rng: random.Random, kills: list[SyncResult], requests: int) -> SyncResult:
    """One `syncengine sync` SIGKILLed at a random point of its progress: after its first 1 to
    ``requests`` requests to the two sandboxes (if it is still running by then)."""
    result = env.sync(kill_at_request=rng.randint(1, requests))
    kills.append(result)
    if not result.killed:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert env.duplicates() == [], f"after run {len(kills)} (killed: {result.killed})"
    return result


def sync_clean(env: Env) -> SyncResult:
    result = env.sync()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def check(env: Env, model: Model) -> None:
    seed = model.seed
    # clients <-> customers: each seeded client exactly once on both sides, with the model's name
    customers = {str(c["email"]).lower(): c for c in env.list_stripe("/v1/customers")}
    clients = {str(c["email"]).lower(): c for c in live_fb(env, "clients")}
    assert set(customers) == set(clients) == set(model.organization)
    for client in seed.clients:
        assert customers[client.email]["name"] == model.organization[client.email], client.email
        assert clients[client.email]["organization"] == model.organization[client.email], client.email
        assert customers[client.email]["metadata"]["currency"] == client.currency
        assert customers[client.email]["address"]["city"] == client.city

    # items -> products, one active price each: the model's amount in minor units
    products = {p["name"]: p for p in env.list_stripe("/v1/products") if p["active"]}
    assert set(products) == set(model.item_amount)
    active_prices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for price in env.list_stripe("/v1/prices"):
        if price["active"]:
            active_prices[price["product"]].append(price)
    for item in seed.items:
        product = products[item.name]
        price = next(p for p in active_prices[product["id"]] if p["id"] == product["default_price"])
        assert (price["unit_amount"], price["currency"]) == (
            minor(model.item_amount[item.name], item.currency), item.currency.lower()), item.name
        # One active price per product, but for the one window the connector cannot close without
        # a later change (README): cut after the default moved and before the old price was
        # archived. That stray is the one the default price says it replaces; any other is a bug.
        strays = [p["id"] for p in active_prices[product["id"]] if p["id"] != price["id"]]
        assert strays in ([], [price["metadata"].get("replaces")]), (item.name, strays, price["metadata"])
        model.strays += len(strays)

    # invoices -> Stripe invoices: one per seeded invoice, on its client's customer, line by line
    email_of = {c["id"]: email for email, c in customers.items()}
    pushed = [i for i in env.list_stripe("/v1/invoices") if i["status"] != "void"]
    assert len(pushed) == INVOICES
    by_email = {email_of[i["customer"]]: i for i in pushed}
    for invoice in seed.invoices:
        email = seed.clients[invoice.client].email
        stripe_invoice = by_email[email]
        assert [(ln["description"], ln["quantity"], ln["amount"]) for ln in stripe_invoice["lines"]["data"]] == (
            invoice.lines_minor), email
        assert (stripe_invoice["currency"], stripe_invoice["total"]) == (invoice.currency.lower(), invoice.total_minor)
        assert stripe_invoice["description"] == invoice.notes
        assert stripe_invoice["status"] == model.invoice_status(email, invoice.sent), email

    # Stripe payments -> FreshBooks payments: one per paid invoice, its total, per currency
    fb_invoice_email = {i["id"]: str(clients_by_id(env)[i["customerid"]]).lower() for i in live_fb(env, "invoices")}
    payments = [p for p in live_fb(env, "payments") if str(p.get("transactionid") or "").startswith("pi_")]
    assert Counter(fb_invoice_email[p["invoiceid"]] for p in payments) == Counter(model.paid)
    expected: Counter[str] = Counter()
    for invoice in seed.invoices:
        if seed.clients[invoice.client].email in model.paid:
            expected[invoice.currency] += invoice.total_minor
    recorded: Counter[str] = Counter()
    for payment in payments:
        code = payment["amount"]["code"]
        recorded[code] += minor(payment["amount"]["amount"], code)
    assert recorded == expected
    stripe_paid: Counter[str] = Counter()
    for invoice_payment in env.list_stripe("/v1/invoice_payments"):
        if invoice_payment["status"] == "paid":
            stripe_paid[invoice_payment["currency"].upper()] += invoice_payment["amount_paid"]
    assert stripe_paid == expected


def clients_by_id(env: Env) -> dict[int, str]:
    return {c["id"]: c["email"] for c in env.fb.state.list("clients")}


def edit_both_sides(env: Env, model: Model, rng: random.Random, untouched: list[Client]) -> None:
    """A batch of edits as people make them: 4 clients renamed in FreshBooks and 4 other customers
    in Stripe (each client edited once in the whole test: no conflict to decide), one item's price
    changed in FreshBooks, and up to 4 open invoices paid in Stripe."""
    api = FreshBooksApi(env)
    try:
        for client in [untouched.pop() for _ in range(min(4, len(untouched)))]:
            api.update("users/clients", "client", client.fb_id, {"organization": f"{client.organization} (FB)"})
            model.organization[client.email] = f"{client.organization} (FB)"
        item = rng.choice(model.seed.items)
        new = model.item_amount[item.name] + (Decimal(7) if item.currency == "JPY" else Decimal("0.70"))
        api.update("items/items", "item", item.fb_id, {"unit_cost": {"amount": f"{new:.2f}", "code": item.currency}})
        model.item_amount[item.name] = new
    finally:
        api.close()
    customer_id = {str(c["email"]).lower(): c["id"] for c in env.list_stripe("/v1/customers")}
    for client in [untouched.pop() for _ in range(min(4, len(untouched)))]:
        answer = env.stripe.post(f"/v1/customers/{customer_id[client.email]}",
                                 data={"name": f"{client.organization} (Stripe)"})
        assert answer.status_code == 200, answer.text
        model.organization[client.email] = f"{client.organization} (Stripe)"
    email_of = {v: k for k, v in customer_id.items()}
    for invoice in env.list_stripe("/v1/invoices", status="open")[:4]:
        answer = env.stripe.post(f"/v1/invoices/{invoice['id']}/pay", data={"payment_method": "pm_card_visa"})
        assert answer.status_code == 200, answer.text
        model.paid.add(email_of[invoice["customer"]])


def test_two_hundred_clients_fifty_items_a_hundred_invoices_survive_twenty_kills(tmp_path: Path) -> None:
    rng = random.Random(20261202)
    kills: list[SyncResult] = []
    with Env(tmp_path / "run", fb_seed=0, stripe_rate_per_second=None) as env:
        seed = make_seed(clients=CLIENTS, items=ITEMS, invoices=INVOICES)
        load(env, seed)
        model = Model(seed)

        # the first sync (350 creates), killed until a run gets through
        while not (kills and not kills[-1].killed):
            assert len(kills) < 30, "the first sync never finished"
            sync_killed(env, rng, kills, FIRST_SYNC_REQUESTS)
        check(env, model)

        # then rounds of edits on both sides, each followed by a sync killed at a random moment,
        # until KILLS runs in all were really killed mid-way
        untouched = rng.sample(seed.clients, len(seed.clients))
        rounds = 0
        while sum(1 for k in kills if k.killed) < KILLS:
            assert rounds < 40, [(k.killed, k.returncode) for k in kills]
            edit_both_sides(env, model, rng, untouched)
            sync_killed(env, rng, kills, ROUND_REQUESTS)
            rounds += 1
        assert model.paid and len(untouched) < CLIENTS - 40

        sync_clean(env)
        check(env, model)
        idle = sync_clean(env)
        assert "0 writes" in idle.stdout, idle.stdout[-1500:]
