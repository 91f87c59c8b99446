"""The HTTP side of every declared :class:`~syncengine.rest.resource.Resource`.

It sits on the engine's httpx client (:func:`syncengine.http.make_client`: retries with backoff
and jitter, Retry-After, the rate limiter, redaction) and turns every failure into the engine's
typed errors through the vendor's error parser, so a 400, 403 or 404 is never a silent empty
page. Answers are parsed with every non-integer number as a Decimal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from syncengine.errors import ConnectorError
from syncengine.http import ErrorContext, ErrorParser, raise_for_response, transport_errors
from syncengine.rest.encode import BodyEncoding, Json
from syncengine.rest.paginate import Params
from syncengine.rest.resource import Resource

__all__ = ["ListPage", "RestClient", "loads"]


def loads(content: bytes | str) -> Any:
    """JSON with every non-integer number as a Decimal (never a float); None for an empty body."""
    if not content:
        return None
    from decimal import Decimal

    return json.loads(content, parse_float=Decimal)


class ListPage:
    """One page of a list: its records and the whole answer (for envelopes' extra parts)."""

    __slots__ = ("body", "rows")

    def __init__(self, rows: list[Mapping[str, Any]], body: Any) -> None:
        self.rows = rows
        self.body = body


class RestClient:
    """Calls for declared resources: list pages, one record, create, update, delete."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        connector: str,
        parse_error: ErrorParser | None = None,
        auth_hint: str | None = None,
        page_size: int = 100,
        path_values: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.http = http
        self.connector = connector
        self.parse_error = parse_error
        self.auth_hint = auth_hint
        self.page_size = page_size
        self._path_values = path_values
        #: calls made, by object (for API-cost benchmarks and tests).
        self.calls: Counter[str] = Counter()

    # -- one call --------------------------------------------------------------------------
    def path(self, template: str, key: str | None = None) -> str:
        values: dict[str, Any] = {}
        if self._path_values is not None and "{" in template.replace("{id}", ""):
            values.update(self._path_values())
        if key is not None:
            values["id"] = key
        return template.format(**values) if values else template

    def request(
        self,
        method: str,
        path: str,
        *,
        obj: str,
        key: str | None = None,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        encoding: BodyEncoding | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; a failure (status or transport) raises the engine's typed error."""
        context = ErrorContext(connector=self.connector, obj=obj, key=key, auth_hint=self.auth_hint)
        content: bytes | None = None
        sent = dict(headers or {})
        if body is not None:
            content, content_type = (encoding or Json()).encode(body)
            sent["Content-Type"] = content_type
        self.calls[obj] += 1
        with transport_errors(context):
            response = self.http.request(method, path, params=list(params), content=content, headers=sent)
        raise_for_response(response, self.parse_error, context)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, answered as parsed JSON."""
        return loads(self.request(method, path, **kwargs).content)

    # -- resources -------------------------------------------------------------------------
    def pages(self, res: Resource, params: Params | None = None, *, page_size: int | None = None) -> Iterator[ListPage]:
        """Every page of a list, following the resource's paginator."""
        size = page_size or self.page_size
        base = [*res.list_params, *(params or [])]
        paging = res.paginator.first(size)
        path = self.path(res.path)
        while True:
            body = self.call("GET", path, obj=res.name, params=[*base, *paging])
            rows = res.rows.rows(body)
            yield ListPage(rows, body)
            following = res.paginator.following(body, rows, paging, size)
            if following is None:
                return
            paging = following

    def fetch(self, res: Resource, key: str, params: Params | None = None) -> Mapping[str, Any]:
        query = [*res.item_params, *(params or [])]
        body = self.call("GET", self.path(res.one, key), obj=res.name, key=key, params=query)
        return self._item(res, body, key)

    def _item(self, res: Resource, body: Any, key: str | None) -> Mapping[str, Any]:
        item = res.item(body)
        if not isinstance(item, Mapping):
            raise ConnectorError(
                f"the answer holds no {res.name} record", connector=self.connector, obj=res.name, key=key
            )
        return item

    def _wrapped(self, res: Resource, body: Mapping[str, Any]) -> Mapping[str, Any]:
        return {res.wrap: dict(body)} if res.wrap else body

    def create(
        self, res: Resource, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None,
        params: Params | None = None,
    ) -> Mapping[str, Any]:
        answer = self.call(
            "POST", self.path(res.create_path or res.path), obj=res.name, body=self._wrapped(res, body),
            encoding=res.encoding, headers=headers, params=[*res.item_params, *(params or [])],
        )
        return self._item(res, answer, None)

    def update(
        self, res: Resource, key: str, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None,
        params: Params | None = None,
    ) -> Mapping[str, Any]:
        answer = self.call(
            res.update_method, self.path(res.one, key), obj=res.name, key=key, body=self._wrapped(res, body),
            encoding=res.encoding, headers=headers, params=[*res.item_params, *(params or [])],
        )
        return self._item(res, answer, key)

    def delete(self, res: Resource, key: str, *, headers: Mapping[str, str] | None = None) -> Any:
        return self.call("DELETE", self.path(res.one, key), obj=res.name, key=key, headers=headers)
