"""Currency rules as Stripe enforces them: zero-decimal amounts are whole units, three-decimal
amounts end in 0 when money moves, ISK in 00, minimum charge amounts, unknown currencies refused."""

from __future__ import annotations

import pytest
import stripe

from .conftest import make_customer


def test_zero_decimal_amounts_are_whole_units(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "jpy",
                                                      "payment_method": "pm_card_visa", "confirm": True})
    assert intent.status == "succeeded" and intent.amount_received == 500  # 500 yen, not 5.00
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.payment_intents.create(params={"amount": 49, "currency": "jpy"})
    assert failure.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.payment_intents.create(params={"amount": 49, "currency": "usd"})
    assert failure.value.code == "amount_too_small" and "0.50" in str(failure.value.user_message)


def test_three_decimal_amounts_must_end_in_zero(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.payment_intents.create(params={"amount": 5124, "currency": "kwd"})
    assert failure.value.code == "invalid_amount" and failure.value.param == "amount"
    ok = client.v1.payment_intents.create(params={"amount": 5120, "currency": "KWD"})
    assert ok.currency == "kwd"
    customer = make_customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id, "currency": "bhd"})
    client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 1005,
                                           "currency": "bhd"})
    with pytest.raises(stripe.InvalidRequestError):  # finalizing would ask for an unpayable amount
        client.v1.invoices.finalize_invoice(invoice.id)
    charge = client.v1.charges.create(params={"amount": 2000, "currency": "kwd", "source": "tok_visa"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": charge.id, "amount": 15})
    assert client.v1.refunds.create(params={"charge": charge.id, "amount": 10}).amount == 10


def test_isk_multiples_of_100_and_unknown_currencies(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={"amount": 15050, "currency": "isk"})
    assert client.v1.payment_intents.create(params={"amount": 15000, "currency": "isk"}).amount == 15000
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.create(params={})  # a harmless call to keep the client warm
        client.v1.payment_intents.create(params={"amount": 100, "currency": "xxx"})
    assert failure.value.param == "currency"
