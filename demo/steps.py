"""Printing the demo's steps and running the real `syncengine` command for each."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from rich.console import Console

console = Console(width=140)


def banner(text: str) -> None:
    console.rule(f"[bold cyan]{text}")


def say(text: str) -> None:
    console.print(text, highlight=False)


def run(*args: str, check: bool = True) -> int:
    """Run `syncengine ARGS`, show the command and its output; stop the demo on an unexpected failure."""
    exe = shutil.which("syncengine", path=os.path.dirname(sys.executable)) or "syncengine"
    console.print(f"[bold]$ syncengine {' '.join(args)}[/bold]", highlight=False)
    env = {**os.environ, "COLUMNS": "140", "TERM": "dumb"}
    proc = subprocess.run([exe, *args], capture_output=True, text=True, env=env, check=False)
    output = (proc.stdout + proc.stderr).rstrip()
    if output:
        console.print(output, highlight=False, markup=False)
    if proc.returncode != 0:
        console.print(f"[yellow](exit code {proc.returncode})[/yellow]")
        if check:
            raise SystemExit(f"demo step failed: syncengine {' '.join(args)}")
    return proc.returncode
