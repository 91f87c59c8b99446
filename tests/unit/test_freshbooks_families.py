"""FreshBooks' URL families as REST-layer strategies: each object's envelopes, includes, write
wrap and change filter come from its family's declaration, not from branches in the connector."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.freshbooks.families import ACCOUNTING, LEDGER, PROJECTS, EasternDaySince
from connectors.freshbooks.specs import RESOURCES
from syncengine.incremental import Watermark


def test_the_eastern_day_filter_asks_for_the_day_before_the_watermark_in_eastern_time() -> None:
    # 03:30 UTC on the 11th is still the 10th in New York: the filter day is the 9th
    mark = Watermark(datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    assert EasternDaySince().params(mark) == [("search[updated_min]", "2026-03-09")]
    assert EasternDaySince().params(None) == []


def test_accounting_objects_read_response_result_and_ask_includes_as_include_brackets() -> None:
    invoices = RESOURCES["invoices"].rest
    body = {"response": {"result": {"invoices": [{"id": 1}], "page": 1, "pages": 3, "total": 250}}}
    assert invoices.rows.rows(body) == [{"id": 1}]
    assert RESOURCES["invoices"].family.paging.page_count(body) == 3
    assert RESOURCES["invoices"].family.paging.record_count(body) == 250
    assert invoices.item({"response": {"result": {"invoice": {"id": 1}}}}) == {"id": 1}
    assert invoices.list_params == [("include[]", "lines")] and invoices.wrap == "invoice"
    assert ACCOUNTING.search("email", "a@b.c") == [("search[email]", "a@b.c")]


def test_project_like_objects_read_bare_keys_with_meta_and_filter_by_updated_since() -> None:
    projects = RESOURCES["projects"].rest
    body = {"projects": [{"id": 7}], "meta": {"page": 1, "pages": 2, "total": 101}}
    assert projects.rows.rows(body) == [{"id": 7}]
    assert PROJECTS.paging.page_count(body) == 2 and PROJECTS.paging.record_count(body) == 101
    assert projects.item({"project": {"id": 7}}) == {"id": 7} and projects.wrap == "project"
    assert PROJECTS.includes(("services",)) == [("services", "true")]
    assert PROJECTS.search("title", "x") is None
    mark = Watermark(datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    assert projects.changes.params(mark) == [("updated_since", "2026-03-11T03:20:00Z")]


def test_the_ledger_answers_data_and_takes_writes_unwrapped() -> None:
    accounts = RESOURCES["accounts"].rest
    assert accounts.rows.rows({"data": [{"uuid": "u"}], "meta": {"pages": 1}}) == [{"uuid": "u"}]
    assert accounts.wrap is None and LEDGER.reading == "listing"


def test_full_listings_send_no_filter() -> None:
    mark = Watermark(datetime(2026, 3, 11, tzinfo=UTC))
    assert RESOURCES["taxes"].rest.changes.params(mark) == []
    assert RESOURCES["taxes"].rest.changes.incremental is False
