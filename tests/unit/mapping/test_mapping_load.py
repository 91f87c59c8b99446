"""load_mapping: sources, all mistakes at once, positions, and the pinned public API."""

from __future__ import annotations

from pathlib import Path

import pytest

import syncengine.mapping as mapping
from syncengine.errors import ConfigErrors
from syncengine.mapping import load_mapping
from tests.fixtures.mappings.helpers import load
from tests.fixtures.mappings.specs import LEFT_SPECS, RIGHT_SPECS

GOOD = Path(__file__).parents[2] / "fixtures" / "mappings" / "good.yaml"


def test_public_api_is_pinned() -> None:
    assert set(mapping.__all__) == {
        "NO_REFS",
        "CompiledMapping",
        "FieldMapping",
        "PairMapping",
        "RecordMappingError",
        "RefResolver",
        "Side",
        "Transform",
        "UnresolvedRef",
        "load_mapping",
    }


def test_loads_from_path_str_path_and_text() -> None:
    by_path = load_mapping(GOOD, LEFT_SPECS, RIGHT_SPECS)
    by_str = load_mapping(str(GOOD), LEFT_SPECS, RIGHT_SPECS)
    by_text = load_mapping(GOOD.read_text(), LEFT_SPECS, RIGHT_SPECS, source_name="mine.yaml")
    assert [p.name for p in by_path.pairs] == [p.name for p in by_str.pairs] == [p.name for p in by_text.pairs]
    assert by_path.source == str(GOOD) and by_text.source == "mine.yaml"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml", LEFT_SPECS, RIGHT_SPECS)


def test_text_errors_use_the_source_name() -> None:
    with pytest.raises(ConfigErrors) as caught:
        load("pairs: 3\n")
    (error,) = caught.value.errors
    assert error.file == "test.yaml" and (error.line, error.column) == (1, 8)
    assert str(error).startswith("test.yaml:1:8: pairs must be a list")


def test_every_mistake_of_every_pair_is_reported_in_file_order() -> None:
    text = """pairs:
  - name: contacts
    left: contacts
    right: people
    colour: red
    fields:
      - {left: emial, right: email}
  - name: companies
    left: companys
    right: orgs
    direction: right_to_left
    deletes: ignore
    fields:
      - {left: name, right: title}
  - name: other
    left: companies
    right: orgs
    direction: right_to_left
    deletes: ignore
    fields:
      - {left: name, right: titel, transform: {wat: 1}}
"""
    with pytest.raises(ConfigErrors) as caught:
        load(text)
    where = [(e.line, e.column) for e in caught.value.errors]
    assert where == sorted(where)
    messages = " | ".join(e.message for e in caught.value.errors)
    for part in ("unknown key 'colour'", "unknown field 'emial'", "unknown left object 'companys'",
                 "unknown field 'titel'", "unknown transform 'wat'"):
        assert part in messages


def test_match_list_and_single_rule() -> None:
    text = """pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    match: [{left: email, right: email}, {left: last_name, right: lname}]
    fields:
      - {left: email, right: email}
"""
    assert load(text).pairs[0].match == [("email", "email"), ("last_name", "lname")]


def test_extra_key_in_match_rule_points_at_the_key() -> None:
    text = """pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    match: {left: email, right: email, rigth: x}
    fields:
      - {left: email, right: email}
"""
    with pytest.raises(ConfigErrors) as caught:
        load(text)
    (error,) = caught.value.errors
    assert (error.line, error.column) == (6, 40)
    assert "unknown key 'rigth' in match rule" in error.message


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ("{money: {right: cents}}", "money right must be one of money, minor, decimal, not 'cents'"),
        ("{money: {right: minor, currency: dollars}}", "is not an ISO 4217 code"),
        ("{datetime: {left: '%Q'}}", "bad datetime format"),
        ("{datetime: {left: iso, left_format: iso}}", "give left or left_format, not both"),
        ("{map: {}}", "map is empty"),
        ("{upper: yes}", "upper takes no arguments"),
        ("{default: [1]}", "default takes a single value"),
        ("{map: {a: b}, default: x, extra: 1}", "'map' does not take 'extra'"),
        ("{lower: null, upper: null}", "does not take 'upper'"),
        ("[lower, 3]", "a transform is a name or a mapping"),
    ],
)
def test_bad_transform_arguments(transform: str, message: str) -> None:
    text = f"""pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    fields:
      - {{left: balance, right: balance_cents, transform: {transform}}}
"""
    with pytest.raises(ConfigErrors) as caught:
        load(text)
    assert any(message in e.message for e in caught.value.errors), [str(e) for e in caught.value.errors]
    assert all(e.line == 7 for e in caught.value.errors)


def test_anchors_under_x_keys_share_settings_between_pairs() -> None:
    text = """x-defaults: &defaults
  direction: right_to_left
  deletes: ignore
pairs:
  - name: companies
    <<: *defaults
    left: companies
    right: orgs
    fields:
      - {left: name, right: title}
"""
    pair = load(text).pairs[0]
    assert (pair.direction, pair.deletes) == ("right_to_left", "ignore")


def test_a_mistake_reached_through_an_alias_is_reported_once() -> None:
    text = """pairs:
  - name: contacts
    left: contacts
    right: people
    deletes: ignore
    fields: &fields
      - {left: emial, right: email}
  - name: again
    left: contacts
    right: people
    deletes: ignore
    fields: *fields
"""
    with pytest.raises(ConfigErrors) as caught:
        load(text)
    assert [(e.line, e.column) for e in caught.value.errors] == [(7, 16)]
