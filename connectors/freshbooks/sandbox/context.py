"""What every handler needs from a request: the sandbox, today's date, the JSON body and its envelope."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request

from .clock import eastern_today
from .errors import PARSE_ERROR, REQUIRED_FIELD, ApiError
from .runtime import Sandbox


def sandbox(request: Request) -> Sandbox:
    return cast(Sandbox, request.app.state.sandbox)


def today(sb: Sandbox) -> str:
    """Today's date in US/Eastern, the accounting family's calendar."""
    return eastern_today(sb.clock.now())


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, PARSE_ERROR, "The request body could not be parsed as JSON.") from None


async def wrapped_body(request: Request, single: str) -> dict[str, Any]:
    """The ``{"<single>": {...}}`` envelope every accounting, events and project write uses."""
    body = await json_body(request)
    inner = body.get(single) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ApiError(422, REQUIRED_FIELD, f"The request body must be an object under '{single}'.",
                       field=single, object=single)
    return inner


def int_id(raw: str, spec_single: str, id_field: str, label: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(404, 1012, f"{label} not found.", field=id_field, object=spec_single, value=raw) from None
