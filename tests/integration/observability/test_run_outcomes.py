"""A run is ok only when it did all its work: rate limited, interrupted or with records left
failing it is partial, with its reason in the ledger; a pair that fails outright is an error.

The rate-limited case goes over real HTTP: a connector on ``make_client`` reads a loopback API
that answers 429 past our retries. Before this change such a run was recorded as "error" with no
reason, and the HTTP layer had no hook to count the 429s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncengine.connector import BaseConnector, Page, WriteOp, WriteResult
from syncengine.http import ErrorContext, RetryPolicy, make_client, raise_for_response, transport_errors
from syncengine.ledger import Ledger
from syncengine.mapping import load_mapping
from syncengine.observability import MetricsRecorder
from syncengine.reconcile import PairOptions, run_pipeline
from syncengine.records import Record
from tests.conftest import free_port
from tests.integration.observability.helpers import samples, serve
from tests.integration.reconcile.test_repeated_listing import SPEC, PagedStore


class HttpThings(BaseConnector):
    """Reads ``things`` from an HTTP API through the engine's client factory."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.http = make_client(base_url, name=name, retry=RetryPolicy(max_attempts=3, backoff_base=0.0))

    def objects(self) -> Mapping[str, object]:  # type: ignore[override]
        return {"things": SPEC}

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        context = ErrorContext(connector=self.name, obj=obj)
        with transport_errors(context):
            response = self.http.get("/things")
        raise_for_response(response, context=context)
        yield Page([Record(k, {"id": k, "name": v}) for k, v in response.json().items()], "c", full=True)

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        return []

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        raise AssertionError("nothing is written to the API in these tests")


@pytest.fixture
def api() -> Iterator[tuple[str, dict[str, bool]]]:
    """GET /things: two things, or 429 (Retry-After: 0) while ``switch['limited']`` is set."""
    switch = {"limited": False}

    def things(request: Request) -> Response:
        if switch["limited"]:
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "0"})
        return JSONResponse({"a": "one", "b": "two"})

    with serve(Starlette(routes=[Route("/things", things)])) as base:
        yield base, switch


def mapping(tmp_path: Path) -> object:
    path = tmp_path / "m.yaml"
    path.write_text("pairs:\n  - {name: things, left: things, right: things, fields: "
                    "[{left: id, right: id}, {left: name, right: name}]}\n")
    return load_mapping(path, {"things": SPEC}, {"things": SPEC})


def test_a_run_cut_short_by_429s_is_partial_with_its_reason(tmp_path: Path, api: tuple[str, dict[str, bool]]) -> None:
    base, switch = api
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    left, right = PagedStore("left", {}), HttpThings("crm", base)
    with MetricsRecorder(ledger, ["p"]).observe_http() as recorder:
        run = {"ledger": ledger, "pipeline": "p", "mapping": mapping(tmp_path), "left": left, "right": right,
               "options": PairOptions()}
        first = run_pipeline(**run)  # type: ignore[arg-type]
        recorder.run_finished(first)
        assert first.status == "ok" and first.reason is None
        assert left.rows == {"a": "one", "b": "two"}

        switch["limited"] = True
        second = run_pipeline(**run)  # type: ignore[arg-type]
        recorder.run_finished(second)
    right.http.close()

    assert second.status == "partial"
    assert not second.ok, "the CLI still exits non-zero"
    assert second.reason is not None and second.reason.startswith("rate limited (HTTP 429): things: ")
    assert "HTTP 429" in second.reason and "crm/things" in second.reason
    stored = ledger.recent_runs(limit=2)
    assert [(r.status, r.reason) for r in stored] == [("partial", second.reason), ("ok", None)]
    assert "_reason" not in stored[0].counts
    assert ledger.get_cursor("p", "things", "right") == "c", "the cursor stayed where the first run left it"
    ledger.close()

    got = samples(recorder.exposition().decode())
    assert got[("syncengine_http_requests_total", frozenset({("connector", "crm"), ("status", "200")}))] == 1
    assert got[("syncengine_http_requests_total", frozenset({("connector", "crm"), ("status", "429")}))] == 3
    assert got[("syncengine_http_rate_limited_total", frozenset({("connector", "crm")}))] == 3
    assert got[("syncengine_runs_total", frozenset({("pipeline", "p"), ("outcome", "partial")}))] == 1
    assert got[("syncengine_runs_total", frozenset({("pipeline", "p"), ("outcome", "ok")}))] == 1


def test_an_interrupted_run_is_partial_and_says_so(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    left, right = PagedStore("left", {f"k{i}": "x" for i in range(5)}), PagedStore("right", {})
    report = run_pipeline(ledger=ledger, pipeline="p", mapping=mapping(tmp_path), left=left,  # type: ignore[arg-type]
                          right=right, options=PairOptions(batch_size=2), should_stop=lambda: True)
    assert report.status == "partial"
    assert report.reason == "interrupted: pair 'things' stopped between batches"
    assert ledger.recent_runs(limit=1)[0].reason == report.reason
    ledger.close()


class Broken(PagedStore):
    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        raise KeyError("a bug in a connector")


def test_a_pair_that_fails_outright_is_an_error_with_the_error_as_reason(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    report = run_pipeline(ledger=ledger, pipeline="p", mapping=mapping(tmp_path),  # type: ignore[arg-type]
                          left=PagedStore("left", {"a": "x"}), right=Broken("right", {}), options=PairOptions())
    assert report.status == "error"
    assert report.reason == "things: unexpected KeyError: 'a bug in a connector'"
    (run,) = ledger.recent_runs(limit=1)
    assert (run.status, run.reason) == ("error", report.reason)
    ledger.close()


def test_an_unreachable_api_is_an_error_not_partial(tmp_path: Path) -> None:
    """A connection refused is not a rate limit: the pair failed outright."""
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    right = HttpThings("crm", f"http://127.0.0.1:{free_port()}")
    report = run_pipeline(ledger=ledger, pipeline="p", mapping=mapping(tmp_path),  # type: ignore[arg-type]
                          left=PagedStore("left", {}), right=right, options=PairOptions())
    right.http.close()
    assert report.status == "error"
    assert report.reason is not None and report.reason.startswith("things: [crm/things]")
    assert ledger.recent_runs(limit=1)[0].status == "error"
    ledger.close()
