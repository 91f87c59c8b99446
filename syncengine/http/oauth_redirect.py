"""The local redirect listener for the authorization-code flow (``syncengine auth <api>``).

A tiny HTTP server on 127.0.0.1 receives ``?code=&state=`` from the browser, checks the state
(so a stray or forged redirect cannot plant someone else's code), exchanges the code and saves
the tokens in the store under its lock. Loopback only: the code never crosses a network we do
not control.
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

from syncengine.errors import AuthError
from syncengine.http.oauth import build_authorize_url, exchange_authorization_code, new_state
from syncengine.tokens import TokenStore

__all__ = ["run_local_authorization"]


class _Result:
    def __init__(self) -> None:
        self.code: str | None = None
        self.error: str | None = None
        self.done = threading.Event()


def _handler(expected_state: str, path: str, result: _Result) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if path and parts.path.rstrip("/") != path.rstrip("/"):
                self._answer(404, "Not the redirect path.")
                return
            query = parse_qs(parts.query)
            if "error" in query:
                result.error = f"authorization refused: {query['error'][0]}"
                self._answer(400, "Authorization was refused. You can close this window.")
            elif query.get("state", [""])[0] != expected_state:
                result.error = "state mismatch: this redirect does not belong to the flow we started"
                self._answer(400, "State mismatch. Start the authorization again.")
            elif not query.get("code"):
                result.error = "the redirect carried no authorization code"
                self._answer(400, "No authorization code received.")
            else:
                result.code = query["code"][0]
                self._answer(200, "Authorized. You can close this window and return to the terminal.")
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
) -> dict[str, Any]:
    """Run the whole authorization-code flow; returns the stored token dict.

    ``redirect_uri`` defaults to ``http://127.0.0.1:<port>/callback``; pass the registered one
    when the provider requires HTTPS (a tunnel then forwards it to this port). ``announce``
    receives the URL to visit (printed by default).
    """
    server = HTTPServer(("127.0.0.1", redirect_port), BaseHTTPRequestHandler)
    port = server.server_address[1]
    uri = redirect_uri or f"http://127.0.0.1:{port}/callback"
    state = new_state()
    result = _Result()
    server.RequestHandlerClass = _handler(state, urlsplit(uri).path, result)
    server.timeout = 0.2
    url = build_authorize_url(authorize_url_base, client_id, uri, state, scopes)
    announce(f"Open this URL in a browser to authorize {token_name}:\n{url}")
    if open_browser:
        webbrowser.open(url)
    deadline = time.monotonic() + timeout
    try:
        while not result.done.is_set():
            if time.monotonic() > deadline:
                raise AuthError(
                    f"no authorization received within {timeout:.0f}s",
                    connector=token_name,
                    hint="run it again",
                )
            server.handle_request()
    finally:
        server.server_close()
    if result.error or result.code is None:
        raise AuthError(result.error or "no code", connector=token_name, hint="run the authorization again")
    token = exchange_authorization_code(
        token_url,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=uri,
        code=result.code,
        transport=transport,
    )
    with store.token_lock(token_name) as slot:
        slot.save(token)
    return token
