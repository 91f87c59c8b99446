"""The daemon's HTTP face: ``POST /webhooks/{connector}``, ``GET /healthz``, ``GET /metrics``, ``GET /``.

A delivery is answered 2xx only after it is stored (with the syncs it queues) in the ledger;
a bad signature answers 401 and a malformed body 400 with nothing stored; a body over
``daemon.max_body_bytes`` answers 413 before it is read whole.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncengine.daemon.service import Daemon
from syncengine.observability.metrics import metrics_route
from syncengine.observability.status_page import status_routes
from syncengine.webhooks import Handshake, WebhookRejected

__all__ = ["daemon_app"]

_log = structlog.get_logger("syncengine.daemon")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def daemon_app(daemon: Daemon) -> Starlette:
    limit = daemon.config.daemon.max_body_bytes

    async def webhook(request: Request) -> Response:
        connector = request.path_params["connector"]
        source = await run_in_threadpool(daemon.source, connector)
        if source is None:
            return JSONResponse({"error": f"no webhook source for {connector!r}"}, status_code=404)
        try:
            body = await _read_body(request, limit)
        except _TooLarge:
            daemon.metrics.webhook_received(connector, "rejected")
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            parsed = await run_in_threadpool(source.receive, body, headers)
        except WebhookRejected as exc:
            daemon.metrics.webhook_received(connector, "rejected")
            _log.warning("daemon.webhook_rejected", connector=connector, status=exc.status, reason=exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        if isinstance(parsed, Handshake):
            return JSONResponse({"ok": parsed.detail})
        records = [(connector, r.obj, r.key) for r in parsed.records]
        payload = body.decode("utf-8", errors="replace")
        stored = await run_in_threadpool(lambda: daemon.ledger.store_webhook_event(
            connector, parsed.identity, payload, records, repeatable=parsed.repeatable))
        daemon.metrics.webhook_received(connector, "received" if stored else "duplicate")
        if stored and records:
            daemon.queue.notify_pending()
        return JSONResponse({"stored": stored, "records": len(records)})

    def healthz(request: Request) -> Response:
        checks: dict[str, bool] = {}
        try:
            with daemon.ledger.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            checks["ledger"] = True
        except Exception:
            checks["ledger"] = False
        if daemon.receiver_only:  # no scheduler here: the workers' periodic tasks own the schedules
            reachable = getattr(daemon.queue, "reachable", None)
            checks["jobs"] = bool(reachable()) if reachable is not None else True
        else:
            checks["scheduler"] = daemon.scheduler_alive()
        checks["worker"] = daemon.queue.alive()
        ok = all(checks.values())
        return Response(json.dumps({"ok": ok, "queue": daemon.queue_kind, **checks}), status_code=200 if ok else 503,
                        media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/webhooks/{connector}", webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        metrics_route(daemon.metrics),
        *status_routes(daemon.config, daemon.ledger, daemon.next_runs),
    ]
    return Starlette(routes=routes)
