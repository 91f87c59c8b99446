"""The CLI's contract with operators: bad config or mapping -> file:line:col and exit code 2."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import syncengine.config as config_module
from syncengine.cli import app
from syncengine.connector import BaseConnector, ObjectSpec
from syncengine.plugins import ConnectorPlugin
from tests.fixtures.mappings.helpers import expectations
from tests.fixtures.mappings.specs import left_specs, right_specs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mappings"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


class SpecOnlyConnector(BaseConnector):
    """A connector that only describes objects: enough for `validate`."""

    def __init__(self, name: str, specs: Mapping[str, ObjectSpec]) -> None:
        self.name = name
        self._specs = specs

    def objects(self) -> Mapping[str, ObjectSpec]:
        return self._specs


def _fixture_factory(name: str, options: Mapping[str, Any], **_: Any) -> SpecOnlyConnector:
    return SpecOnlyConnector(name, left_specs() if options["side"] == "left" else right_specs())


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    real = config_module.connector_types()
    monkeypatch.setattr(config_module, "connector_types",
                        lambda: {**real, "fixture": ConnectorPlugin("fixture", _fixture_factory)})
    return CliRunner()


def write_config(tmp_path: Path, mapping: Path, extra: str = "") -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
        "connectors:\n  crm: {type: fixture, side: left}\n  billing: {type: fixture, side: right}\n"
        f"pipelines:\n  - {{name: p, left: crm, right: billing, mapping: \"{mapping}\"}}\n{extra}"
    )
    return config


def test_good_mapping_validates(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(write_config(tmp_path, FIXTURES / "good.yaml"))])
    assert result.exit_code == 0, result.output
    assert "ok pipeline p: 2 pairs" in result.output


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_mapping_names_file_line_column_and_exits_2(runner: CliRunner, tmp_path: Path, path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(write_config(tmp_path, path))])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    for line, column, text in expectations(path):
        assert f"{path}:{line}:{column}: " in output, output
        assert " ".join(text.split()) in output


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["sync"], ["status"]])
def test_config_mistakes_exit_2_with_their_position(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    config = write_config(tmp_path, FIXTURES / "good.yaml", "safty: {max_delete_fraction: 2}\n")
    result = runner.invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:7:1: unknown key 'safty' (did you mean 'safety'?)" in " ".join(result.output.split())


def test_unknown_connector_type_is_suggested(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("connectors:\n  a:\n    type: csvfle\npipelines: []\n")
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:3:11: unknown connector type 'csvfle' (did you mean 'csvfile'?)" in " ".join(
        result.output.split())


def test_missing_config_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read config" in result.output


def test_init_writes_a_starter_that_validates(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} >= {"config.yaml", "clients.mapping.yaml", "clients.csv"}
    validated = runner.invoke(app, ["validate", "-c", str(tmp_path / "config.yaml")])
    assert validated.exit_code == 0, validated.output
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert "exists" in again.output


def test_bracketed_text_is_printed_as_text_not_markup(runner: CliRunner, tmp_path: Path) -> None:
    config = write_config(tmp_path, FIXTURES / "good.yaml", '"[/oops]": 1\n')
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "unknown key '[/oops]'" in result.output


def test_plan_shows_values_that_look_like_markup(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    csv_file = tmp_path / "clients.csv"
    csv_file.write_text(csv_file.read_text().replace("Ada,Lovelace", "[/b] Ada,[red]Lovelace"))
    result = runner.invoke(app, ["plan", "-c", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0, result.output
    cells = " ".join(part.strip(" │") for part in result.output.splitlines())  # the table wraps long cells
    assert "[/b] Ada" in cells and "[red]Lovelace" in cells
