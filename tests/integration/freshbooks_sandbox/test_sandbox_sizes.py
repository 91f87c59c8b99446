"""Sized seeds: ``business`` has exact counts, is deterministic, and its bulk-built invoice
arithmetic equals what the ordinary write path computes (at 1/100 of the size, to stay fast)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import typer

from connectors.freshbooks.sandbox import SandboxServer
from connectors.freshbooks.sandbox.billing import recompute_document
from connectors.freshbooks.sandbox.cli import start_sandbox
from connectors.freshbooks.sandbox.seed import build_store
from connectors.freshbooks.sandbox.sizes import SIZES, size_named

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SMALL = {"clients": 100, "invoices": 500, "payments": 500, "time_entries": 200, "projects": 5,
         "estimates": 25, "expenses": 50, "items": 40}


def test_business_size_is_the_issue_numbers() -> None:
    business = SIZES["business"]
    assert (business.clients, business.invoices, business.payments, business.time_entries) == (
        10_000, 50_000, 50_000, 20_000)
    with pytest.raises(ValueError, match="known: business"):
        size_named("enterprise")
    with pytest.raises(ValueError, match="scale"):
        size_named("business", 0)


def test_scaled_business_seed_has_exact_counts_and_is_deterministic() -> None:
    size = size_named("business", 0.01)
    one = build_store(0, 5, NOW, size=size)
    two = build_store(0, 5, NOW, size=size)
    other = build_store(0, 6, NOW, size=size)
    for name, expected in SMALL.items():
        assert one.count(name, include_deleted=True) == expected, name
    assert one.count("taxes") == 3 and one.count("tasks") == 6
    assert one.to_json() == two.to_json()
    assert one.list("clients") != other.list("clients")
    assert len({c["email"] for c in one.list("clients")}) == 100
    invoices = one.list("invoices")
    assert all(invoice["lines"] for invoice in invoices)
    assert {i["v3_status"] for i in invoices} == {"draft", "sent", "partial", "paid"}
    assert {int(p["clientid"]) for p in one.list("payments")} <= {int(c["id"]) for c in one.list("clients")}


def test_bulk_built_invoices_match_the_write_path_arithmetic() -> None:
    store = build_store(0, 5, NOW, size=size_named("business", 0.01))
    book = store.book()
    payments_of: dict[int, Decimal] = {}
    for payment in book.table("payments").values():
        payments_of[payment["invoiceid"]] = payments_of.get(payment["invoiceid"], Decimal(0)) + Decimal(
            payment["amount"]["amount"])
        assert payment["amount"]["code"] == book.table("invoices")[payment["invoiceid"]]["currency_code"]
    for invoice in book.table("invoices").values():
        again = copy.deepcopy(invoice)
        recompute_document(book, again, "payments")  # the generic scan over every payment
        fields = ("amount", "paid", "outstanding", "status", "payment_status")
        assert {k: again[k] for k in fields} == {k: invoice[k] for k in fields}, invoice["id"]
        assert Decimal(invoice["paid"]["amount"]) == payments_of.get(invoice["id"], Decimal(0))
        assert (invoice["date_paid"] is not None) == (invoice["status"] == 4)


def test_sandbox_server_serves_a_sized_seed() -> None:
    with SandboxServer(size="business", scale=0.01, port=0, rng_seed=5, now=NOW) as sb:
        token = sb.issue_tokens()["access_token"]
        with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as http:
            base = f"/accounting/account/{sb.account_id}"
            answer = http.get(f"{base}/invoices/invoices", params={"per_page": 100}).json()["response"]["result"]
            assert (answer["total"], answer["pages"], len(answer["invoices"])) == (500, 5, 100)
            entries = http.get(f"/timetracking/business/{sb.business_id}/time_entries",
                               params={"per_page": 100}).json()
            assert entries["meta"]["total"] == 200
        sb.reset()  # reseeding keeps the size
        assert sb.state.count("payments") == 500


def test_cli_refuses_an_unknown_size() -> None:
    with pytest.raises(typer.Exit) as stopped:
        start_sandbox(port=0, seed=1, state=None, token_ttl=60, requests_per_minute=None, variants=[],
                      size="huge")
    assert stopped.value.exit_code == 2
