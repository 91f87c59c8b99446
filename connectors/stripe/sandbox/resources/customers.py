"""Customers: create, retrieve (a deleted one answers ``{"id", "object", "deleted": true}``), update, delete, list.

stripe.com/docs/api/customers: retrieving a deleted customer returns its id, object and
``deleted: true`` (HTTP 200); a deleted customer is not listed. List filters: ``email`` (exact,
case-sensitive), ``created``.
"""

from __future__ import annotations

from typing import Any

from .. import fields, ids, shapes
from ..errors import missing
from ..forms import Params
from ..listing import LIST_PARAMS, page
from ..runtime import Sandbox, track_changes

WRITABLE = {"name": "str", "email": "email", "phone": "str", "description": "str", "address": "address",
            "metadata": "metadata", "balance": "int", "invoice_prefix": "str", "next_invoice_sequence": "int",
            "preferred_locales": "strings", "shipping": "hash", "tax_exempt": "str", "invoice_settings": "hash"}


def create(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*WRITABLE, "payment_method", "source", "test_clock")
    object_id = sb.store.new_id("customer")
    obj = shapes.customer(object_id, sb.now(), ids.token(sb.store.rng_seed, sb.store.counter, 8).upper())
    obj.update(fields.read(obj, p, WRITABLE))
    if obj["invoice_settings"] is None or "rendering_options" not in obj["invoice_settings"]:
        obj["invoice_settings"] = {**shapes.customer("x", 0, "")["invoice_settings"], **(obj["invoice_settings"] or {})}
    sb.store.add("customer", obj)
    sb.emit("customer.created", obj)
    return obj


def live(sb: Sandbox, object_id: str) -> dict[str, Any]:
    return sb.store.get("customer", object_id)


def retrieve(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    obj = sb.store.find("customer", id)
    if obj is None:
        raise missing("customer", id)
    return shapes.deleted(id, "customer") if obj.get("_deleted") else obj


def update(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only(*WRITABLE, "default_source", "source")
    obj = live(sb, id)
    changes = fields.read(obj, p, WRITABLE)
    if isinstance(changes.get("invoice_settings"), dict):  # a hash parameter updates only the keys it names
        changes["invoice_settings"] = {**obj["invoice_settings"], **changes["invoice_settings"]}
    previous = track_changes(obj, changes)
    sb.updated("customer.updated", obj, previous)
    return obj


def delete(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    obj = live(sb, id)
    obj["_deleted"] = True
    sb.emit("customer.deleted", obj)
    return shapes.deleted(id, "customer")


def list_(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "email", "test_clock")
    email = p.text("email")
    found = [c for c in sb.store.all("customer") if not c.get("_deleted") and (email is None or c["email"] == email)]
    return page(found, p, "/v1/customers", "customer")
