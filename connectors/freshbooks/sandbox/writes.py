"""Create, update and delete, the same way for every object (FreshBooks' update phases included).

A PUT that contains ``vis_state`` (or ``ext_vis_state``) runs only the visibility phase: every other
key is silently dropped (reference §1.6). On invoices an action (``action_mark_as_sent``,
``action_email``) likewise runs alone. Otherwise a PUT changes only the keys it names. Every
change stamps the record's change field (``updated`` in US/Eastern for accounting objects,
``updated_at`` in UTC for projects, a hidden timestamp on time entries) and returns the webhook
events it implies, which the caller emits after the write.
"""

from __future__ import annotations

import copy
from datetime import datetime

from .billing import Event, recompute_document
from .clock import accounting_time, eastern_date, iso_utc, utc_accounting_time
from .errors import ApiError, invalid, not_found, required
from .fields import Kind, coerce, is_blank
from .objects import Delete, ObjectSpec
from .store import Book, Key, Record
from .variants import current

INVOICE_ACTIONS = ("action_mark_as_sent", "action_email", "action_send_by_email")


def stamp(spec: ObjectSpec, record: Record, moment: datetime, *, created: bool = False) -> None:
    """Set the change field (and creation fields) in the dialect of the object's family."""
    record["_updated"] = iso_utc(moment, micros=True)
    record["_day"] = eastern_date(moment).isoformat()  # what search[updated_min/max] compares
    if spec.family == "projects":
        record["updated_at"] = iso_utc(moment, zone_marker=False)
        if created:
            record["created_at"] = iso_utc(moment, zone_marker=False)
        return
    if spec.family == "timetracking":
        if created:
            record["created_at"] = iso_utc(moment)
        return
    record["updated"] = accounting_time(moment)
    if created:
        if spec.collection == "clients":
            record["signup_date"] = utc_accounting_time(moment)
        elif spec.collection in ("invoices", "estimates"):
            record["created_at"] = accounting_time(moment)


def lookup(book: Book, spec: ObjectSpec, key: Key) -> Record:
    record = book.table(spec.collection).get(key)
    if record is None or (spec.family == "timetracking" and record.get("_deleted")):
        raise not_found(spec.single, spec.id_field, key, spec.label)
    return record


def _cleared(kind: Kind, value: object) -> bool:
    return kind in (Kind.STR, Kind.EMAIL) and (value is None or value == "")


def _apply_fields(spec: ObjectSpec, record: Record, data: Record, book: Book) -> None:
    plain = {k: v for k, v in data.items() if k in spec.fields and spec.fields[k] is not Kind.MONEY}
    cleared_as = None if current("cleared_text") == "null" else ""
    for key, value in plain.items():
        kind = spec.fields[key]
        # a text field cleared by the client (null or "") is stored the one way the variant says
        record[key] = cleared_as if _cleared(kind, value) else coerce(kind, value, key, spec.single,
                                                                       book.base_currency)
    currency = spec.currency(book, record)
    for key, value in data.items():
        if spec.fields.get(key) is Kind.MONEY:
            record[key] = None if value is None and key.startswith("tax") else coerce(
                Kind.MONEY, value, key, spec.single, currency)


def _check_required(spec: ObjectSpec, record: Record) -> None:
    for name in spec.required:
        if is_blank(record.get(name)):
            raise required(name, spec.single)
    if spec.collection == "clients" and all(
        is_blank(record.get(k)) for k in ("organization", "fname", "lname", "email")
    ):
        raise ApiError(422, 1001, "A client needs an organization, a name or an email.",
                       field="organization", object="client")


def _finish(spec: ObjectSpec, record: Record) -> None:
    if spec.collection == "tasks":
        record["tname"] = record["name"]
        record["tdesc"] = record["description"]


