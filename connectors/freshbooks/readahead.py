"""Pages read ahead on helper threads, at most ``depth`` waiting and ``workers`` requests at once,
so the API's round trip and the rate limiter's wait overlap the engine's work instead of adding
to it.

A serial pull pays, for every page, the request and then the engine's work on it; FreshBooks
serves 100 records a page, so at a business's size that is 1,400 round trips waiting on nothing
but each other (bench/freshbooks_bench.py). One request at a time is not enough either: it runs
at most 1/latency pages a second, and at 150 ms a round trip that is below 600 a minute. Here
helper threads keep up to ``workers`` requests out (the rate limiter still paces them) while the
caller works, in the caller's context (structlog's bound values go with them), hand the pages
over in order, and stop when the caller stops taking them. An error raises in the caller, where
the failed page would have come.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class ReadAhead(Generic[T]):
    """Pages ``first``.. of a listing of ``pages`` pages (as its first answer said). ``fetch(n)``
    -> (page n's rows, the number of pages that answer reports: a listing that grows while read
    is followed). The reading starts at once; iterate for the pages in order; ``close`` when done
    (or not). A page with no rows ends the listing."""

    def __init__(self, fetch: Callable[[int], tuple[list[T], int]], first: int, pages: int, *, depth: int,
                 workers: int, name: str) -> None:
        self._fetch = fetch
        self._pages = pages
        self._workers = max(1, workers)
        self._name = name
        self._waiting: queue.Queue[tuple[list[T]] | BaseException | None] = queue.Queue(maxsize=depth)  # None: end
        self._stop = threading.Event()
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._produce, first),
                                        name=name, daemon=True)
        self._thread.start()

    def _put(self, item: tuple[list[T]] | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, first: int) -> None:
        # Daemon threads, not a ThreadPoolExecutor: a process that ends (an error, a stop) must
        # not wait at exit for requests it no longer wants, retries and all.
        jobs: queue.SimpleQueue[tuple[int, Future[tuple[list[T], int]]] | None] = queue.SimpleQueue()
        for index in range(self._workers):
            threading.Thread(target=contextvars.copy_context().run, args=(self._work, jobs),
                             name=f"{self._name}-{index}", daemon=True).start()
        out: deque[tuple[int, Future[tuple[list[T], int]]]] = deque()
        upcoming = first
        try:
            while not self._stop.is_set():
                while len(out) < self._workers and upcoming <= self._pages:
                    job: tuple[int, Future[tuple[list[T], int]]] = (upcoming, Future())
                    jobs.put(job)
                    out.append(job)
                    upcoming += 1
                if not out:
                    break
                number, answer = out.popleft()
                rows, self._pages = answer.result()
                if not self._put((rows,)) or not rows or number >= self._pages:
                    break
        except BaseException as exc:  # handed to the caller, raised there
            self._put(exc)
        finally:
            for _, answer in out:
                answer.cancel()  # pages past the end, or no longer wanted: dropped unread
            for _ in range(self._workers):
                jobs.put(None)
            self._put(None)

    def _work(self, jobs: queue.SimpleQueue[tuple[int, Future[tuple[list[T], int]]] | None]) -> None:
        while (job := jobs.get()) is not None:
            number, answer = job
            if not answer.set_running_or_notify_cancel():
                continue
            try:
                answer.set_result(self._fetch(number))
            except BaseException as exc:
                answer.set_exception(exc)

    def __iter__(self) -> Iterator[list[T]]:
        while True:
            item = self._waiting.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item[0]

    def close(self) -> None:
        """Stop reading: requests already out finish, unread."""
        self._stop.set()
