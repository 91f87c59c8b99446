"""Reports are computed from the books: the balance sheet balances and cash flow matches activity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import accounting


@pytest.fixture
def empty() -> Iterator[tuple[SandboxServer, httpx.Client]]:
    with SandboxServer(seed=0, now=datetime(2026, 2, 1, tzinfo=UTC)) as server:
        token = server.issue_tokens()["access_token"]
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                          trust_env=False) as http:
            yield server, http


def _result(answer: httpx.Response, key: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    value: dict[str, Any] = answer.json()["response"]["result"][key]
    return value


def test_balance_sheet_and_cash_flow_follow_the_books(empty: tuple[SandboxServer, httpx.Client]) -> None:
    sb, http = empty
    client = _result(http.post(accounting(sb, "users/clients"), json={"client": {"organization": "Acme"}}),
                     "client")
    invoice = _result(http.post(accounting(sb, "invoices/invoices"), json={"invoice": {
        "customerid": client["id"], "create_date": "2026-02-02",
        "lines": [{"name": "Work", "qty": "2", "unit_cost": {"amount": "100.00", "code": "USD"},
                   "taxName1": "HST", "taxAmount1": "13"}]}}), "invoice")
    assert invoice["amount"] == {"amount": "226.00", "code": "USD"}
    http.put(accounting(sb, f"invoices/invoices/{invoice['id']}"), json={"invoice": {"action_mark_as_sent": True}})
    http.post(accounting(sb, "payments/payments"), json={"payment": {
        "invoiceid": invoice["id"], "amount": {"amount": "100.00", "code": "USD"}, "date": "2026-02-05"}})
    category = sb.state.list("expense_categories")[0]["id"]
    http.post(accounting(sb, "expenses/expenses"), json={"expense": {
        "amount": {"amount": "30.00", "code": "USD"}, "categoryid": category, "date": "2026-02-06"}})

    sheet = _result(http.get(accounting(sb, "reports/accounting/balance_sheet"),
                             params={"dates[]": ["2026-02-01", "2026-02-10"], "currency_code": "USD"}),
                    "balance_sheet")
    assert [t["balance"]["amount"] for t in sheet["assets_total"]] == ["0.00", "196.00"]  # 70 cash + 126 AR
    for index in range(2):
        assets = Decimal(sheet["assets_total"][index]["balance"]["amount"])
        other = sum(Decimal(sheet[k][index]["balance"]["amount"]) for k in ("liabilities_total", "equity_total"))
        assert assets == other
    cash = sheet["data"][0]["accounts"][0]
    assert cash["account_name"] == "Cash" and cash["balances"][1]["balance"] == {"amount": "70.00", "code": "USD"}

    flow = _result(http.get(f"/accounting/businesses/{sb.business_uuid}/reports/cash_flow",
                            params={"start_date": "2026-02-04", "end_date": "2026-02-28", "currency_code": "USD"}),
                   "cash_flow")
    summary = {k: v["amount"] for k, v in flow["summary"].items()}
    assert summary == {"starting_balance": "0.00", "ending_balance": "70.00", "gross_cash_inflow": "100.00",
                       "gross_cash_outflow": "30.00", "net_cash_change": "70.00"}
    backwards = http.get(f"/accounting/businesses/{sb.business_uuid}/reports/cash_flow",
                         params={"start_date": "2026-03-01", "end_date": "2026-02-01"})
    assert backwards.status_code == 400 and backwards.json()["errors"]["status"] == 400

    legacy = _result(http.get(accounting(sb, "journal_entry_accounts/journal_entry_accounts")),
                     "journal_entry_accounts")
    assets_row = next(a for a in legacy if a["account_type"] == "asset")
    assert {s["account_sub_name"] for s in assets_row["sub_accounts"]} == {"Cash", "Accounts Receivable"}


def test_seeded_business_is_realistic_and_deterministic() -> None:
    with SandboxServer(seed=30, rng_seed=11, now=datetime(2026, 1, 1, tzinfo=UTC)) as one, \
            SandboxServer(seed=30, rng_seed=11, now=datetime(2026, 1, 1, tzinfo=UTC)) as two:
        assert one.state.list("clients") == two.state.list("clients")
        assert one.client_id == two.client_id and one.account_id == two.account_id
        clients = one.state.list("clients")
        assert len(clients) == 30 and len({c["email"] for c in clients}) == 30
        assert {c["currency_code"] for c in clients} >= {"USD", "EUR"}
        invoices = one.state.list("invoices")
        assert invoices and all(i["lines"] for i in invoices)
        assert {i["v3_status"] for i in invoices} >= {"paid", "sent"}
        for name in ("payments", "expenses", "items", "taxes", "tasks", "projects", "time_entries", "estimates"):
            assert one.state.count(name) > 0, name
