"""``syncengine worker -c config.yaml``: run pipelines and keyed syncs from procrastinate's queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from syncengine.errors import ConfigError, ConfigErrors

__all__ = ["worker"]


def worker(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SYNCENGINE_CONFIG", help="The config file.")],
    concurrency: Annotated[int | None, typer.Option(help="Jobs run at once (default: workers.concurrency).",
                                                    min=1)] = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues to take jobs from "
                                                    "(default: all).")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port "
                                                          "(any path, e.g. /metrics).", min=1, max=65535)] = None,
    metrics_host: Annotated[str, typer.Option(help="The address the metrics listen on.")] = "127.0.0.1",
) -> None:
    """Run a worker: take pipeline runs and keyed syncs from the PostgreSQL queue until SIGTERM.

    Any number of workers on any number of machines share one queue; a pipeline runs in one
    place at a time, and the jobs of a worker that died are retried elsewhere."""
    from syncengine.config import load_config
    from syncengine.workers.service import run_worker
    from syncengine.workers.settings import worker_settings

    try:
        loaded = load_config(config)
        settings = worker_settings(loaded)
    except (ConfigError, ConfigErrors) as exc:
        for error in exc.errors if isinstance(exc, ConfigErrors) else [exc]:
            typer.echo(f"error {error}", err=True)
        raise typer.Exit(2) from None
    try:
        run_worker(loaded, settings, concurrency=concurrency,
                   queues=[q.strip() for q in queues.split(",") if q.strip()] if queues else None,
                   metrics_port=metrics_port, metrics_host=metrics_host)
    finally:
        loaded.close()
