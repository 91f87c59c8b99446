"""Handlers for the project-like family: projects and time entries (business_id in the path).

No ``response/result`` wrapper: ``{"project": {...}}``, ``{"projects": [...], "meta": {...}}``
(reference §1.3). Filters are plain parameters; ``updated_since`` (ISO UTC, at-or-after) drives
incremental reads; DELETE answers 204 with no body.

Open behaviours (variants ``project_delete``, ``time_entry_delete``): a deleted project is gone or
kept with ``vis_state: 1``; a deleted time entry is gone or kept hidden (a 404 on GET, listed only
with ``include_deleted=true`` and then shown with ``active: false``). Time entries show no updated
field but keep a hidden one for ``updated_since``.
A project's ``title`` and a time entry's ``started_at``/``duration`` are required (errno 2001).
"""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import writes
from .context import int_id, sandbox, today, wrapped_body
from .errors import ApiError, invalid
from .listing import TRUE_WORDS, includes, page_of, paging, project_query, select, sort_rows
from .objects import PROJECTS, TIME_ENTRIES, ObjectSpec
from .runtime import Sandbox
from .store import Book, Record
from .views import ABILITIES, render


def _spec(request: Request) -> ObjectSpec:
    return TIME_ENTRIES if request.url.path.startswith("/timetracking/") else PROJECTS


def _book(request: Request) -> tuple[Sandbox, Book]:
    sb = sandbox(request)
    return sb, sb.book_for_business(request.path_params["business_id"])


async def list_objects(request: Request) -> Response:
    sb, book = _book(request)
    spec = _spec(request)
    params = request.query_params
    try:
        page, per_page = paging(params, spec.per_page)
    except ApiError as err:
        raise ApiError(400, err.errno, "Not a valid integer.", field=err.field) from None
    predicates = project_query(spec, params)
    wanted = includes(params, spec)
    show_deleted = params.get("include_deleted", "").lower() in TRUE_WORDS
    with sb.store.lock:
        rows = [r for r in book.table(spec.collection).values() if show_deleted or not r.get("_deleted")]
        rows = sort_rows(select(rows, predicates), params.get("sort"), accounting=False)
        chunk, meta = page_of(rows, page, per_page)
        shown = render(book, spec, chunk, wanted, today(sb))
        body_meta: dict[str, object] = {"total": meta["total"], "per_page": meta["per_page"],
                                        "page": meta["page"], "pages": meta["pages"], "sort": []}
        if spec is TIME_ENTRIES:
            logged = sum(int(r.get("duration") or 0) for r in rows if r.get("is_logged"))
            unbilled = sum(int(r.get("duration") or 0) for r in rows if r.get("is_logged") and not r.get("billed"))
            body_meta.update(total_logged=logged, total_unbilled=unbilled)
    return JSONResponse({spec.plural: shown, "meta": body_meta})


def _check_refs(book: Book, spec: ObjectSpec, data: Record) -> None:
    client_id = data.get("client_id")
    if client_id not in (None, "", 0) and book.table("clients").get(_as_int(client_id, "client_id")) is None:
        raise invalid("client_id", "Client not found.", client_id, spec.single)
    project_id = data.get("project_id")
    if spec is TIME_ENTRIES and project_id not in (None, "", 0) and \
            book.table("projects").get(_as_int(project_id, "project_id")) is None:
        raise invalid("project_id", "Project not found.", project_id, spec.single)
    if spec is PROJECTS and data.get("project_type") not in (None, "fixed_price", "hourly_rate"):
        raise invalid("project_type", "Must be fixed_price or hourly_rate.", data["project_type"], spec.single)
    if "duration" in data and data["duration"] is not None and _as_int(data["duration"], "duration") < 0:
        raise invalid("duration", "Must be zero or more seconds.", data["duration"], spec.single)
    if "fixed_price" in data and data["fixed_price"] is not None:
        try:
            Decimal(str(data["fixed_price"]))
        except ArithmeticError:
            raise invalid("fixed_price", "Not a valid decimal.", data["fixed_price"], spec.single) from None


def _as_int(value: object, field: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid(field, "Not a valid integer.", value) from None


def _single(book: Book, spec: ObjectSpec, record: Record, request: Request, sb: Sandbox,
            abilities: bool = False) -> JSONResponse:
    shown = render(book, spec, [record], includes(request.query_params, spec), today(sb), single=True)[0]
    body: dict[str, object] = {spec.single: shown}
    if abilities:
        body["abilities"] = ABILITIES
    return JSONResponse(body)


async def get_object(request: Request) -> Response:
    sb, book = _book(request)
    spec = _spec(request)
    key = int_id(request.path_params["id"], spec.single, "id", spec.label)
    with sb.store.lock:
        record = writes.lookup(book, spec, key)
        return _single(book, spec, record, request, sb, abilities=spec is PROJECTS)


async def create_object(request: Request) -> Response:
    sb, book = _book(request)
    spec = _spec(request)
    data = await wrapped_body(request, spec.single)
    if spec is TIME_ENTRIES and data.get("identity_id") is None:
        data["identity_id"] = sb.store.identity.get("identity_id")  # time is logged by the token's user
    with sb.store.lock:
        _check_refs(book, spec, data)
        record, events = writes.create(book, spec, data, sb.clock.now())
        response = _single(book, spec, record, request, sb)
    sb.emit(book, events)
    return response


async def update_object(request: Request) -> Response:
    sb, book = _book(request)
    spec = _spec(request)
    key = int_id(request.path_params["id"], spec.single, "id", spec.label)
    data = await wrapped_body(request, spec.single)
    with sb.store.lock:
        writes.lookup(book, spec, key)
        _check_refs(book, spec, data)
        record, events = writes.update(book, spec, key, data, sb.clock.now())
        response = _single(book, spec, record, request, sb)
    sb.emit(book, events)
    return response


async def delete_object(request: Request) -> Response:
    sb, book = _book(request)
    spec = _spec(request)
    key = int_id(request.path_params["id"], spec.single, "id", spec.label)
    with sb.store.lock:
        _, events = writes.delete(book, spec, key, sb.clock.now())
    sb.emit(book, events)
    return Response(status_code=204)
