"""Every malformed fixture fails with exactly the errors its ``# expect: L:C text`` lines name.

The fixtures are self-describing so the CLI tests (``syncengine validate`` exits 2) can reuse them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncengine.errors import ConfigErrors
from syncengine.mapping import load_mapping
from tests.fixtures.mappings.helpers import expectations
from tests.fixtures.mappings.specs import LEFT_SPECS, RIGHT_SPECS

FIXTURES = Path(__file__).parents[2] / "fixtures" / "mappings"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def test_there_are_enough_bad_fixtures() -> None:
    assert len(BAD) >= 12


def test_the_good_fixture_loads() -> None:
    mapping = load_mapping(FIXTURES / "good.yaml", LEFT_SPECS, RIGHT_SPECS)
    assert [p.name for p in mapping.pairs] == ["companies", "contacts"]


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_fixture_reports_what_it_expects(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} must start with '# expect: L:C text'"
    with pytest.raises(ConfigErrors) as caught:
        load_mapping(path, LEFT_SPECS, RIGHT_SPECS)
    errors = caught.value.errors
    got = [f"{e.line}:{e.column} {e.message}" for e in errors]
    for line, column, text in expected:
        assert any(e.line == line and e.column == column and text in e.message for e in errors), (
            f"{path.name}: no error at {line}:{column} containing {text!r}; got {got}"
        )
    assert len(errors) == len(expected), f"{path.name}: unexpected extra errors {got}"
    assert all(e.file == str(path) for e in errors)
