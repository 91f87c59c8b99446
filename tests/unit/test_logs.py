"""The logging the CLI sets up: JSON lines when not in a terminal, and never a secret."""

from __future__ import annotations

import json

import pytest
import structlog

from syncengine.logs import configure_logging


def test_json_lines_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", json=True)
    try:
        structlog.get_logger("t").info("refreshed", access_token="at-123", refresh_token="rt-456",
                                       url="https://x/cb?code=secret-code&state=s1", errno=1012)
    finally:
        structlog.reset_defaults()
    line = capsys.readouterr().err.strip()
    event = json.loads(line)
    assert event["event"] == "refreshed" and event["level"] == "info"
    assert event["errno"] == 1012, "harmless codes stay readable"
    for secret in ("at-123", "rt-456", "secret-code"):
        assert secret not in line


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("warning", json=True)
    try:
        log = structlog.get_logger("t")
        log.info("quiet")
        log.warning("loud")
    finally:
        structlog.reset_defaults()
    lines = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(x)["event"] for x in lines] == ["loud"]
