"""HTTP failures -> the engine's typed errors, in one place.

Connectors call :func:`raise_for_response` with a vendor-specific body parser (FreshBooks alone
has five error-body families) and wrap their calls in :func:`transport_errors`, so no bare
``httpx`` exception and no unclassified status ever reaches the engine. The status decides the
error class unless the parser knows better (FreshBooks answers some errors with HTTP 200).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from syncengine.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from syncengine.http.redact import redact_text, redact_url
from syncengine.http.retry import parse_retry_after

__all__ = [
    "ErrorContext",
    "ErrorDetail",
    "ErrorParser",
    "error_for_status",
    "raise_for_response",
    "transport_errors",
]


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """What a vendor's error body says. ``kind`` overrides the class the status would choose."""

    message: str
    code: str | None = None
    field: str | None = None
    kind: type[ConnectorError] | None = None


#: Reads a failed response's body; returns None when the body is not an error it knows.
ErrorParser = Callable[[httpx.Response], ErrorDetail | None]


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """Who was calling, for the error message: connector, object, record key, and the re-auth hint."""

    connector: str | None = None
    obj: str | None = None
    key: str | None = None
    auth_hint: str | None = None


def error_for_status(status: int) -> type[ConnectorError]:
    if status in (401, 403):
        return AuthError
    if status in (404, 410):
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitedError
    if status in (400, 422):
        return ValidationError
    if status == 408 or status >= 500:
        return TransientError
    return ConnectorError


def _default_detail(response: httpx.Response) -> ErrorDetail:
    text = response.text[:300] if response.content else ""
    return ErrorDetail(redact_text(text) or response.reason_phrase or f"HTTP {response.status_code}")


def raise_for_response(
    response: httpx.Response, parse: ErrorParser | None = None, context: ErrorContext | None = None
) -> None:
    """Raise the typed error for a failed response (or a 2xx whose body the parser calls an error)."""
    ctx = context or ErrorContext()
    detail = parse(response) if parse is not None else None
    if response.is_success and (detail is None or detail.kind is None):
        return
    if detail is None:
        detail = _default_detail(response)
    kind = detail.kind or error_for_status(response.status_code)
    where = f"{response.request.method} {redact_url(response.request.url)} -> HTTP {response.status_code}"
    message = f"{detail.message} ({where})"
    common: dict[str, object] = {
        "connector": ctx.connector,
        "obj": ctx.obj,
        "key": ctx.key,
        "field": detail.field,
        "status": response.status_code,
        "code": detail.code,
    }
    if kind is AuthError:
        common["hint"] = ctx.auth_hint
    if issubclass(kind, RateLimitedError):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitedError(message, retry_after=retry_after, **common)
    raise kind(message, **common)  # type: ignore[arg-type]


@contextmanager
def transport_errors(context: ErrorContext | None = None) -> Iterator[None]:
    """Turn httpx's transport failures (after the retries gave up) into :class:`TransientError`."""
    ctx = context or ErrorContext()
    try:
        yield
    except httpx.TimeoutException as exc:
        url = redact_url(exc.request.url) if _has_request(exc) else "?"
        raise TransientError(
            f"timed out: {type(exc).__name__} on {url}", connector=ctx.connector, obj=ctx.obj, key=ctx.key
        ) from exc
    except httpx.TransportError as exc:
        url = redact_url(exc.request.url) if _has_request(exc) else "?"
        raise TransientError(
            f"connection failed: {type(exc).__name__} on {url}: {redact_text(str(exc))}",
            connector=ctx.connector,
            obj=ctx.obj,
            key=ctx.key,
        ) from exc


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True
