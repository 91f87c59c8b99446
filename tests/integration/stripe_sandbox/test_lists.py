"""Lists: limit, cursors both ways, has_more, newest first (also within one second), created filters,
the filters a connector needs, and expand[] on objects and lists (depth <= 4)."""

from __future__ import annotations

import httpx
import pytest
import stripe

from connectors.stripe.sandbox import SandboxServer

from .conftest import assert_shape, make_customer, make_price


def test_limit_cursors_and_newest_first(client: stripe.StripeClient, sb: SandboxServer) -> None:
    everyone = [c.id for c in client.v1.customers.list(params={"limit": 100}).data]
    created = [make_customer(client, email=f"p{i}@example.com").id for i in range(7)]  # most in one second
    listed = client.v1.customers.list(params={"limit": 100})
    assert [c.id for c in listed.data] == created[::-1] + everyone  # newest first, stable in a second
    assert listed.has_more is False

    first = client.v1.customers.list(params={"limit": 3})
    assert [c.id for c in first.data] == created[::-1][:3] and first.has_more is True
    second = client.v1.customers.list(params={"limit": 3, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == created[::-1][3:6]
    back = client.v1.customers.list(params={"limit": 2, "ending_before": second.data[0].id})
    assert [c.id for c in back.data] == created[::-1][1:3] and back.has_more is True
    paged = [c.id for c in client.v1.customers.list(params={"limit": 2}).auto_paging_iter()]
    assert paged == created[::-1] + everyone

    for bad in (0, 101):
        with pytest.raises(stripe.InvalidRequestError) as failure:
            client.v1.customers.list(params={"limit": bad})
        assert failure.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.list(params={"starting_after": "cus_missing"})
    assert failure.value.param == "starting_after"


def test_created_filters_and_connector_filters(client: stripe.StripeClient, sb: SandboxServer) -> None:
    old = make_customer(client, email="old@example.com")
    sb.advance(120)
    new = make_customer(client, email="new@example.com")
    ids = lambda page: [c.id for c in page.data]  # noqa: E731
    assert ids(client.v1.customers.list(params={"created": {"gt": old.created}})) == [new.id]
    assert ids(client.v1.customers.list(params={"created": {"gte": old.created, "lt": new.created}})) == [old.id]
    assert ids(client.v1.customers.list(params={"created": new.created})) == [new.id]
    assert ids(client.v1.customers.list(params={"email": "old@example.com"})) == [old.id]
    assert ids(client.v1.customers.list(params={"email": "OLD@example.com"})) == []  # exact, case-sensitive
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(params={"created": {"after": 1}})  # type: ignore[typeddict-unknown-key]

    price = make_price(client)
    other = make_price(client)
    assert ids(client.v1.prices.list(params={"product": str(price.product)})) == [price.id]
    invoice = client.v1.invoices.create(params={"customer": new.id})
    assert ids(client.v1.invoices.list(params={"customer": new.id, "status": "draft"})) == [invoice.id]
    assert ids(client.v1.invoices.list(params={"customer": new.id, "status": "open"})) == []
    assert other.id in ids(client.v1.prices.list(params={"currency": "usd", "limit": 100}))


def test_expand_on_objects_and_lists(client: stripe.StripeClient) -> None:
    customer = make_customer(client)
    price = make_price(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id,
                                           "pricing": {"price": price.id}})
    one = client.v1.invoices.retrieve(invoice.id, params={"expand": ["customer"]})
    assert_shape(one.customer, "customer")
    listed = client.v1.invoices.list(params={"customer": customer.id, "expand": ["data.customer"]})
    assert listed.data[0].customer.id == customer.id  # type: ignore[union-attr]
    lines = client.v1.invoices.line_items.list(invoice.id, params={"expand": ["data.pricing.price_details.price"]})
    assert_shape(lines.data[0].pricing.price_details.price, "price")  # type: ignore[union-attr]
    four = client.v1.invoice_items.list(params={"customer": customer.id,
                                                "expand": ["data.pricing.price_details.price"]})
    assert four.data[0].pricing.price_details.price.id == price.id  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.invoices.list(params={"expand": ["data.lines.data.pricing.price_details"]})
    assert "4 levels" in str(failure.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as failure:
        client.v1.customers.retrieve(customer.id, params={"expand": ["email"]})
    assert "cannot be expanded" in str(failure.value.user_message)


def test_form_encoding_and_json_bodies(sb: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {sb.api_key}"}
    with httpx.Client(base_url=sb.url, headers=headers, trust_env=False) as http:
        made = http.post("/v1/customers", content="name=Form&metadata[a]=1&metadata[b]=2&preferred_locales[]=en"
                         "&preferred_locales[]=fr&address[city]=Paris",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert made.status_code == 200, made.text
        body = made.json()
        assert body["metadata"] == {"a": "1", "b": "2"} and body["preferred_locales"] == ["en", "fr"]
        assert body["address"]["city"] == "Paris" and made.headers["Request-Id"].startswith("req_")
        assert made.headers["Stripe-Version"] == stripe.api_version
        as_json = http.post("/v1/customers", json={"name": "Json"})
        assert as_json.status_code == 400 and as_json.json()["error"]["type"] == "invalid_request_error"
        unknown = http.get("/v1/nothing")
        assert unknown.status_code == 404 and "Unrecognized request URL" in unknown.json()["error"]["message"]
        assert http.get("/v1/customers", headers={"Authorization": "Bearer sk_test_wrong"}).status_code == 401
        assert httpx.get(f"{sb.url}/v1/customers", trust_env=False).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/customers?limit=abc", ""),
    ("GET", "/v1/customers?created[gt]=yesterday", ""),
    ("GET", "/v1/invoices?status=lost", ""),
    ("GET", "/v1/events?types[0]=a&type=b", ""),
    ("POST", "/v1/customers", "metadata=flat&name=x"),
    ("POST", "/v1/customers", "metadata[k]=" + "v" * 501),
    ("POST", "/v1/customers", "address=text"),
    ("POST", "/v1/prices", "currency=usd&product=prod_missing&unit_amount=5"),
    ("POST", "/v1/prices", "currency=usd&unit_amount=-5&product_data[name]=x"),
    ("POST", "/v1/prices", "currency=usd&unit_amount_decimal=abc&product_data[name]=x"),
    ("POST", "/v1/invoices", "customer="),
    ("POST", "/v1/payment_intents", "amount=1.5&currency=usd"),
    ("POST", "/v1/payment_intents", "amount=100&currency=usd&confirm=maybe"),
    ("POST", "/v1/refunds", "charge=ch_missing"),
    ("POST", "/v1/customers", "a]b=1"),
])
def test_bad_input_is_a_400_never_a_crash(sb: SandboxServer, method: str, path: str, body: str) -> None:
    headers = {"Authorization": f"Bearer {sb.api_key}", "Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=sb.url, headers=headers, trust_env=False) as http:
        answer = http.request(method, path, content=body)
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["error"]["type"] == "invalid_request_error" and answer.json()["error"]["message"]
