"""The README's table of environment variables lists every one the code reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: a name in quotes or in ${...}: read from the environment (a bare identifier is a Python constant)
_READ = re.compile(r"""(?:["'{]|\$\{)((?:SYNCENGINE|FRESHBOOKS)_[A-Z0-9_]+)""")
_PLACES = ("syncengine", "connectors", "examples", "mappings", "tests", "bench", "demo", "config.example.yaml",
           "Makefile", ".ci")


def names_in_code() -> set[str]:
    found: set[str] = set()
    for place in _PLACES:
        path = ROOT / place
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            if file.suffix not in (".py", ".yaml", ".yml", "") or file.name == Path(__file__).name:
                continue
            found |= set(_READ.findall(file.read_text(encoding="utf-8", errors="replace")))
    return found


def names_in_readme() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("### Environment variables"):]
    table = table[: table.index("\n\n", table.index("| variable |"))]
    return {name for row in table.splitlines() if row.startswith("| `")
            for name in re.findall(r"`((?:SYNCENGINE|FRESHBOOKS)_[A-Z0-9_]+)`", row.split("|")[1])}


def test_every_environment_variable_is_in_the_readme_table() -> None:
    code, readme = names_in_code(), names_in_readme()
    assert "SYNCENGINE_SECRET_KEY" in code and "FRESHBOOKS_CLIENT_ID" in code
    assert not code - readme, f"read by the code but missing from README.md's table: {sorted(code - readme)}"
    assert not readme - code, f"in README.md's table but read nowhere: {sorted(readme - code)}"
