"""Where the daemon's work runs: the :class:`WorkQueue` seam and its in-process implementation.

The receiver and the scheduler only *ask* for work: "the ledger holds new pending syncs" and
"pipeline X is due". The in-process queue does it on one worker thread, so the Engine (its
connectors are not thread-safe) is used by one thread and two runs of a pipeline never overlap;
a queue on a task engine (procrastinate) can implement the same protocol to spread the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import structlog

__all__ = ["InProcessQueue", "WorkQueue"]

_log = structlog.get_logger("syncengine.daemon")


class WorkQueue(Protocol):
    def start(self) -> None: ...

    def notify_pending(self) -> None:
        """Webhook deliveries were stored with their pending syncs; drain them soon."""
        ...

    def run_pipeline(self, pipeline: str) -> None:
        """A scheduled run of ``pipeline`` is due (asked again while queued: one run)."""
        ...

    def stop(self) -> None:
        """Take no more work; return once the work in hand has finished."""
        ...

    def alive(self) -> bool: ...


class InProcessQueue:
    """One worker thread: pending keyed syncs first (they are small and someone waits), then due runs."""

    def __init__(self, drain_pending: Callable[[Callable[[], bool]], None],
                 run_pipeline: Callable[[str, Callable[[], bool]], None]) -> None:
        self._drain = drain_pending
        self._run = run_pipeline
        self._wake = threading.Condition()
        self._pending = True  # a restart drains what a previous process left
        self._due: list[str] = []
        self._stopping = False
        self.poll_seconds = 5.0
        self._busy = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="syncengine-work", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stopping(self) -> bool:
        return self._stopping

    def notify_pending(self) -> None:
        with self._wake:
            self._pending = True
            self._wake.notify()

    def run_pipeline(self, pipeline: str) -> None:
        with self._wake:
            if pipeline not in self._due:
                self._due.append(pipeline)
            self._wake.notify()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No new work starts inside the block (the work in hand finishes first)."""
        with self._busy:
            yield

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not (self._stopping or self._pending or self._due):
                    if not self._wake.wait(timeout=self.poll_seconds):
                        self._pending = True  # what a failed sync left behind, or another receiver stored
                if self._stopping:
                    return
                pending, self._pending = self._pending, False
                due = None if pending or not self._due else self._due.pop(0)
            try:
                with self._busy:
                    self._work(pending, due)
            except Exception as exc:  # one failed job must not end the worker
                _log.error("daemon.work_failed", error=str(exc), pipeline=due)

    def _work(self, pending: bool, due: str | None) -> None:
        if pending:
            self._drain(self.stopping)
        elif due is not None:
            self._run(due, self.stopping)
