"""``syncengine auth freshbooks``: the authorization-code flow with a local redirect listener.

The CLI calls :func:`authorize`; it opens (or prints) FreshBooks' authorize URL, receives the
code on 127.0.0.1, exchanges it and saves the token pair in the store under its lock, then reads
the identity to show which businesses the login can reach (``business_id`` must name one when
there are several).

FreshBooks requires redirect URIs registered with the app to be HTTPS, which a plain local
listener cannot serve: with an ``https`` ``redirect_uri`` (as in config.example.yaml) the
command prints the URL to open and then asks for the address the browser was sent to, which
carries the code even when the page fails to load. Without a ``redirect_uri`` (config, then
``FRESHBOOKS_REDIRECT_URI``) it listens on ``http://127.0.0.1:<port>/callback``; an ``http``
loopback ``redirect_uri`` is listened on at its own port.

FreshBooks only accepts the redirect URI registered with the app, exactly (sandbox variant
``redirect_uri``), and with any other it shows the person an error page instead of redirecting:
the command would wait for a code that never comes. So it first asks the authorize endpoint
itself, without following the redirect; an answer refusing the redirect URI is one line naming
the URI and where to set it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from connectors.freshbooks.discovery import list_businesses
from connectors.freshbooks.errors import parse_error
from connectors.freshbooks.wire import loads
from syncengine.errors import AuthError, ConfigError
from syncengine.http import (
    ErrorContext,
    build_authorize_url,
    raise_for_response,
    run_local_authorization,
    transport_errors,
)
from syncengine.http.oauth import new_state
from syncengine.tokens import TokenStore

__all__ = ["DEFAULT_AUTH_URL", "authorize", "check_redirect_uri", "describe_businesses"]

DEFAULT_API_URL = "https://api.freshbooks.com"
DEFAULT_AUTH_URL = "https://auth.freshbooks.com/oauth/authorize"


def _authorize_url(config: Mapping[str, Any], base_url: str) -> str:
    explicit = config.get("auth_url") or os.environ.get("FRESHBOOKS_AUTH_URL")
    if explicit:
        text = str(explicit).rstrip("/")
        return text if text.endswith("/oauth/authorize") else f"{text}/oauth/authorize"
    if base_url.rstrip("/") == DEFAULT_API_URL:
        return DEFAULT_AUTH_URL
    return f"{base_url.rstrip('/')}/oauth/authorize"  # the sandbox serves both hosts


#: the local port the browser comes back to when neither --redirect-port nor redirect_uri names one.
DEFAULT_REDIRECT_PORT = 8976


def _redirect_port(redirect_uri: str | None, port: int | None) -> tuple[int, str | None]:
    """The port to listen on, and a note when it is not the one asked for: an http loopback
    redirect URI's own port wins (the browser is sent there whatever we listen on)."""
    parts = urlsplit(redirect_uri) if redirect_uri else None
    # An https redirect is not listened for (the address is pasted back): its port does not matter.
    loopback = parts is not None and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    own = parts.port if parts is not None and loopback else None
    if own is None:
        return (port if port is not None else DEFAULT_REDIRECT_PORT), None
    note = None
    if port is not None and port != own:
        note = (f"note: listening on port {own}, the port of redirect_uri {redirect_uri}, not --redirect-port "
                f"{port} (the browser is sent to the redirect URI)")
    return own, note


