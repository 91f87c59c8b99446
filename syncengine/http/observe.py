"""Watching every HTTP attempt without knowing the vendor: the hook metrics count calls and 429s by.

:func:`make_client` puts an :class:`ObservedTransport` under its retries, so each attempt (a retry
is a call too, and each 429 is seen) is shown to the observers registered here, with the name of
the client (the connector's name from the config). Observers are process-wide because clients are
built deep inside connectors; an observer that raises is logged and never breaks the call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx
import structlog

__all__ = ["HttpObserver", "ObservedTransport", "add_http_observer", "client_name", "current_client_name"]

#: (client name, request, response or None when the attempt raised) -> None
HttpObserver = Callable[[str, httpx.Request, httpx.Response | None], None]

_observers: list[HttpObserver] = []
_lock = threading.Lock()
_client_name: ContextVar[str | None] = ContextVar("syncengine_http_client_name", default=None)
_log = structlog.get_logger("syncengine.http")


def add_http_observer(observer: HttpObserver) -> Callable[[], None]:
    """Show every HTTP attempt of every client to ``observer``; returns the call that stops it."""
    with _lock:
        _observers.append(observer)

    def remove() -> None:
        with _lock:
            if observer in _observers:
                _observers.remove(observer)

    return remove


@contextmanager
def client_name(name: str) -> Iterator[None]:
    """Clients made inside this block (by a connector's factory) are named ``name`` by default."""
    token = _client_name.set(name)
    try:
        yield
    finally:
        _client_name.reset(token)


def current_client_name() -> str | None:
    return _client_name.get()


def _notify(name: str, request: httpx.Request, response: httpx.Response | None) -> None:
    for observer in list(_observers):
        try:
            observer(name, request, response)
        except Exception:  # an observer's bug must not fail a sync
            _log.exception("http.observer_failed", client=name)


class ObservedTransport(httpx.BaseTransport):
    """Passes each request through and tells the observers how it went."""

    def __init__(self, inner: httpx.BaseTransport, name: str) -> None:
        self.inner = inner
        self.name = name

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except Exception:
            if _observers:
                _notify(self.name, request, None)
            raise
        if _observers:
            _notify(self.name, request, response)
        return response

    def close(self) -> None:
        self.inner.close()
