"""List answers: ``{"object": "list", "data", "has_more", "url"}``, newest first, ``limit`` 1..100 (default
10), ``starting_after``/``ending_before`` cursors and ``created`` filters (reference "Requests and lists";
stripe.com/docs/api/pagination).

Objects created in the same second keep their creation order (newest first) through a hidden
sequence number, so cursor paging never skips or repeats one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .errors import StripeError, invalid
from .forms import Params, to_int

Predicate = Callable[[dict[str, Any]], bool]
LIST_PARAMS = ("limit", "starting_after", "ending_before", "created")


def created_filter(value: Any, param: str = "created") -> Predicate:
    """``created=N`` or ``created[gt|gte|lt|lte]=N`` on unix seconds."""
    if value is None or value == "":
        return lambda obj: True
    if isinstance(value, str):
        exact = to_int(value, param)
        return lambda obj: int(obj["created"]) == exact
    if not isinstance(value, dict):
        raise invalid(f"Invalid {param}", param=param)
    bounds: list[tuple[str, int]] = []
    for op, raw in value.items():
        if op not in ("gt", "gte", "lt", "lte"):
            raise StripeError(400, f"Received unknown parameter: {param}[{op}]", code="parameter_unknown",
                              param=f"{param}[{op}]")
        bounds.append((op, to_int(raw, f"{param}[{op}]")))

    def matches(obj: dict[str, Any]) -> bool:
        at = int(obj["created"])
        for op, bound in bounds:
            if (op == "gt" and not at > bound) or (op == "gte" and not at >= bound) or (
                    op == "lt" and not at < bound) or (op == "lte" and not at <= bound):
                return False
        return True
    return matches


def newest_first(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=lambda o: (int(o.get("created", 0)), int(o.get("_seq", 0))), reverse=True)


def page(objects: Iterable[dict[str, Any]], params: Params, url: str, label: str,
         oldest_first: bool = False) -> dict[str, Any]:
    """One page of ``objects`` (already filtered) per the request's paging parameters."""
    limit = params.integer("limit", minimum=1, maximum=100)
    limit = 10 if limit is None else limit
    in_range = created_filter(params.raw("created"))
    ordered = [o for o in newest_first(objects) if in_range(o)]
    if oldest_first:
        ordered.reverse()
    after = params.text("starting_after")
    before = params.text("ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.",
                      param="ending_before")
    if after or before:
        cursor = after or before
        param = "starting_after" if after else "ending_before"
        position = next((i for i, o in enumerate(ordered) if o["id"] == cursor), None)
        if position is None:
            raise StripeError(400, f"No such {label}: '{cursor}'", code="resource_missing", param=param)
        if after:
            rest = ordered[position + 1:]
            data, has_more = rest[:limit], len(rest) > limit
        else:
            rest = ordered[:position]
            data, has_more = rest[-limit:], len(rest) > limit
    else:
        data, has_more = ordered[:limit], len(ordered) > limit
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
