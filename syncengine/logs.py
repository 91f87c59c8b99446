"""structlog set-up: readable console lines in a terminal, JSON lines everywhere else.

Secrets never reach a log line: the HTTP layer's redaction processor runs on every event,
whatever code logged it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

import structlog

from syncengine.http.redact import redact_processor

__all__ = ["configure_logging"]


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written: a stream captured at configure time may
    be closed later (a test runner's, a daemon's redirected one), and logging must not fail."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", *, json: bool | None = None) -> None:
    if json is None:
        json = not sys.stderr.isatty()
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
        colors=sys.stderr.isatty()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
