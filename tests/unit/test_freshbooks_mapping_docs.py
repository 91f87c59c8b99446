"""docs/freshbooks-mappings.md is generated from the ready mappings; it must match them."""

from __future__ import annotations

from pathlib import Path

from connectors.freshbooks.mapping_docs import render

DOC = Path(__file__).parents[2] / "docs" / "freshbooks-mappings.md"


def test_the_field_reference_matches_the_mappings() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m connectors.freshbooks.mapping_docs > docs/freshbooks-mappings.md"
    )


def test_every_mapped_field_is_documented() -> None:
    text = render()
    for name in ("`customerid`", "`client_id`", "`ref: clients`", "`lines`", "### balance_sheet", "### cash_flow",
                 "### time_entries"):
        assert name in text, name
