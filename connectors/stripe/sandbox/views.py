"""What a stored object looks like on the wire: hidden keys removed, ``expand[]`` applied."""

from __future__ import annotations

from typing import Any

from . import ids, shapes
from .expand import expand
from .forms import Params
from .runtime import Sandbox
from .store import public


def resolver(sb: Sandbox) -> Any:
    def resolve(object_id: str) -> dict[str, Any] | None:
        kind = ids.kind_of(object_id)
        obj = sb.store.find(kind, object_id) if kind else None
        if obj is None:
            return None
        if obj.get("_deleted"):
            return shapes.deleted(object_id, obj["object"])
        rendered: dict[str, Any] = public(obj)
        return rendered
    return resolve


def includer(sb: Sandbox) -> Any:
    def include(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
        if obj.get("object") == "invoice" and name == "payments":
            payments = [public(p) for p in sb.store.all("invoice_payment") if p["invoice"] == obj["id"]]
            payments.sort(key=lambda p: p["created"], reverse=True)
            return {"object": "list", "data": payments, "has_more": False,
                    "url": f"/v1/invoice_payments?invoice={obj['id']}"}
        return None
    return include


def render(sb: Sandbox, value: Any, params: Params) -> Any:
    """A public copy of ``value`` (object or list answer) with the request's expansions."""
    rendered = public(value)
    paths = params.expand()
    if paths:
        expand(rendered, paths, resolver(sb), includer(sb))
    return rendered
