"""``syncengine daemon -c config.yaml [--host H] [--port N]``: the long-running service."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from syncengine.errors import ConfigError, ConfigErrors, SyncEngineError

__all__ = ["daemon"]


def daemon(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SYNCENGINE_CONFIG", help="The config file.")],
    host: Annotated[str | None, typer.Option(help="Listen address (default: daemon.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: daemon.port, 8080).")] = None,
) -> None:
    """Run pipelines on their schedules and sync records as their webhooks arrive, until SIGTERM."""
    import uvicorn

    from syncengine.config import load_config
    from syncengine.daemon.app import daemon_app
    from syncengine.daemon.service import Daemon

    try:
        cfg = load_config(config)
        service = Daemon(cfg)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(f"error {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    except (ConfigError, SyncEngineError) as exc:
        print(f"error {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    server = uvicorn.Server(uvicorn.Config(
        daemon_app(service), host=host or cfg.daemon.host, port=port if port is not None else cfg.daemon.port,
        log_level="warning", access_log=False, lifespan="off"))
    try:
        for line in service.start():
            print(f"registered {line}", file=sys.stderr)
    except SyncEngineError as exc:
        print(f"error {exc}", file=sys.stderr)
        service.stop()
        raise typer.Exit(1) from None
    print("daemon started", file=sys.stderr, flush=True)
    # uvicorn stops serving on SIGTERM/SIGINT and then re-raises the signal to the handler that was
    # there before: a no-op, so the work queue then finishes its batch, commits, and we exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    finally:
        service.stop()
    print("daemon stopped", file=sys.stderr, flush=True)
