"""The local redirect listener for the authorization-code flow (``syncengine auth <api>``).

A tiny HTTP server on 127.0.0.1 receives ``?code=&state=`` from the browser, checks the state
(so a stray or forged redirect cannot plant someone else's code), exchanges the code and saves
the tokens in the store under its lock. Loopback only: the code never crosses a network we do
not control. For an HTTPS redirect URI (which FreshBooks requires of registered apps) the
person pastes the address the browser landed on instead; the state is checked all the same.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from syncengine.errors import AuthError, ConfigError
from syncengine.http.oauth import build_authorize_url, exchange_authorization_code, new_state
from syncengine.tokens import TokenStore

__all__ = ["check_redirect", "run_local_authorization"]


class _Result:
    def __init__(self) -> None:
        self.code: str | None = None
        self.error: str | None = None
        self.done = threading.Event()


def check_redirect(query: str, expected_state: str) -> tuple[str | None, str | None]:
    """(code, None) for a good redirect query string, or (None, why not)."""
    params = parse_qs(query)
    if "error" in params:
        return None, f"authorization refused: {params['error'][0]}"
    if params.get("state", [""])[0] != expected_state:
        return None, "state mismatch: this redirect does not belong to the flow we started"
    if not params.get("code"):
        return None, "the redirect carried no authorization code"
    return params["code"][0], None


def _handler(expected_state: str, path: str, result: _Result) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if path and parts.path.rstrip("/") != path.rstrip("/"):
                self._answer(404, "Not the redirect path.")
                return
            result.code, result.error = check_redirect(parts.query, expected_state)
            if result.code:
                self._answer(200, "Authorized. You can close this window and return to the terminal.")
            else:
                self._answer(400, "Authorization failed. Start it again from the terminal.")
            result.done.set()

        def _answer(self, status: int, text: str) -> None:
            body = f"<html><body><p>{text}</p></body></html>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the request line holds the code; never print it

    return Handler


def _listen(
    server: HTTPServer, state: str, path: str, timeout: float, token_name: str
) -> tuple[str | None, str | None]:
    result = _Result()
    server.RequestHandlerClass = _handler(state, path, result)
    server.timeout = 0.2
    deadline = time.monotonic() + timeout
    try:
        while not result.done.is_set():
            if time.monotonic() > deadline:
                raise AuthError(
                    f"no authorization received within {timeout:.0f}s", connector=token_name, hint="run it again"
                )
            server.handle_request()
    finally:
        server.server_close()
    return result.code, result.error


def run_local_authorization(
    authorize_url_base: str,
    client_id: str,
    client_secret: str,
    token_url: str,
    redirect_port: int,
    store: TokenStore,
    token_name: str,
    open_browser: bool,
    *,
    redirect_uri: str | None = None,
    scopes: list[str] | None = None,
    timeout: float = 300.0,
    transport: httpx.BaseTransport | None = None,
    announce: Callable[[str], None] = print,
    paste: Callable[[str], str] = input,
) -> dict[str, Any]:
    """Run the whole authorization-code flow; returns the stored token dict.

    ``redirect_uri`` defaults to ``http://127.0.0.1:<port>/callback``, served by a listener on
    that port. Providers such as FreshBooks only accept registered HTTPS redirect URIs, which a
    plain local listener cannot serve; for an ``https`` redirect URI the person copies the
    address the browser was sent to (it holds ``code`` and ``state`` even when the page does
    not load) and ``paste`` reads it. ``announce`` receives the URL to visit (printed by default).
    """
    server: HTTPServer | None = None
    if redirect_uri is None or urlsplit(redirect_uri).scheme != "https":
        try:
            server = HTTPServer(("127.0.0.1", redirect_port), BaseHTTPRequestHandler)
        except OSError as exc:  # another authorization (or program) listens there
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{redirect_port} for the authorization's redirect: "
                f"{exc.strerror or exc}",
                hint="stop what uses that port (another `syncengine auth`?), or use another port: the same one "
                     "in redirect_uri and in the app's registered redirect URIs",
            ) from None
    uri = redirect_uri or f"http://127.0.0.1:{server.server_address[1] if server else redirect_port}/callback"
    state = new_state()
    url = build_authorize_url(authorize_url_base, client_id, uri, state, scopes)
    announce(f"Open this URL in a browser to authorize {token_name}:\n{url}")
    if open_browser:
        webbrowser.open(url)
    if server is not None:
        code, error = _listen(server, state, urlsplit(uri).path, timeout, token_name)
    else:
        announce(
            f"After you approve, the browser goes to {uri}?code=... (the page may not load). "
            "Copy that whole address from the address bar and paste it here."
        )
        pasted = paste("Address you were sent to: ").strip()
        code, error = check_redirect(urlsplit(pasted).query, state)
    if error or code is None:
        raise AuthError(error or "no code", connector=token_name, hint="run the authorization again")
    token = exchange_authorization_code(
        token_url,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=uri,
        code=code,
        transport=transport,
    )
    with store.token_lock(token_name) as slot:
        slot.save(token)
    return token