def authorize(
    config: Mapping[str, Any],
    store: TokenStore,
    *,
    port: int | None,
    open_browser: bool,
    transport: httpx.BaseTransport | None = None,
    announce: Callable[[str], None] = print,
    paste: Callable[[str], str] = input,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Authorize and store tokens; returns what to tell the operator (never a token)."""
    base_url = str(config.get("base_url") or os.environ.get("FRESHBOOKS_API_URL") or DEFAULT_API_URL).rstrip("/")
    client_id = config.get("client_id") or os.environ.get("FRESHBOOKS_CLIENT_ID")
    client_secret = config.get("client_secret") or os.environ.get("FRESHBOOKS_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise ConfigError(
            "FreshBooks client_id and client_secret are required to authorize",
            hint="set them in the connector config or in FRESHBOOKS_CLIENT_ID / FRESHBOOKS_CLIENT_SECRET",
        )
    token_name = str(config.get("token_name") or "freshbooks")
    scopes = config.get("scopes")
    redirect_uri = str(config.get("redirect_uri") or os.environ.get("FRESHBOOKS_REDIRECT_URI") or "") or None
    port, note = _redirect_port(redirect_uri, port)  # the listener must be where the browser will be sent
    if note is not None:
        announce(note)
    authorize_url = _authorize_url(config, base_url)
    if redirect_uri or port:
        check_redirect_uri(authorize_url, str(client_id), redirect_uri or f"http://127.0.0.1:{port}/callback",
                           transport=transport)
    token = run_local_authorization(
        authorize_url,
        str(client_id),
        str(client_secret),
        f"{base_url}/auth/oauth/token",
        port,
        store,
        token_name,
        open_browser,
        redirect_uri=redirect_uri,
        scopes=list(scopes) if scopes else None,
        timeout=timeout,
        transport=transport,
        announce=announce,
        paste=paste,
    )
    context = ErrorContext(connector="freshbooks", obj="account", auth_hint="run `syncengine auth freshbooks`")
    with httpx.Client(base_url=base_url, transport=transport, timeout=30.0) as http, transport_errors(context):
        response = http.get("/auth/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    raise_for_response(response, parse_error, context)
    body = loads(response.content) or {}
    identity = body.get("response", body) if isinstance(body, Mapping) else {}
    businesses = [
        {"business_id": b.business_id, "name": b.name, "account_id": b.account_id, "role": b.role}
        for b in list_businesses(identity)
    ]
    return {
        "token_name": token_name,
        "expires_at": token.get("expires_at"),
        "scope": token.get("scope"),
        "email": identity.get("email"),
        "businesses": businesses,
    }


def describe_businesses(businesses: list[dict[str, Any]], configured: object = None) -> RenderableType:
    """What ``syncengine auth freshbooks`` ends with: the login's businesses as a table, then the
    ``business_id`` line to put in the connector's config (or why none is needed)."""
    table = Table(title=f"businesses this login sees ({len(businesses)})")
    for column in ("name", "business_id", "account_id", "role"):
        table.add_column(column)
    for b in businesses:
        table.add_row(escape(str(b["name"])), str(b["business_id"]), escape(str(b["account_id"])),
                      escape(str(b.get("role") or "")))
    ids = [str(b["business_id"]) for b in businesses]
    chosen = str(configured) if configured not in (None, "") else None
    if not businesses:
        advice = ("[red]this login belongs to no business[/red]: authorize as a user who is a member "
                  "of the business to sync")
    elif chosen is not None and chosen in ids:
        advice = f"business_id: {chosen} is in the config: ok"
    elif chosen is not None:
        advice = (f"[red]business_id: {escape(chosen)} in the config is not one of these[/red]: "
                  f"put one of {', '.join(ids)} in the FreshBooks connector's config, e.g.\n"
                  f"    business_id: {ids[0]}")
    elif len(businesses) == 1:
        advice = f"one business: no business_id needed (it would be business_id: {ids[0]})"
    else:
        advice = ("several businesses: put the one to sync in the FreshBooks connector's config "
                  f"(one of {', '.join(ids)}), e.g.\n    business_id: {ids[0]}")
    return Group(table, advice)


def check_redirect_uri(authorize_url: str, client_id: str, redirect_uri: str, *,
                       transport: httpx.BaseTransport | None = None) -> None:
    """AuthError (one line) when the authorize endpoint refuses ``redirect_uri`` outright; any
    other answer (a redirect, a login page, no answer) lets the flow go on as before."""
    probe = build_authorize_url(authorize_url, client_id, redirect_uri, new_state())
    try:
        with httpx.Client(transport=transport, timeout=15.0, follow_redirects=False) as http:
            response = http.get(probe)
    except httpx.HTTPError:
        return  # the person's browser may still get there; the flow reports what happens next
    if response.status_code not in (400, 422):
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "")) if isinstance(body, Mapping) else ""
    if error == "invalid_redirect_uri" or "redirect" in response.text.lower():
        raise AuthError(
            f"FreshBooks refused the redirect URI {redirect_uri}: it is not the one registered with the app",
            connector="freshbooks",
            status=response.status_code,
            code=error or None,
            hint="set redirect_uri in the connector's config (or FRESHBOOKS_REDIRECT_URI) to the registered URI",
        )
