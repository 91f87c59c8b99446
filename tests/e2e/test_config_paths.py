"""A config runs the same from any folder: ready mappings by name, relative paths from the config's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncengine.config import load_config, ready_mappings
from syncengine.errors import ConfigErrors

ROOT = Path(__file__).resolve().parents[2]


def _syncengine(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncengine", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def test_the_ready_mappings_are_installed_by_name() -> None:
    ready = ready_mappings()
    assert {"freshbooks-sqldb", "freshbooks-csv"} <= set(ready)
    assert ready["freshbooks-sqldb"].read_text() == (ROOT / "mappings" / "freshbooks-sqldb.yaml").read_text()


@pytest.mark.parametrize("example", ["freshbooks-sqldb", "freshbooks-csv"])
def test_an_example_copied_elsewhere_validates_and_keeps_its_data_beside_itself(example: str, tmp_path: Path) -> None:
    project = tmp_path / "books"
    project.mkdir()
    shutil.copy(ROOT / "examples" / f"{example}.yaml", project / "config.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_") and k != "SYNCENGINE_LEDGER_URL"}
    env.update(FRESHBOOKS_CLIENT_ID="id", FRESHBOOKS_CLIENT_SECRET="secret")
    done = _syncengine("validate", "-c", str(project / "config.yaml"), cwd=elsewhere, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok pipeline" in done.stdout
    assert list(elsewhere.iterdir()) == [], "nothing is written in the working directory"
    assert any(p.name.endswith("ledger.db") for p in project.iterdir()), "the ledger is beside the config"


def test_an_unknown_ready_mapping_and_an_old_relative_path_say_what_to_write(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "connectors:\n  a: {type: csvfile, objects: {c: {path: a.csv}}}\n"
        "  b: {type: csvfile, objects: {c: {path: b.csv}}}\n"
        "pipelines:\n"
        "  - {name: one, left: a, right: b, mapping: freshbooks-sqdb}\n"
        "  - {name: two, left: a, right: b, mapping: ../mappings/freshbooks-sqldb.yaml}\n"
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(config)
    first, second = (str(e) for e in caught.value.errors)
    assert "no ready mapping named 'freshbooks-sqdb'" in first and "freshbooks-sqldb" in first
    assert f"{config}:5:45:" in first
    assert "does not exist" in second and "write `mapping: freshbooks-sqldb`" in second


def test_the_starter_run_from_another_folder_writes_only_beside_its_config(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _syncengine("init", str(project), cwd=tmp_path).returncode == 0
    done = _syncengine("sync", "-c", str(project / "config.yaml"), cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(elsewhere.iterdir()) == []
    assert {"syncengine.db", "clients.db", "clients.csv"} <= {p.name for p in project.iterdir()}
