"""FreshBooks' error bodies -> :class:`ErrorDetail`, for the shared HTTP error mapping.

FreshBooks has one error shape per URL family (reference §1.8), and the accounting family may
report an error inside an HTTP 200 (the Node SDK treats ``response.errors`` as an error whatever
the status). The errno decides the error class where we know it (1012 unknown resource ->
not found, 1001/1004/... -> validation naming the field, 1003 -> access denied); otherwise the
HTTP status decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors.freshbooks.wire import loads
from syncengine.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    NeedsDecisionError,
    NotFoundError,
    TransientError,
    UnsupportedError,
    ValidationError,
)
from syncengine.http.errors import ErrorDetail
from syncengine.http.redact import redact_text

__all__ = ["kind_for_errno", "parse_error"]

_NOT_FOUND = {1011, 1012, 404}
_VALIDATION = {
    1001,
    1004,
    1005,
    1006,
    1007,
    1008,
    1013,
    1014,
    1015,
    1016,
    1017,
    1018,
    1019,
    1031,
    1033,
    2001,
    422,
}
_AUTH = {1003, 401, 403}


def kind_for_errno(errno: int | None) -> type[ConnectorError] | None:
    if errno is None:
        return None
    if errno in _NOT_FOUND:
        return NotFoundError
    if errno in _VALIDATION:
        return ValidationError
    if errno in _AUTH:
        return AuthError
    if errno == 409:
        return ConflictError
    if errno == 500:
        return TransientError
    return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _detail(
    message: Any, errno: int | None, field: Any = None, *, on_success: bool = False, value: Any = None
) -> ErrorDetail:
    kind = kind_for_errno(errno)
    if on_success and kind is None:
        kind = ConnectorError
    text = str(message or "FreshBooks error")
    if kind is ValidationError and value not in (None, "") and len(str(value)) <= 40:
        text = f"{text} (value {str(value)!r})"  # "Invalid currency code." says nothing of which one
    return ErrorDetail(
        redact_text(text),
        code=str(errno) if errno is not None else None,
        field=str(field) if field else None,
        kind=kind,
    )


def _error_value(response: httpx.Response) -> str | None:
    """The ``value`` the first legacy accounting error names (the id that was not found)."""
    try:
        body = _mapping(loads(response.content))
    except ValueError:
        return None
    errors = _mapping(body.get("response")).get("errors")
    first = _mapping(errors[0] if isinstance(errors, list) and errors else None)
    value = first.get("value")
    return str(value) if value not in (None, "") else None


def parse_error(response: httpx.Response) -> ErrorDetail | None:
    """The error a FreshBooks response reports, or None (a 2xx without errors, or an unknown body)."""
    detail = _parse(response)
    if detail is not None and detail.kind is NotFoundError and response.status_code in (400, 422):
        # 1011/1012 on a write's *body* (an invoice's unknown customerid) is bad data, not a missing record
        return ErrorDetail(detail.message, detail.code, detail.field, ValidationError)
    if detail is not None and detail.kind is NotFoundError and response.status_code == 200:
        # an error inside an HTTP 200 (error_shape variant): missing only if it names the record addressed
        value = _error_value(response)
        if value is not None and not response.request.url.path.rstrip("/").endswith(f"/{value}"):
            return ErrorDetail(detail.message, detail.code, detail.field, ValidationError)
    if detail is not None and detail.kind is ValidationError and "currency must match" in detail.message.lower():
        # a payment (or line) in another currency than its invoice: never converted, a person decides
        return ErrorDetail(detail.message, detail.code, detail.field, NeedsDecisionError)
    if detail is not None and response.status_code in (405, 501):
        # a method the endpoint does not have (sent with errno 1003 "access denied") is not an auth problem
        return ErrorDetail(detail.message, detail.code, detail.field, UnsupportedError)
    return detail


def _parse(response: httpx.Response) -> ErrorDetail | None:
    try:
        body = loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    ok = response.is_success

    # accounting, old style: {"response": {"errors": [{errno, field, message, ...}]}}
    inner = body.get("response")
    if isinstance(inner, Mapping) and isinstance(inner.get("errors"), list) and inner["errors"]:
        first = inner["errors"][0]
        if isinstance(first, Mapping):
            return _detail(first.get("message"), _int(first.get("errno")), first.get("field"), on_success=ok,
                           value=first.get("value"))
    if ok:
        return None

    # accounting, new style: {"code", "message", "details": [{"reason": "1012", "metadata": {...}}]}
    details = body.get("details")
    if "code" in body and isinstance(details, list) and details and isinstance(details[0], Mapping):
        first = details[0]
        meta = _mapping(first.get("metadata"))
        violations = first.get("fieldViolations")
        if isinstance(violations, list) and violations and isinstance(violations[0], Mapping):
            v = violations[0]
            return _detail(v.get("description") or body.get("message"), 422, v.get("field"))
        return _detail(meta.get("message") or body.get("message"), _int(first.get("reason")), meta.get("field"),
                       value=meta.get("value"))

    # ledger accounts: {"errors": {"message", "status", "details": [{"reason", "metadata": {...}}]}}
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        items = errors.get("details")
        first = _mapping(items[0] if isinstance(items, list) and items else None)
        meta = _mapping(first.get("metadata"))
        return _detail(
            meta.get("message") or first.get("reason") or errors.get("message"),
            _int(errors.get("status")) or response.status_code,
            meta.get("field"),
        )

    # projects validation: {"errno": 2001, "error": {field: message}}
    error = body.get("error")
    if isinstance(error, Mapping) and error:
        field, message = next(iter(error.items()))
        return _detail(f"{field}: {message}", _int(body.get("errno")) or 422, field)

    # events: {"errno": 404|401|422, "message", "details": ["event: ..."]}
    if "errno" in body:
        field = None
        if isinstance(details, list) and details and isinstance(details[0], str) and ":" in details[0]:
            field = details[0].split(":", 1)[0].strip()
        return _detail(body.get("message"), _int(body.get("errno")), field)

    # identity / OAuth: {"error", "error_description"}; projects: {"error": "..."} or {"message"}
    if isinstance(error, str):
        text = f"{error}: {body['error_description']}" if body.get("error_description") else error
        return _detail(text, response.status_code)
    if "message" in body:
        return _detail(body.get("message"), response.status_code)
    return None
