"""Every object type through the official ``stripe`` client: create, read, update, delete/archive,
their rules, and each answer's keys against Stripe's own example objects."""

from __future__ import annotations

import pytest
import stripe

from connectors.stripe.sandbox import SandboxServer

from .conftest import assert_shape, make_customer, make_price, raw


def test_customer_crud_and_deleted_answers(client: stripe.StripeClient) -> None:
    created = make_customer(client, phone="+15550100", address={"line1": "1 Main St", "city": "Springfield"},
                            metadata={"syncengine_ref": "clients/1"})
    assert_shape(created, "customer")
    assert created.id.startswith("cus_") and created.livemode is False
    assert created.address is not None and created.address.city == "Springfield" and created.address.country is None
    assert created.metadata.to_dict() == {"syncengine_ref": "clients/1"}

    fetched = client.v1.customers.retrieve(created.id)
    assert_shape(fetched, "customer")
    assert raw(fetched) == raw(created)

    updated = client.v1.customers.update(created.id, params={"email": "new@example.com", "description": "",
                                                             "metadata": {"syncengine_ref": "", "k": "v"}})
    assert updated.email == "new@example.com" and updated.description is None
    assert updated.metadata.to_dict() == {"k": "v"}  # an empty value removes a key, others merge

    gone = client.v1.customers.delete(created.id)
    assert_shape(gone, "deleted_customer")
    assert raw(gone) == {"id": created.id, "object": "customer", "deleted": True}
    again = client.v1.customers.retrieve(created.id)  # Stripe answers a deleted customer with a stub, 200
    assert raw(again) == {"id": created.id, "object": "customer", "deleted": True}
    assert created.id not in [c.id for c in client.v1.customers.list(params={"limit": 100}).data]
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.update(created.id, params={"name": "Zombie"})
    assert failure.value.http_status == 404 and failure.value.code == "resource_missing"


def test_customer_validation_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.create(params={"email": "not-an-email"})
    assert failure.value.http_status == 400 and failure.value.param == "email"
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.create(params={"nickname": "x"})  # type: ignore[typeddict-unknown-key]
    assert failure.value.code == "parameter_unknown" and failure.value.param == "nickname"
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.retrieve("cus_nope")
    assert failure.value.http_status == 404
    assert failure.value.json_body is not None
    error = failure.value.json_body["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "resource_missing"
    assert error["message"] == "No such customer: 'cus_nope'" and error["doc_url"].startswith("https://")


def test_products_archive_and_delete_refused_while_priced(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Consulting", "description": "by the hour"})
    assert_shape(product, "product")
    assert product.active is True and product.default_price is None
    bare = client.v1.products.create(params={"name": "Never priced"})
    gone = client.v1.products.delete(bare.id)
    assert_shape(gone, "deleted_product")
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.products.retrieve(bare.id)
    assert failure.value.http_status == 404

    price = client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 15000})
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.products.delete(product.id)
    assert failure.value.http_status == 400 and "prices" in str(failure.value.user_message)
    archived = client.v1.products.update(product.id, params={"active": False})
    assert archived.active is False and archived.updated >= product.updated
    assert product.id not in [p.id for p in client.v1.products.list(params={"active": True, "limit": 100}).data]
    assert [p.id for p in client.v1.products.list(params={"ids": [product.id]}).data] == [product.id]
    with_default = client.v1.products.update(product.id, params={"default_price": price.id})
    assert with_default.default_price == price.id
    expanded = client.v1.products.retrieve(product.id, params={"expand": ["default_price"]})
    assert_shape(expanded.default_price, "price")


def test_prices_are_immutable_in_amount_and_currency(client: stripe.StripeClient) -> None:
    price = make_price(client, 2500)
    assert_shape(price, "price")
    assert (price.unit_amount, str(price.unit_amount_decimal), price.type, price.recurring) == (
        2500, "2500", "one_time", None)
    for change in ({"unit_amount": 3000}, {"currency": "eur"}, {"product": "prod_other"}):
        with pytest.raises(stripe.InvalidRequestError) as failure:
            client.v1.prices.update(price.id, params=change)  # type: ignore[arg-type]
        assert failure.value.code == "parameter_unknown" and failure.value.param == next(iter(change))
    archived = client.v1.prices.update(price.id, params={"active": False, "nickname": "old"})
    assert archived.active is False and archived.nickname == "old" and archived.unit_amount == 2500
    replacement = client.v1.prices.create(params={"product": price.product, "currency": "usd", "unit_amount": 3000})
    listed = client.v1.prices.list(params={"product": str(price.product)})
    assert [p.id for p in listed.data] == [replacement.id, price.id]
    assert [p.id for p in client.v1.prices.list(params={"product": str(price.product), "active": True}).data] == [
        replacement.id]
    recurring = client.v1.prices.create(params={"product": price.product, "currency": "usd", "unit_amount": 900,
                                                "recurring": {"interval": "month"}})
    assert recurring.type == "recurring" and recurring.recurring is not None
    assert recurring.recurring.interval == "month"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create(params={"product": price.product, "currency": "usd"})  # no amount


