"""Pages read ahead on a helper thread, at most ``depth`` waiting, so the API's round trip and the
rate limiter's wait overlap the engine's work instead of adding to it.

A serial pull pays, for every page, the request and then the engine's work on it; FreshBooks
serves 100 records a page, so at a business's size that is 1,400 round trips waiting on nothing
but each other (bench/freshbooks_bench.py). Here the helper thread keeps requesting pages while the
caller works, in the caller's context (structlog's bound values go with it), and stops when the
caller stops taking them. An error raises in the caller, where the failed page would have come.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

class ReadAhead(Generic[T]):
    """``fetch(n)`` -> (page n, whether another page follows), for n = first, first + 1, ...: the
    helper thread starts at once; iterate for the pages in order; ``close`` when done (or not)."""

    def __init__(self, fetch: Callable[[int], tuple[T, bool]], first: int, depth: int, name: str) -> None:
        self._fetch = fetch
        self._waiting: queue.Queue[tuple[T] | BaseException | None] = queue.Queue(maxsize=depth)  # None: end
        self._stop = threading.Event()
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._produce, first),
                                        name=name, daemon=True)
        self._thread.start()

    def _put(self, item: tuple[T] | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, number: int) -> None:
        try:
            while not self._stop.is_set():
                page, more = self._fetch(number)
                if not self._put((page,)) or not more:
                    break
                number += 1
        except BaseException as exc:  # handed to the caller, raised there
            self._put(exc)
        finally:
            self._put(None)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._waiting.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item[0]

    def close(self) -> None:
        """Stop fetching: at most the request in flight finishes, unread."""
        self._stop.set()
