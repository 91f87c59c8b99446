"""The Starlette application: every route, the error rendering, and the traffic layer in front.

The traffic layer (:class:`Traffic`) runs before any handler, in this order: injected faults
(latency, drop, timeout, error status), bearer-token check (401 in the family's shape), the
token's scopes (403, variant ``scopes``), request budget (429, ``Retry-After`` per variant), then
the handler; it records every answer in the stats. OAuth
endpoints skip the token check and budget; ``/_sandbox`` admin endpoints skip the whole layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import accounting, admin, events, identity, ledger, oauth, projects, reports, scopes
from .connection import drop_connection
from .errors import ApiError, Family, error_body, family_of, server_error, too_many_requests, unauthorized
from .runtime import Sandbox
from .variants import CURRENT, Variants

Endpoint = Callable[[Request], Awaitable[Response]]


def by_method(**handlers: Endpoint) -> Endpoint:
    """One endpoint per path that dispatches on the HTTP method (405 in the family's shape)."""
    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            raise ApiError(405, 1003, f"Method {request.method} is not allowed here.")
        return await handler(request)
    return dispatch


async def _authorize(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    return oauth.authorize(request, sb.store, sb.clock, sb.app,
                           any_loopback=sb.variants.value("redirect_uri") == "any_loopback")


async def _token(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    return await oauth.token(request, sb.store, sb.clock, sb.app, sb.settings.token_ttl,
                             revoke_on_refresh=sb.variants.value("token_after_refresh") == "revoked")


def route(path: str, endpoint: Endpoint) -> Route:
    """A route accepting every method; ``by_method`` answers 405 in the family's own shape."""
    return Route(path, endpoint, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])


ACCT = "/accounting/account/{account_id}"
BIZ = "/accounting/businesses/{business_uuid}"
ROUTES = [
    route("/oauth/authorize", by_method(GET=_authorize)),
    route("/auth/oauth/token", by_method(POST=_token)),
    route("/auth/api/v1/users/me", by_method(GET=identity.me)),
    route(f"{ACCT}/reports/accounting/balance_sheet", by_method(GET=reports.balance_sheet)),
    route(f"{ACCT}/journal_entry_accounts/journal_entry_accounts",
          by_method(GET=ledger.list_journal_entry_accounts)),
    route(ACCT + "/{group}/{resource}", by_method(GET=accounting.list_objects, POST=accounting.create_object)),
    route(ACCT + "/{group}/{resource}/{id}", by_method(
        GET=accounting.get_object, PUT=accounting.update_object, DELETE=accounting.delete_object)),
    route(f"{BIZ}/ledger_accounts/accounts", by_method(GET=ledger.list_accounts, POST=ledger.create_account)),
    route(BIZ + "/ledger_accounts/accounts/{account_uuid}",
          by_method(GET=ledger.get_account, PUT=ledger.update_account)),
    route(f"{BIZ}/reports/cash_flow", by_method(GET=reports.cash_flow)),
    route("/events/account/{account_id}/events/callbacks",
          by_method(GET=events.list_callbacks, POST=events.create_callback)),
    route("/events/account/{account_id}/events/callbacks/{id}", by_method(
        GET=events.get_callback, PUT=events.update_callback, DELETE=events.delete_callback)),
    route("/projects/business/{business_id}/projects", by_method(GET=projects.list_objects)),
    route("/projects/business/{business_id}/project", by_method(POST=projects.create_object)),
    route("/projects/business/{business_id}/project/{id}", by_method(
        GET=projects.get_object, PUT=projects.update_object, DELETE=projects.delete_object)),
    route("/timetracking/business/{business_id}/time_entries",
          by_method(GET=projects.list_objects, POST=projects.create_object)),
    route("/timetracking/business/{business_id}/time_entries/{id}", by_method(
        GET=projects.get_object, PUT=projects.update_object, DELETE=projects.delete_object)),
    route("/_sandbox/tokens", by_method(POST=admin.tokens)),
    route("/_sandbox/info", by_method(GET=admin.info)),
    route("/_sandbox/faults", by_method(POST=admin.faults)),
    route("/_sandbox/clock", by_method(POST=admin.clock)),
    route("/_sandbox/budget", by_method(POST=admin.budget)),
    route("/_sandbox/webhooks", by_method(GET=admin.webhooks, POST=admin.webhooks)),
    route("/_sandbox/variants", by_method(GET=admin.variants, POST=admin.variants)),
    route("/_sandbox/stats", by_method(GET=admin.stats)),
    route("/_sandbox/reset", by_method(POST=admin.reset)),
]


#: google.rpc codes the new-style accounting errors carry (reference §1.8: 404 -> 5, 401 -> 16)
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 10, 422: 3, 429: 8, 500: 13, 503: 14}


def error_response(path: str, err: ApiError, variants: Variants | None = None) -> JSONResponse:
    """``err`` in the path family's shape, as the open variants (status, shape, header) have it."""
    family = family_of(path)
    status = err.status
    headers = dict(err.headers or {})
    if status == 429 and variants is not None and variants.value("retry_after") == "none":
        headers.pop("Retry-After", None)
    body = error_body(family, err)
    if family is Family.ACCOUNTING and variants is not None:
        if status == 422 and variants.value("validation_status") == "400":
            status = 400
        shape = variants.value("error_shape")
        if shape == "code_details" and status >= 400:
            body = {"code": GRPC_CODES.get(status, 2), "message": f"Request failed with status_code: {status}",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": str(err.errno),
                                 "domain": "accounting.api.freshbooks.com",
                                 "metadata": {"object": err.object, "message": err.message, "field": err.field,
                                              "value": None if err.value is None else str(err.value)}}]}
        elif shape == "http200_error" and status in (400, 404, 422):
            status = 200
    return JSONResponse(body, status_code=status, headers=headers or None)


