"""What ``syncengine sandbox freshbooks`` does, kept here so the CLI module stays vendor-thin."""

from __future__ import annotations

from pathlib import Path

import typer

from .server import run_sandbox
from .sizes import size_named
from .variants import parse_assignments


def start_sandbox(*, port: int, seed: int, state: Path | None, token_ttl: int,
                  requests_per_minute: int | None, variants: list[str], size: str | None = None,
                  scale: float = 1.0, redirect_uri: str = "http://127.0.0.1:8976/callback",
                  second_business: bool = False) -> None:
    """Check ``--variant NAME=VALUE`` items and ``--size``/``--scale`` (one clear line and exit 2
    when bad), then serve."""
    try:
        chosen = parse_assignments(variants)
    except ValueError as exc:
        typer.echo(f"error: --variant {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        if size:
            size_named(size, scale)
    except ValueError as exc:
        typer.echo(f"error: --size {exc}", err=True)
        raise typer.Exit(2) from None
    run_sandbox(port=port, seed=seed, state_file=str(state) if state else None, token_ttl=token_ttl,
                requests_per_minute=requests_per_minute, variants=chosen, size=size, scale=scale,
                redirect_uri=redirect_uri, second_business=second_business)
