"""`syncengine sandbox freshbooks` as a reader of the README runs it: what it prints to point a
config at it, and --second-business, so the several-businesses flow of `auth freshbooks` can be
tried without writing Python (friction found trying the CLI as a new user)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


def started(*options: str) -> list[str]:
    """The lines the sandbox prints before serving (up to its export lines); then it is stopped."""
    proc = subprocess.Popen([sys.executable, "-m", "syncengine", "sandbox", "freshbooks", "--port", "0",
                             "--seed", "2", *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("export FRESHBOOKS_REDIRECT_URI="):
                return lines
        raise AssertionError("\n".join(lines))
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize(("options", "count"), [((), 1), (("--second-business",), 2)])
def test_it_prints_the_businesses_the_login_sees(options: tuple[str, ...], count: int) -> None:
    lines = started(*options)
    businesses = [line for line in lines if re.search(r"business_id=\d+ account_id=\S+", line)]
    assert len(businesses) == count, lines
    assert len({re.search(r"business_id=(\d+)", b).group(1) for b in businesses}) == count  # type: ignore[union-attr]
    assert any(line.startswith("export FRESHBOOKS_CLIENT_SECRET=") for line in lines)
