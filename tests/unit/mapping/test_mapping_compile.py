"""project / render / match_key of compiled pairs, with directions, nested paths and refs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from syncengine.mapping import NO_REFS, RecordMappingError, UnresolvedRef, load_mapping
from syncengine.records import Money
from tests.fixtures.mappings.helpers import FakeLinks, load
from tests.fixtures.mappings.specs import LEFT_SPECS, RIGHT_SPECS

GOOD = Path(__file__).parents[2] / "fixtures" / "mappings" / "good.yaml"


@pytest.fixture
def contacts():  # type: ignore[no-untyped-def]
    return load_mapping(GOOD, LEFT_SPECS, RIGHT_SPECS).pair("contacts")


LEFT = {
    "id": 1,
    "email": " Ann@Example.com",
    "first_name": "Ann",
    "last_name": None,
    "country": "ca",
    "company_id": 7,
    "balance": {"amount": "10.5", "code": "USD"},
    "status": "2",
    "birthday": "2001-02-03",
    "updated_at": "2024-07-01 09:30:00",
}


def test_pair_attributes(contacts) -> None:  # type: ignore[no-untyped-def]
    assert contacts.left_object == "contacts" and contacts.right_object == "people"
    assert (contacts.direction, contacts.conflict, contacts.deletes) == ("both", "newest_wins", "propagate")
    assert contacts.match == [("email", "email")]
    assert contacts.refs == {"companies"}
    names = [f.name for f in contacts.fields]
    assert names[:3] == ["email", "given_name", "last_name"]
    updated = contacts.field("updated_at")
    assert updated.flows_from("left") and not updated.flows_from("right")
    assert updated.flows_to("right") and not updated.flows_to("left")


def test_both_sides_of_an_unchanged_pair_project_equal(contacts, links: FakeLinks) -> None:  # type: ignore[no-untyped-def]
    common = contacts.project("left", LEFT, links)
    assert common["email"] == " ann@example.com"
    assert common["last_name"] == "Unknown"
    assert common["country"] == "CA"
    assert common["company_id"] == "7"
    assert common["balance"] == Money(Decimal("10.50"), "USD")
    assert common["status"] == "sent"
    right = contacts.render("right", common, [f.name for f in contacts.fields], links)
    assert right["org_id"] == "org_7"
    assert right["balance_cents"] == 1050 and right["currency"] == "USD"
    assert right["modified"] == "2024-07-01T13:30:00+00:00"
    assert contacts.project("right", right, links) == common


def test_project_fills_missing_fields_with_none(contacts) -> None:  # type: ignore[no-untyped-def]
    common = contacts.project("right", {"email": "x@y"}, NO_REFS)
    assert set(common) == {f.name for f in contacts.fields}
    assert common["given_name"] is None and common["balance"] is None
    assert common["last_name"] == "Unknown" and common["country"] == "US"  # defaults


def test_render_skips_fields_that_do_not_flow_to_the_side(contacts, links: FakeLinks) -> None:  # type: ignore[no-untyped-def]
    common = contacts.project("left", LEFT, links)
    left = contacts.render("left", common, ["updated_at", "email"], links)
    assert left == {"email": " ann@example.com"}


def test_render_ignores_names_the_pair_does_not_map(contacts) -> None:  # type: ignore[no-untyped-def]
    assert contacts.render("left", {"nope": 1, "email": "e"}, ["nope", "email"], NO_REFS) == {"email": "e"}
    with pytest.raises(ValueError, match="side must be"):
        contacts.project("middle", {}, NO_REFS)


def test_record_errors_name_pair_side_and_field(contacts, links: FakeLinks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnresolvedRef) as caught:
        contacts.project("right", {"org_id": "org_404"}, links)
    assert (caught.value.pair, caught.value.side, caught.value.field) == ("contacts", "right", "company_id")
    with pytest.raises(RecordMappingError) as bad:
        contacts.project("left", {"balance": 10.5}, links)
    assert bad.value.field == "balance" and "expected money" in str(bad.value)


NESTED = """
pairs:
  - name: companies
    left: companies
    right: orgs
    direction: right_to_left
    deletes: ignore
    fields:
      - {left: name, right: title}
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    match:
      - {left: email, right: email}
      - {left: company_id, right: org_id}
    fields:
      - {name: amount, left: balance.amount, right: balance_cents}
      - {name: cur, left: balance.currency, right: currency, transform: upper}
      - {left: email, right: email, transform: lower}
      - {left: company_id, right: org_id, transform: {ref: companies}}
