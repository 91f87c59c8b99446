"""/metrics over real HTTP after real runs: exact counts we know from what the runs did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncengine.engine import Engine
from syncengine.http import RetryPolicy, make_client
from syncengine.http.observe import client_name
from syncengine.observability import MetricsRecorder, status_app
from tests.conftest import free_port
from tests.integration.observability.helpers import make_world, samples, scrape, serve


def L(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def test_runs_writes_durations_and_open_conflicts_after_real_runs(tmp_path: Path, ledger_url: str) -> None:
    world = make_world(tmp_path, ledger_url)
    recorder = MetricsRecorder(world.ledger, ["world"])
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        recorder.run_finished(engine.sync("world"))  # 3 created on the right
        world.right.update("c1", first_name="FromDb")
        recorder.run_finished(engine.sync("world"))  # 1 updated on the left
        world.left.update("c2", first_name="A")
        world.right.update("c2", first_name="B")
        recorder.run_finished(engine.sync("world"))  # a conflict parked, nothing written
        recorder.run_finished(engine.plan("world"))  # a plan is not a run
        with serve(status_app(world.config, world.ledger, recorder)) as base:
            got = scrape(base)
            assert got[("syncengine_runs_total", L(pipeline="world", outcome="ok"))] == 3
            assert got[("syncengine_runs_total", L(pipeline="world", outcome="partial"))] == 0
            assert got[("syncengine_runs_total", L(pipeline="world", outcome="error"))] == 0
            written = {labels: value for (name, labels), value in got.items()
                       if name == "syncengine_records_written_total"}
            assert written == {
                L(pipeline="world", object="clients", direction="left_to_right", op="create"): 3,
                L(pipeline="world", object="clients", direction="right_to_left", op="update"): 1,
            }
            assert got[("syncengine_run_duration_seconds_count", L(pipeline="world"))] == 3
            assert got[("syncengine_conflicts_open", L(pipeline="world"))] == 1
            assert got[("syncengine_ledger_up", L())] == 1

            # Read at scrape time: settled by someone else (the CLI), the gauge drops at once.
            (conflict,) = world.ledger.list_conflicts()
            world.ledger.resolve_conflict(conflict.id, "left")
            assert scrape(base)[("syncengine_conflicts_open", L(pipeline="world"))] == 0
    world.close()


def test_a_run_that_left_failed_records_counts_as_partial(tmp_path: Path) -> None:
    world = make_world(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    world.left.insert({"id": "c9", "email": "bad@x.io", "first_name": "F", "last_name": "L", "balance": "lots"})
    recorder = MetricsRecorder(world.ledger, ["world"])
    with Engine(world.root / "config.yaml", world.ledger) as engine:
        report = engine.sync("world")
        recorder.run_finished(report)
    got = samples(recorder.exposition().decode())
    assert report.status == "partial"
    assert got[("syncengine_runs_total", L(pipeline="world", outcome="partial"))] == 1
    assert got[("syncengine_runs_total", L(pipeline="world", outcome="ok"))] == 0
    assert got[("syncengine_records_written_total",
                L(pipeline="world", object="clients", direction="left_to_right", op="create"))] == 3
    world.close()


def test_http_calls_and_429s_are_counted_per_connector_and_attempt(loopback_api: str) -> None:
    recorder = MetricsRecorder().observe_http()
    try:
        retry = RetryPolicy(max_attempts=4, backoff_base=0.0)
        with make_client(loopback_api, name="billing", retry=retry) as http:
            assert http.get("/limited-twice").status_code == 200  # 429, 429, then 200
            assert http.get("/ok").status_code == 200
        with client_name("crm"), make_client(loopback_api, retry=retry) as http:  # named by the factory's context
            assert http.get("/ok").status_code == 200
        dead = f"http://127.0.0.1:{free_port()}"
        with make_client(dead, name="gone", retry=RetryPolicy(max_attempts=2, backoff_base=0.0)) as http, \
                pytest.raises(httpx.ConnectError):
            http.get("/")
    finally:
        recorder.close()
    with make_client(loopback_api, name="billing") as http:  # after close: no longer counted
        http.get("/ok")
    got = samples(recorder.exposition().decode())
    requests = {labels: value for (name, labels), value in got.items() if name == "syncengine_http_requests_total"}
    assert requests == {
        L(connector="billing", status="429"): 2,
        L(connector="billing", status="200"): 2,
        L(connector="crm", status="200"): 1,
        L(connector="gone", status="error"): 2,
    }
    limited = {labels: value for (name, labels), value in got.items() if name == "syncengine_http_rate_limited_total"}
    assert limited == {L(connector="billing"): 2}


def test_webhook_events_and_event_lag(tmp_path: Path) -> None:
    recorder = MetricsRecorder()
    for outcome in ("received", "received", "duplicate", "rejected"):
        recorder.webhook_received("freshbooks", outcome)
    recorder.webhook_received("stripe", "rejected")
    for lag in (0.03, 0.15, 0.7):
        recorder.event_applied("freshbooks", lag)
    with pytest.raises(ValueError, match="received, duplicate, rejected"):
        recorder.webhook_received("stripe", "accepted")
    got = samples(recorder.exposition().decode())
    events = {labels: value for (name, labels), value in got.items() if name == "syncengine_webhook_events_total"}
    assert events == {L(connector="freshbooks", outcome="received"): 2,
                      L(connector="freshbooks", outcome="duplicate"): 1,
                      L(connector="freshbooks", outcome="rejected"): 1,
                      L(connector="stripe", outcome="rejected"): 1}
    lag = "syncengine_event_to_write_lag_seconds"
    assert got[(f"{lag}_count", L(connector="freshbooks"))] == 3
    assert got[(f"{lag}_sum", L(connector="freshbooks"))] == pytest.approx(0.88)
    assert got[(f"{lag}_bucket", L(connector="freshbooks", le="0.05"))] == 1
    assert got[(f"{lag}_bucket", L(connector="freshbooks", le="0.2"))] == 2
    assert got[(f"{lag}_bucket", L(connector="freshbooks", le="1.0"))] == 3


def test_two_recorders_in_one_process_keep_their_own_counts() -> None:
    first, second = MetricsRecorder(), MetricsRecorder()  # the global registry would refuse the second
    first.webhook_received("x", "received")
    assert ("syncengine_webhook_events_total", L(connector="x", outcome="received")) in samples(
        first.exposition().decode())
    assert ("syncengine_webhook_events_total", L(connector="x", outcome="received")) not in samples(
        second.exposition().decode())


class _Down:
    def list_conflicts(self, status: str | None = "open", pipeline: str | None = None) -> list[object]:
        raise OSError("connection refused")


def test_a_scrape_with_the_ledger_down_says_so_instead_of_failing() -> None:
    recorder = MetricsRecorder(_Down(), ["world"])  # type: ignore[arg-type]
    got = samples(recorder.exposition().decode())
    assert got[("syncengine_ledger_up", L())] == 0
    assert ("syncengine_conflicts_open", L(pipeline="world")) not in got


@pytest.fixture
def loopback_api() -> Iterator[str]:
    """A tiny API on loopback: /ok answers 200; /limited-twice answers 429 twice, then 200."""
    hits: dict[str, int] = {}

    def ok(request: Request) -> Response:
        return JSONResponse({"ok": True})

    def limited_twice(request: Request) -> Response:
        hits["limited"] = hits.get("limited", 0) + 1
        if hits["limited"] <= 2:
            return JSONResponse({"error": "slow down"}, status_code=429, headers={"Retry-After": "0"})
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/ok", ok), Route("/limited-twice", limited_twice)])
    with serve(app) as base:
        yield base
