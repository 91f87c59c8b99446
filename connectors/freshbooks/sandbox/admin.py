"""``/_sandbox/*``: drive a running sandbox from another process (no auth, loopback only).

* ``POST /_sandbox/tokens`` {"ttl"?: s} -> a token pair, as the token endpoint would issue it
* ``GET  /_sandbox/info`` -> app credentials and the businesses' ids
* ``POST /_sandbox/faults`` {error_rate, error_statuses, timeout_rate, timeout_seconds, drop_rate, latency_ms}
* ``POST /_sandbox/clock`` {"now": iso} or {"advance": seconds} -> {"now": iso}
* ``POST /_sandbox/budget`` {"requests_per_minute": n | null}
* ``POST /_sandbox/webhooks`` {max_attempts, backoff, timeout}; ``GET /_sandbox/webhooks`` -> attempts
* ``GET /_sandbox/variants`` -> each open behaviour: values, default, documented, current;
  ``POST /_sandbox/variants`` {NAME: VALUE, ...} sets them (400 naming an unknown one)
* ``GET  /_sandbox/stats``; ``POST /_sandbox/reset`` (fresh seed data; tokens and clock kept)
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .clock import iso_utc, parse_utc
from .context import json_body, sandbox
from .errors import ApiError


async def _object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, 1005, "Send a JSON object.")
    return body


async def tokens(request: Request) -> Response:
    body = await _object(request)
    ttl = body.get("ttl")
    return JSONResponse(sandbox(request).issue_tokens(ttl=int(ttl) if ttl is not None else None))


async def info(request: Request) -> Response:
    sb = sandbox(request)
    with sb.store.lock:
        books = [{"account_id": b.account_id, "business_id": b.business_id, "business_uuid": b.business_uuid,
                  "name": b.name} for b in sb.store.books.values()]
    return JSONResponse({"client_id": sb.app.client_id, "client_secret": sb.app.client_secret,
                         "redirect_uri": sb.app.redirect_uri, "businesses": books,
                         "now": iso_utc(sb.clock.now())})


async def faults(request: Request) -> Response:
    body = await _object(request)
    try:
        settings = sandbox(request).faults.configure(**body)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, 1004, str(exc)) from None
    return JSONResponse(settings.to_json())


async def clock(request: Request) -> Response:
    sb = sandbox(request)
    body = await _object(request)
    try:
        if "now" in body:
            sb.clock.set_now(parse_utc(str(body["now"])))
        if "advance" in body:
            sb.clock.advance(float(body["advance"]))
    except ValueError as exc:
        raise ApiError(400, 1004, str(exc)) from None
    return JSONResponse({"now": iso_utc(sb.clock.now())})


async def budget(request: Request) -> Response:
    body = await _object(request)
    value = body.get("requests_per_minute")
    sandbox(request).budget.set(int(value) if value is not None else None)
    return JSONResponse({"requests_per_minute": value})


async def webhooks(request: Request) -> Response:
    sb = sandbox(request)
    if request.method == "POST":
        body = await _object(request)
        sb.webhooks.configure(max_attempts=body.get("max_attempts"), backoff=body.get("backoff"),
                              timeout=body.get("timeout"))
    return JSONResponse({"deliveries": sb.webhooks.attempts()})


async def stats(request: Request) -> Response:
    sb = sandbox(request)
    return JSONResponse({**sb.stats.snapshot(), "faults_injected": dict(sb.faults.injected)})


async def reset(request: Request) -> Response:
    sandbox(request).reset()
    return JSONResponse({"reset": True})


async def variants(request: Request) -> Response:
    sb = sandbox(request)
    if request.method == "POST":
        body = await _object(request)
        try:
            sb.variants.set({str(k): str(v) for k, v in body.items()})
        except ValueError as exc:
            raise ApiError(400, 1004, str(exc)) from None
    return JSONResponse({"variants": sb.variants.to_json()})