def create(book: Book, spec: ObjectSpec, data: Record, moment: datetime) -> tuple[Record, list[Event]]:
    """A new record from a request body; validation errors name the field."""
    record = spec.defaults(book, moment)
    _apply_fields(spec, record, data, book)
    _check_required(spec, record)
    new_id = book.new_id(spec.collection)
    record["id"] = new_id
    if spec.accounting:
        record[spec.id_field] = new_id
    if spec.collection == "time_entries" and record.get("identity_id") is None:
        record["identity_id"] = 1
    stamp(spec, record, moment, created=True)
    now_text = record.get("updated") or iso_utc(moment)
    try:
        events = spec.derive(book, record, data, None, now_text) if spec.derive else []
    except ApiError:
        book.next_ids[spec.collection] = new_id  # the id was not used
        raise
    _finish(spec, record)
    book.table(spec.collection)[new_id] = record
    if spec.after_write:
        events += spec.after_write(book, record, now_text)
    return record, [(f"{spec.event}.create", new_id), *events] if spec.event else events


def update(book: Book, spec: ObjectSpec, key: Key, data: Record, moment: datetime) -> tuple[Record, list[Event]]:
    """PUT semantics: vis_state phase alone, else an invoice action alone, else the named keys."""
    current = lookup(book, spec, key)
    record = copy.deepcopy(current)
    if spec.vis_state and ("vis_state" in data or "ext_vis_state" in data):
        value = data.get("ext_vis_state", data.get("vis_state"))
        state = coerce(Kind.INT, value, "vis_state", spec.single, "")
        if state not in (0, 1, 2):
            raise invalid("vis_state", "vis_state must be 0, 1 or 2.", value, spec.single)
        record["vis_state"] = state
        action = {1: "delete", 0: "update", 2: "update"}[state]
    elif spec.collection == "invoices" and any(data.get(a) for a in INVOICE_ACTIONS):
        record["_sent"] = True
        recompute_document(book, record, "payments")
        action = "update"
    else:
        _apply_fields(spec, record, data, book)
        _check_required(spec, record)
        action = "update"
        stamp(spec, record, moment)
        events = spec.derive(book, record, data, current, str(record.get("updated") or "")) if spec.derive else []
        _finish(spec, record)
        return _store(book, spec, key, record, moment, action, events)
    return _store(book, spec, key, record, moment, action, [])


def _store(book: Book, spec: ObjectSpec, key: Key, record: Record, moment: datetime, action: str,
           events: list[Event]) -> tuple[Record, list[Event]]:
    stamp(spec, record, moment)
    book.table(spec.collection)[key] = record
    now_text = str(record.get("updated") or iso_utc(moment))
    if spec.after_write:
        events = events + spec.after_write(book, record, now_text)
    head: list[Event] = [(f"{spec.event}.{action}", int(key))] if spec.event else []
    return record, head + events


def delete(book: Book, spec: ObjectSpec, key: Key, moment: datetime) -> tuple[Record | None, list[Event]]:
    """HTTP DELETE: soft (vis_state 1), hard (gone), or project-like: gone, or kept as the
    ``project_delete`` (vis_state 1) and ``time_entry_delete`` (hidden, ``active: false``) variants say."""
    record = lookup(book, spec, key)
    if spec.delete is Delete.SOFT:
        return update(book, spec, key, {"vis_state": 1}, moment)
    if spec.delete is Delete.NONE:
        raise ApiError(405, 1003, "Method not allowed; delete with PUT vis_state=1.", object=spec.single)
    events: list[Event] = [(f"{spec.event}.delete", int(key))] if spec.event else []
    if spec.collection == "projects" and current("project_delete") == "soft":
        record["vis_state"] = 1  # kept, listed and readable, as deleted
        stamp(spec, record, moment)
        return None, events
    if spec.collection == "time_entries" and current("time_entry_delete") == "inactive":
        record["_deleted"] = True
        record["active"] = False
        stamp(spec, record, moment)
        return None, events
    del book.table(spec.collection)[key]
    return None, events
