"""The FreshBooks connector as the engine sees it (entry point ``freshbooks`` in ``syncengine.plugins``).

``syncengine auth freshbooks`` (the OAuth 2.0 authorization-code flow) and ``syncengine sandbox
freshbooks`` (the local emulator) are defined here; the connector, OAuth and sandbox modules are
imported only when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from syncengine.plugins import ConnectorPlugin

if TYPE_CHECKING:
    from rich.console import RenderableType

    from syncengine.connector import Connector
    from syncengine.tokens import TokenStore
    from syncengine.webhooks import WebhookSource

__all__ = ["auth", "check", "plugin", "sandbox"]


def factory(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.freshbooks.connector import FreshBooksConnector

    return FreshBooksConnector.from_config(name, dict(options), store=token_store)


def auth(
    options: dict[str, Any],
    token_store: TokenStore,
    /,
    *,
    port: Annotated[int | None, typer.Option(
        "--redirect-port", "--port",
        help="Local port the browser is sent back to (default: the port of the connector's "
             "redirect_uri, else 8976); not the sandbox's port.")] = None,
    browser: Annotated[bool, typer.Option(help="Open the authorization page in a browser.")] = False,
    client_id: Annotated[str | None, typer.Option(
        "--client-id", help="The FreshBooks app's client id (default: config, then FRESHBOOKS_CLIENT_ID).")] = None,
    client_secret: Annotated[str | None, typer.Option(
        "--client-secret", help="Its secret (default: config, then FRESHBOOKS_CLIENT_SECRET).")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="A scope to add (repeatable), e.g. user:invoices:write, to the config's `scopes`, "
        "else to those granted before, else to every scope the connector uses.")] = None,
) -> RenderableType:
    """Authorize syncengine on a FreshBooks account (OAuth 2.0 authorization code); ends by listing
    the businesses the login sees and the ``business_id`` to put in the config."""
    from connectors.freshbooks.auth import authorize, describe_businesses
    from connectors.freshbooks.scopes import ALL_SCOPES

    if client_id:
        options["client_id"] = client_id
    if client_secret:
        options["client_secret"] = client_secret
    if scope:  # added to the config's scopes, else to those granted before, else to every one we use
        stored = token_store.load_token(str(options.get("token_name") or "freshbooks")) or {}
        before = options.get("scopes") or str(stored.get("scope") or "").split() or ALL_SCOPES
        options["scopes"] = list(dict.fromkeys([*before, *scope]))
    found = authorize(options, token_store, port=port, open_browser=browser)
    return describe_businesses(found["businesses"], options.get("business_id"))


def check(connector: Connector) -> str:
    """``syncengine validate --online``: the stored tokens work and ``business_id`` is one of the
    login's businesses (an AuthError or a ConfigError listing them otherwise)."""
    from connectors.freshbooks.connector import FreshBooksConnector

    assert isinstance(connector, FreshBooksConnector)
    business = connector.business()
    return f"authorized; business {business.describe()}"


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    seed: Annotated[int, typer.Option(help="How many clients to seed (with invoices, payments...).")] = 100,
    state: Annotated[Path | None, typer.Option(help="Keep state in this file between runs.")] = None,
    token_ttl: Annotated[int, typer.Option(help="Access-token lifetime in seconds.")] = 43200,
    requests_per_minute: Annotated[int | None, typer.Option(help="Per-token budget; 429 past it.")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="NAME=VALUE for an open behaviour (repeatable).")] = None,
    size: Annotated[str | None, typer.Option(
        help="Seed a named data set of exact counts instead: `business` (10,000 clients, 50,000 invoices, "
             "50,000 payments, 20,000 time entries).")] = None,
    scale: Annotated[float, typer.Option(help="Shrink --size by this factor (0 < scale <= 1).")] = 1.0,
    redirect_uri: Annotated[str, typer.Option(
        "--redirect-uri", help="The redirect URI registered with the sandbox's app.")] = "http://127.0.0.1:8976/callback",
    second_business: Annotated[bool, typer.Option(
        "--second-business", help="The login sees a second business (try the several-businesses flow).")] = False,
) -> None:
    """Run the local FreshBooks emulator (the sandbox) until interrupted."""
    from connectors.freshbooks.sandbox.cli import start_sandbox

    start_sandbox(port=port, seed=seed, state=state, token_ttl=token_ttl,
                  requests_per_minute=requests_per_minute, variants=variant or [], size=size, scale=scale,
                  redirect_uri=redirect_uri, second_business=second_business)


def webhook_source(connector: Connector, secrets: TokenStore) -> WebhookSource:
    from connectors.freshbooks.webhook_source import webhook_source as build

    return build(connector, secrets)


plugin = ConnectorPlugin(
    name="freshbooks",
    title="FreshBooks",
    factory=factory,
    check=check,
    auth=auth,
    sandbox=sandbox,
    webhook_source=webhook_source,
    contract_subjects="tests.contract.freshbooks_subjects",
)
