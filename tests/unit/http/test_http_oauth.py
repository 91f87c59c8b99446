"""OAuth refresh as an httpx.Auth flow, against a fake token server on loopback.

The fake behaves like FreshBooks: single-use refresh tokens, a new pair on every refresh, old
access tokens dead after a refresh, ``invalid_grant`` for a spent or unknown refresh token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from syncengine.errors import AuthError
from syncengine.http import OAuth2RefreshAuth, RetryPolicy, make_client, run_local_authorization
from syncengine.tokens import MemoryTokenStore

HINT = "syncengine auth freshbooks"


@dataclass
class FakeOAuth:
    ttl: int = 3600
    access: dict[str, float] = field(default_factory=dict)  # token -> expires_at
    refresh: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    token_calls: int = 0
    api_calls: int = 0
    always_401: bool = False
    omit_refresh_token: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> dict[str, Any]:
        access, refresh = f"at-{secrets.token_hex(8)}", f"rt-{secrets.token_hex(8)}"
        self.access[access] = time.time() + self.ttl
        self.refresh.add(refresh)
        body = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "created_at": int(time.time()),
            "scope": "user:profile:read",
        }
        return body

    def app(self) -> Starlette:
        async def token(request: Request) -> Response:
            form = await request.form()
            with self.lock:
                self.token_calls += 1
                if form.get("client_secret") != "cs":
                    return JSONResponse({"error": "invalid_client", "error_description": "bad secret"}, 401)
                if form.get("grant_type") == "refresh_token":
                    rt = str(form.get("refresh_token"))
                    if rt not in self.refresh:
                        return JSONResponse({"error": "invalid_grant", "error_description": "spent"}, 400)
                    self.refresh.discard(rt)
                    self.access.clear()  # old access tokens die with the rotation
                elif form.get("grant_type") == "authorization_code":
                    if str(form.get("code")) not in self.codes:
                        return JSONResponse({"error": "invalid_grant", "error_description": "bad code"}, 400)
                    self.codes.discard(str(form.get("code")))
                body = self.issue()
                if self.omit_refresh_token:
                    body.pop("refresh_token")
                return JSONResponse(body)

        async def me(request: Request) -> Response:
            self.api_calls += 1
            auth = request.headers.get("authorization", "")
            tok = auth.removeprefix("Bearer ")
            if self.always_401 or self.access.get(tok, 0) < time.time():
                return JSONResponse({"error": "invalid_token"}, 401)
            return JSONResponse({"ok": True})

        async def authorize(request: Request) -> Response:
            code = f"code-{secrets.token_hex(4)}"
            self.codes.add(code)
            query = urlencode({"code": code, "state": request.query_params["state"]})
            return RedirectResponse(f"{request.query_params['redirect_uri']}?{query}", 302)

        return Starlette(
            routes=[
                Route("/auth/oauth/token", token, methods=["POST"]),
                Route("/me", me),
                Route("/oauth/authorize", authorize),
            ]
        )


@pytest.fixture
def fake(loopback: Callable[[Starlette], str]) -> Iterator[tuple[FakeOAuth, str]]:
    server = FakeOAuth()
    yield server, loopback(server.app())


def stored(server: FakeOAuth, *, expires_in: float | None = None) -> MemoryTokenStore:
    body = server.issue()
    now = time.time()
    token = {
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
        "created_at": now,
        "expires_in": server.ttl,
        "expires_at": now + (expires_in if expires_in is not None else server.ttl),
    }
    return MemoryTokenStore({"freshbooks": token})


def auth_for(base: str, store: MemoryTokenStore, secret: str = "cs") -> OAuth2RefreshAuth:
    return OAuth2RefreshAuth(
        f"{base}/auth/oauth/token",
        "cid",
        secret,
        "https://localhost/cb",
        store,
        "freshbooks",
        refresh_margin=timedelta(minutes=5),
        reauthorize_hint=f"run `{HINT}`",
    )


def client(base: str, auth: OAuth2RefreshAuth) -> httpx.Client:
    return make_client(base, auth=auth, retry=RetryPolicy(backoff_base=0.01))


def test_valid_token_used_without_refresh(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server)
    with client(base, auth_for(base, store)) as http:
        assert http.get("/me").status_code == 200
    assert server.token_calls == 0


def test_refresh_shortly_before_expiry_saves_rotated_pair(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server, expires_in=60)  # inside the 5-minute margin
    old = dict(store.load_token("freshbooks") or {})
    auth = auth_for(base, store)
    with client(base, auth) as http:
        assert http.get("/me").status_code == 200
    new = store.load_token("freshbooks") or {}
    assert server.token_calls == 1 and auth.refresh_count == 1
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert old["refresh_token"] not in server.refresh  # the old one is spent


def test_401_refreshes_once_and_retries(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server)
    server.access.clear()  # the server forgot our access token (expired early, revoked ...)
    with client(base, auth_for(base, store)) as http:
        assert http.get("/me").status_code == 200
    assert server.token_calls == 1 and server.api_calls == 2


def test_401_after_a_fresh_refresh_is_an_auth_error_without_loop(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server)
    server.always_401 = True
    with client(base, auth_for(base, store)) as http, pytest.raises(AuthError) as info:
        http.get("/me")
    assert HINT in str(info.value)
    assert server.token_calls == 1 and server.api_calls == 2


def test_invalid_grant_is_auth_error_with_hint_and_one_call(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server, expires_in=-1)
    server.refresh.clear()  # the stored refresh token was spent elsewhere
    with client(base, auth_for(base, store)) as http, pytest.raises(AuthError) as info:
        http.get("/me")
    assert HINT in str(info.value)
    assert "invalid_grant" in str(info.value)
    assert server.token_calls == 1
    assert server.api_calls == 0


def test_missing_refresh_token_is_auth_error(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = MemoryTokenStore({"freshbooks": {"access_token": "x", "expires_at": 0, "expires_in": 10}})
    with client(base, auth_for(base, store)) as http, pytest.raises(AuthError, match="no refresh token"):
        http.get("/me")
    assert server.token_calls == 0


def test_no_tokens_at_all_names_the_command(fake: tuple[FakeOAuth, str]) -> None:
    _, base = fake
    with client(base, auth_for(base, MemoryTokenStore())) as http, pytest.raises(AuthError) as info:
        http.get("/me")
    assert HINT in str(info.value)


def test_rotation_survives_a_process_dying_right_after_refresh(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server, expires_in=1)
    old_refresh = (store.load_token("freshbooks") or {})["refresh_token"]
    first = client(base, auth_for(base, store))
    assert first.get("/me").status_code == 200
    # the first "process" dies here: nothing of its memory survives, only what the store holds
    first.close()
    del first
    assert server.token_calls == 1
    # a new process opens the same store and carries on with the saved pair, no refresh needed
    with client(base, auth_for(base, store)) as second:
        assert second.get("/me").status_code == 200
    assert server.token_calls == 1
    # and the old refresh token is rejected by the server
    resp = httpx.post(
        f"{base}/auth/oauth/token",
        data={
            "client_id": "cid",
            "client_secret": "cs",
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
        },
    )
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_response_without_refresh_token_keeps_the_old_one(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server, expires_in=1)
    old_refresh = (store.load_token("freshbooks") or {})["refresh_token"]
    server.omit_refresh_token = True
    with client(base, auth_for(base, store)) as http:
        http.get("/me")
    assert (store.load_token("freshbooks") or {})["refresh_token"] == old_refresh


def test_two_clients_refreshing_concurrently_refresh_once(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = stored(server, expires_in=1)
    auths = [auth_for(base, store) for _ in range(4)]
    barrier = threading.Barrier(len(auths))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(auth: OAuth2RefreshAuth) -> None:
        try:
            with client(base, auth) as http:
                barrier.wait()
                results.append(http.get("/me").status_code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in auths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [200] * 4
    assert server.token_calls == 1
    assert sum(a.refresh_count for a in auths) == 1


def test_no_secret_in_logs(fake: tuple[FakeOAuth, str], caplog: pytest.LogCaptureFixture) -> None:
    server, base = fake
    store = stored(server, expires_in=1)
    caplog.set_level("DEBUG")
    with capture_logs() as logs, client(base, auth_for(base, store)) as http:
        http.get("/me")
        server.access.clear()
        http.get("/me")
    token = store.load_token("freshbooks") or {}
    text = str(logs) + caplog.text
    assert "oauth.refreshed" in text
    for secret in (token["access_token"], token["refresh_token"], "cs"):
        assert secret not in text.replace("client_secret", "")


def test_local_authorization_flow(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = MemoryTokenStore()
    urls: list[str] = []
    result: dict[str, Any] = {}

    def run() -> None:
        result["token"] = run_local_authorization(
            f"{base}/oauth/authorize",
            "cid",
            "cs",
            f"{base}/auth/oauth/token",
            0,
            store,
            "freshbooks",
            open_browser=False,
            announce=urls.append,
            timeout=10,
        )

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while not urls and time.monotonic() < deadline:
        time.sleep(0.01)
    url = urls[0].splitlines()[-1]
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    assert redirect.startswith("http://127.0.0.1:")
    page = httpx.get(url, follow_redirects=True)  # the "browser"
    thread.join(timeout=10)
    assert page.status_code == 200
    assert (store.load_token("freshbooks") or {})["access_token"] == result["token"]["access_token"]
    assert server.token_calls == 1


def test_local_authorization_rejects_a_wrong_state(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = MemoryTokenStore()
    urls: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_local_authorization(
                f"{base}/oauth/authorize",
                "cid",
                "cs",
                f"{base}/auth/oauth/token",
                0,
                store,
                "freshbooks",
                open_browser=False,
                announce=urls.append,
                timeout=10,
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    while not urls:
        time.sleep(0.01)
    redirect = parse_qs(urlsplit(urls[0].splitlines()[-1]).query)["redirect_uri"][0]
    assert httpx.get(f"{redirect}?code=stolen&state=forged").status_code == 400
    thread.join(timeout=10)
    assert errors and isinstance(errors[0], AuthError) and "state" in str(errors[0])
    assert store.load_token("freshbooks") is None
    assert server.token_calls == 0


def test_https_redirect_uri_uses_the_pasted_address(fake: tuple[FakeOAuth, str]) -> None:
    server, base = fake
    store = MemoryTokenStore()
    urls: list[str] = []

    def paste(prompt: str) -> str:
        # the browser was sent to the HTTPS redirect URI; the person copies its address
        answer = httpx.get(urls[0].splitlines()[-1], follow_redirects=False)
        location = answer.headers["location"]
        assert location.startswith("https://localhost/cb?")
        return location

    token = run_local_authorization(
        f"{base}/oauth/authorize",
        "cid",
        "cs",
        f"{base}/auth/oauth/token",
        0,
        store,
        "freshbooks",
        open_browser=False,
        redirect_uri="https://localhost/cb",
        announce=urls.append,
        paste=paste,
    )
    assert (store.load_token("freshbooks") or {})["access_token"] == token["access_token"]
    with pytest.raises(AuthError, match="state"):
        run_local_authorization(
            f"{base}/oauth/authorize",
            "cid",
            "cs",
            f"{base}/auth/oauth/token",
            0,
            store,
            "freshbooks",
            open_browser=False,
            redirect_uri="https://localhost/cb",
            announce=urls.append,
            paste=lambda prompt: "https://localhost/cb?code=stolen&state=forged",
        )
    assert server.token_calls == 1
