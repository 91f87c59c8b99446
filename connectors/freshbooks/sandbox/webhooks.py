"""Webhook deliveries: FreshBooks' verification POST and signed event POSTs, retried with backoff.

Each delivery is an ``application/x-www-form-urlencoded`` POST. Event deliveries carry
``name, object_id, account_id, business_id, identity_id, user_id`` in that order and the header
``X-FreshBooks-Hmac-SHA256`` = base64(HMAC-SHA256(key=verifier, msg=json.dumps(fields))), where
``fields`` is the ordered dict of the body's fields as strings and ``json.dumps`` uses Python's
default separators (reference §4.5) — signed over the fields in the order they are written.

Sandbox choices (UNCONFIRMED upstream, see README):
* the verification POST is ``name=callback.verify&object_id=<callbackid>&verifier=<code>``, and it
  is signed the same way with the verifier as key (harmless to a receiver that ignores it);
* a delivery counts as accepted on any 2xx; anything else, a connection error or no answer within
  ``timeout`` seconds is retried up to ``max_attempts`` in all, waiting ``backoff * 2**(n-1)``;
* deliveries go only to loopback hosts (127.0.0.1, localhost, ::1): the sandbox never talks to
  the outside world; an attempt to any other host is recorded with ``error`` and not retried.

Deliveries run on one background thread so API responses never wait for a receiver.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_RECORDED = 10_000


def signature(fields: dict[str, str], verifier: str) -> str:
    """FreshBooks' webhook signature over ``fields`` in their order (reference §4.5)."""
    message = json.dumps({key: str(value) for key, value in fields.items()})
    digest = hmac.new(verifier.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Job:
    callbackid: int
    uri: str
    verifier: str
    fields: dict[str, str]
    attempt: int = 0


@dataclass
class Attempt:
    """One delivery attempt, as ``webhook_deliveries()`` reports it."""

    callbackid: int
    uri: str
    name: str
    object_id: str
    attempt: int
    status: int | None
    error: str | None
    signature: str
    body: dict[str, str]
    at: float = field(default_factory=time.time)


class WebhookDispatcher:
    """A background thread that delivers queued jobs, rescheduling failures with backoff."""

    def __init__(self, max_attempts: int = 5, backoff: float = 0.25, timeout: float = 2.0) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self._queue: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._attempts: list[Attempt] = []
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def configure(self, max_attempts: int | None = None, backoff: float | None = None,
                  timeout: float | None = None) -> None:
        with self._cond:
            if max_attempts is not None:
                self.max_attempts = max_attempts
            if backoff is not None:
                self.backoff = backoff
            if timeout is not None:
                self.timeout = timeout

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="freshbooks-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def enqueue(self, callbackid: int, uri: str, verifier: str, fields: dict[str, str]) -> None:
        with self._cond:
            job = Job(callbackid, uri, verifier, dict(fields))
            heapq.heappush(self._queue, (time.monotonic(), next(self._seq), job))
            self._cond.notify_all()

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [asdict(a) for a in self._attempts]

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self._attempts.clear()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (for tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def _run(self) -> None:
        with httpx.Client(trust_env=False) as client:
            while True:
                with self._cond:
                    while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                        delay = self._queue[0][0] - time.monotonic() if self._queue else None
                        self._cond.wait(delay)
                    if self._stopping:
                        return
                    _, _, job = heapq.heappop(self._queue)
                    self._in_flight += 1
                try:
                    self._deliver(client, job)
                finally:
                    with self._cond:
                        self._in_flight -= 1
                        self._cond.notify_all()

    def _deliver(self, client: httpx.Client, job: Job) -> None:
        job.attempt += 1
        sig = signature(job.fields, job.verifier)
        status: int | None = None
        error: str | None = None
        retry = True
        host = urlsplit(job.uri).hostname or ""
        if host not in LOOPBACK_HOSTS:
            error, retry = "not delivered: the sandbox only delivers to loopback hosts", False
        else:
            try:
                response = client.post(job.uri, data=job.fields, headers={SIGNATURE_HEADER: sig},
                                       timeout=self.timeout)
                status = response.status_code
                retry = not 200 <= status < 300
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self._attempts.append(Attempt(job.callbackid, job.uri, job.fields.get("name", ""),
                                          job.fields.get("object_id", ""), job.attempt, status, error, sig,
                                          dict(job.fields)))
            del self._attempts[:-MAX_RECORDED]
            if retry and job.attempt < self.max_attempts and not self._stopping:
                due = time.monotonic() + self.backoff * 2 ** (job.attempt - 1)
                heapq.heappush(self._queue, (due, next(self._seq), job))
