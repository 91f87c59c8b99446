"""The Starlette application: ``/v1/*`` through the traffic layer, ``/_sandbox/*`` controls beside it.

Order of the traffic layer for an API request: API key (401), request budget (429, before any
idempotency key is recorded), stored idempotent answer (replayed with ``Idempotent-Replayed: true``),
injected faults, then the handler under the store lock, rendered with ``expand[]``. Every answer
carries ``Request-Id`` and ``Stripe-Version``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any, cast

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin, routes
from .errors import StripeError, server_error
from .forms import Params, parse_form
from .idempotency import Answer, fingerprint
from .runtime import REQUEST, Sandbox
from .views import render

log = logging.getLogger(__name__)
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def _json(status: int, body: Any, headers: dict[str, str]) -> Answer:
    """Pretty-printed like Stripe's answers (orjson: the stdlib encoder is 20x slower on big lists)."""
    return Answer(status, orjson.dumps(body, option=orjson.OPT_INDENT_2), headers)


def _error(error: StripeError) -> Answer:
    return _json(error.status, error.body(), error.response_headers())


def _api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().split(":", 1)[0]
        except ValueError:
            return ""
    return None


def _check_key(sb: Sandbox, key: str | None) -> None:
    if not key:
        raise StripeError(401, "You did not provide an API key. You need to provide your API key in the "
                          "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
    if key != sb.api_key:
        raise StripeError(401, f"Invalid API Key provided: {key[:8]}{'*' * 12}{key[-4:]}")


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        if body and request.headers.get("content-type", "").startswith("application/json"):
            raise StripeError(400, "Invalid request: bodies must be form-encoded "
                              "(Content-Type: application/x-www-form-urlencoded).")
        return parse_form(body)
    return parse_form(request.url.query)


def _run(sb: Sandbox, method: str, path: str, params: dict[str, Any]) -> Answer:
    found = routes.match(method, path)
    if found is None:
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                          "or we can help at https://support.stripe.com/.")
    handler, path_args = found
    with sb.store.lock:
        p = Params(params)
        result = handler(sb, p, **path_args)
        return _json(200, render(sb, result, p), {})


async def api(request: Request) -> Response:
    sb = cast(Sandbox, request.app.state.sandbox)
    request_id = sb.store.new_id("request")
    path, method = request.url.path, request.method
    idem_key = request.headers.get("idempotency-key") if method == "POST" else None
    token = REQUEST.set((request_id, idem_key))
    replayed = False
    try:
        answer = await _serve(sb, request, method, path, idem_key)
        replayed = answer.headers.get("Idempotent-Replayed") == "true"
    finally:
        REQUEST.reset(token)
    headers = {**answer.headers, "Request-Id": request_id, "Stripe-Version": sb.api_version}
    sb.stats.record(method, path, answer.status, replayed)
    return Response(answer.body, status_code=answer.status, headers=headers, media_type="application/json")


async def _serve(sb: Sandbox, request: Request, method: str, path: str, idem_key: str | None) -> Answer:
    try:
        key = _api_key(request)
        _check_key(sb, key)
        assert key is not None
        wait = sb.budget.spend(key)
        if wait is not None:
            raise StripeError(429, "Request rate limit exceeded. Learn more about rate limits here "
                              "https://stripe.com/docs/rate-limits.", code="rate_limit", should_retry=True,
                              headers={"Stripe-Rate-Limited-Reason": "global-rate", "Retry-After": str(wait)})
        params = await _params(request)
    except StripeError as error:
        return _error(error)
    if idem_key is None:
        return await _execute(sb, method, path, params)
    print_ = fingerprint(method, path, params)
    try:
        stored = sb.idempotency.begin(key, idem_key, print_, sb.now())
    except StripeError as error:
        return _error(error)
    if stored is not None:
        return Answer(stored.status, stored.body, {**stored.headers, "Idempotent-Replayed": "true"})
    answer: Answer | None = None
    try:
        answer = await _execute(sb, method, path, params)
        return answer
    finally:
        sb.idempotency.finish(key, idem_key, print_, answer, sb.now())


async def _execute(sb: Sandbox, method: str, path: str, params: dict[str, Any]) -> Answer:
    """Faults, then the handler; marks answers of requests that never began executing."""
    decision = sb.faults.decide()
    if decision.latency:
        await asyncio.sleep(decision.latency)
    if decision.action == "error":
        answer = _error(server_error(decision.status))
        answer.executed = decision.status == 500
        return answer
    if decision.action == "timeout":
        await asyncio.sleep(decision.sleep)
    changes = sb.store.changes
    try:
        answer = _run(sb, method, path, params)
    except StripeError as error:
        answer = _error(error)
        # a 4xx that changed nothing is a validation failure: Stripe stores no result for it
        answer.executed = error.status >= 500 or error.status == 402 or sb.store.changes != changes
        return answer
    except Exception:  # a sandbox bug still answers in Stripe's shape
        log.exception("stripe sandbox: unexpected error on %s %s", method, path)
        return _error(server_error(500))
    if decision.action == "applied_error":
        return _error(server_error(500))
    return answer


def build_app(sandbox: Sandbox) -> Starlette:
    app = Starlette(routes=[*admin.ROUTES, Route("/v1/{rest:path}", api, methods=METHODS)])
    app.state.sandbox = sandbox
    return app

