"""The engine knows no vendor: nothing under syncengine/ imports a connector package."""

from __future__ import annotations

import ast
from pathlib import Path

from typer.testing import CliRunner

import syncengine
from syncengine.cli import app

ENGINE = Path(syncengine.__file__).parent


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.append(arg.value)
    return names


def test_no_module_under_syncengine_imports_a_connector_package() -> None:
    offenders = [
        f"{path.relative_to(ENGINE.parent)}: {name}"
        for path in sorted(ENGINE.rglob("*.py"))
        for name in _imported_modules(path)
        if name == "connectors" or name.startswith("connectors.")
    ]
    assert offenders == []


def test_auth_and_sandbox_list_the_plugin_commands() -> None:
    runner = CliRunner()
    auth = runner.invoke(app, ["auth", "-h"], terminal_width=120)
    sandbox = runner.invoke(app, ["sandbox", "-h"], terminal_width=120)
    assert auth.exit_code == 0 and sandbox.exit_code == 0
    assert "freshbooks" in auth.output
    assert "freshbooks" in sandbox.output and "stripe" in sandbox.output
