"""Issue 7, point 10: each bad input gets exit code 2 and one line naming the file and what to do,
through the installed ``syncengine`` command (a real subprocess), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SYNCENGINE = str(Path(sys.executable).parent / "syncengine")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCENGINE_")}
    env["SYNCENGINE_SECRET_KEY_FILE"] = str(cwd / "secret.key")
    return subprocess.run([SYNCENGINE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join(["*" + chr(96 + i)] * 9) + "]")
    return "\n".join(lines) + "\n"


def _sub(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


CASES: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "csv invalid utf-8": (lambda d: (d / "clients.csv").write_bytes(b"id,email\n\xff\xfe bad\n"),
                          "clients.csv", "not utf-8 text"),
    "csv binary": (lambda d: (d / "clients.csv").write_bytes(bytes(range(256)) * 4), "clients.csv",
                   "binary data, not CSV text"),
    "csv 0 bytes": (lambda d: (d / "clients.csv").write_bytes(b""), "clients.csv", "empty (0 bytes)"),
    "csv missing": (lambda d: (d / "clients.csv").unlink(), "clients.csv", "does not exist"),
    "csv missing, create false": (lambda d: (_sub(d / "config.yaml", "        path: clients.csv",
                                                   "        path: clients.csv\n        create: false"),
                                              (d / "clients.csv").unlink()),
                                  "clients.csv", "does not exist and `create: false`: create it with a header "
                                                 "line, or set `create: true`"),
    "csv header without the key column": (lambda d: _sub(d / "clients.csv", "id,email", "ident,email"),
                                          "clients.csv:1", "the key column 'id' is not in the header"),
    "csv folder missing": (lambda d: _sub(d / "config.yaml", "clients.csv", "nodir/clients.csv"),
                           "nodir/clients.csv", "folder nodir does not exist"),
    "empty config": (lambda d: (d / "config.yaml").write_text(""), "config.yaml", "no pipelines"),
    "config without pipelines": (lambda d: (d / "config.yaml").write_text("connectors: {}\n"),
                                 "config.yaml", "add a `pipelines:` list"),
    "binary config": (lambda d: (d / "config.yaml").write_bytes(b"ledger: x\n\xd0\x00\xff" * 20), "config.yaml",
                      "not UTF-8 text"),
    "mongodb ledger": (lambda d: _sub(d / "config.yaml", "sqlite:///syncengine.db", "mongodb://h/db"),
                       "config.yaml", "unsupported ledger URL mongodb"),
    "sqlite ledger folder missing": (lambda d: _sub(d / "config.yaml", "sqlite:///syncengine.db",
                                                    "sqlite:///nodir/syncengine.db"),
                                     "nodir/syncengine.db", "folder"),
    "yaml alias bomb": (lambda d: (d / "config.yaml").write_text(bomb()), "config.yaml", "aliases"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_exit_2(tmp_path: Path, case: str) -> None:
    assert run(tmp_path, "init", ".").returncode == 0
    spoil, names, says = CASES[case]
    spoil(tmp_path)
    for command in ("validate", "sync"):
        result = run(tmp_path, command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and names in lines[0] and says in lines[0], (command, result.stderr)
        assert "Traceback" not in result.stderr
