"""Reports per currency: a business that bills in USD and EUR gets a balance sheet and a cash flow
in each, with the numbers a bookkeeper would compute from its records by hand.

The sandbox starts empty (seed 0); the test creates the records through the API, so it knows
them all, and computes the expected reports from those records with the plain rules of the books
(an invoice counts once sent; revenue is its lines, tax is a liability; payments are cash in;
expenses are cash out), not by asking the sandbox."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.wire import EASTERN
from syncengine.records import Money, Record

from .conftest import SandboxServer, connector_for


@dataclass(frozen=True)
class Invoice:
    currency: str
    lines: tuple[tuple[int, str, str | None], ...]  # (qty, unit cost, tax percent)
    sent: bool


@dataclass(frozen=True)
class Books:
    """What was created: the reference model's input."""

    invoices: tuple[Invoice, ...]
    payments: tuple[tuple[int, str], ...]  # (index of the invoice paid, amount)
    expenses: tuple[tuple[str, str], ...]  # (currency, amount)


BOOKS = Books(
    invoices=(
        Invoice("USD", ((2, "150.00", None),), sent=True),
        Invoice("EUR", ((1, "80.00", "13"),), sent=True),
        Invoice("EUR", ((1, "999.00", None),), sent=False),  # a draft: not in the books yet
    ),
    payments=((0, "100.00"),),
    expenses=(("EUR", "30.00"),),
)


def by_hand(books: Books) -> dict[str, dict[str, Decimal]]:
    """Per currency: assets (cash + receivables), liabilities (sales tax), equity (revenue less
    expenses), cash in and cash out."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for invoice in books.invoices:
        if not invoice.sent:
            continue
        book = out[invoice.currency]
        for qty, cost, tax in invoice.lines:
            revenue = qty * Decimal(cost)
            book["revenue"] += revenue
            book["tax"] += (revenue * Decimal(tax) / 100) if tax else Decimal(0)
    for index, amount in books.payments:
        out[books.invoices[index].currency]["cash_in"] += Decimal(amount)
    for currency, amount in books.expenses:
        out[currency]["cash_out"] += Decimal(amount)
    result = {}
    for currency, book in out.items():
        billed = book["revenue"] + book["tax"]
        cash = book["cash_in"] - book["cash_out"]
        receivable = billed - book["cash_in"]
        result[currency] = {"assets": cash + receivable, "liabilities": book["tax"],
                            "equity": book["revenue"] - book["cash_out"],
                            "cash_in": book["cash_in"], "cash_out": book["cash_out"]}
    return result


def test_the_reference_by_hand() -> None:
    """The model's numbers, checked once against arithmetic done on paper."""
    expected = by_hand(BOOKS)
    assert expected["USD"] == {"assets": Decimal("300.00"), "liabilities": 0, "equity": Decimal("300.00"),
                               "cash_in": Decimal("100.00"), "cash_out": 0}
    assert expected["EUR"]["assets"] == Decimal("60.40")  # 90.40 owed less 30.00 spent
    assert expected["EUR"]["liabilities"] == Decimal("10.40") and expected["EUR"]["equity"] == Decimal("50.00")


@pytest.fixture(scope="module")
def books() -> Iterator[SandboxServer]:
    with SandboxServer(seed=0, port=0) as sb:
        fb = connector_for(sb)
        try:
            _create(sb, fb, BOOKS)
        finally:
            fb.close()
        yield sb


def _create(sb: Any, fb: FreshBooksConnector, books: Books) -> None:
    day = (sb.now().astimezone(EASTERN).date() - timedelta(days=10)).isoformat()
    clients = {code: fb.create("clients", {"fname": code, "email": f"{code.lower()}@example.com",
                                           "currency_code": code}, code).key
               for code in sorted({i.currency for i in books.invoices})}
    made: list[Record] = []
    for n, invoice in enumerate(books.invoices):
        lines = [{"name": f"line {n}", "qty": Decimal(qty), "unit_cost": Money(Decimal(cost), invoice.currency),
                  **({"taxName1": "HST", "taxAmount1": Decimal(tax)} if tax else {})}
                 for qty, cost, tax in invoice.lines]
        record = fb.create("invoices", {"customerid": int(clients[invoice.currency]), "create_date": day,
                                        "currency_code": invoice.currency, "lines": lines}, f"i{n}")
        if invoice.sent:
            fb.update("invoices", record.key, {"action_mark_as_sent": True}, f"s{n}")
        made.append(record)
    for n, (index, amount) in enumerate(books.payments):
        fb.create("payments", {"invoiceid": int(made[index].key), "date": day,
                               "amount": Money(Decimal(amount), books.invoices[index].currency)}, f"p{n}")
    category = min(sb.state.book().table("expense_categories"))
    for n, (currency, amount) in enumerate(books.expenses):
        fb.create("expenses", {"amount": Money(Decimal(amount), currency), "categoryid": category, "date": day},
                  f"e{n}")


