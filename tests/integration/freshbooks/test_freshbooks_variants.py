"""The connector under every open FreshBooks behaviour (the sandbox's variants), not just one pick.

Each test runs once per value of the variant it is about; the findings of issue 10 are here:
lines duplicated when FreshBooks appends lines sent without ``lineid``, a 429 without
``Retry-After`` failing the read under a 30 requests/minute budget, error shapes mistyped."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.errors import NotFoundError, ValidationError
from syncengine.records import Money

from .conftest import SandboxServer, connector_for

LINES_MODES = ["append", "replace"]


def _line(name: str, amount: str) -> dict[str, Any]:
    return {"name": name, "qty": Decimal(1), "unit_cost": Money(Decimal(amount), "USD")}


@pytest.mark.parametrize("mode", LINES_MODES)
def test_invoice_lines_are_edited_in_place_under_either_reading(
    sandbox: Any, fb: FreshBooksConnector, mode: str
) -> None:
    sandbox.set_variants(lines_without_id=mode)
    made = fb.create("invoices", {"customerid": 1001, "currency_code": "USD",
                                  "lines": [_line("a", "10.00"), _line("b", "20.00")]}, "k1")
    first_ids = [line["lineid"] for line in made.fields["lines"]]
    edited = fb.update("invoices", made.key, {"lines": [_line("a2", "11.00"), _line("b", "20.00")]}, "k2")
    assert [line["name"] for line in edited.fields["lines"]] == ["a2", "b"]
    assert [line["lineid"] for line in edited.fields["lines"]] == first_ids  # updated in place
    shorter = fb.update("invoices", made.key, {"lines": [_line("b", "20.00")]}, "k3")
    assert [line["name"] for line in shorter.fields["lines"]] == ["b"]  # removed explicitly
    stored = fb.get("invoices", [made.key])[0]
    assert [line["name"] for line in stored.fields["lines"]] == ["b"]
    assert stored.fields["amount"] == Money(Decimal("20.00"), "USD")


@pytest.mark.parametrize("retry_after", ["none", "seconds"])
def test_a_429_without_retry_after_waits_out_the_minute(retry_after: str) -> None:
    """30 requests/minute and a read needing ~40 pages: every 429 is waited out, nothing fails.
    The connector's sleep advances the sandbox clock, so no test really waits a minute."""
    with SandboxServer(seed=40, port=0, variants={"retry_after": retry_after}) as sb:
        sb.set_budget(30)
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            sb.advance(seconds)

        fb = connector_for(sb, page_size=1, sleep=sleep)
        try:
            records = [r for page in fb.changes("clients", None) for r in page.records]
        finally:
            fb.close()
        assert len(records) == sb.state.count("clients", include_deleted=True)
        assert sb.stats()["rate_limited"] >= 1
        assert sum(slept) >= 1


ERROR_VARIANTS = [
    {"error_shape": "legacy", "validation_status": "400"},
    {"error_shape": "legacy", "validation_status": "422"},
    {"error_shape": "code_details", "validation_status": "400"},
    {"error_shape": "code_details", "validation_status": "422"},
    {"error_shape": "http200_error", "validation_status": "422"},
]


@pytest.mark.parametrize("variants", ERROR_VARIANTS, ids=lambda v: f"{v['error_shape']}-{v['validation_status']}")
def test_every_error_shape_maps_to_the_right_typed_error(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector], variants: dict[str, str]
) -> None:
    sandbox.set_variants(**variants)
    fb = make_connector()
    with pytest.raises(ValidationError) as invalid:
        fb.update("invoices", "100001", {"customerid": 999999}, "k")
    assert invalid.value.field == "customerid"
    with pytest.raises(NotFoundError):
        fb.update("clients", "999999", {"organization": "x"}, "k")
