"""FreshBooks wire formats and error bodies (no server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from connectors.freshbooks.errors import parse_error
from connectors.freshbooks.specs import RESOURCES
from connectors.freshbooks.wire import decode_fields, encode_fields, format_accounting_time, loads, parse_time
from syncengine.connector import Capability
from syncengine.errors import AuthError, ConnectorError, NotFoundError, TransientError, ValidationError
from syncengine.http.errors import raise_for_response
from syncengine.records import Money


def test_json_never_yields_floats() -> None:
    body = loads(b'{"a": 1.10, "b": [2.5], "c": 3}')
    assert body == {"a": Decimal("1.10"), "b": [Decimal("2.5")], "c": 3}
    assert isinstance(body["a"], Decimal)


def test_eastern_and_utc_times() -> None:
    # November: Eastern is UTC-5 (reference fixture: updated 21:27:03 Eastern = 02:27:03 UTC next day)
    assert parse_time("2020-11-16 21:27:03", "eastern") == datetime(2020, 11, 17, 2, 27, 3, tzinfo=UTC)
    # July: UTC-4
    assert parse_time("2020-07-01 12:00:00", "eastern") == datetime(2020, 7, 1, 16, 0, tzinfo=UTC)
    assert parse_time("2020-09-13T03:10:13", "utc") == datetime(2020, 9, 13, 3, 10, 13, tzinfo=UTC)
    assert parse_time("2020-09-13T03:10:13Z", "eastern") == datetime(2020, 9, 13, 3, 10, 13, tzinfo=UTC)
    assert format_accounting_time(datetime(2020, 11, 17, 2, 27, 3, tzinfo=UTC)) == "2020-11-16 21:27:03"


def test_decode_client_and_invoice_fields() -> None:
    clients = RESOURCES["clients"]
    fields = decode_fields(
        clients.spec.fields,
        {"id": 7, "updated": "2020-11-16 21:27:03", "signup_date": "2020-11-17 02:27:03", "x": Decimal("1.5")},
        clients.zone,
        utc_fields=clients.utc_fields,
    )
    assert fields["updated"] == fields["signup_date"] == datetime(2020, 11, 17, 2, 27, 3, tzinfo=UTC)
    assert fields["x"] == Decimal("1.5")
    invoices = RESOURCES["invoices"]
    raw = {
        "id": 1,
        "currency_code": "CAD",
        "amount": {"amount": "27.00", "code": "CAD"},
        "create_date": "2026-01-02",
        "lines": [{"qty": "2", "unit_cost": {"amount": "13.50", "code": "CAD"}, "amount": {"amount": "27.00"}}],
    }
    out = decode_fields(invoices.spec.fields, raw, invoices.zone)
    assert out["amount"] == Money(Decimal("27.00"), "CAD")
    assert out["create_date"] == date(2026, 1, 2)
    assert out["lines"][0]["qty"] == Decimal("2")
    assert out["lines"][0]["amount"] == Money(Decimal("27.00"), "CAD")  # currency from the invoice
    back = encode_fields(invoices.spec.fields, {"lines": out["lines"], "create_date": out["create_date"]}, "eastern")
    assert back["lines"][0]["unit_cost"] == {"amount": "13.50", "code": "CAD"}
    assert back["create_date"] == "2026-01-02"


def test_every_writable_object_declares_its_wire_shape() -> None:
    writable = {n for n, r in RESOURCES.items() if r.spec.writable}
    assert writable == {
        "clients",
        "estimates",
        "expenses",
        "invoices",
        "items",
        "payments",
        "projects",
        "tasks",
        "taxes",
        "time_entries",
    }
    for name in writable:
        res = RESOURCES[name]
        assert res.item_path and res.single and res.plural and res.delete
        assert res.spec.fields["id"].read_only
    for name in ("account", "accounts", "balance_sheet", "cash_flow"):
        assert not RESOURCES[name].spec.writable
        assert RESOURCES[name].spec.can(Capability.LIST)
    money = [f for r in RESOURCES.values() for f in r.spec.fields.values() if f.type == "money"]
    assert len(money) > 10


def response(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "https://api.test/x"))


@pytest.mark.parametrize(
    ("status", "body", "kind", "field"),
    [
        (
            404,
            {"response": {"errors": [{"errno": 1012, "field": "userid", "message": "Client not found."}]}},
            NotFoundError,
            "userid",
        ),
        (
            200,
            {"response": {"errors": [{"errno": 1012, "field": "userid", "message": "Client not found."}]}},
            NotFoundError,
            "userid",
        ),
        (
            422,
            {"response": {"errors": [{"errno": 1001, "field": "customerid", "message": "Required."}]}},
            ValidationError,
            "customerid",
        ),
        (
            404,
            {"code": 5, "message": "x", "details": [{"reason": "1012", "metadata": {"field": "userid"}}]},
            NotFoundError,
            "userid",
        ),
        (401, {"code": 16, "message": "x", "details": [{"reason": "1003", "metadata": {}}]}, AuthError, None),
        (
            400,
            {
                "errors": {
                    "message": "bad",
                    "status": 400,
                    "details": [{"reason": "name: required", "metadata": {"message": "required", "field": "name"}}],
                }
            },
            ValidationError,
            "name",
        ),
        (404, {"errno": 404, "message": "Requested resource could not be found."}, NotFoundError, None),
        (400, {"errno": 422, "message": "bad", "details": ["event: Unrecognized event."]}, ValidationError, "event"),
        (404, {"error": "Requested resource could not be found."}, NotFoundError, None),
        (401, {"message": "The server could not verify that you are authorized"}, AuthError, None),
        (422, {"errno": 2001, "error": {"title": "field required"}}, ValidationError, "title"),
        (403, {"error": "unauthenticated", "error_description": "needs auth"}, AuthError, None),
        (503, {"error": "unavailable"}, TransientError, None),
        (418, "not json object", ConnectorError, None),
    ],
)
def test_error_bodies_of_every_family(status: int, body: object, kind: type[ConnectorError], field: str | None) -> None:
    with pytest.raises(kind) as info:
        raise_for_response(response(status, body), parse_error)
    assert type(info.value) is kind
    assert info.value.field == field


def test_success_without_errors_is_not_an_error() -> None:
    assert parse_error(response(200, {"response": {"result": {"client": {"id": 1}}}})) is None


def test_readme_lists_every_object() -> None:
    from pathlib import Path

    import connectors.freshbooks

    readme = (Path(connectors.freshbooks.__file__).parent / "README.md").read_text()
    for name in RESOURCES:
        assert f"| {name} |" in readme, name
