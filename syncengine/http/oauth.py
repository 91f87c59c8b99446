"""OAuth 2.0 for HTTP APIs with rotating refresh tokens, as an ``httpx.Auth`` generator flow.

FreshBooks' refresh tokens are single-use: every refresh returns a new one and the old one dies.
So a refresh must (1) happen under the token store's lock, so two processes never spend the same
refresh token; (2) re-read the token inside the lock, since another process may have refreshed
while we waited (then we simply use its new token); and (3) save the new pair durably
*before* the new access token is used, so a crash right after the refresh loses nothing.
``invalid_grant`` means a person must authorize again: it is an :class:`AuthError` with the
command to run, never retried.

Tokens are kept in the store as a dict: ``access_token``, ``refresh_token``, ``token_type``,
``scope``, ``created_at`` and ``expires_at`` (epoch seconds, UTC) and ``expires_in``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Generator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog

from syncengine.errors import AuthError, TransientError
from syncengine.http.redact import redact_text, redact_url
from syncengine.http.retry import RetryPolicy, RetryTransport
from syncengine.tokens import TokenStore

__all__ = [
    "OAuth2RefreshAuth",
    "build_authorize_url",
    "exchange_authorization_code",
    "new_state",
    "normalize_token_response",
    "request_token",
]

_log = structlog.get_logger("syncengine.http.oauth")

#: The token endpoint is retried only where that is safe for a single-use grant: on 429 and when
#: the connection was refused. A refresh that timed out may have rotated the token already.
_TOKEN_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.5, deadline=30.0, retry_statuses=frozenset())

_REAUTH_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "invalid_request"})


def new_state() -> str:
    return secrets.token_urlsafe(24)


def build_authorize_url(
    authorize_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: list[str] | None = None,
) -> str:
    """The URL a person opens to grant access (scopes space-separated, as FreshBooks wants)."""
    params = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "state": state}
    if scopes:
        params["scope"] = " ".join(scopes)
    sep = "&" if "?" in authorize_url else "?"
    return f"{authorize_url}{sep}{urlencode(params)}"


def normalize_token_response(body: Mapping[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """The token endpoint's answer as the dict we store, with an absolute ``expires_at``.

    ``expires_at`` is counted from when *we* received the token (``now``), not from the server's
    ``created_at``: the server's clock may differ from ours, and our refresh decision is taken
    on our clock.
    """
    received = now if now is not None else time.time()
    created = body.get("created_at")
    token: dict[str, Any] = {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token"),
        "token_type": body.get("token_type", "Bearer"),
        "scope": body.get("scope"),
        "created_at": float(created) if isinstance(created, int | float) else received,
    }
    if body.get("expires_in") is not None:
        token["expires_in"] = float(body["expires_in"])
        token["expires_at"] = received + float(body["expires_in"])
    return token


def request_token(
    token_url: str,
    form: Mapping[str, str],
    *,
    transport: httpx.BaseTransport | None = None,
    client: httpx.Client | None = None,
    reauthorize_hint: str | None = None,
) -> dict[str, Any]:
    """POST one grant to the token endpoint; the normalized token, or AuthError / TransientError."""
    # A caller's transport (the sandbox's, a MockTransport, the API client's) is not ours to close.
    own = client is None and transport is None
    http = client or httpx.Client(
        transport=RetryTransport(transport or httpx.HTTPTransport(), _TOKEN_RETRY), timeout=30.0
    )
    try:
        try:
            response = http.post(token_url, data=dict(form), headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientError(
                f"token endpoint unreachable: {type(exc).__name__} on {redact_url(token_url)}",
                connector="oauth",
            ) from exc
    finally:
        if own:
            http.close()
        # else: the borrowed transport stays open; the Client wrapper itself holds nothing else
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.is_success and "access_token" in body:
        return normalize_token_response(body)
    error = str(body.get("error", "")) or f"HTTP {response.status_code}"
    description = redact_text(str(body.get("error_description", "")))
    message = f"token endpoint refused the {form.get('grant_type', 'grant')}: {error} {description}".strip()
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(message, connector="oauth", status=response.status_code, code=error)
    raise AuthError(message, connector="oauth", status=response.status_code, code=error, hint=reauthorize_hint)


def exchange_authorization_code(
    token_url: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """Trade an authorization code for tokens (form-encoded, in the order FreshBooks' SDK sends)."""
    form = {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code": code,
    }
    return request_token(token_url, form, transport=transport)


class OAuth2RefreshAuth(httpx.Auth):
    """Bearer auth that refreshes shortly before expiry and once on a 401, under the store's lock."""

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        store: TokenStore,
        token_name: str,
        refresh_margin: timedelta = timedelta(minutes=5),
        *,
        reauthorize_hint: str | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.store = store
        self.token_name = token_name
        self.refresh_margin = refresh_margin.total_seconds()
        self.reauthorize_hint = reauthorize_hint or f"authorize again: `syncengine auth {token_name}`"
        self._transport = transport
        self._clock = clock
        self._cached: dict[str, Any] | None = None
        self._cache_lock = threading.Lock()
        #: how many refreshes this object performed (tests and metrics).
        self.refresh_count = 0

    # -- the flow -------------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable_token()
        request.headers["Authorization"] = f"Bearer {token['access_token']}"
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._refresh(stale_access=token["access_token"], force=True)
        request.headers["Authorization"] = f"Bearer {fresh['access_token']}"
        response = yield request
        if response.status_code == 401:
            raise AuthError(
                f"{self.token_name}: access token rejected (HTTP 401) right after a refresh",
                connector=self.token_name,
                status=401,
                hint=self.reauthorize_hint,
            )

    # -- tokens ---------------------------------------------------------------------------------
    def _expiring(self, token: Mapping[str, Any]) -> bool:
        expires_at = token.get("expires_at")
        if expires_at is None:
            return False
        margin = self.refresh_margin
        lifetime = token.get("expires_in")
        if lifetime:
            # A short-lived token (a sandbox's few seconds) would otherwise always look expiring.
            margin = min(margin, float(lifetime) / 4)
        return bool(float(expires_at) - margin <= self._clock())

    def _usable_token(self) -> dict[str, Any]:
        with self._cache_lock:
            token = self._cached
        if token is None or self._expiring(token):
            token = self.store.load_token(self.token_name)
            if token is None or not token.get("access_token"):
                raise AuthError(
                    f"no OAuth tokens stored for {self.token_name!r}",
                    connector=self.token_name,
                    hint=self.reauthorize_hint,
                )
            if self._expiring(token):
                token = self._refresh(stale_access=token["access_token"], force=False)
            with self._cache_lock:
                self._cached = token
        return token

    def _refresh(self, *, stale_access: str, force: bool) -> dict[str, Any]:
        """Refresh under the store's lock, unless someone already did; save before returning."""
        with self.store.token_lock(self.token_name) as slot:
            current = slot.value
            if current is None:
                raise AuthError(
                    f"no OAuth tokens stored for {self.token_name!r}",
                    connector=self.token_name,
                    hint=self.reauthorize_hint,
                )
            newer = current.get("access_token") != stale_access
            if (newer or not force) and not self._expiring(current):
                token = dict(current)
            else:
                refresh_token = current.get("refresh_token")
                if not refresh_token:
                    raise AuthError(
                        f"{self.token_name}: access token expired and no refresh token is stored",
                        connector=self.token_name,
                        hint=self.reauthorize_hint,
                    )
                form = {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "grant_type": "refresh_token",
                    "redirect_uri": self.redirect_uri,
                    "refresh_token": refresh_token,
                }
                token = request_token(
                    self.token_url, form, transport=self._transport, reauthorize_hint=self.reauthorize_hint
                )
                if not token.get("refresh_token"):
                    # Keep the old one rather than lose the only credential we have (Airbyte #3990).
                    token["refresh_token"] = refresh_token
                slot.save(token)
                self.refresh_count += 1
                _log.info("oauth.refreshed", token_name=self.token_name, expires_at=token.get("expires_at"))
        with self._cache_lock:
            self._cached = token
        return token
