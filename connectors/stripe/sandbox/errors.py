"""Stripe's error shape: ``{"error": {"type", "code", "message", "param", "doc_url"}}`` with its status codes.

Statuses (reference "Requests and lists"): 400 invalid_request_error, 401 bad key, 402 card_error,
404 resource_missing, 409 idempotency conflict, 429 rate limit, 5xx api_error. ``Stripe-Should-Retry``
accompanies errors where a retry could (or could not) succeed.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An answer in Stripe's error shape; raise it anywhere in a handler."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, should_retry: bool | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.should_retry = should_retry
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        error.update({k: v for k, v in self.extra.items() if not k.startswith("_")})
        return {"error": error}

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
        return headers

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.response_headers())


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """404 ``resource_missing``: "No such customer: 'cus_x'"."""
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unknown_parameter(name: str) -> StripeError:
    return StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def required(name: str) -> StripeError:
    return StripeError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def server_error(status: int = 500) -> StripeError:
    return StripeError(status, "An unknown error occurred", type="api_error",
                       should_retry=status != 500)
