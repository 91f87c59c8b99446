"""Reports computed from the sandbox's own invoices, payments and expenses (read-only).

* Balance sheet: ``GET /accounting/account/{acct}/reports/accounting/balance_sheet?dates[]=&currency_code=``
  -> ``{"response": {"result": {"balance_sheet": {...}}}}`` with one balance per requested date.
* Cash flow: ``GET /accounting/businesses/{uuid}/reports/cash_flow?start_date&end_date&currency_code``
  -> ``{"response": {"result": {"cash_flow": {...}}}}``.

The books are a deliberately simple model so that the numbers are realistic and consistent:
an invoice counts from its ``create_date`` once it is no longer a draft (revenue = subtotal less
discount, tax = sales taxes payable); payments are cash in; expenses are paid in cash on their
``date``. Only records in the requested currency count (no conversion; UNCONFIRMED upstream).
Totals keys other than ``assets_total`` (``liabilities_total``, ``equity_total``) are sandbox
choices.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .billing import line_totals
from .context import sandbox, today
from .errors import ApiError
from .money import CURRENCIES, amount_of, money
from .store import Book, Record, is_deleted

DATE_RANGE_BACKWARDS = 1007


def _counted_invoices(book: Book, currency: str, day: str) -> dict[int, Record]:
    return {
        int(inv["id"]): inv for inv in book.table("invoices").values()
        if not is_deleted(inv) and inv.get("status") != 1 and inv.get("currency_code") == currency
        and inv.get("create_date", "") <= day
    }


def account_balances(book: Book, currency: str, day: str) -> dict[str, Decimal]:
    """Balances by system account name at the end of ``day`` (YYYY-MM-DD)."""
    invoices = _counted_invoices(book, currency, day)
    revenue = tax = billed = Decimal(0)
    for inv in invoices.values():
        subtotal, line_tax = line_totals(inv)
        discount = -amount_of(inv.get("discount_total"))
        revenue += subtotal - discount
        tax += line_tax
        billed += amount_of(inv.get("amount"))
    received = sum((amount_of(p["amount"]) for p in book.table("payments").values()
                    if not is_deleted(p) and int(p.get("invoiceid") or 0) in invoices
                    and p.get("date", "") <= day), Decimal(0))
    spent = _expenses(book, currency, "0000-00-00", day)
    cash = received - spent
    balances = defaultdict(Decimal, {
        "cash": cash, "accounts_receivable": billed - received, "sales_taxes_payable": tax,
        "sales": revenue, "operating_expenses": spent, "retained_earnings": revenue - spent,
    })
    return balances


def _expenses(book: Book, currency: str, start: str, end: str) -> Decimal:
    return sum((amount_of(e["amount"]) for e in book.table("expenses").values()
                if not is_deleted(e) and (e.get("amount") or {}).get("code") == currency
                and start <= e.get("date", "") <= end), Decimal(0))


def _payments(book: Book, currency: str, start: str, end: str) -> Decimal:
    return sum((amount_of(p["amount"]) for p in book.table("payments").values()
                if not is_deleted(p) and p["amount"]["code"] == currency and start <= p.get("date", "") <= end),
               Decimal(0))


def _day(value: str, field: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ApiError(400, 1004, "Must be a date (YYYY-MM-DD).", field=field, value=value) from None


def _currency(request: Request, book: Book) -> str:
    code = request.query_params.get("currency_code") or book.base_currency
    if code.upper() not in CURRENCIES:
        raise ApiError(400, 1004, "Invalid currency code.", field="currency_code", value=code)
    return code.upper()


async def balance_sheet(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    currency = _currency(request, book)
    dates = [_day(d, "dates") for d in request.query_params.getlist("dates[]")] or [today(sb)]
    with sb.store.lock:
        per_date = [(d, account_balances(book, currency, d)) for d in dates]

    def series(name: str) -> list[Record]:
        return [{"balance": money(b[name], currency), "date": d} for d, b in per_date]

    def totals(*names: str) -> list[Record]:
        return [{"balance": money(sum((b[n] for n in names), Decimal(0)), currency), "date": d}
                for d, b in per_date]

    def account(name: str, number: str, key: str) -> Record:
        return {"account_name": name, "account_number": number, "balances": series(key)}

    report = {
        "company_name": book.name, "currency_code": currency, "dates": dates,
        "download_token": secrets.token_hex(8),
        "assets_total": totals("cash", "accounts_receivable"),
        "liabilities_total": totals("sales_taxes_payable"),
        "equity_total": totals("retained_earnings"),
        "data": [
            {"account_type": "asset", "accounts": [account("Cash", "1010", "cash"),
                                                   account("Accounts Receivable", "1200", "accounts_receivable")]},
            {"account_type": "liability", "accounts": [account("Sales Taxes Payable", "2100",
                                                               "sales_taxes_payable")]},
            {"account_type": "equity", "accounts": [account("Retained Earnings", "3100", "retained_earnings")]},
        ],
    }
    return JSONResponse({"response": {"result": {"balance_sheet": report}}})


async def cash_flow(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_uuid(request.path_params["business_uuid"])
    currency = _currency(request, book)
    params = request.query_params
    end = _day(params["end_date"], "end_date") if params.get("end_date") else today(sb)
    start = _day(params["start_date"], "start_date") if params.get("start_date") else end[:4] + "-01-01"
    if start > end:
        raise ApiError(400, DATE_RANGE_BACKWARDS, "The start date must come before the end date.",
                       field="start_date", value=start)
    before = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    with sb.store.lock:
        starting = account_balances(book, currency, before)["cash"]
        inflow = _payments(book, currency, start, end)
        outflow = _expenses(book, currency, start, end)
    net = inflow - outflow

    def detail(name: str, account_name: str, value: Decimal) -> Record:
        return {"name": name, "accounts": [{"name": account_name, "sub_accounts": [{
            "name": account_name, "categoryid": None, "sub_accountid": None, "total": money(value, currency)}],
            "total": money(value, currency)}], "total": money(value, currency)}

    report = {
        "company_name": book.name, "download_token": secrets.token_hex(8), "start_date": start,
        "end_date": end, "currency_code": currency,
        "activities": [
            {"category": "operating", "details": [
                detail("Cash received from customers", "Accounts Receivable", inflow),
                detail("Cash paid for expenses", "Operating Expenses", -outflow)],
             "total": money(net, currency)},
            {"category": "investing", "details": [], "total": money(Decimal(0), currency)},
            {"category": "financing", "details": [], "total": money(Decimal(0), currency)},
        ],
        "summary": {"starting_balance": money(starting, currency), "ending_balance": money(starting + net, currency),
                    "gross_cash_inflow": money(inflow, currency), "gross_cash_outflow": money(outflow, currency),
                    "net_cash_change": money(net, currency)},
    }
    return JSONResponse({"response": {"result": {"cash_flow": report}}})
