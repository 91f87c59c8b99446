"""Serve the status page and ``/metrics`` on their own, until the daemon mounts them.

``syncengine status --serve`` calls :func:`serve_status`. The counters of a standalone server count
only what happens in its own process (nothing, unless a caller runs syncs through it); the status
page and the open-conflicts gauge read the ledger, so they show every process's work.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from syncengine.observability.metrics import MetricsRecorder, metrics_route
from syncengine.observability.status_page import SchedulerInfo, status_routes

if TYPE_CHECKING:
    from syncengine.config import Config
    from syncengine.ledger import Ledger

__all__ = ["serve_status", "status_app"]


def status_app(config: Config, ledger: Ledger, recorder: MetricsRecorder | None = None,
               scheduler_info: SchedulerInfo | None = None) -> Starlette:
    """A Starlette app with ``GET /`` (status page) and ``GET /metrics``."""
    recorder = recorder if recorder is not None else MetricsRecorder(ledger, list(config.pipelines))
    routes: list[BaseRoute] = [*status_routes(config, ledger, scheduler_info), metrics_route(recorder)]
    return Starlette(routes=routes)


def serve_status(config: Config, ledger: Ledger, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve :func:`status_app` with uvicorn until Ctrl-C or SIGTERM, then return (exit 0)."""
    import uvicorn

    with MetricsRecorder(ledger, list(config.pipelines)).observe_http() as recorder, _signals_end_quietly():
        uvicorn.run(status_app(config, ledger, recorder), host=host, port=port, log_level="warning",
                    access_log=False)


@contextmanager
def _signals_end_quietly() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again to the
    handler that was there before it; with a no-op there, a stop asked for is a clean exit 0."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