def test_invoice_lifecycle_draft_finalize_pay(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    price = make_price(client, 1250)
    invoice = client.v1.invoices.create(params={"customer": customer.id, "currency": "usd",
                                                "metadata": {"syncengine_ref": "invoices/9"}})
    assert_shape(invoice, "invoice")
    assert invoice.status == "draft" and invoice.total == 0 and invoice.number is None
    item = client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id,
                                                  "pricing": {"price": price.id}, "quantity": 2})
    assert_shape(item, "invoiceitem")
    assert item.amount == 2500 and item.invoice == invoice.id
    client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 500, "description": "Setup fee"}]})
    draft = client.v1.invoices.retrieve(invoice.id)
    assert (draft.subtotal, draft.total, draft.amount_due, draft.amount_remaining) == (3000, 3000, 3000, 3000)
    lines = client.v1.invoices.line_items.list(invoice.id)
    for line in lines.data:
        assert_shape(line, "line_item")
    assert [line.amount for line in lines.data] == [2500, 500]  # in the order they were added
    assert lines.data[0].parent is not None and lines.data[0].parent.invoice_item_details is not None
    edited = client.v1.invoices.update(invoice.id, params={"description": "November", "collection_method":
                                                           "send_invoice", "days_until_due": 30})
    assert edited.description == "November" and edited.collection_method == "send_invoice"

    opened = client.v1.invoices.finalize_invoice(invoice.id)
    assert opened.status == "open" and opened.number is not None and opened.due_date is not None
    assert opened.status_transitions.finalized_at is not None
    with pytest.raises(stripe.InvalidRequestError):  # only drafts take line changes
        client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 100,
                                               "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.update(invoice.id, params={"collection_method": "charge_automatically"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.delete(invoice.id)
    assert client.v1.invoices.update(invoice.id, params={"metadata": {"note": "ok"}}).metadata["note"] == "ok"

    paid = client.v1.invoices.pay(invoice.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "paid" and paid.amount_paid == 3000 and paid.amount_remaining == 0
    assert paid.status_transitions.paid_at is not None
    payments = client.v1.invoice_payments.list(params={"invoice": invoice.id})
    assert len(payments.data) == 1
    payment = assert_shape(payments.data[0], "invoice_payment")
    assert payment["status"] == "paid" and payment["amount_paid"] == 3000 and payment["currency"] == "usd"
    assert payment["payment"]["type"] == "payment_intent"
    intent = client.v1.payment_intents.retrieve(payment["payment"]["payment_intent"])
    assert intent.status == "succeeded" and intent.amount_received == 3000
    expanded = client.v1.invoice_payments.list(params={"invoice": invoice.id,
                                                       "expand": ["data.payment.payment_intent", "data.invoice"]})
    assert_shape(expanded.data[0].payment.payment_intent, "payment_intent")
    assert expanded.data[0].invoice.id == invoice.id  # type: ignore[union-attr]
    with_payments = client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
    assert_shape(with_payments, "invoice", extra=frozenset({"payments"}))
    assert [p["id"] for p in raw(with_payments)["payments"]["data"]] == [payment["id"]]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(invoice.id)


def test_invoice_void_uncollectible_delete_and_zero_total(client: stripe.StripeClient) -> None:
    customer = make_customer(client)

    def invoice_of(amount: int) -> stripe.Invoice:
        invoice = client.v1.invoices.create(params={"customer": customer.id})
        if amount:
            client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id,
                                                   "amount": amount, "currency": "usd"})
        return invoice

    draft = invoice_of(1000)
    deleted = client.v1.invoices.delete(draft.id)
    assert_shape(deleted, "deleted_invoice")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(draft.id)

    voided = client.v1.invoices.void_invoice(client.v1.invoices.finalize_invoice(invoice_of(1000).id).id)
    assert voided.status == "void" and voided.status_transitions.voided_at is not None

    bad = client.v1.invoices.finalize_invoice(invoice_of(1000).id)
    uncollectible = client.v1.invoices.mark_uncollectible(bad.id)
    assert uncollectible.status == "uncollectible"
    assert client.v1.invoices.pay(bad.id, params={"paid_out_of_band": True}).status == "paid"

    zero = client.v1.invoices.finalize_invoice(invoice_of(0).id)
    assert zero.status == "paid" and zero.amount_due == 0  # a zero total is paid on finalization

    assert [i.status for i in client.v1.invoices.list(params={"customer": customer.id}).data] == [
        "paid", "paid", "void"]
    assert [i.id for i in client.v1.invoices.list(params={"customer": customer.id, "status": "void"}).data] == [
        voided.id]


