"""``syncengine sandbox stripe``: the typer command the engine registers (one function, no sub-app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def sandbox_stripe(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 12111,
    seed: Annotated[int, typer.Option(help="How many customers to seed (with products, invoices, payments).")] = 20,
    state: Annotated[Path | None, typer.Option(help="Keep state in this file between runs.")] = None,
    rng_seed: Annotated[int, typer.Option(help="Seeds every random choice, the API key included.")] = 1,
    requests_per_minute: Annotated[int | None, typer.Option(help="Request budget per API key; 429 past it.")] = None,
) -> None:
    """Run the local Stripe emulator (the sandbox) until interrupted."""
    from .server import run_sandbox

    run_sandbox(port=port, seed=seed, state_file=str(state) if state else None, rng_seed=rng_seed,
                requests_per_minute=requests_per_minute)
