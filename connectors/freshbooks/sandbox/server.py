"""Run the sandbox: :class:`SandboxServer` (uvicorn on a background thread, with the Python control
API tests use) and :func:`run_sandbox` (blocking, for the CLI).

The server binds its own loopback socket before uvicorn starts, so ``port=0`` picks a free port
and ``url`` is known immediately; startup takes a few tens of milliseconds for small seeds.

``seed`` is the size of the generated data set (the number of clients; other objects scale with
it), unless ``size`` names a data set of exact counts (``"business"``, see ``sizes.py``; ``scale``
shrinks it) and ``rng_seed`` seeds every random choice (data, credentials, faults), so the same pair gives
the same sandbox. ``now`` (optional) sets the clock before seeding, making timestamps reproducible.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from . import persistence
from .app import build_app
from .clock import Clock
from .connection import DroppableH11Protocol
from .oauth import AppCredentials
from .runtime import Sandbox, Settings
from .seed import build_store, credentials
from .sizes import size_named
from .store import Store

HOST = "127.0.0.1"
#: the redirect URI the command-line sandbox registers (``syncengine auth freshbooks``'s listener)
CLI_REDIRECT_URI = "http://127.0.0.1:8976/callback"


class SandboxServer:
    """A FreshBooks API emulator on ``http://127.0.0.1:PORT``; use as a context manager."""

    def __init__(self, seed: int = 100, port: int = 0, token_ttl: int = 43200,
                 requests_per_minute: int | None = None, second_business: bool = False,
                 state_file: str | Path | None = None, rng_seed: int = 1, now: datetime | None = None,
                 save_interval: float = 5.0, variants: dict[str, str] | None = None,
                 size: str | None = None, scale: float = 1.0, redirect_uri: str | None = None) -> None:
        self.clock = Clock(now)
        self._seed = seed
        self._size = size_named(size, scale) if size else None
        self._rng_seed = rng_seed
        self._second_business = second_business
        self._state_file = Path(state_file) if state_file else None
        self._save_interval = save_interval
        self._app = credentials(rng_seed)
        store = self._load_or_seed()
        if redirect_uri is not None:  # the one URI registered with the app (variant redirect_uri)
            self._app = replace(self._app, redirect_uri=redirect_uri)
        app_credentials = self._app
        self.sandbox = Sandbox(store, self.clock, app_credentials,
                               Settings(token_ttl=token_ttl, requests_per_minute=requests_per_minute,
                                        rng_seed=rng_seed, variants=dict(variants or {})), self._fresh_store)
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._saver: persistence.PeriodicSaver | None = None
        self.port = 0

    def _fresh_store(self) -> Store:
        return build_store(self._seed, self._rng_seed, self.clock.now(), self._second_business, self._size)

    def _load_or_seed(self) -> Store:
        if self._state_file is not None:
            loaded = persistence.load(self._state_file)
            if loaded is not None:
                store, extras = loaded
                self.clock.offset = float(extras.get("clock_offset", self.clock.offset))
                if "app" in extras:  # the OAuth app the saved tokens were issued to
                    self._app = AppCredentials(**extras["app"])
                return store
        return self._fresh_store()

    def _extras(self) -> dict[str, Any]:
        return {"clock_offset": self.clock.offset, "app": asdict(self._app)}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP, and without it Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._requested_port))
        sock.listen(1024)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(build_app(self.sandbox), http=DroppableH11Protocol, lifespan="off",
                                log_level="warning", access_log=False, timeout_graceful_shutdown=1,
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self.sandbox.webhooks.start()
        self._thread = threading.Thread(target=self._serve, name="freshbooks-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the FreshBooks sandbox did not start")
            time.sleep(0.002)
        if self._state_file is not None:
            self._saver = persistence.PeriodicSaver(self._state_file, self.state, self._extras,
                                                    self._save_interval)
            self._saver.start()
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        if self._server is not None:
            # force_exit skips uvicorn's wait for idle keep-alive connections: a test's sandbox
            # should stop in a tick, and in-flight requests are not worth waiting for.
            self._server.should_exit = True
            self._server.force_exit = True
            if self._thread is not None:
                self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self.sandbox.webhooks.stop()
        if self._saver is not None:
            self._saver.stop()
        if self._state_file is not None:
            self.save_state()
        self._server = self._thread = self._socket = self._saver = None

    def save_state(self) -> None:
        """Write the state file now (also done periodically and on stop)."""
        if self._state_file is None:
            raise RuntimeError("this sandbox has no state_file")
        persistence.save(self._state_file, self.state, self._extras())

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- identity of the running sandbox ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def client_id(self) -> str:
        return self.sandbox.app.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.app.client_secret

    @property
    def redirect_uri(self) -> str:
        return self.sandbox.app.redirect_uri

    @property
    def account_id(self) -> str:
        return self.state.book().account_id

    @property
    def business_id(self) -> int:
        return self.state.book().business_id

    @property
    def business_uuid(self) -> str:
        return self.state.book().business_uuid

    @property
    def businesses(self) -> list[dict[str, Any]]:
        """Every business (the primary first): account_id, business_id, business_uuid, name."""
        return [{"account_id": b.account_id, "business_id": b.business_id, "business_uuid": b.business_uuid,
                 "name": b.name} for b in self.state.books.values()]

    @property
    def state(self) -> Store:
        return self.sandbox.store

    # -- control ------------------------------------------------------------------------------
    def issue_tokens(self, ttl: int | None = None, scope: str | None = None) -> dict[str, Any]:
        """A token pair, exactly as the token endpoint would answer, without the browser step
        (``scope``: space-separated, every scope by default)."""
        if scope is None:
            return self.sandbox.issue_tokens(ttl=ttl)
        return self.sandbox.issue_tokens(ttl=ttl, scope=scope)

    def set_faults(self, error_rate: float = 0.0, error_statuses: tuple[int, ...] = (500, 503),
                   timeout_rate: float = 0.0, timeout_seconds: float = 5.0, drop_rate: float = 0.0,
                   latency_ms: int = 0) -> None:
        self.sandbox.faults.configure(error_rate=error_rate, error_statuses=tuple(error_statuses),
                                      timeout_rate=timeout_rate, timeout_seconds=timeout_seconds,
                                      drop_rate=drop_rate, latency_ms=latency_ms)

    def set_budget(self, requests_per_minute: int | None = None) -> None:
        self.sandbox.settings.requests_per_minute = requests_per_minute
        self.sandbox.budget.set(requests_per_minute)

    def set_variants(self, **chosen: str) -> None:
        """Pick answers for open behaviours (see ``variants.py``); ValueError names a bad one."""
        self.sandbox.variants.set(chosen)

    def variants(self) -> list[dict[str, Any]]:
        return self.sandbox.variants.to_json()

    def set_webhook_policy(self, max_attempts: int | None = None, backoff: float | None = None,
                           timeout: float | None = None) -> None:
        """Delivery retries: attempts in all, first backoff in seconds (doubling), per-attempt timeout."""
        self.sandbox.webhooks.configure(max_attempts=max_attempts, backoff=backoff, timeout=timeout)

    def set_now(self, when: datetime) -> None:
        self.clock.set_now(when)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def now(self) -> datetime:
        return self.clock.now()

    def stats(self) -> dict[str, Any]:
        return {**self.sandbox.stats.snapshot(), "faults_injected": dict(self.sandbox.faults.injected)}

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: uri, name, object_id, status, attempt, error, signature, body."""
        return self.sandbox.webhooks.attempts()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is queued, waiting to retry, or in flight."""
        return self.sandbox.webhooks.wait_idle(timeout)

    def reset(self) -> None:
        self.sandbox.reset()


def describe(server: SandboxServer) -> str:
    """Everything a user needs to point a config at a running sandbox: URL, app credentials, the
    export lines for the environment variables the FreshBooks connector reads, the redirect URI and
    the businesses the login sees (the one to put in ``business_id`` when there are several)."""
    redirect = server.redirect_uri
    lines = [
        f"FreshBooks sandbox on {server.url}",
        f"  client id:     {server.client_id}",
        f"  client secret: {server.client_secret}",
        f"  redirect URI:  {redirect} (the registered one; --variant redirect_uri=any_loopback "
        "accepts any http://127.0.0.1 or localhost callback)",
        "  businesses (put one business_id in the connector's config when there are several):",
    ]
    for b in server.businesses:
        lines.append(f"    {b['name']}: business_id={b['business_id']} account_id={b['account_id']}")
    lines += [
        "Set these in your shell (or paste them), then: syncengine auth freshbooks",
        f"export FRESHBOOKS_API_URL={server.url}",
        f"export FRESHBOOKS_CLIENT_ID={server.client_id}",
        f"export FRESHBOOKS_CLIENT_SECRET={server.client_secret}",
        f"export FRESHBOOKS_REDIRECT_URI={redirect}",
    ]
    return "\n".join(lines)


def run_sandbox(host: str = HOST, port: int = 8765, seed: int = 1000, state_file: str | None = None,
                token_ttl: int = 43200, requests_per_minute: int | None = None,
                variants: dict[str, str] | None = None, size: str | None = None, scale: float = 1.0,
                redirect_uri: str = CLI_REDIRECT_URI, second_business: bool = False) -> None:
    """Serve until SIGINT/SIGTERM, then save the state file (if any) and return."""
    if host != HOST:
        raise ValueError("the FreshBooks sandbox only listens on 127.0.0.1")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGINT, signal.SIGTERM) if in_main_thread else ()  # only the main thread may
    previous = {sig: signal.signal(sig, request_stop) for sig in signals}
    try:
        with SandboxServer(seed=seed, port=port, token_ttl=token_ttl, requests_per_minute=requests_per_minute,
                           state_file=state_file, variants=variants, size=size, scale=scale,
                           redirect_uri=redirect_uri, second_business=second_business) as server:
            print(describe(server), flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
