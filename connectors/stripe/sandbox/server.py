"""Run the sandbox: :class:`SandboxServer` (uvicorn on a background thread, with a Python control API
for tests) and :func:`run_sandbox` (blocking, for the CLI), on 127.0.0.1 only.

``port=0`` picks a free port (the socket is bound before uvicorn starts, so ``url`` is known at
once). ``seed`` is the number of generated customers (other objects scale with it); ``rng_seed``
fixes every random choice, the API key included; ``now`` sets the clock before seeding.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from . import persistence
from .admin import info_of
from .app import build_app
from .clock import Clock
from .runtime import Sandbox, Settings
from .seed import build_store
from .store import Store

HOST = "127.0.0.1"


class SandboxServer:
    """A Stripe API emulator on ``http://127.0.0.1:PORT``; use as a context manager."""

    def __init__(self, seed: int = 20, port: int = 0, requests_per_minute: int | None = None,
                 state_file: str | Path | None = None, rng_seed: int = 1, now: datetime | None = None,
                 save_interval: float = 5.0) -> None:
        self.clock = Clock(now)
        self._seed = seed
        self._rng_seed = rng_seed
        self._state_file = Path(state_file) if state_file else None
        self._save_interval = save_interval
        store = self._load_or_seed()
        self.sandbox = Sandbox(store, self.clock, Settings(requests_per_minute=requests_per_minute,
                                                           rng_seed=rng_seed), self._fresh_store)
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._saver: persistence.PeriodicSaver | None = None
        self.port = 0

    def _fresh_store(self) -> Store:
        return build_store(self._seed, self._rng_seed, self.clock.timestamp())

    def _load_or_seed(self) -> Store:
        if self._state_file is not None:
            loaded = persistence.load(self._state_file)
            if loaded is not None:
                store, extras = loaded
                self.clock.offset = float(extras.get("clock_offset", self.clock.offset))
                return store
        return self._fresh_store()

    def _extras(self) -> dict[str, Any]:
        return {"clock_offset": self.clock.offset}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say TCP (else ~40 ms stalls)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._requested_port))
        sock.listen(1024)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(build_app(self.sandbox), lifespan="off", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=1, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self.sandbox.webhooks.start()
        self._thread = threading.Thread(target=self._serve, name="stripe-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Stripe sandbox did not start")
            time.sleep(0.002)
        if self._state_file is not None:
            self._saver = persistence.PeriodicSaver(self._state_file, self.state, self._extras, self._save_interval)
            self._saver.start()
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        if self._server is not None:
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
        if self._state_file is None:
            raise RuntimeError("this sandbox has no state_file")
        persistence.save(self._state_file, self.state, self._extras())

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- identity ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.sandbox.api_key

    @property
    def state(self) -> Store:
        return self.sandbox.store

    def info(self) -> dict[str, Any]:
        """What ``GET /_sandbox/info`` answers."""
        return info_of(self.sandbox)

    # -- control ----------------------------------------------------------------------------------
    def set_faults(self, **switches: Any) -> None:
        self.sandbox.faults.configure(**switches)

    def set_budget(self, requests_per_minute: int | None) -> None:
        self.sandbox.budget.set(requests_per_minute)

    def set_webhook_policy(self, max_attempts: int | None = None, backoff: float | None = None,
                           timeout: float | None = None, out_of_order: bool | None = None,
                           duplicates: bool | None = None) -> None:
        self.sandbox.webhooks.configure(max_attempts=max_attempts, backoff=backoff, timeout=timeout,
                                        out_of_order=out_of_order, duplicates=duplicates)

    def set_now(self, when: datetime | float) -> None:
        self.clock.set_now(when)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def freeze_clock(self, frozen: bool = True) -> None:
        """Every change in one second until thawed or moved (same-second events on demand)."""
        self.clock.freeze(frozen)

    def now(self) -> int:
        return self.clock.seconds()

    def stats(self) -> dict[str, Any]:
        return {**self.sandbox.stats.snapshot(), "faults_injected": dict(self.sandbox.faults.injected)}

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        return self.sandbox.webhooks.attempts()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.sandbox.webhooks.wait_idle(timeout)

    def reset(self) -> None:
        self.sandbox.reset()


def run_sandbox(port: int = 12111, seed: int = 20, state_file: str | None = None, rng_seed: int = 1,
                requests_per_minute: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM, then save the state file (if any) and return."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, request_stop) for sig in ((signal.SIGINT, signal.SIGTERM) if in_main else ())}
    try:
        with SandboxServer(seed=seed, port=port, state_file=state_file, rng_seed=rng_seed,
                           requests_per_minute=requests_per_minute) as server:
            print(f"Stripe sandbox on {server.url}  api_key={server.api_key} "
                  f"api_version={server.sandbox.api_version}", flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
