"""The README's configuration table and the config schema name the same keys, both ways.

A key documented but refused by ``load_config`` sends an operator to an error; a key accepted but
undocumented is one nobody can find. Issue 7 found the FreshBooks rate limit stated three ways.
"""

from __future__ import annotations

import re
from pathlib import Path

from syncengine import config as config_module
from syncengine.config import connector_types
from syncengine.workers import settings as worker_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _documented() -> set[str]:
    """Every key path in the README's configuration table, with ``a / b`` shorthands expanded."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Configuration (`config.yaml`)"):text.index("### Environment variables")]
    keys: set[str] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        names = re.findall(r"`([^`]+)`", cell)
        prefix = names[0].rsplit(".", 1)[0] + "." if "." in names[0] else ""
        keys.add(names[0])
        keys.update(prefix + name for name in names[1:])
    return keys


def _schema() -> set[str]:
    keys = {"ledger", "connectors.NAME.type"}
    sections = {
        "pipelines[]": config_module._PIPELINE_KEYS,
        "safety": config_module._SAFETY_KEYS,
        "daemon": config_module._DAEMON_KEYS,
        "workers": worker_settings._KEYS,
    }
    for section, names in sections.items():
        keys.update(f"{section}.{name}" for name in names)
    assert set(config_module._TOP_KEYS) == {"ledger", "connectors", "pipelines", "safety", "daemon", "workers"}
    return keys


def test_every_documented_key_exists_and_every_key_is_documented() -> None:
    documented, schema = _documented(), _schema()
    assert documented - schema == set(), "documented in the README but refused by the config"
    assert schema - documented == set(), "accepted by the config but not in the README's table"


def test_the_connector_types_the_readme_names_are_the_installed_ones() -> None:
    text = README.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `connectors.NAME.type`"))
    named = set(re.findall(r"`([a-z]+)`", row.split("|")[2]))
    assert named == set(connector_types())
