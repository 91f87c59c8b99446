"""HTTP failures become typed errors in one place; a vendor parser refines them."""

from __future__ import annotations

import httpx
import pytest

from syncengine.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from syncengine.http.errors import ErrorContext, ErrorDetail, raise_for_response, transport_errors


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.test/things?access_token=secret")
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (400, ValidationError),
        (429, RateLimitedError),
        (500, TransientError),
        (503, TransientError),
        (418, ConnectorError),
    ],
)
def test_status_decides_the_class(status: int, kind: type[Exception]) -> None:
    with pytest.raises(kind) as info:
        raise_for_response(response(status, {"oops": 1}), context=ErrorContext(connector="c", obj="o", key="7"))
    assert type(info.value) is kind
    assert "secret" not in str(info.value)
    assert info.value.status == status  # type: ignore[attr-defined]


def test_success_passes_and_parser_can_flag_a_200() -> None:
    raise_for_response(response(200, {"ok": True}))

    def parser(resp: httpx.Response) -> ErrorDetail | None:
        return ErrorDetail("Client not found.", code="1012", field="userid", kind=NotFoundError)

    with pytest.raises(NotFoundError) as info:
        raise_for_response(response(200, {}), parser)
    assert info.value.field == "userid" and info.value.code == "1012"


def test_retry_after_and_auth_hint() -> None:
    with pytest.raises(RateLimitedError) as info:
        raise_for_response(response(429, {}, {"Retry-After": "12"}))
    assert info.value.retry_after == 12.0
    with pytest.raises(AuthError) as auth:
        raise_for_response(response(401, {}), context=ErrorContext(auth_hint="run `syncengine auth x`"))
    assert "syncengine auth x" in str(auth.value)


def test_transport_errors_become_transient() -> None:
    request = httpx.Request("GET", "https://api.test/x?code=abc")
    with pytest.raises(TransientError) as info, transport_errors(ErrorContext(connector="c")):
        raise httpx.ReadTimeout("slow", request=request)
    assert "abc" not in str(info.value)
    with pytest.raises(TransientError), transport_errors():
        raise httpx.ConnectError("refused")
