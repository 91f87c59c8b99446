"""One run of a pipeline at a time: the ledger lease ``pipeline:<name>``, held for the whole run.

Two runs of one pipeline at once lose and duplicate data: each pulls the other's half-written
state, creates what the other is creating, and takes the other's fresh rows for deletions. So a
run takes the lease first (an atomic upsert in the ledger, see :mod:`syncengine.ledger.leases`),
renews it from a daemon thread every ``ttl/3`` while it works, and gives it up at the end. A
process that is killed stops renewing, and the next run takes over once ``ttl_seconds`` passed.

The owner string names the host, the pid and when the run began, so the message a second run
prints says who has the pipeline::

    pipeline 'world' is being synced by build-7:4242 since 2025-01-31 10:15:02 UTC (lease 3f9a1c);
    wait for it or retry later
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from syncengine.ledger.errors import PipelineBusyError

if TYPE_CHECKING:
    from syncengine.ledger.store import Ledger

__all__ = ["PipelineLease", "hold_pipeline", "lease_name", "owner_id"]

log = structlog.get_logger("syncengine.ledger")


def _log(level: str, event: str, **fields: object) -> None:
    """Log from the renewal thread, which must not die of its logging (a closed stderr, say)."""
    with suppress(Exception):
        getattr(log, level)(event, **fields)


def lease_name(pipeline: str) -> str:
    return f"pipeline:{pipeline}"


def owner_id(started: datetime | None = None) -> str:
    """``host:pid since <UTC time> (lease <random>)``; the random part tells two runs in one process apart."""
    started = (started or datetime.now(UTC)).astimezone(UTC)
    return (f"{socket.gethostname()}:{os.getpid()} since {started:%Y-%m-%d %H:%M:%S} UTC "
            f"(lease {secrets.token_hex(3)})")


class PipelineLease:
    """A held lease and the thread renewing it. ``lost`` turns True if a renewal found the lease
    taken by someone else (this process stalled past the ttl); :meth:`check` then raises."""

    def __init__(self, ledger: Ledger, pipeline: str, owner: str, ttl_seconds: float) -> None:
        self.ledger = ledger
        self.pipeline = pipeline
        self.name = lease_name(pipeline)
        self.owner = owner
        self.ttl_seconds = ttl_seconds
        self.renewals = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {self.name}", daemon=True)

    def _renew_loop(self) -> None:
        interval = self.ttl_seconds / 3
        while not self._stop.wait(interval):
            try:
                renewed = self.ledger.acquire_lease(self.name, self.owner, self.ttl_seconds)
            except Exception as exc:  # the ledger briefly unreachable: try again next time
                _log("warning", "lease renewal failed", lease=self.name, error=f"{type(exc).__name__}: {exc}")
                continue
            if not renewed:
                self.lost = True
                try:
                    holder: str | None = getattr(self.ledger.lease_holder(self.name), "owner", None)
                except Exception:
                    holder = None
                _log("error", "pipeline lease lost: another run may have started", lease=self.name,
                     owner=self.owner, holder=holder)
                return
            self.renewals += 1

    def check(self) -> None:
        """Raise :class:`PipelineBusyError` if the lease was lost while held."""
        if self.lost:
            raise PipelineBusyError(
                f"pipeline {self.pipeline!r}: this run ({self.owner}) lost its lease; another run may have taken over",
                pipeline=self.pipeline, holder=None, hint="stop this run; the other one carries on",
            )

    def _start(self) -> None:
        self._thread.start()

    def _finish(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self.ttl_seconds, 5.0))
        if self.lost:
            return
        try:
            self.ledger.release_lease(self.name, self.owner)
        except Exception as exc:  # it expires on its own after ttl_seconds
            _log("warning", "lease release failed", lease=self.name, error=f"{type(exc).__name__}: {exc}")


@contextmanager
def hold_pipeline(
    ledger: Ledger,
    pipeline: str,
    *,
    wait_seconds: float = 0,
    ttl_seconds: float = 60,
    poll_seconds: float = 0.5,
) -> Iterator[PipelineLease]:
    """Hold the pipeline's lease for the ``with`` block, renewed every ``ttl_seconds / 3``.

    If another owner holds it, poll for up to ``wait_seconds``, then raise
    :class:`PipelineBusyError` naming the holder."""
    if ttl_seconds <= 0:
        raise ValueError("a pipeline lease needs a positive ttl")
    lease = PipelineLease(ledger, pipeline, owner_id(), ttl_seconds)
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    while not ledger.acquire_lease(lease.name, lease.owner, ttl_seconds):
        holder = ledger.lease_holder(lease.name)
        if holder is None:
            continue  # released or expired since: try again at once
        if _dead_here(holder.owner):
            # Its process is gone (killed, crashed) on this very machine: the lease is stale and
            # waiting out its expiry would only delay the recovery the next run exists to do.
            _log("warning", "taking over the lease of a process that is gone", lease=lease.name,
                 holder=holder.owner)
            ledger.release_lease(lease.name, holder.owner)
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PipelineBusyError(
                f"pipeline {pipeline!r} is being synced by {holder.owner}; wait for it or retry later",
                pipeline=pipeline, holder=holder.owner,
            )
        time.sleep(min(poll_seconds, remaining))
    lease._start()
    try:
        yield lease
    finally:
        lease._finish()


def _dead_here(owner: str) -> bool:
    """Whether ``owner`` (as :func:`owner_id` writes it) names a process of this host that no
    longer runs. A process on another host is never presumed dead: its lease expires instead."""
    head = owner.split(" ", 1)[0]
    host, _, pid_text = head.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False
