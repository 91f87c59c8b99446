"""Issue 7, point 9: the FreshBooks client rate limit is stated with one value wherever an example
or a doc shows it (once 600/min in examples/ and the README, 100/min in the connector's README)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PLACES = ["README.md", "config.example.yaml", "connectors/freshbooks/README.md", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yaml"))]


def test_every_place_shows_the_same_rate_limit() -> None:
    values: dict[str, set[str]] = {}
    for place in PLACES:
        text = (ROOT / place).read_text(encoding="utf-8")
        for value in re.findall(r"rate_limit_per_minute:\s*(?:\$\{FRESHBOOKS_RATE_LIMIT:-)?(\d+)", text):
            values.setdefault(value, set()).add(place)
    assert len(values) == 1, f"rate_limit_per_minute is shown with several values: {values}"


def test_the_default_is_said_to_be_none_and_is_none() -> None:
    import inspect

    from connectors.freshbooks.connector import FreshBooksConnector

    for place in ("README.md", "connectors/freshbooks/README.md", "config.example.yaml"):
        lines = [line for line in (ROOT / place).read_text(encoding="utf-8").splitlines()
                 if re.search(r"rate_limit_per_minute:\s*\d", line)]
        assert lines and all("default: none" in line for line in lines), (place, lines)
    default = inspect.signature(FreshBooksConnector).parameters["rate_limit_per_minute"].default
    assert default is None
