"""docs/freshbooks-mappings.md: the ready FreshBooks mappings, field by field (generated).

    python -m connectors.freshbooks.mapping_docs > docs/freshbooks-mappings.md
"""

from __future__ import annotations

from pathlib import Path

from connectors.freshbooks.specs import RESOURCES
from syncengine.mapping.describe import describe_mapping

__all__ = ["render"]

ROOT = Path(__file__).resolve().parents[2]

HEADER = """# The ready FreshBooks mappings, field by field

Generated from `mappings/freshbooks-sqldb.yaml`, `mappings/freshbooks-csv.yaml` and the FreshBooks
object specs by `python -m connectors.freshbooks.mapping_docs`; a test keeps this file in step.
Flows: ⇄ both ways, → FreshBooks to the other side only. Money travels as a decimal column plus
the record's `currency` column; `ref` translates a FreshBooks id into the other side's key of the
linked record. Read-only FreshBooks fields (ids, totals, statuses) flow one way.
"""


def render() -> str:
    specs = {name: resource.spec for name, resource in RESOURCES.items()}
    parts = [HEADER]
    for title, path, right in (("FreshBooks <-> SQL database", "mappings/freshbooks-sqldb.yaml", "table"),
                               ("FreshBooks <-> CSV files", "mappings/freshbooks-csv.yaml", "CSV")):
        parts.append(f"## {title} (`{path}`)\n")
        parts.append(describe_mapping(ROOT / path, specs, left_name="FreshBooks", right_name=right))
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
