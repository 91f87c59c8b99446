"""The FreshBooks bench's arithmetic: the pages the data needs, the rate floor, paths to objects."""

from __future__ import annotations

from bench.freshbooks_bench import _object_of, floor_seconds, minimum_pages


def test_minimum_pages_rounds_up_per_object_and_counts_an_empty_listing() -> None:
    pages = minimum_pages({"clients": 10_000, "invoices": 50_001, "taxes": 0})
    assert pages == {"clients": 100, "invoices": 501, "taxes": 1, "account": 1, "balance_sheet": 1, "cash_flow": 1}
    # the reports are read once per currency the business uses; the identity once
    four = minimum_pages({"clients": 1}, currencies=4)
    assert (four["account"], four["balance_sheet"], four["cash_flow"]) == (1, 4, 4)


def test_floor_is_calls_at_the_rate() -> None:
    assert floor_seconds(1_400, 600) == 140.0
    assert floor_seconds(30, 30) == 60.0


def test_paths_name_their_object() -> None:
    assert _object_of("/accounting/account/AbC123/users/clients/1001") == "clients"
    assert _object_of("/timetracking/business/42/time_entries") == "time_entries"
    assert _object_of("/auth/api/v1/users/me") == "account"
