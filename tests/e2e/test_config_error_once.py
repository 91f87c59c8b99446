"""Issue 7, point 2: a config error found during `sync` (a login that sees several businesses and
no business_id; an unknown business_id) is printed once per run, and `sync` exits 2; so does `plan`
(it exited 1, as for a record's error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.freshbooks.sandbox import SandboxServer
from tests.e2e.freshbooks_env import environment, example_config, store_token, syncengine


@pytest.mark.parametrize("command", ["sync", "plan"])
@pytest.mark.parametrize("business_id", [None, 4242])
def test_business_config_error_once_and_exit_2(tmp_path: Path, business_id: int | None, command: str) -> None:
    with SandboxServer(seed=5, port=0, second_business=True) as sb:
        env = environment(sb, tmp_path)
        example_config(tmp_path, business_id)
        store_token(tmp_path, env, sb.issue_tokens())
        done = syncengine(tmp_path, env, command)
    expected = ("belongs to 2 businesses" if business_id is None
                else "business_id 4242 is not one of this login's businesses")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count(expected) == 1, done.stderr
    assert "business_id" in done.stderr and str(sb.businesses[1]["business_id"]) in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) <= 3, done.stderr
