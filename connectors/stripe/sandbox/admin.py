"""``/_sandbox/*``: controls another process uses on a running sandbox (never faulted, no API key).

* ``GET  /_sandbox/info`` -> ``api_key``, ``api_version``, ``now``, ``seeded`` ids, webhook settings
* ``POST /_sandbox/faults`` {error_rate, error_statuses, applied_error_rate, timeout_rate, timeout_seconds,
  latency_ms} -> the settings
* ``POST /_sandbox/clock`` {"now": unix seconds}, {"advance": seconds}, {"freeze": bool} -> {"now", "frozen"}
* ``POST /_sandbox/budget`` {"requests_per_minute": n | null}
* ``POST /_sandbox/webhooks`` {max_attempts, backoff, timeout, out_of_order, duplicates};
  ``GET`` -> settings and attempts
* ``GET  /_sandbox/stats``; ``POST /_sandbox/reset`` (fresh seed data; key and clock kept)
"""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .runtime import Sandbox


class BadControl(ValueError):
    pass


def _sb(request: Request) -> Sandbox:
    return cast(Sandbox, request.app.state.sandbox)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise BadControl("send a JSON object") from None
    if not isinstance(body, dict):
        raise BadControl("send a JSON object")
    return body


def _bad(exc: Exception) -> Response:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": str(exc)}}, status_code=400)


def info_of(sb: Sandbox) -> dict[str, Any]:
    with sb.store.lock:
        seeded = {kind: list(found) for kind, found in sb.store.seeded.items()}
    return {"api_key": sb.api_key, "api_version": sb.api_version, "now": sb.now(), "seeded": seeded,
            "webhooks": sb.webhooks.settings()}


async def info(request: Request) -> Response:
    return JSONResponse(info_of(_sb(request)))


async def faults(request: Request) -> Response:
    try:
        settings = _sb(request).faults.configure(**await _body(request))
    except (TypeError, ValueError) as exc:
        return _bad(exc)
    return JSONResponse(settings.to_json())


async def clock(request: Request) -> Response:
    sb = _sb(request)
    try:
        body = await _body(request)
        if "now" in body:
            sb.clock.set_now(float(body["now"]))
        if "advance" in body:
            sb.clock.advance(float(body["advance"]))
        if "freeze" in body:
            sb.clock.freeze(bool(body["freeze"]))
    except (TypeError, ValueError) as exc:
        return _bad(exc)
    return JSONResponse({"now": sb.now(), "frozen": sb.clock.frozen})


async def budget(request: Request) -> Response:
    try:
        body = await _body(request)
        value = body.get("requests_per_minute")
        _sb(request).budget.set(int(value) if value is not None else None)
    except (TypeError, ValueError) as exc:
        return _bad(exc)
    return JSONResponse({"requests_per_minute": value})


async def webhooks(request: Request) -> Response:
    sb = _sb(request)
    if request.method == "POST":
        try:
            body = await _body(request)
            unknown = set(body) - {"max_attempts", "backoff", "timeout", "out_of_order", "duplicates"}
            if unknown:
                raise BadControl(f"unknown webhook setting {sorted(unknown)[0]!r}")
            sb.webhooks.configure(**body)
        except (TypeError, ValueError) as exc:
            return _bad(exc)
    return JSONResponse({**sb.webhooks.settings(), "deliveries": sb.webhooks.attempts()})


async def stats(request: Request) -> Response:
    sb = _sb(request)
    return JSONResponse({**sb.stats.snapshot(), "faults_injected": dict(sb.faults.injected)})


async def reset(request: Request) -> Response:
    _sb(request).reset()
    return JSONResponse({"reset": True})


ROUTES = [
    Route("/_sandbox/info", info, methods=["GET"]),
    Route("/_sandbox/faults", faults, methods=["POST"]),
    Route("/_sandbox/clock", clock, methods=["POST"]),
    Route("/_sandbox/budget", budget, methods=["POST"]),
    Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
]
