"""Refunds in Stripe reach FreshBooks (issue 8: "Stripe invoice payments -> FreshBooks payments on
the linked invoice (amount, date, currency; refunds reduce it)"), over real HTTP between the
FreshBooks sandbox and the Stripe sandbox, through mappings/freshbooks-stripe.yaml:

- a partial refund lowers the FreshBooks payment to what was kept, and the invoice owes the rest;
- a full refund removes the FreshBooks payment: nothing was kept, the invoice owes its total again
  (FreshBooks refuses a payment of 0, so "reduced to zero" can only be a removal);
- a declined card attempt (an ``open`` invoice payment with nothing paid) is no payment at all, and
  the paying retry that cancels it is recorded once.

Found by the first run: a full refund made every later sync fail on that payment ("Payment amount
must be greater than zero", HTTP 400 from FreshBooks), and a declined attempt did the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.reliability.freshbooks_stripe import PIPELINE, Env
from syncengine.engine import Engine
from syncengine.reconcile.pipeline import RunReport
from tests.e2e.freshbooks_stripe_seed import load, major, make_seed

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """Four FreshBooks clients with one sent invoice each, and nothing paid in FreshBooks."""
    with Env(tmp_path / "run", fb_seed=0) as made:
        seed = make_seed(clients=4, items=3, invoices=4, rng_seed=2)
        for invoice in seed.invoices:
            invoice.sent = True
        load(made, seed)
        yield made


def sync(env: Env) -> RunReport:
    with Engine(env.config) as engine:
        report = engine.sync(PIPELINE)
    assert report.status == "ok", (report.errors, [(p.pair, p.errors) for p in report.pairs])
    return report


def stripe_payments(env: Env) -> dict[str, str]:
    """FreshBooks payments made from Stripe, by payment intent: the FreshBooks payment id."""
    return {str(p["transactionid"]): p["id"] for p in env.fb.state.list("payments")
            if str(p.get("transactionid") or "").startswith("pi_") and not p.get("vis_state")}


def fb_invoice_of(env: Env, stripe_invoice: dict[str, Any]) -> dict[str, Any]:
    """The FreshBooks invoice the engine pushed as ``stripe_invoice`` (its link in the ledger)."""
    from syncengine.ledger import Ledger

    ledger = Ledger.open(env.ledger_url)
    try:
        left = {link.right_key: link.left_key for page in ledger.iter_links(PIPELINE, "invoices") for link in page}
    finally:
        ledger.close()
    found = env.fb.state.book().table("invoices")[int(left[stripe_invoice["id"]])]
    assert isinstance(found, dict)
    return found


def intent_of(env: Env, invoice_id: str) -> str:
    (payment,) = [p for p in env.list_stripe("/v1/invoice_payments", invoice=invoice_id) if p["status"] == "paid"]
    return str(payment["payment"]["payment_intent"])


def test_partial_then_full_refund_reach_the_freshbooks_payment(env: Env) -> None:
    sync(env)
    paid = env.pay_open_invoices()
    assert len(paid) == 4, paid
    sync(env)
    partial, full = (env.stripe.get(f"/v1/invoices/{n}").json() for n in paid[:2])
    partial_id, full_id = partial["id"], full["id"]
    fb_partial, fb_full = fb_invoice_of(env, partial), fb_invoice_of(env, full)
    assert (fb_partial["v3_status"], fb_full["v3_status"]) == ("paid", "paid")
    before = stripe_payments(env)
    partial_pi, full_pi = intent_of(env, partial_id), intent_of(env, full_id)
    assert {partial_pi, full_pi} <= set(before)

    # a quarter of one payment refunded, all of the other (in two refunds)
    refunded = partial["amount_paid"] // 4
    for body in ({"payment_intent": partial_pi, "amount": str(refunded)},
                 {"payment_intent": full_pi, "amount": "100"}, {"payment_intent": full_pi}):
        answer = env.stripe.post("/v1/refunds", data=body)
        assert answer.status_code == 200, answer.text
    report = sync(env)
    payments = next(p for p in report.pairs if p.pair == "payments")
    assert (payments.counts["updated_left"], payments.counts["deleted_left"]) == (1, 1), payments.counts

    code = partial["currency"].upper()
    payment = env.fb.state.book().table("payments")[before[partial_pi]]
    assert payment["amount"] == {"amount": f"{major(partial['amount_paid'] - refunded, code):.2f}", "code": code}
    fb_partial, fb_full = fb_invoice_of(env, partial), fb_invoice_of(env, full)
    assert fb_partial["v3_status"] == "partial"
    assert Decimal(fb_partial["outstanding"]["amount"]) == major(refunded, code)
    # the fully refunded payment is gone; the invoice owes its whole total again
    assert env.fb.state.book().table("payments")[before[full_pi]]["vis_state"] == 1
    assert full_pi not in stripe_payments(env)
    assert fb_full["v3_status"] != "paid"
    assert Decimal(fb_full["outstanding"]["amount"]) == major(full["total"], full["currency"].upper())
    assert Decimal(fb_full["paid"]["amount"]) == 0
    # every other payment untouched
    assert {k: v for k, v in stripe_payments(env).items() if k != partial_pi} == {
        k: v for k, v in before.items() if k not in (partial_pi, full_pi)}

    again = sync(env)
    assert again.writes == 0, again.counts


def test_a_declined_attempt_is_no_payment_and_its_paying_retry_is_recorded_once(env: Env) -> None:
    sync(env)
    invoice = env.list_stripe("/v1/invoices", status="open")[0]
    declined = env.stripe.post(f"/v1/invoices/{invoice['id']}/pay", data={"payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 402, declined.text
    attempts = env.list_stripe("/v1/invoice_payments", invoice=invoice["id"])
    assert [p["status"] for p in attempts] == ["open"]
    report = sync(env)
    assert next(p for p in report.pairs if p.pair == "payments").counts["created_left"] == 0
    assert stripe_payments(env) == {}

    retry = env.stripe.post(f"/v1/invoices/{invoice['id']}/pay", data={"payment_method": "pm_card_visa"})
    assert retry.status_code == 200, retry.text
    sync(env)
    recorded = stripe_payments(env)
    assert list(recorded) == [intent_of(env, invoice["id"])]
    payment = env.fb.state.book().table("payments")[recorded[intent_of(env, invoice["id"])]]
    code = invoice["currency"].upper()
    assert payment["amount"] == {"amount": f"{major(invoice['total'], code):.2f}", "code": code}
    assert fb_invoice_of(env, invoice)["v3_status"] == "paid"
    assert sync(env).writes == 0