"""


def test_render_builds_nested_payloads_and_keeps_current_siblings() -> None:
    pair = load(NESTED).pair("contacts")
    common = {"amount": Decimal("5"), "cur": "EUR"}
    assert pair.render("left", common, ["amount"], NO_REFS) == {"balance": {"amount": Decimal("5")}}
    current = {"balance": {"amount": "1", "currency": "EUR", "note": "kept"}}
    out = pair.render("left", common, ["amount"], NO_REFS, current=current)
    assert out == {"balance": {"amount": Decimal("5"), "currency": "EUR", "note": "kept"}}
    assert current["balance"]["amount"] == "1"  # the caller's record is not touched
    assert pair.project("left", {"balance": Money(Decimal("3"), "gbp")}, NO_REFS)["cur"] == "GBP"


def test_match_key_normalises_and_translates_refs(links: FakeLinks) -> None:
    pair = load(NESTED).pair("contacts")
    left = pair.match_key("left", {"email": "  Ann@X.com ", "company_id": 7}, links)
    right = pair.match_key("right", {"email": "ann@x.com", "org_id": "org_7"}, links)
    assert left == right == ("ann@x.com", "7")
    assert pair.match_key("left", {"email": "ann@x.com"}, links) is None
    assert pair.match_key("left", {"email": "", "company_id": 7}, links) is None
    with pytest.raises(UnresolvedRef):
        pair.match_key("right", {"email": "a", "org_id": "org_unknown"}, links)


def test_match_key_is_none_without_a_rule() -> None:
    pair = load(NESTED).pair("companies")
    without = NESTED.replace("      - {left: email, right: email}\n      - {left: company_id, right: org_id}\n", "")
    pair_without = load(without.replace("    match:\n", "")).pair("contacts")
    assert pair.match == [] and pair.match_key("left", {"name": "x"}, NO_REFS) is None
    assert pair_without.match_key("left", {"email": "x"}, NO_REFS) is None


def test_money_currency_field_is_written_only_when_not_mapped() -> None:
    text = """
pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    fields:
      - {left: balance, right: balance_cents, transform: {money: {right: minor, currency_field: currency}}}
"""
    pair = load(text).pair("contacts")
    out = pair.render("right", {"balance": Money(Decimal("12"), "JPY")}, ["balance"], NO_REFS)
    assert out == {"balance_cents": 12, "currency": "JPY"}
    mapped = load(text + "      - {name: cur, left: country, right: currency}\n").pair("contacts")
    out = mapped.render("right", {"balance": Money(Decimal("12"), "JPY")}, ["balance"], NO_REFS)
    assert out == {"balance_cents": 12}


def test_pairs_come_after_the_pairs_they_ref() -> None:
    mapping = load(NESTED)
    assert [p.name for p in mapping.pairs] == ["companies", "contacts"]
    swapped = NESTED.replace("  - name: companies", "  - name: zzz", 1).replace("ref: companies", "ref: zzz")
    reordered = "pairs:\n" + swapped.split("pairs:\n", 1)[1]
    assert [p.name for p in load(reordered).pairs] == ["zzz", "contacts"]


def test_per_field_direction_narrows_the_pair() -> None:
    text = """
pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    fields:
      - {left: email, right: email}
      - {left: first_name, right: fname, direction: left_to_right}
      - {left: last_name, right: lname, direction: right_to_left}
"""
    pair = load(text).pair("contacts")
    directions = {f.name: (f.flows_from("left"), f.flows_from("right")) for f in pair.fields}
    assert directions == {
        "email": (True, True),
        "first_name": (True, False),
        "last_name": (False, True),
    }
    common = {"email": "e", "first_name": "f", "last_name": "l"}
    names = ["email", "first_name", "last_name"]
    assert pair.render("right", common, names, NO_REFS) == {"email": "e", "fname": "f"}
    assert pair.render("left", common, names, NO_REFS) == {"email": "e", "last_name": "l"}


def test_currency_field_is_not_written_when_read_only() -> None:
    from dataclasses import replace

    from syncengine.connector import FieldSpec

    people = RIGHT_SPECS["people"]
    fields = dict(people.fields)
    fields["currency"] = FieldSpec("currency", "string", read_only=True)
    right = {**RIGHT_SPECS, "people": replace(people, fields=fields)}
    text = """
pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    fields:
      - {left: balance, right: balance_cents, transform: {money: {right: minor, currency_field: currency}}}
"""
    pair = load_mapping(text, LEFT_SPECS, right).pair("contacts")
    out = pair.render("right", {"balance": Money(Decimal("1"), "USD")}, ["balance"], NO_REFS)
    assert out == {"balance_cents": 100}
