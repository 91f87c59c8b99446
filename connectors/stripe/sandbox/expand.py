"""``expand[]``: replace an id with the object it names, along dotted paths, on objects and on lists
(``data.customer``), at most 4 levels deep (stripe.com/docs/expand).

Only fields that hold a reference can be expanded (``customer``, ``product``, ``default_price``,
``invoice``, ``payment_intent``, ``charge``, ``latest_charge``, ``price``...); the invoice's
``payments`` is includable: expanding it adds the invoice's payments as a list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ids
from .errors import invalid

MAX_DEPTH = 4
EXPANDABLE = frozenset({"customer", "product", "default_price", "invoice", "payment_intent", "charge",
                        "latest_charge", "price", "invoice_item", "payments", "payment"})

Resolve = Callable[[str], dict[str, Any] | None]
Include = Callable[[dict[str, Any], str], dict[str, Any] | None]


def check_paths(paths: list[str]) -> None:
    for path in paths:
        if len(path.split(".")) > MAX_DEPTH:
            raise invalid(f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                          param="expand")


def expand(value: Any, paths: list[str], resolve: Resolve, include: Include) -> Any:
    """Expand every path in ``value`` (a rendered object or list) in place, and return it."""
    check_paths(paths)
    for path in paths:
        _walk(value, path.split("."), path, resolve, include)
    return value


def _walk(value: Any, segments: list[str], path: str, resolve: Resolve, include: Include) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, segments, path, resolve, include)
        return
    if not isinstance(value, dict):
        return
    head, rest = segments[0], segments[1:]
    if head == "data" and value.get("object") == "list":
        if rest:
            _walk(value["data"], rest, path, resolve, include)
        return
    if head not in value:
        included = include(value, head)
        if included is None:
            raise invalid(f"This property cannot be expanded ({head}).", param="expand")
        value[head] = included
    elif head in EXPANDABLE and isinstance(value[head], str):
        target = resolve(value[head]) if ids.kind_of(value[head]) else None
        if target is None:
            raise invalid(f"This property cannot be expanded ({head}).", param="expand")
        value[head] = target
    elif not rest and head not in EXPANDABLE:
        raise invalid(f"This property cannot be expanded ({head}).", param="expand")
    if rest and value[head] is not None:
        _walk(value[head], rest, path, resolve, include)
