"""Traffic against the sandbox: a request budget with a lower client limit, injected faults, discovery."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.errors import ConfigError, TransientError

from .conftest import SandboxServer, connector_for


def settled_stats(sb: Any) -> dict[str, Any]:
    """The sandbox counts a request after answering it; give the last ones a moment."""
    time.sleep(0.2)
    return dict(sb.stats())


def drain(fb: FreshBooksConnector, obj: str) -> int:
    return sum(len(page.records) for page in fb.changes(obj, None))


def test_burst_under_a_request_budget_keeps_429s_rare(sandbox: Any) -> None:
    budget, client_limit = 600, 540  # per minute; the client is set a bit below the sandbox
    sandbox.set_budget(requests_per_minute=budget)
    fb = connector_for(sandbox, rate_limit_per_minute=client_limit, page_size=3)
    fb.business()
    before = settled_stats(sandbox)["requests"]
    objects = ["clients", "invoices", "items", "expenses", "payments", "estimates"]
    errors: list[BaseException] = []
    counts: dict[str, int] = {}

    def run(obj: str) -> None:
        try:
            counts[obj] = drain(fb, obj)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(obj,)) for obj in objects]  # a burst: six pulls at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    fb.close()
    stats = settled_stats(sandbox)
    requests = stats["requests"] - before
    assert not errors
    assert all(counts[obj] > 0 for obj in objects)
    assert stats["rate_limited"] <= 2, stats["by_status"]
    rate = requests / elapsed * 60
    print(
        f"\nburst: {requests} requests in {elapsed:.1f}s = {rate:.0f}/min against a budget of {budget}/min, "
        f"429s: {stats['rate_limited']}"
    )
    burst_allowance = client_limit / 60  # the bucket starts full with one second's worth
    assert (requests - burst_allowance) / elapsed * 60 <= client_limit * 1.05
    assert stats["rate_limited"] == 0


@pytest.mark.slow
def test_429_storm_over_more_than_a_minute_stays_bounded(sandbox: Any) -> None:
    """More requests than the budget allows in a minute, from a burst of threads: only a minute-plus
    of traffic can exceed a per-minute budget, so this test runs about 70 s."""
    budget, client_limit, target = 300, 280, 330
    sandbox.set_budget(requests_per_minute=budget)
    fb = connector_for(sandbox, rate_limit_per_minute=client_limit, page_size=5)
    fb.business()
    before = settled_stats(sandbox)
    errors: list[BaseException] = []
    pulls = 0
    lock = threading.Lock()

    def run(obj: str) -> None:
        nonlocal pulls
        try:
            while sum(fb.calls.values()) < target:
                drain(fb, obj)
                with lock:
                    pulls += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(obj,)) for obj in ("clients", "invoices", "items", "payments")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    fb.close()
    stats = settled_stats(sandbox)
    requests = stats["requests"] - before["requests"]
    limited = stats["rate_limited"] - before["rate_limited"]
    print(
        f"\n429 storm: {requests} requests in {elapsed:.1f}s = {requests / elapsed * 60:.0f}/min "
        f"({requests / elapsed * 60 / budget:.0%} of the {budget}/min budget), {pulls} full pulls, 429s: {limited}"
    )
    assert not errors
    assert requests >= target and elapsed > 60
    assert limited <= 3  # < 1% of the calls
    assert requests / elapsed * 60 >= 0.85 * budget


def test_injected_5xx_and_drops_are_retried_on_reads(sandbox: Any, fb: FreshBooksConnector) -> None:
    expected = drain(fb, "clients")
    sandbox.set_faults(error_rate=0.3, drop_rate=0.1)
    try:
        assert drain(fb, "clients") == expected
    finally:
        sandbox.set_faults()
    stats = settled_stats(sandbox)
    assert stats["by_status"].get("500", 0) + stats["by_status"].get("503", 0) + stats["dropped"] > 0


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts what the client actually put on the wire, by method."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, int] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent[request.method] = self.sent.get(request.method, 0) + 1
        return super().handle_request(request)


def test_post_that_timed_out_is_not_sent_twice(sandbox: Any) -> None:
    wire = CountingTransport()
    fb = connector_for(sandbox, timeout=0.5, transport=wire)
    fb.business()
    before = sandbox.state.count("clients")
    sandbox.set_faults(timeout_rate=1.0, timeout_seconds=1.0)
    try:
        with pytest.raises(TransientError, match="timed out"):
            fb.create("clients", {"fname": "Once", "email": "once@example.test"}, idempotency_key="k")
    finally:
        sandbox.set_faults()
        fb.close()
    wire.close()
    deadline = time.monotonic() + 3
    while sandbox.state.count("clients") == before and time.monotonic() < deadline:
        time.sleep(0.05)  # the slow server still handles the request after the client gave up
    time.sleep(0.3)
    assert wire.sent.get("POST") == 1  # sent once, not retried: no idempotency key
    # the write landed although the client saw a timeout, and exactly once: this is why a POST
    # without an idempotency key is never retried (the engine's intent log takes it from here)
    assert sandbox.state.count("clients") == before + 1


def test_two_businesses_without_business_id_lists_both() -> None:
    with SandboxServer(seed=3, port=0, second_business=True) as sb:
        fb = connector_for(sb)
        try:
            with pytest.raises(ConfigError) as info:
                list(fb.changes("clients", None))
        finally:
            fb.close()
        text = str(info.value)
        assert len(sb.businesses) == 2
        for business in sb.businesses:
            assert str(business["business_id"]) in text
            assert business["name"] in text
        assert "business_id" in text

        other = next(b for b in sb.businesses if b["business_id"] != sb.business_id)
        fb2 = connector_for(sb, business_id=other["business_id"])
        try:
            (account,) = next(iter(fb2.changes("account", None))).records
            assert account.fields["business_id"] == other["business_id"]
            assert drain(fb2, "clients") > 0
        finally:
            fb2.close()


def test_from_config_reads_env_and_rejects_unknown_keys(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from syncengine.tokens import MemoryTokenStore

    monkeypatch.setenv("FRESHBOOKS_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("FRESHBOOKS_CLIENT_SECRET", sandbox.client_secret)
    store = MemoryTokenStore()
    fb = FreshBooksConnector.from_config(
        "fb", {"base_url": sandbox.url, "redirect_uri": sandbox.redirect_uri, "rate_limit_per_minute": 100}, store
    )
    fb.close()
    with pytest.raises(ConfigError, match="page_sise -> page_size"):
        FreshBooksConnector.from_config("fb", {"redirect_uri": "x", "page_sise": 10}, store)
