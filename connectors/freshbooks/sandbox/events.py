"""Webhook callback management: ``/events/account/{acct}/events/callbacks[/{id}]``.

Create stores the callback unverified and POSTs the verification form to its URI; a PUT of
``{"callback": {"verifier": code}}`` verifies it; ``{"callback": {"resend": true}}`` sends the same
verifier again; changing ``uri`` makes the callback unverified and sends a new verification
(sandbox choice). ``event`` may be ``<resource>.<action>`` or a bare ``<resource>`` (matching every
action of it, our reading of "the event and its parent event"; UNCONFIRMED). DELETE answers 204.
Errors use the events family's ``{"errno", "message", "details"}`` shape; validation is HTTP 400
with errno 422, as in the SDK fixtures.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .clock import iso_utc
from .context import int_id, sandbox, wrapped_body
from .errors import ApiError
from .listing import page_of, paging
from .objects import WEBHOOK_RESOURCES
from .runtime import Sandbox
from .store import Book, Record, public

ACTIONS = frozenset({"create", "update", "delete", "sendByEmail"})


def _validation(*details: str) -> ApiError:
    return ApiError(400, 422, "Invalid data in this request.", details=list(details))


def _check_event(event: object) -> str:
    text = str(event or "")
    resource, _, action = text.partition(".")
    if resource not in WEBHOOK_RESOURCES or (action and action not in ACTIONS):
        raise _validation("event: Value error, Unrecognized event.")
    return text


def _check_uri(uri: object) -> str:
    text = str(uri or "")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _validation("uri: Value error, Invalid URL.")
    return text


def _callback(book: Book, raw_id: str) -> Record:
    key = int_id(raw_id, "callback", "callbackid", "Callback")
    record = book.table("callbacks").get(key)
    if record is None:
        raise ApiError(404, 404, "Requested resource could not be found.")
    return record


def _verify(sb: Sandbox, book: Book, record: Record) -> None:
    fields = {"name": "callback.verify", "object_id": str(record["callbackid"]), "verifier": record["_verifier"]}
    sb.webhooks.enqueue(int(record["callbackid"]), record["uri"], record["_verifier"], fields)


def _result(record: Record) -> JSONResponse:
    return JSONResponse({"response": {"result": {"callback": public(record)}}})


async def list_callbacks(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    page, per_page = paging(request.query_params, 15)
    wanted = request.query_params.get("search[event]")
    with sb.store.lock:
        rows = [public(r) for r in sb.store.rows("callbacks", book.account_id)]
    if wanted:
        rows = [r for r in rows if r["event"] == wanted or r["event"] == wanted.partition(".")[0]
                or r["event"].partition(".")[0] == wanted]
    chunk, meta = page_of(rows, page, per_page)
    return JSONResponse({"response": {"result": {"callbacks": chunk, **meta}}})


async def get_callback(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    with sb.store.lock:
        return _result(_callback(book, request.path_params["id"]))


async def create_callback(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    data = await wrapped_body(request, "callback")
    problems = []
    for check, key in ((_check_event, "event"), (_check_uri, "uri")):
        try:
            check(data.get(key))
        except ApiError as err:
            problems.extend(err.details)
    if problems:
        raise _validation(*problems)
    with sb.store.lock:
        callback_id = book.new_id("callbacks")
        record: Record = {"callbackid": callback_id, "id": callback_id, "event": str(data["event"]),
                          "uri": str(data["uri"]), "verified": False,
                          "updated_at": iso_utc(sb.clock.now()), "_verifier": secrets.token_hex(16)}
        book.table("callbacks")[callback_id] = record
    _verify(sb, book, record)
    return _result(record)


async def update_callback(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    data = await wrapped_body(request, "callback")
    resend = False
    with sb.store.lock:
        record = _callback(book, request.path_params["id"])
        if "verifier" in data:
            if not secrets.compare_digest(str(data["verifier"]), record["_verifier"]):
                raise _validation("verifier: Value error, Invalid verifier.")
            record["verified"] = True
        elif data.get("resend"):
            resend = True
        else:
            if "event" in data:
                record["event"] = _check_event(data["event"])
            if "uri" in data and data["uri"] != record["uri"]:
                record["uri"] = _check_uri(data["uri"])
                record["verified"] = False
                record["_verifier"] = secrets.token_hex(16)
                resend = True
        record["updated_at"] = iso_utc(sb.clock.now())
        snapshot = dict(record)
    if resend:
        _verify(sb, book, snapshot)
    return _result(snapshot)


async def delete_callback(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    with sb.store.lock:
        record = _callback(book, request.path_params["id"])
        del book.table("callbacks")[int(record["callbackid"])]
    return Response(status_code=204)