def _pull(fb: FreshBooksConnector, obj: str, cursor: str | None = None) -> tuple[dict[str, Record], str | None]:
    pages = list(fb.changes(obj, cursor))
    assert all(page.full and not page.errors for page in pages)
    return {r.key.rpartition(":")[2]: r for page in pages for r in page.records}, pages[-1].cursor


def test_a_balance_sheet_and_a_cash_flow_per_currency_the_business_uses(books: Any) -> None:
    expected = by_hand(BOOKS)
    fb = connector_for(books, report_start=date(2000, 1, 1))
    try:
        sheets, _ = _pull(fb, "balance_sheet")
        flows, _ = _pull(fb, "cash_flow")
    finally:
        fb.close()
    assert sorted(sheets) == sorted(flows) == ["EUR", "USD"]
    for currency, sheet in sheets.items():
        assert sheet.key == f"{sheet.fields['date']}:{currency}"
        assert sheet.fields["currency_code"] == currency
        assert sheet.fields["assets_total"] == Money(expected[currency]["assets"], currency)
        assert sheet.fields["liabilities_total"] == Money(expected[currency]["liabilities"], currency)
        assert sheet.fields["equity_total"] == Money(expected[currency]["equity"], currency)
    for currency, flow in flows.items():
        summary = flow.fields["summary"]
        assert summary["gross_cash_inflow"] == Money(expected[currency]["cash_in"], currency)
        assert summary["gross_cash_outflow"] == Money(expected[currency]["cash_out"], currency)
        net = expected[currency]["cash_in"] - expected[currency]["cash_out"]
        assert summary["net_cash_change"] == Money(net, currency)


def test_report_currency_restricts_the_reports_to_one_and_lists_nothing(books: Any) -> None:
    fb = connector_for(books, report_currency="eur")
    try:
        sheets, _ = _pull(fb, "balance_sheet")
    finally:
        fb.close()
    assert list(sheets) == ["EUR"]
    assert sheets["EUR"].fields["assets_total"] == Money(Decimal("60.40"), "EUR")
    assert fb.calls == {"account": 1, "balance_sheet": 1}  # the report alone, no listing of clients


def test_a_new_currency_is_found_by_the_next_pull_from_the_clients_changed_since() -> None:
    with SandboxServer(seed=0, port=0) as books:
        fb = connector_for(books)
        try:
            _create(books, fb, BOOKS)
            first, cursor = _pull(fb, "balance_sheet")
            listing_calls = fb.calls["balance_sheet"] - len(first)
            fb.create("clients", {"fname": "G", "email": "g@example.com", "currency_code": "GBP"}, "gbp")
        finally:
            fb.close()
        books.advance(60)
        again = connector_for(books)  # a new run: knows only what the cursor holds
        try:
            second, _ = _pull(again, "balance_sheet", cursor)
        finally:
            again.close()
    assert listing_calls == 1 and sorted(first) == ["EUR", "USD"]
    assert again.calls["balance_sheet"] == 1 + len(second)  # one page of the clients changed since
    assert sorted(second) == ["EUR", "GBP", "USD"]
    assert second["GBP"].fields["assets_total"] == Money(Decimal("0.00"), "GBP")


def test_a_currency_the_report_refuses_is_that_reports_error_and_no_delete(books: Any) -> None:
    """A cursor remembering a currency the report endpoint refuses (the sandbox knows no XTS): the
    other currencies' reports are read, XTS is a read error, and the pull is not a full listing,
    so the engine never takes XTS's earlier row for deleted."""
    fb = connector_for(books)
    try:
        _, cursor = _pull(fb, "balance_sheet")
        assert cursor is not None
        remembered = json.loads(cursor)
        remembered["currencies"] += ",XTS"
        pages = list(fb.changes("balance_sheet", json.dumps(remembered)))
    finally:
        fb.close()
    assert sorted(r.key.rpartition(":")[2] for p in pages for r in p.records) == ["EUR", "USD"]
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 1 and "XTS" in str(errors[0]) and errors[0].field == "currency_code"
    assert not any(p.full for p in pages)


def test_the_clients_are_listed_once_a_run_for_both_reports(books: Any) -> None:
    """A run that pulled the clients whole (a first sync) lists nothing more for the reports; a run
    with cursors lists the clients changed since once, for the first report only."""
    fb = connector_for(books)
    try:
        _pull(fb, "clients")
        sheets, sheet_cursor = _pull(fb, "balance_sheet")
        flows, flow_cursor = _pull(fb, "cash_flow")
    finally:
        fb.close()
    assert sorted(sheets) == sorted(flows) == ["EUR", "USD"]
    assert (fb.calls["balance_sheet"], fb.calls["cash_flow"]) == (2, 2)  # the reports alone
    books.advance(60)
    later = connector_for(books)
    try:
        _pull(later, "balance_sheet", sheet_cursor)
        _pull(later, "cash_flow", flow_cursor)
    finally:
        later.close()
    assert (later.calls["balance_sheet"], later.calls["cash_flow"]) == (3, 2)  # one listing, then reused