def _variants(request: Request) -> Variants:
    sb: Sandbox = request.app.state.sandbox
    return sb.variants


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request.url.path, exc, _variants(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        err = ApiError(405, 1003, f"Method {request.method} is not allowed here.")
    elif exc.status_code == 404:
        err = ApiError(404, 1012, "The requested resource does not exist.", value=request.url.path)
    else:
        err = ApiError(exc.status_code, exc.status_code, str(exc.detail))
    return error_response(request.url.path, err, _variants(request))


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A sandbox bug still answers in the family's shape (uvicorn logs the traceback)."""
    return error_response(request.url.path, server_error(500))


class Traffic:
    """Faults, authentication, budget and stats in front of the routes (see module docstring)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sb = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        family = family_of(path)
        if family is Family.ADMIN:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        CURRENT.set(self.sb.variants)

        async def recording_send(message: Message) -> None:
            # Counted before the answer leaves, so a client that has its response sees it in stats.
            if message["type"] == "http.response.start":
                self.sb.stats.record(method, path, int(message["status"]))
            await send(message)

        decision = self.sb.faults.decide()
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.action == "drop" and await drop_connection():
            self.sb.stats.record(method, path, None)
            return
        if decision.action == "timeout":
            # Read the body first: the client will have hung up by the time the write is applied.
            receive = await _buffered(receive)
            await asyncio.sleep(decision.sleep)
        problem: ApiError | None = None
        if decision.action == "error":
            problem = server_error(decision.status)
        elif family is not Family.OAUTH:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            token = oauth.authenticate(self.sb.store, self.sb.clock, headers.get("authorization"))
            if token is None:
                problem = unauthorized(family)
            elif self.sb.variants.value("scopes") == "enforced" and (
                    lacking := scopes.missing_scope(method, path, token.scope)) is not None:
                problem = lacking
            else:
                retry_after = self.sb.budget.spend(token.token)
                if retry_after is not None:
                    problem = too_many_requests(retry_after)
        if problem is not None:
            await error_response(path, problem, self.sb.variants)(scope, receive, recording_send)
        else:
            await self.app(scope, receive, recording_send)


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now and replay it later, even after the client disconnects."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}
    return replay


def build_app(sandbox: Sandbox) -> ASGIApp:
    app = Starlette(routes=ROUTES, exception_handlers={
        ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected})
    app.state.sandbox = sandbox
    return Traffic(app, sandbox)
