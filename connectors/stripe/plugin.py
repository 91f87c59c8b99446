"""The Stripe connector as the engine sees it (entry point ``stripe`` in ``syncengine.plugins``).

``syncengine sandbox stripe`` (the local emulator) is defined here; the connector and the
sandbox are imported only when used. Stripe takes an API key in config.yaml: no ``auth`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from syncengine.plugins import ConnectorPlugin

if TYPE_CHECKING:
    from pydantic import BaseModel

    from syncengine.connector import Connector
    from syncengine.tokens import TokenStore
    from syncengine.webhooks import WebhookSource

__all__ = ["plugin", "sandbox"]


def factory(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.stripe.connector import StripeConnector

    return StripeConnector.from_config(name, dict(options))


def options_model() -> type[BaseModel]:
    from connectors.stripe.connector import StripeOptions

    return StripeOptions


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 12111,
    seed: Annotated[int, typer.Option(help="How many customers to seed (with products, invoices, payments).")] = 20,
    state: Annotated[Path | None, typer.Option(help="Keep state in this file between runs.")] = None,
    rng_seed: Annotated[int, typer.Option(help="Seeds every random choice, the API key included.")] = 1,
    requests_per_minute: Annotated[int | None, typer.Option(help="Request budget per API key; 429 past it.")] = None,
) -> None:
    """Run the local Stripe emulator (the sandbox) until interrupted."""
    from connectors.stripe.sandbox.server import run_sandbox

    run_sandbox(port=port, seed=seed, state_file=str(state) if state else None, rng_seed=rng_seed,
                requests_per_minute=requests_per_minute)


def check(connector: Connector) -> str:
    """``syncengine validate --online``: the API key is accepted."""
    from connectors.stripe.connector import StripeConnector

    assert isinstance(connector, StripeConnector)
    return connector.check_key()


def webhook_source(connector: Connector, secrets: TokenStore) -> WebhookSource:
    from connectors.stripe.webhook_source import webhook_source as build

    return build(connector, secrets)


plugin = ConnectorPlugin(
    name="stripe",
    title="Stripe",
    factory=factory,
    options_model=options_model,
    sandbox=sandbox,
    check=check,
    webhook_source=webhook_source,
    contract_subjects="tests.contract.stripe_subjects",
)
