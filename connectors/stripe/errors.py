"""Stripe's error body -> the engine's typed errors.

``{"error": {"type", "code", "message", "param"}}``: ``param`` names the field (``address[city]``
becomes ``address.city``); ``resource_missing`` is a NotFoundError whatever the status, an
``idempotency_error`` a ValidationError (the same key was sent with other parameters: a bug to
see, not to retry). The status decides the rest (:func:`syncengine.http.errors.error_for_status`),
so 400, 403 and 404 always reach the run as errors, never as an empty page.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from syncengine.errors import ConnectorError, NotFoundError, ValidationError
from syncengine.http import ErrorDetail

__all__ = ["param_field", "parse_error"]


def param_field(param: str | None) -> str | None:
    """``address[city]`` -> ``address.city``; ``lines[0][amount]`` -> ``lines.0.amount``."""
    if not param:
        return None
    return param.replace("][", ".").replace("[", ".").rstrip("]")


def parse_error(response: httpx.Response) -> ErrorDetail | None:
    if response.is_success:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    code = error.get("code") or error.get("type")
    message = str(error.get("message") or code or f"HTTP {response.status_code}")
    kind: type[ConnectorError] | None = None
    if code == "resource_missing":
        kind = NotFoundError
    elif code == "idempotency_error":
        kind = ValidationError
    return ErrorDetail(message, code=str(code) if code else None, field=param_field(error.get("param")), kind=kind)
