"""Handlers for ``/accounting/account/{account_id}/<group>/<resource>[/{id}]``, generic over specs.

Responses are wrapped ``{"response": {"result": {...}}}`` with the paging keys next to the list
(reference §1.3). Lists hide deleted records unless ``search[vis_state]=1`` asks for them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import writes
from .context import int_id, sandbox, today, wrapped_body
from .errors import ApiError
from .listing import accounting_query, includes, page_of, paging, select, sort_rows
from .objects import ACCOUNTING_OBJECTS, Delete, ObjectSpec
from .views import render


def _spec(request: Request) -> ObjectSpec:
    path = f"{request.path_params['group']}/{request.path_params['resource']}"
    spec = ACCOUNTING_OBJECTS.get(path)
    if spec is None:
        raise ApiError(404, 1012, "The requested resource does not exist.", object=path)
    return spec


def _result(key: str, value: object) -> JSONResponse:
    return JSONResponse({"response": {"result": {key: value}}})


async def list_objects(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    spec = _spec(request)
    params = request.query_params
    page, per_page = paging(params, spec.per_page)
    predicates, vis_state = accounting_query(spec, params)
    wanted = includes(params, spec)
    with sb.store.lock:
        rows = list(book.table(spec.collection).values())
        if spec.vis_state:
            rows = [r for r in rows if (r.get("vis_state") != 1 if vis_state is None
                                        else r.get("vis_state") == vis_state)]
        rows = sort_rows(select(rows, predicates), params.get("sort"), accounting=True)
        chunk, meta = page_of(rows, page, per_page)
        shown = render(book, spec, chunk, wanted, today(sb))
    return JSONResponse({"response": {"result": {spec.plural: shown, **meta}}})


async def get_object(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    spec = _spec(request)
    key = int_id(request.path_params["id"], spec.single, spec.id_field, spec.label)
    with sb.store.lock:
        record = writes.lookup(book, spec, key)
        shown = render(book, spec, [record], includes(request.query_params, spec), today(sb), single=True)
    return _result(spec.single, shown[0])


def _read_only(spec: ObjectSpec) -> None:
    if spec.read_only:
        raise ApiError(405, 1003, f"{spec.label} cannot be changed through the API.", object=spec.single)


async def create_object(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    spec = _spec(request)
    _read_only(spec)
    data = await wrapped_body(request, spec.single)
    with sb.store.lock:
        record, events = writes.create(book, spec, data, sb.clock.now())
        shown = render(book, spec, [record], includes(request.query_params, spec), today(sb), single=True)
    sb.emit(book, events)
    return _result(spec.single, shown[0])


async def update_object(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    spec = _spec(request)
    _read_only(spec)
    key = int_id(request.path_params["id"], spec.single, spec.id_field, spec.label)
    data = await wrapped_body(request, spec.single)
    with sb.store.lock:
        record, events = writes.update(book, spec, key, data, sb.clock.now())
        shown = render(book, spec, [record], includes(request.query_params, spec), today(sb), single=True)
    sb.emit(book, events)
    return _result(spec.single, shown[0])


async def delete_object(request: Request) -> Response:
    sb = sandbox(request)
    book = sb.book_for_account(request.path_params["account_id"])
    spec = _spec(request)
    _read_only(spec)
    key = int_id(request.path_params["id"], spec.single, spec.id_field, spec.label)
    with sb.store.lock:
        record, events = writes.delete(book, spec, key, sb.clock.now())
        shown = render(book, spec, [record], frozenset(), today(sb), single=True) if record else []
    sb.emit(book, events)
    if spec.delete is Delete.HARD or not shown:
        return JSONResponse({"response": {}})
    return _result(spec.single, shown[0])