def test_partial_payments_through_attached_payment_intents(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id, "currency": "eur"})
    client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 10000,
                                           "currency": "eur"})
    client.v1.invoices.finalize_invoice(invoice.id)
    first = client.v1.payment_intents.create(params={"amount": 4000, "currency": "eur", "customer": customer.id,
                                                     "payment_method": "pm_card_visa", "confirm": True})
    client.v1.invoices.attach_payment(invoice.id, params={"payment_intent": first.id})
    partly = client.v1.invoices.retrieve(invoice.id)
    assert (partly.status, partly.amount_paid, partly.amount_remaining) == ("open", 4000, 6000)
    second = client.v1.payment_intents.create(params={"amount": 6000, "currency": "eur", "customer": customer.id})
    client.v1.invoices.attach_payment(invoice.id, params={"payment_intent": second.id})
    assert client.v1.invoices.retrieve(invoice.id).amount_paid == 4000  # credited only once it succeeds
    client.v1.payment_intents.confirm(second.id, params={"payment_method": "pm_card_mastercard"})
    done = client.v1.invoices.retrieve(invoice.id)
    assert (done.status, done.amount_paid, done.amount_remaining) == ("paid", 10000, 0)
    payments = client.v1.invoice_payments.list(params={"invoice": invoice.id}).data
    assert sorted(p.amount_paid or 0 for p in payments) == [4000, 6000]
    assert all(p.status == "paid" for p in payments)
    wrong = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.attach_payment(invoice.id, params={"payment_intent": wrong.id})


def test_invoice_items_pending_and_edits(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    price = make_price(client, 700)
    pending = client.v1.invoice_items.create(params={"customer": customer.id, "pricing": {"price": price.id}})
    assert pending.invoice is None
    assert [i.id for i in client.v1.invoice_items.list(params={"customer": customer.id, "pending": True}).data] == [
        pending.id]
    updated = client.v1.invoice_items.update(pending.id, params={"quantity": 3, "description": "three"})
    assert updated.amount == 2100 and updated.description == "three"
    invoice = client.v1.invoices.create(params={"customer": customer.id, "pending_invoice_items_behavior": "include"})
    assert invoice.total == 2100
    assert client.v1.invoice_items.retrieve(pending.id).invoice == invoice.id
    removed = client.v1.invoice_items.delete(pending.id)
    assert_shape(removed, "deleted_invoiceitem")
    assert client.v1.invoices.retrieve(invoice.id).total == 0
    with pytest.raises(stripe.InvalidRequestError):  # the price's currency decides; another one conflicts
        client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 5,
                                               "currency": "eur"})


