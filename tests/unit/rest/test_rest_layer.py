"""The shared REST layer over real HTTP: a tiny Starlette app on loopback speaks both list
dialects (FreshBooks-like page numbers in an envelope, Stripe-like ``starting_after`` cursors),
echoes write bodies, and fails on demand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncengine.errors import AuthError, ConfigError, ConflictError, NotFoundError, TransientError, ValidationError
from syncengine.http import RetryPolicy, make_client
from syncengine.incremental import Watermark
from syncengine.rest import (
    Form,
    Json,
    OptionsError,
    PageNumbers,
    Resource,
    RestClient,
    RestOptions,
    Select,
    StartingAfter,
    UpdatedSince,
    flatten_form,
    parse_options,
)
from tests.unit.http.conftest import serve

ROWS = [{"id": f"r{n}", "name": f"Row {n}"} for n in range(1, 8)]
FAST = RetryPolicy(max_attempts=3, backoff_base=0.01, deadline=5.0)


class Api:
    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.hits: dict[str, int] = {}
        self.fail: dict[str, tuple[int, dict[str, str]]] = {}

    def app(self) -> Starlette:
        async def paged(request: Request) -> Response:
            self.queries.append(dict(request.query_params))
            page, size = int(request.query_params["page"]), int(request.query_params["per_page"])
            pages = (len(ROWS) + size - 1) // size
            rows = ROWS[(page - 1) * size: page * size]
            return JSONResponse({"response": {"result": {"clients": rows, "page": page, "pages": pages}}})

        async def cursor(request: Request) -> Response:
            self.queries.append(dict(request.query_params))
            size = int(request.query_params["limit"])
            after = request.query_params.get("starting_after")
            start = next(i + 1 for i, r in enumerate(ROWS) if r["id"] == after) if after else 0
            rows = ROWS[start:start + size]
            return JSONResponse({"object": "list", "data": rows, "has_more": start + size < len(ROWS)})

        async def echo(request: Request) -> Response:
            self.hits[request.url.path] = self.hits.get(request.url.path, 0) + 1
            if request.url.path in self.fail:
                status, headers = self.fail[request.url.path]
                error = {"error": {"type": "x", "message": f"failed with {status}", "param": "name"}}
                return JSONResponse(error, status_code=status, headers=headers)
            body = await request.body()
            return Response(b'{"echo": %s, "amount": 12.30, "type": "%s"}' % (
                body if request.headers.get("content-type") == "application/json" else b'"' + body + b'"',
                request.headers.get("content-type", "").encode()), media_type="application/json")

        async def broken(request: Request) -> Response:
            status = int(request.path_params["status"])
            return JSONResponse({"error": {"message": f"status {status}"}}, status_code=status)

        return Starlette(routes=[
            Route("/paged", paged), Route("/cursor", cursor), Route("/echo/{rest:path}", echo, methods=["POST", "GET"]),
            Route("/broken/{status:int}", broken),
        ])


@pytest.fixture
def api() -> Iterator[tuple[Api, RestClient]]:
    state = Api()
    with serve(state.app()) as url:
        http = make_client(url, retry=FAST)
        client = RestClient(http, connector="test", page_size=3)
        yield state, client
        http.close()


def test_page_numbers_in_an_envelope_with_an_updated_since_filter(api: tuple[Api, RestClient]) -> None:
    state, client = api
    res = Resource("clients", "/paged", rows=Select("response.result.clients"),
                   paginator=PageNumbers(pages=Select("response.result.pages")),
                   changes=UpdatedSince(overlap=timedelta(minutes=10)))
    mark = Watermark(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    pages = list(client.pages(res, res.changes.params(mark)))
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    assert [r["id"] for p in pages for r in p.rows] == [r["id"] for r in ROWS]
    assert [q["page"] for q in state.queries] == ["1", "2", "3"]
    assert all(q["updated_since"] == "2026-05-01T11:50:00Z" for q in state.queries)


def test_starting_after_cursors_until_has_more_is_false(api: tuple[Api, RestClient]) -> None:
    state, client = api
    res = Resource("things", "/cursor", paginator=StartingAfter())
    pages = list(client.pages(res))
    assert [r["id"] for p in pages for r in p.rows] == [r["id"] for r in ROWS]
    assert [q.get("starting_after") for q in state.queries] == [None, "r3", "r6"]
    assert {q["limit"] for q in state.queries} == {"3"}


def test_form_encoding_nests_keys_like_stripe(api: tuple[Api, RestClient]) -> None:
    _, client = api
    res = Resource("things", "/echo/things", encoding=Form(), update_method="POST", item=Select())
    body = {"name": "A&B", "metadata": {"ref": "k1"}, "lines": [{"amount": 100, "tax": Decimal("1.50")}],
            "active": False, "phone": None}
    answer = client.create(res, body)
    assert answer["type"] == "application/x-www-form-urlencoded"
    assert answer["echo"] == ("name=A%26B&metadata%5Bref%5D=k1&lines%5B0%5D%5Bamount%5D=100"
                              "&lines%5B0%5D%5Btax%5D=1.50&active=false&phone=")
    assert flatten_form({"a": {"b": [1, {"c": True}]}}) == [("a[b][0]", "1"), ("a[b][1][c]", "true")]


def test_json_writes_are_wrapped_and_answers_keep_decimals(api: tuple[Api, RestClient]) -> None:
    _, client = api
    res = Resource("clients", "/echo/clients", wrap="client", encoding=Json(), item=Select())
    answer = client.create(res, {"amount": Decimal("10.10"), "name": "x"})
    assert answer["echo"] == {"client": {"amount": "10.10", "name": "x"}}
    assert answer["amount"] == Decimal("12.30") and isinstance(answer["amount"], Decimal)


@pytest.mark.parametrize(("status", "error"), [(400, ValidationError), (403, AuthError), (404, NotFoundError)])
def test_400_403_404_on_a_list_are_typed_errors_never_an_empty_page(
    api: tuple[Api, RestClient], status: int, error: type[Exception]
) -> None:
    _, client = api
    res = Resource("things", f"/broken/{status}")
    with pytest.raises(error) as caught:
        list(client.pages(res))
    assert f"status {status}" in str(caught.value)


def test_a_server_retry_hint_decides_over_the_status(api: tuple[Api, RestClient]) -> None:
    state, client = api
    hinted = make_client(str(client.http.base_url), retry=RetryPolicy(
        max_attempts=3, backoff_base=0.01, deadline=5.0, retry_hint_header="Stripe-Should-Retry"))
    rest = RestClient(hinted, connector="test")
    state.fail["/echo/no"] = (500, {"Stripe-Should-Retry": "false"})
    state.fail["/echo/yes"] = (409, {"Stripe-Should-Retry": "true"})
    keyed = {"Idempotency-Key": "k"}
    with pytest.raises(TransientError):
        rest.call("POST", "/echo/no", obj="x", body={}, encoding=Form(), headers=keyed)
    with pytest.raises(ConflictError):
        rest.call("POST", "/echo/yes", obj="x", body={}, encoding=Form(), headers=keyed)
    assert state.hits["/echo/no"] == 1, "a 500 the server says not to retry was retried"
    assert state.hits["/echo/yes"] == 3, "a 409 the server says to retry was not retried"
    hinted.close()


class Options(RestOptions):
    event_filter: str = "wildcard"


def test_options_are_validated_with_their_place() -> None:
    with pytest.raises(OptionsError) as caught:
        parse_options(Options, {"base_url": "http://x", "page_size": 0}, connector="s")
    assert caught.value.options_loc == ("page_size",)
    with pytest.raises(OptionsError) as unknown:
        parse_options(Options, {"base_url": "http://x", "page_sise": 10}, connector="s")
    assert "did you mean 'page_size'" in str(unknown.value)


def test_a_bad_connector_option_names_its_line_in_config_yaml(tmp_path: Path) -> None:
    from syncengine.config import load_config
    from syncengine.tokens import MemoryTokenStore

    config = tmp_path / "config.yaml"
    config.write_text(
        "ledger: sqlite:///l.db\n"
        "connectors:\n"
        "  pay:\n"
        "    type: stripe\n"
        "    api_key: sk_test_x\n"
        "    page_size: 500\n"
        "pipelines: []\n",
        encoding="utf-8",
    )
    loaded: Any = load_config(config)
    with pytest.raises(ConfigError) as caught:
        loaded.connector("pay", MemoryTokenStore({}))
    assert caught.value.line == 6, str(caught.value)
    assert "page_size" in str(caught.value)
