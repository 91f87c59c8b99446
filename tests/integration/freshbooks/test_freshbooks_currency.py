"""Amounts reach FreshBooks in their currency's minor unit, under both answers to the open
questions (fractional JPY refused or accepted; KWD refused or accepted: sandbox variants).

Known values: a JPY price of 1234.6 goes out and is stored as 1235; 1.2345 KWD goes out as 1.235.
What goes out is read on the wire (a transport that records each request and passes it on to the
sandbox), so these checks do not depend on how the sandbox treats what it gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.errors import ValidationError
from syncengine.records import Money


class Recording(httpx.BaseTransport):
    """The real HTTP transport, keeping each request's JSON body (nothing is changed)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.bodies: list[tuple[str, str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        is_json = request.headers.get("content-type", "").startswith("application/json")
        self.bodies.append((request.method, request.url.path, json.loads(content) if is_json and content else None))
        return self.inner.handle_request(request)

    def writes(self) -> list[Any]:
        return [body for method, _, body in self.bodies if method in ("POST", "PUT") and "/oauth/" not in _]

    def close(self) -> None:
        self.inner.close()


def _invoice(currency: str, unit_cost: Any) -> dict[str, Any]:
    return {"customerid": 1001, "currency_code": currency,
            "lines": [{"name": "work", "qty": Decimal(1), "unit_cost": unit_cost}]}


@pytest.mark.parametrize("jpy_fractional", ["refused", "accepted"])
@pytest.mark.parametrize("unit_cost", [Money(Decimal("1234.6"), "JPY"), Decimal("1234.6"), "1234.6"],
                         ids=["money", "decimal", "text"])
def test_a_jpy_price_goes_out_in_whole_yen(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector], jpy_fractional: str, unit_cost: Any
) -> None:
    sandbox.set_variants(jpy_fractional=jpy_fractional)
    wire = Recording()
    fb = make_connector(transport=wire)
    made = fb.create("invoices", _invoice("JPY", unit_cost), "k1")
    sent = wire.writes()[-1]["invoice"]["lines"][0]["unit_cost"]
    assert sent == {"amount": "1235", "code": "JPY"}
    assert made.fields["lines"][0]["unit_cost"] == Money(Decimal("1235"), "JPY")
    assert made.fields["amount"] == Money(Decimal("1235"), "JPY")
    # an update carrying a bare amount takes the stored invoice's currency (no currency_code sent)
    edited = fb.update("invoices", made.key, {"lines": [{"name": "work", "qty": Decimal(2),
                                                         "unit_cost": Decimal("99.5")}]}, "k2")
    assert wire.writes()[-1]["invoice"]["lines"][0]["unit_cost"] == {"amount": "100", "code": "JPY"}
    assert edited.fields["amount"] == Money(Decimal("200"), "JPY")


def test_a_bare_amount_on_an_update_is_rounded_in_the_stored_records_currency(
    make_connector: Callable[..., FreshBooksConnector],
) -> None:
    wire = Recording()
    fb = make_connector(transport=wire)
    expense = next(r for page in fb.changes("expenses", None) for r in page.records if not r.deleted)
    currency = expense.fields["amount"].currency
    stored = fb.update("expenses", expense.key, {"amount": Decimal("10.005")}, "k2")
    assert wire.writes()[-1]["expense"]["amount"] == {"amount": "10.01", "code": currency}
    assert stored.fields["amount"] == Money(Decimal("10.01"), currency)


def test_an_amount_in_another_currency_than_its_record_is_refused_before_sending(
    make_connector: Callable[..., FreshBooksConnector],
) -> None:
    wire = Recording()
    fb = make_connector(transport=wire)
    with pytest.raises(ValidationError) as caught:
        fb.create("invoices", _invoice("USD", Money(Decimal("12.50"), "EUR")), "k1")
    assert caught.value.field == "lines[0].unit_cost"
    assert "EUR" in str(caught.value) and "USD" in str(caught.value)
    assert wire.writes() == []  # nothing was sent


def test_kwd_goes_out_in_thousandths_and_a_refusal_names_the_currency(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    """The sandbox's default (``kwd=refused``): one clear error on that record, naming the field and
    KWD; the next record is written as if nothing happened, and nothing is retried."""
    sandbox.set_variants(kwd="refused")
    wire = Recording()
    fb = make_connector(transport=wire)
    with pytest.raises(ValidationError) as caught:
        fb.create("invoices", _invoice("KWD", Money(Decimal("1.2345"), "KWD")), "k1")
    assert wire.writes()[-1]["invoice"]["lines"][0]["unit_cost"] == {"amount": "1.235", "code": "KWD"}
    error = caught.value
    assert error.field == "currency_code" and error.obj == "invoices"
    assert "KWD" in error.message and "refused" in error.message
    assert "KWD" in (error.hint or "")
    posts = [path for method, path, _ in wire.bodies if method == "POST" and path.endswith("/invoices")]
    assert len(posts) == 1  # a validation error is not retried
    usd = fb.create("invoices", _invoice("USD", Money(Decimal("10.005"), "USD")), "k2")
    assert usd.fields["amount"] == Money(Decimal("10.01"), "USD")


def test_kwd_is_stored_in_thousandths_where_freshbooks_accepts_it(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    sandbox.set_variants(kwd="accepted")
    fb = make_connector()
    made = fb.create("invoices", _invoice("KWD", Money(Decimal("1.2345"), "KWD")), "k1")
    assert made.fields["lines"][0]["unit_cost"] == Money(Decimal("1.235"), "KWD")
    assert made.fields["amount"] == Money(Decimal("1.235"), "KWD")
