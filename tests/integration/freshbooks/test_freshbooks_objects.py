"""Every writable FreshBooks object through the connector against the sandbox: create, get, update, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.connector import Capability
from syncengine.errors import UnsupportedError, ValidationError
from syncengine.records import Money, Record


@dataclass(frozen=True)
class Case:
    """How to make, change and check one object in the sandbox."""

    obj: str
    create: Callable[[Any], dict[str, Any]]
    update: dict[str, Any]
    check: str  # a field whose value after update must equal update[check]


def first_id(sb: Any, collection: str) -> int:
    rows = sb.state.list(collection)
    assert rows, f"the sandbox seed has no {collection}"
    return int(rows[0]["id"])


def usd_invoice(sb: Any) -> int:
    """An unpaid USD invoice (a payment must be in its invoice's currency)."""
    for row in sb.state.list("invoices"):
        if row.get("currency_code") == "USD" and Decimal(str(row["outstanding"]["amount"])) > 1:
            return int(row["id"])
    raise AssertionError("the sandbox seed has no unpaid USD invoice")


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


CASES = [
    Case(
        "clients",
        lambda sb: {"email": "ada@example.test", "fname": "Ada", "organization": "Analytical"},
        {"organization": "Analytical Engines"},
        "organization",
    ),
    Case(
        "items",
        lambda sb: {"name": "Widget", "unit_cost": usd("9.50"), "qty": Decimal("1")},
        {"unit_cost": usd("10.25")},
        "unit_cost",
    ),
    Case("taxes", lambda sb: {"name": "GST", "amount": Decimal("5")}, {"number": "RT-0001"}, "number"),
    Case(
        "tasks",
        lambda sb: {"name": "Design", "rate": usd("80.00"), "billable": True},
        {"description": "Drawing things"},
        "description",
    ),
    Case(
        "invoices",
        lambda sb: {
            "customerid": first_id(sb, "clients"),
            "create_date": date(2026, 3, 2),
            "currency_code": "USD",
            "lines": [{"name": "Work", "qty": Decimal("2"), "unit_cost": usd("10.00")}],
        },
        {"notes": "Thanks!"},
        "notes",
    ),
    Case(
        "estimates",
        lambda sb: {
            "customerid": first_id(sb, "clients"),
            "create_date": date(2026, 3, 2),
            "currency_code": "USD",
            "lines": [{"name": "Quote", "qty": Decimal("1"), "unit_cost": usd("99.00")}],
        },
        {"terms": "Net 30"},
        "terms",
    ),
    Case(
        "payments",
        lambda sb: {
            "invoiceid": usd_invoice(sb),
            "amount": usd("1.00"),
            "date": date(2026, 3, 3),
            "type": "Cash",
        },
        {"note": "partial"},
        "note",
    ),
    Case(
        "expenses",
        lambda sb: {
            "amount": usd("12.34"),
            "categoryid": first_id(sb, "expense_categories"),
            "date": date(2026, 3, 4),
            "vendor": "Stationer",
        },
        {"vendor": "Stationer & Sons"},
        "vendor",
    ),
    Case(
        "projects",
        lambda sb: {"title": "Engine", "client_id": first_id(sb, "clients")},
        {"title": "Difference Engine"},
        "title",
    ),
    Case(
        "time_entries",
        lambda sb: {
            "started_at": datetime(2026, 3, 5, 14, 0, tzinfo=UTC),
            "duration": 3600,
            "is_logged": True,
            "note": "n",
        },
        {"note": "tuned the mill"},
        "note",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.obj for c in CASES])
def test_create_get_update_delete(case: Case, sandbox: Any, fb: FreshBooksConnector) -> None:
    created = fb.create(case.obj, case.create(sandbox), idempotency_key="k1")
    assert created.key and created.key != "None"
    assert not created.deleted
    spec = fb.objects()[case.obj]
    if "updated" in spec.fields or "updated_at" in spec.fields:
        assert created.updated_at is not None and created.updated_at.tzinfo is not None
    for name, value in case.create(sandbox).items():
        if name != "lines":
            assert created.fields[name] == value, name
    if case.obj in ("invoices", "estimates"):
        assert created.fields["lines"][0]["name"] in ("Work", "Quote")  # lines came back (re-read if needed)
        assert isinstance(created.fields["amount"], Money)

    (got,) = fb.get(case.obj, [created.key])
    assert got.fields == created.fields

    updated = fb.update(case.obj, created.key, case.update, idempotency_key="k2")
    assert updated.fields[case.check] == case.update[case.check]
    for name, value in case.create(sandbox).items():
        if name not in case.update and name != "lines":
            assert updated.fields[name] == value, f"{name} must be untouched by a partial update"

    fb.delete(case.obj, created.key)
    assert fb.get(case.obj, [created.key]) == []


def test_update_never_sends_vis_state_with_data(sandbox: Any, fb: FreshBooksConnector) -> None:
    created = fb.create("clients", {"fname": "Grace", "organization": "Navy"}, idempotency_key="k")
    updated = fb.update("clients", created.key, {"organization": "Harvard", "vis_state": 2}, idempotency_key="k2")
    # both took effect: the data in one PUT, then the state in its own (update phases)
    assert updated.fields["organization"] == "Harvard"
    assert updated.fields["vis_state"] == 2


def test_archive_and_unsupported(sandbox: Any, fb: FreshBooksConnector) -> None:
    created = fb.create("items", {"name": "Old thing"}, idempotency_key="k")
    fb.archive("items", created.key)
    (got,) = fb.get("items", [created.key])
    assert got.fields["vis_state"] == 2 and not got.deleted
    with pytest.raises(UnsupportedError):
        fb.archive("taxes", "1")
    with pytest.raises(UnsupportedError):
        fb.create("balance_sheet", {}, idempotency_key="k")


def test_validation_error_names_the_field(sandbox: Any, fb: FreshBooksConnector) -> None:
    with pytest.raises(ValidationError) as info:
        fb.create("invoices", {"create_date": date(2026, 1, 1)}, idempotency_key="k")
    assert info.value.field == "customerid"
    with pytest.raises(ValidationError) as server_side:
        fb.create("clients", {"email": "not-an-email", "fname": "X"}, idempotency_key="k")
    assert server_side.value.field == "email"


def test_missing_records_are_absent_from_get(fb: FreshBooksConnector) -> None:
    assert fb.get("clients", ["999999"]) == []
    assert fb.get("projects", ["999999"]) == []


def test_read_only_objects(sandbox: Any, fb: FreshBooksConnector) -> None:
    def pull(obj: str) -> list[Record]:
        pages = list(fb.changes(obj, None))
        assert all(p.full for p in pages)
        return [r for p in pages for r in p.records]

    (account,) = pull("account")
    assert account.key == str(sandbox.business_id)
    assert account.fields["account_id"] == sandbox.account_id
    assert account.fields["business_uuid"] == sandbox.business_uuid
    accounts = pull("accounts")
    assert accounts and all(r.key for r in accounts)
    # one report per currency in use: the base currency (USD) and every client's
    in_use = {str(c.fields["currency_code"]) for c in pull("clients")} | {"USD"}
    sheets = pull("balance_sheet")
    assert sorted(s.key.rpartition(":")[2] for s in sheets) == sorted(in_use)
    assert all(s.fields["assets_total"].currency == s.key.rpartition(":")[2] for s in sheets)
    flows = pull("cash_flow")
    assert sorted(f.key.rpartition(":")[2] for f in flows) == sorted(in_use)
    assert all(isinstance(f.fields["summary"]["net_cash_change"], Money) for f in flows)
    assert not fb.objects()["cash_flow"].can(Capability.CREATE)


@pytest.mark.parametrize("obj", [c.obj for c in CASES])
def test_get_and_changes_show_the_same_record(obj: str, fb: FreshBooksConnector) -> None:
    """The same record must hash the same whether listed or fetched, or every sync sees a change."""
    from syncengine.records import fields_hash

    listed = [r for page in fb.changes(obj, None) for r in page.records][:3]
    assert listed
    fetched = {r.key: r for r in fb.get(obj, [r.key for r in listed])}
    for record in listed:
        assert fields_hash(fetched[record.key].fields) == fields_hash(record.fields), record.key
        assert fetched[record.key].updated_at == record.updated_at


def test_find_clients_by_email(sandbox: Any, fb: FreshBooksConnector) -> None:
    emails = [row["email"] for row in sandbox.state.list("clients")[:2]]
    found = fb.find("clients", "email", [*emails, "nobody@example.test"])
    assert sorted(r.fields["email"] for r in found) == sorted(emails)
    assert fb.find("items", "sku", ["x"]) == []