def test_payment_intents_charges_refunds(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    intent = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd", "customer": customer.id})
    assert_shape(intent, "payment_intent")
    assert intent.status == "requires_payment_method"
    confirmed = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded" and confirmed.latest_charge
    charge = client.v1.charges.retrieve(str(confirmed.latest_charge))
    assert_shape(charge, "charge")
    assert (charge.amount, charge.captured, charge.paid, charge.payment_intent) == (5000, True, True, intent.id)

    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 1500})
    assert_shape(refund, "refund")
    assert (refund.amount, refund.status, refund.payment_intent) == (1500, "succeeded", intent.id)
    rest = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert rest.amount == 3500
    refunded = client.v1.charges.retrieve(charge.id)
    assert refunded.amount_refunded == 5000 and refunded.refunded is True
    assert [r.id for r in refunded.refunds.data] == [rest.id, refund.id] if refunded.refunds else False
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert failure.value.code == "charge_already_refunded"
    assert [r.id for r in client.v1.refunds.list(params={"charge": charge.id}).data] == [rest.id, refund.id]
    assert [c.id for c in client.v1.charges.list(params={"payment_intent": intent.id}).data] == [charge.id]

    manual = client.v1.payment_intents.create(params={"amount": 800, "currency": "usd", "capture_method": "manual",
                                                      "payment_method": "pm_card_visa", "confirm": True})
    assert manual.status == "requires_capture" and manual.amount_capturable == 800
    captured = client.v1.payment_intents.capture(manual.id)
    assert captured.status == "succeeded" and captured.amount_received == 800
    canceled = client.v1.payment_intents.cancel(
        client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"}).id)
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(captured.id)


def test_declines_and_legacy_charges(client: stripe.StripeClient, sb: SandboxServer) -> None:
    with pytest.raises(stripe.CardError) as failure:
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd",
                                                 "payment_method": "pm_card_chargeDeclined", "confirm": True})
    assert failure.value.http_status == 402 and failure.value.code == "card_declined"
    error = failure.value.json_body["error"] if failure.value.json_body else {}
    assert error["decline_code"] == "generic_decline" and error["payment_intent"]["status"] == "requires_payment_method"
    failed = client.v1.charges.retrieve(error["charge"])
    assert failed.status == "failed" and failed.paid is False

    legacy = client.v1.charges.create(params={"amount": 1200, "currency": "usd", "source": "tok_visa"})
    assert_shape(legacy, "charge")
    assert legacy.payment_intent is None and legacy.status == "succeeded"
    updated = client.v1.charges.update(legacy.id, params={"description": "by hand", "metadata": {"a": "b"}})
    assert updated.description == "by hand"
    uncaptured = client.v1.charges.create(params={"amount": 1200, "currency": "usd", "source": "tok_visa",
                                                  "capture": False})
    assert uncaptured.captured is False
    assert client.v1.charges.capture(uncaptured.id).captured is True


def test_draft_lines_update_and_remove(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 1000, "description": "a"},
                                                               {"amount": 2000, "description": "b"},
                                                               {"amount": 3000, "description": "c"}]})
    first, second, third = client.v1.invoices.line_items.list(invoice.id).data
    changed = client.v1.invoices.line_items.update(invoice.id, first.id, params={"amount": 1500})
    assert_shape(changed, "line_item")
    assert changed.amount == 1500
    client.v1.invoices.update_lines(invoice.id, params={"lines": [{"id": second.id, "description": "bee"}]})
    after = client.v1.invoices.remove_lines(invoice.id, params={"lines": [
        {"id": third.id, "behavior": "unassign"}]})
    assert after.total == 3500
    lines = client.v1.invoices.line_items.list(invoice.id).data
    assert [(line.description, line.amount) for line in lines] == [("a", 1500), ("bee", 2000)]
    pending = client.v1.invoice_items.list(params={"customer": customer.id, "pending": True}).data
    assert [i.description for i in pending] == ["c"]  # unassigned: back to pending
    client.v1.invoices.remove_lines(invoice.id, params={"lines": [{"id": first.id, "behavior": "delete"}]})
    assert client.v1.invoices.retrieve(invoice.id).total == 2000
    client.v1.invoices.finalize_invoice(invoice.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 5}]})


def test_pay_uses_the_customers_default_payment_method(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 990,
                                           "currency": "usd"})
    client.v1.invoices.finalize_invoice(invoice.id)
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.invoices.pay(invoice.id)
    assert "no attached payment source" in str(failure.value.user_message)
    updated = client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    assert updated.invoice_settings.default_payment_method == "pm_card_visa"
    assert updated.invoice_settings.rendering_options is None and "footer" in raw(updated)["invoice_settings"]
    assert client.v1.invoices.pay(invoice.id).status == "paid"
    with pytest.raises(stripe.CardError):  # a decline leaves the invoice open and counts the attempt
        declined = client.v1.invoices.create(params={"customer": customer.id})
        client.v1.invoice_items.create(params={"customer": customer.id, "invoice": declined.id, "amount": 990,
                                               "currency": "usd"})
        client.v1.invoices.finalize_invoice(declined.id)
        client.v1.invoices.pay(declined.id, params={"payment_method": "pm_card_chargeDeclined"})
    still_open = client.v1.invoices.retrieve(declined.id)
    assert still_open.status == "open" and still_open.attempt_count == 1 and still_open.amount_paid == 0
    assert client.v1.invoices.pay(declined.id, params={"payment_method": "pm_card_visa"}).status == "paid"
    statuses = sorted(p.status for p in client.v1.invoice_payments.list(params={"invoice": declined.id}).data)
    assert statuses == ["canceled", "paid"]
