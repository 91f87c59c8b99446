"""The chart of accounts: new-style ledger accounts (business_uuid) and the legacy account list.

* ``/accounting/businesses/{uuid}/ledger_accounts/accounts[/{account_uuid}]``: request bodies are
  unwrapped and responses are ``{"data": ...}`` with no paging (reference §3.2). Create needs
  ``name``, ``sub_type`` and ``parent_account``; errors use the ``{"errors": {...}}`` shape with
  HTTP 400. There is no delete.
* ``/accounting/account/{acct}/journal_entry_accounts/journal_entry_accounts``: the legacy view,
  top-level accounts with their ``sub_accounts``, wrapped and paged like other accounting lists.

Balances come from the books (``reports.account_balances``), so they agree with the reports.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .clock import iso_utc
from .context import json_body, sandbox, today
from .errors import ApiError
from .listing import page_of, paging
from .reports import account_balances
from .store import Book, Record, public

# (number, name, type, sub_type, system_account_name, parent number)
CHART: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    ("1000", "Assets", "asset", "Assets", None, None),
    ("1010", "Cash", "asset", "Cash & Bank", "cash", "1000"),
    ("1200", "Accounts Receivable", "asset", "Accounts Receivable", "accounts_receivable", "1000"),
    ("2000", "Liabilities", "liability", "Liabilities", None, None),
    ("2100", "Sales Taxes Payable", "liability", "Sales Taxes", "sales_taxes_payable", "2000"),
    ("3000", "Equity", "equity", "Equity", None, None),
    ("3100", "Retained Earnings", "equity", "Retained Earnings", "retained_earnings", "3000"),
    ("4000", "Income", "income", "Income", None, None),
    ("4010", "Sales", "income", "Sales", "sales", "4000"),
    ("5000", "Expenses", "expense", "Expenses", None, None),
    ("5010", "Operating Expenses", "expense", "Operating Expenses", "operating_expenses", "5000"),
)


def seed_chart(book: Book, rng_uuid: Any, moment: datetime) -> None:
    """The default chart of accounts for a new business (uuids from the seeded RNG)."""
    by_number: dict[str, Record] = {}
    for number, name, kind, sub_type, system_name, parent in CHART:
        account_uuid = str(uuid.UUID(int=rng_uuid.getrandbits(128), version=4))
        record: Record = {
            "uuid": account_uuid, "name": name, "number": number, "description": "", "type": kind,
            "sub_type": sub_type, "system_account_name": system_name,
            "parent_account": by_number[parent]["uuid"] if parent else None, "sub_accounts": [],
            "auto_created": True, "state": "active", "updated_at": iso_utc(moment, micros=True),
            "_id": book.new_id("ledger_accounts"), "_updated": iso_utc(moment, micros=True),
        }
        if parent:
            by_number[parent]["sub_accounts"].append(account_uuid)
        by_number[number] = record
        book.table("ledger_accounts")[account_uuid] = record


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, 1001, message, field=field, object="account")


def _account(book: Book, account_uuid: str) -> Record:
    record = book.table("ledger_accounts").get(account_uuid)
    if record is None:
        raise ApiError(404, 1012, "Account not found.", object="account", value=account_uuid)
    return record


async def list_accounts(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_uuid(request.path_params["business_uuid"])
    with sb.store.lock:
        rows = sorted(book.table("ledger_accounts").values(), key=lambda r: int(r["_id"]))
        return JSONResponse({"data": [public(r) for r in rows]})


async def get_account(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_uuid(request.path_params["business_uuid"])
    with sb.store.lock:
        return JSONResponse({"data": public(_account(book, request.path_params["account_uuid"]))})


async def _fields(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise _invalid("name", "The request body must be an object.")
    return body


async def create_account(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_uuid(request.path_params["business_uuid"])
    data = await _fields(request)
    for name in ("name", "sub_type", "parent_account"):
        if not data.get(name):
            raise _invalid(name, "This field is required.")
    with sb.store.lock:
        parent = book.table("ledger_accounts").get(str(data["parent_account"]))
        if parent is None:
            raise _invalid("parent_account", "Parent account not found.")
        moment = sb.clock.now()
        account_uuid = str(uuid.uuid4())
        record: Record = {
            "uuid": account_uuid, "name": str(data["name"]), "number": str(data.get("number") or ""),
            "description": str(data.get("description") or ""), "type": parent["type"],
            "sub_type": str(data["sub_type"]), "system_account_name": None, "parent_account": parent["uuid"],
            "sub_accounts": [], "auto_created": False, "state": "active",
            "updated_at": iso_utc(moment, micros=True), "_id": book.new_id("ledger_accounts"),
            "_updated": iso_utc(moment, micros=True),
        }
        parent["sub_accounts"].append(account_uuid)
        book.table("ledger_accounts")[account_uuid] = record
        return JSONResponse({"data": public(record)})


async def update_account(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_uuid(request.path_params["business_uuid"])
    data = await _fields(request)
    with sb.store.lock:
        record = _account(book, request.path_params["account_uuid"])
        for name in ("name", "number", "description", "sub_type", "state"):
            if name in data:
                if name == "name" and not data[name]:
                    raise _invalid("name", "This field is required.")
                record[name] = str(data[name])
        moment = sb.clock.now()
        record["updated_at"] = record["_updated"] = iso_utc(moment, micros=True)
        return JSONResponse({"data": public(record)})


async def list_journal_entry_accounts(request: Request) -> Response:
    """The legacy chart: top-level accounts with ``sub_accounts`` and balances in base currency."""
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    page, per_page = paging(request.query_params, 15)
    with sb.store.lock:
        balances = account_balances(book, book.base_currency, today(sb))
        accounts = sorted(book.table("ledger_accounts").values(), key=lambda r: int(r["_id"]))
        by_uuid = {a["uuid"]: a for a in accounts}
        rows: list[Record] = []
        for top in (a for a in accounts if a["parent_account"] is None):
            subs = [by_uuid[u] for u in top["sub_accounts"] if u in by_uuid]
            total = sum((balances.get(s.get("system_account_name") or "", 0) for s in subs), 0)
            rows.append({
                "id": top["_id"], "accountid": top["_id"], "account_name": top["name"],
                "account_number": top["number"], "account_type": top["type"], "balance": f"{total:.2f}",
                "currency_code": book.base_currency, "composite": False,
                "sub_accounts": [{
                    "id": s["_id"], "sub_accountid": s["_id"], "account_sub_name": s["name"],
                    "account_sub_number": s["number"], "parentid": top["_id"], "custom": not s["auto_created"],
                    "description": s["description"], "system_account_name": s["system_account_name"],
                    "balance": f"{balances.get(s.get('system_account_name') or '', 0):.2f}",
                } for s in subs],
            })
        chunk, meta = page_of(rows, page, per_page)
    return JSONResponse({"response": {"result": {"journal_entry_accounts": chunk, **meta}}})
