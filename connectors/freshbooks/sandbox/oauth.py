"""OAuth 2.0 as FreshBooks runs it: authorize redirect, token endpoint, rotating refresh tokens.

* ``GET /oauth/authorize`` (the auth host) approves at once — there is no person to ask — and
  302-redirects to ``redirect_uri`` with ``code`` and ``state``. Codes live 5 minutes, single use.
* ``POST /auth/oauth/token`` (the API host) takes form, JSON or multipart bodies, grants
  ``authorization_code`` and ``refresh_token``, and answers ``access_token, refresh_token,
  token_type "Bearer", expires_in, scope, created_at`` (epoch seconds).
* Access tokens last ``token_ttl`` seconds (12 h by default). A refresh token works once: each
  refresh returns a new pair and the old refresh token is ``invalid_grant`` from then on. The
  access token issued with the spent refresh token dies with it, or lives to its expiry
  (variant ``token_after_refresh``).
* Failures answer ``{"error", "error_description"}``: 400 ``invalid_grant``/``invalid_request``/
  ``unsupported_grant_type``, 401 ``invalid_client`` (Doorkeeper's wording, which FreshBooks uses).

Accepted redirect URIs: the registered one only, or also any ``http(s)://127.0.0.1``/``localhost``
URI (variant ``redirect_uri``). Scopes are recorded; ``scopes.py`` enforces them (variant ``scopes``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .clock import Clock
from .errors import ApiError
from .store import AccessToken, Grant, Store

CODE_TTL_SECONDS = 300
DEFAULT_SCOPES = " ".join((
    "user:profile:read", "user:clients:read", "user:clients:write", "user:invoices:read",
    "user:invoices:write", "user:estimates:read", "user:estimates:write", "user:expenses:read",
    "user:expenses:write", "user:billable_items:read", "user:billable_items:write", "user:payments:read",
    "user:payments:write", "user:taxes:read", "user:taxes:write", "user:projects:read",
    "user:projects:write", "user:time_entries:read", "user:time_entries:write", "user:reports:read",
    "user:account:read", "user:journal_entries:read", "user:journal_entries:write",
))
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
    "used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, or "
    "unsupported authentication method."
)


@dataclass(frozen=True)
class AppCredentials:
    """The one OAuth application the sandbox knows."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def accepts_redirect(self, uri: str, any_loopback: bool = False) -> bool:
        if uri == self.redirect_uri:
            return True
        if not any_loopback:
            return False
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost")


def issue(store: Store, clock: Clock, ttl: int, scope: str = DEFAULT_SCOPES) -> dict[str, Any]:
    """A fresh access/refresh pair, recorded in the store; the token endpoint's response body."""
    now = clock.timestamp()
    access = secrets.token_hex(32)
    refresh = secrets.token_hex(32)
    with store.lock:
        store.access_tokens[access] = AccessToken(access, scope, int(now), now + ttl)
        store.refresh_tokens[refresh] = scope
        store.paired_access[refresh] = access
        _prune(store, now)
    return {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "refresh_token": refresh,
            "scope": scope, "created_at": int(now)}


def _prune(store: Store, now: float) -> None:
    """Forget long-expired access tokens so the state file does not grow without bound."""
    if len(store.access_tokens) > 1000:
        for token in [t for t, v in store.access_tokens.items() if v.expires_at < now - 86400]:
            del store.access_tokens[token]


def authenticate(store: Store, clock: Clock, authorization: str | None) -> AccessToken | None:
    """The live access token named by an ``Authorization: Bearer`` header, or None."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:].strip()
    with store.lock:
        found = store.access_tokens.get(token)
    if found is None or found.expires_at <= clock.timestamp():
        return None
    return found


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, status, description, oauth_error=error)


async def form_fields(request: Request) -> dict[str, str]:
    """The token request's fields, whether sent as form, multipart or JSON."""
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _oauth_error(400, "invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _oauth_error(400, "invalid_request", "The request body must be an object.")
        return {k: str(v) for k, v in body.items() if v is not None}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def authorize(request: Request, store: Store, clock: Clock, app: AppCredentials,
              any_loopback: bool = False) -> Response:
    params = request.query_params
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != app.client_id:
        raise _oauth_error(401, "invalid_client", INVALID_CLIENT)
    if not app.accepts_redirect(redirect_uri, any_loopback):
        raise _oauth_error(400, "invalid_redirect_uri",
                           "The requested redirect uri is malformed or doesn't match client redirect URI.")
    query: dict[str, str] = {}
    if params.get("response_type") != "code":
        query["error"] = "unsupported_response_type"
        query["error_description"] = "The authorization server does not support this response type."
    else:
        code = secrets.token_hex(32)
        with store.lock:
            store.grants[code] = Grant(code, app.client_id, redirect_uri, params.get("scope") or DEFAULT_SCOPES,
                                       clock.timestamp() + CODE_TTL_SECONDS)
        query["code"] = code
    if params.get("state") is not None:
        query["state"] = params["state"]
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{sep}{urlencode(query)}", status_code=302)


async def token(request: Request, store: Store, clock: Clock, app: AppCredentials, ttl: int,
                revoke_on_refresh: bool = True) -> Response:
    fields = await form_fields(request)
    if fields.get("client_id") != app.client_id or fields.get("client_secret") != app.client_secret:
        raise _oauth_error(401, "invalid_client", INVALID_CLIENT)
    grant_type = fields.get("grant_type")
    if grant_type == "authorization_code":
        code = fields.get("code")
        if not code:
            raise _oauth_error(400, "invalid_request", "The request is missing a required parameter: code.")
        with store.lock:
            grant = store.grants.pop(code, None)  # single use, even when it fails below
        if (grant is None or grant.expires_at <= clock.timestamp()
                or grant.redirect_uri != fields.get("redirect_uri")):
            raise _oauth_error(400, "invalid_grant", INVALID_GRANT)
        return JSONResponse(issue(store, clock, ttl, grant.scope))
    if grant_type == "refresh_token":
        refresh = fields.get("refresh_token")
        if not refresh:
            raise _oauth_error(400, "invalid_request",
                               "The request is missing a required parameter: refresh_token.")
        with store.lock:
            scope = store.refresh_tokens.pop(refresh, None)  # rotated: the old one dies now
            paired = store.paired_access.pop(refresh, None)
            if scope is not None and paired is not None and revoke_on_refresh:
                store.access_tokens.pop(paired, None)  # and its access token with it
        if scope is None:
            raise _oauth_error(400, "invalid_grant", INVALID_GRANT)
        return JSONResponse(issue(store, clock, ttl, scope))
    raise _oauth_error(400, "unsupported_grant_type",
                       "The authorization grant type is not supported by the authorization server.")
