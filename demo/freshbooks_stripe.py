"""The FreshBooks <-> Stripe demo: both local sandboxes, mappings/freshbooks-stripe.yaml, the real
`syncengine sync`: clients and items into Stripe, invoices pushed with their lines, a customer
made in Stripe coming back as a FreshBooks client, and Stripe payments recorded in FreshBooks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.reliability.freshbooks_stripe import Env
from demo.steps import banner, run, say

WORK = Path("demo-work/stripe").resolve()


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    with Env(WORK, fb_seed=3) as env:
        config = str(env.config)
        banner("FreshBooks <-> Stripe: both sandboxes on loopback; mapping mappings/freshbooks-stripe.yaml")
        say(f"FreshBooks sandbox {env.fb.url}: {env.fb.state.count('clients')} clients, "
            f"{env.fb.state.count('items')} items, {env.fb.state.count('invoices')} invoices; "
            f"Stripe sandbox {env.st.url}: empty")
        env.stripe.post("/v1/customers", data={"name": "Born In Stripe Ltd", "email": "born@stripe.test"})
        say("in Stripe: a customer 'Born In Stripe Ltd' is created through the API")
        run("sync", "-c", config)
        customers = env.list_stripe("/v1/customers")
        products = [p for p in env.list_stripe("/v1/products") if p["active"]]
        invoices = env.list_stripe("/v1/invoices")
        say(f"-> Stripe now holds {len(customers)} customers, {len(products)} products with prices, "
            f"{len(invoices)} invoices:")
        for invoice in invoices[:3]:
            lines = ", ".join(f"{ln['description']} x{ln['quantity']}" for ln in invoice["lines"]["data"])
            say(f"   {invoice['id']} {invoice['status']} {invoice['total']} {invoice['currency']} minor units: {lines}")
        born = [c for c in env.fb.state.list("clients") if c.get("email") == "born@stripe.test"]
        say(f"<- FreshBooks client made from the Stripe customer: {born[0]['id'] if born else 'none'}")

        paid = env.pay_open_invoices()
        say(f"in Stripe: {len(paid)} open invoices are paid by card")
        run("sync", "-c", config)
        recorded = [p for p in env.fb.state.list("payments") if str(p.get("transactionid") or "").startswith("pi_")]
        for payment in recorded[:5]:
            say(f"<- FreshBooks payment on invoice {payment['invoiceid']}: {payment['amount']['amount']} "
                f"{payment['amount']['code']} (Stripe {payment['transactionid']})")
        banner("Nothing changed since: the next sync writes nothing")
        run("sync", "-c", config)


if __name__ == "__main__":
    main()
