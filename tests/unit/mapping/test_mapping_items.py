"""``items``: arrays of objects mapped item by item (FreshBooks lines <-> Stripe lines)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncengine.connector import Capability, FieldSpec, ObjectSpec
from syncengine.errors import ConfigErrors
from syncengine.mapping import NO_REFS, load_mapping
from syncengine.records import Money

_CAPS = frozenset({Capability.LIST, Capability.GET, Capability.CREATE, Capability.UPDATE})


def _spec(name: str, lines: FieldSpec) -> ObjectSpec:
    return ObjectSpec(name, "id", _CAPS, {"id": FieldSpec("id", read_only=True), "lines": lines})


LEFT = {"invoices": _spec("invoices", FieldSpec("lines", "array", fields={
    "lineid": FieldSpec("lineid", "integer", read_only=True),
    "name": FieldSpec("name"),
    "qty": FieldSpec("qty", "decimal"),
    "unit_cost": FieldSpec("unit_cost", "money"),
}))}
RIGHT = {"invoices": _spec("invoices", FieldSpec("lines", "array", fields={
    "description": FieldSpec("description"),
    "quantity": FieldSpec("quantity", "integer"),
    "unit_amount": FieldSpec("unit_amount", "money"),
    "amount": FieldSpec("amount", "money", read_only=True),
}))}

MAPPING = """pairs:
  - name: invoices
    left: invoices
    right: invoices
    deletes: ignore
    fields:
      - left: lines
        right: lines
        transform:
          items:
            fields:
              - {left: name, right: description, transform: upper}
              - {left: qty, right: quantity}
              - {left: unit_cost, right: unit_amount}
"""

FRESHBOOKS_LINES = [
    {"lineid": 1, "name": "Design", "qty": Decimal("2.00"), "unit_cost": Money(Decimal("150.00"), "USD")},
    {"lineid": 2, "name": "Hosting", "qty": Decimal("1"), "unit_cost": Money(Decimal("9.50"), "USD")},
]
STRIPE_LINES = [
    {"description": "DESIGN", "quantity": 2, "unit_amount": Money(Decimal("150.00"), "USD"),
     "amount": Money(Decimal("300.00"), "USD")},
    {"description": "HOSTING", "quantity": 1, "unit_amount": Money(Decimal("9.50"), "USD"),
     "amount": Money(Decimal("9.50"), "USD")},
]


def test_lines_project_to_the_same_common_value_from_both_sides() -> None:
    pair = load_mapping(MAPPING, LEFT, RIGHT, source_name="m.yaml").pair("invoices")
    left = pair.project("left", {"id": 1, "lines": FRESHBOOKS_LINES}, NO_REFS)
    right = pair.project("right", {"id": "in_1", "lines": STRIPE_LINES}, NO_REFS)
    assert left == right == {"lines": [
        {"name": "DESIGN", "qty": 2, "unit_cost": Money(Decimal("150.00"), "USD")},
        {"name": "HOSTING", "qty": 1, "unit_cost": Money(Decimal("9.50"), "USD")},
    ]}


def test_lines_render_both_ways_with_each_sides_names() -> None:
    pair = load_mapping(MAPPING, LEFT, RIGHT, source_name="m.yaml").pair("invoices")
    common = pair.project("left", {"lines": FRESHBOOKS_LINES}, NO_REFS)
    assert pair.render("right", common, ["lines"], NO_REFS) == {"lines": [
        {"description": "DESIGN", "quantity": 2, "unit_amount": Money(Decimal("150.00"), "USD")},
        {"description": "HOSTING", "quantity": 1, "unit_amount": Money(Decimal("9.50"), "USD")},
    ]}
    back = pair.render("left", pair.project("right", {"lines": STRIPE_LINES}, NO_REFS), ["lines"], NO_REFS)
    assert back == {"lines": [
        {"name": "DESIGN", "qty": 2, "unit_cost": Money(Decimal("150.00"), "USD")},
        {"name": "HOSTING", "qty": 1, "unit_cost": Money(Decimal("9.50"), "USD")},
    ]}


def test_a_fractional_quantity_is_kept_exact() -> None:
    pair = load_mapping(MAPPING, LEFT, RIGHT, source_name="m.yaml").pair("invoices")
    common = pair.project("left", {"lines": [{"name": "x", "qty": "1.50", "unit_cost": None}]}, NO_REFS)
    assert common == {"lines": [{"name": "X", "qty": Decimal("1.5"), "unit_cost": None}]}


def _errors(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_mapping(text, LEFT, RIGHT, source_name="m.yaml")
    return [str(e) for e in caught.value.errors]


def test_an_unknown_item_field_is_named_with_file_and_line() -> None:
    errors = _errors(MAPPING.replace("right: quantity", "right: qty"))
    assert len(errors) == 1
    assert errors[0].startswith("m.yaml:") and "unknown item field 'qty'" in errors[0]
    assert "quantity" in errors[0]  # the hint lists what each item has


def test_item_field_mistakes_point_at_their_line() -> None:
    bad = MAPPING.replace("{left: qty, right: quantity}", "{left: qty, rigth: quantity}")
    errors = _errors(bad)
    assert any(e.startswith("m.yaml:13:") and "'rigth'" in e and "right" in e for e in errors), errors
    errors = _errors(MAPPING.replace("transform: upper}", "transform: uper}"))
    assert any(e.startswith("m.yaml:12:") and "unknown transform 'uper'" in e for e in errors), errors
    errors = _errors(MAPPING.replace("            fields:\n", "            feilds:\n"))
    assert errors and all(e.startswith("m.yaml:") for e in errors)
    assert any("items takes" in e for e in errors), errors


def test_items_on_a_field_that_is_not_a_list_is_refused() -> None:
    left = {"invoices": _spec("invoices", FieldSpec("lines", "string"))}
    with pytest.raises(ConfigErrors, match="items maps each item of a list"):
        load_mapping(MAPPING, left, RIGHT, source_name="m.yaml")
