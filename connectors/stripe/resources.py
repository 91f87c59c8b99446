"""The Stripe objects as a table: each one a REST resource, its fields, its events and write rules.

Amount fields are :class:`~syncengine.records.Money` in major units in records (``unit_amount``
10.50 USD), integers in minor units on the wire; times are unix seconds on the wire and aware
UTC datetimes (or dates, for ``due_date``) in records. Records keep only the fields declared
here, so a field Stripe adds in a later API version never shows up as a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from syncengine.connector import Capability, FieldSpec, ObjectSpec
from syncengine.rest import Form, Resource

__all__ = ["KNOWN_EVENT_TYPES", "OBJECTS", "StripeObject"]

C = Capability
READ = frozenset({C.LIST, C.GET, C.INCREMENTAL})
WRITE = frozenset({C.CREATE, C.UPDATE, C.IDEMPOTENT_WRITES})


def f(name: str, type: str = "string", description: str = "", *, ro: bool = False, required: bool = False,
      fields: Mapping[str, FieldSpec] | None = None) -> FieldSpec:
    return FieldSpec(name, type, description, required=required, read_only=ro, fields=dict(fields or {}))  # type: ignore[arg-type]


def table(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


ID = f("id", ro=True, description="Stripe's id")
CREATED = f("created", "datetime", "when Stripe made it", ro=True)
METADATA = f("metadata", "object", "string keys and values; `syncengine_ref` is the engine's back-reference")
ADDRESS = f("address", "object", "postal address", fields=table(
    f("line1"), f("line2"), f("city"), f("state"), f("postal_code"), f("country", description="ISO 3166-1 alpha-2"),
))
LINE = table(
    f("description"),
    f("quantity", "integer"),
    f("unit_amount", "money", "price of one unit"),
    f("amount", "money", "quantity x unit amount, computed by Stripe", ro=True),
)


@dataclass(frozen=True, slots=True)
class StripeObject:
    """One object: its REST resource, its spec, the ``object`` name Stripe gives it and the
    event types that say it changed."""

    rest: Resource
    spec: ObjectSpec
    kind: str
    events: frozenset[str]
    #: fields a create / an update may send (the rest are Stripe's own).
    create: frozenset[str]
    update: frozenset[str]
    #: what ``delete`` does; ``archive`` means ``active=false``.
    remove: Literal["delete", "archive", "void", None] = None
    #: an ``active: false`` record is gone for the engine (archived products and prices).
    inactive_is_deleted: bool = False
    list_params: tuple[tuple[str, str], ...] = field(default=())
    #: events of other objects that change this one through their payment intent (a refund
    #: reduces an invoice payment's net amount).
    related_events: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def event_prefix(self) -> str:
        return self.kind


def _obj(name: str, path: str, kind: str, caps: frozenset[Capability], fields: dict[str, FieldSpec], events: str,
         create: str = "", update: str = "", description: str = "", **extra: object) -> StripeObject:
    rest = Resource(name, path, encoding=Form(), update_method="POST")
    spec = ObjectSpec(name, "id", caps, fields, cursor_field="created", description=description)
    return StripeObject(rest, spec, kind, frozenset(events.split()), frozenset(create.split()),
                        frozenset(update.split()), **extra)  # type: ignore[arg-type]


OBJECTS: dict[str, StripeObject] = {
    o.name: o
    for o in (
        _obj(
            "customers", "/v1/customers", "customer",
            READ | WRITE | {C.DELETE, C.DELETES_IN_CHANGES, C.FIND},
            table(ID, f("name"), f("email"), f("phone"), f("description"), ADDRESS,
                  f("currency", description="set by Stripe from the first invoice or charge; read only", ro=True),
                  METADATA, CREATED),
            "customer.created customer.updated customer.deleted",
            create="name email phone description address metadata",
            update="name email phone description address metadata",
            remove="delete", description="customers (two-way; delete answers `deleted: true`)",
        ),
        _obj(
            "products", "/v1/products", "product",
            READ | WRITE | {C.DELETE, C.ARCHIVE, C.DELETES_IN_CHANGES},
            table(ID, f("name", required=True), f("description"), f("active", "boolean"),
                  f("price", "money", "the default price's amount; a new amount makes a new price and archives "
                                      "the old one (Stripe prices are immutable)"),
                  f("default_price", description="id of the default price", ro=True),
                  METADATA, CREATED, f("updated", "datetime", ro=True)),
            "product.created product.updated product.deleted",
            create="name description active metadata price", update="name description active metadata price",
            remove="delete", inactive_is_deleted=True,
            description="products (two-way; archived = `active: false`, seen as deleted)",
        ),
        _obj(
            "prices", "/v1/prices", "price",
            READ | WRITE | {C.ARCHIVE, C.DELETES_IN_CHANGES},
            table(ID, f("product", required=True), f("currency", required=True), f("unit_amount", "money"),
                  f("active", "boolean"), f("nickname"), f("type", ro=True), METADATA, CREATED),
            "price.created price.updated price.deleted",
            create="product currency unit_amount nickname metadata", update="nickname metadata active unit_amount",
            remove="archive", inactive_is_deleted=True,
            description="prices (amount and currency immutable: a change makes a new price, the old one archived)",
        ),
        _obj(
            "invoices", "/v1/invoices", "invoice",
            READ | WRITE | {C.DELETE, C.DELETES_IN_CHANGES},
            table(ID, f("customer", required=True), f("currency", required=True),
                  f("status", description="draft, open, paid, void, uncollectible; writing open finalizes, "
                                          "void voids, uncollectible marks it so"),
                  f("collection_method"), f("due_date", "date"), f("description"),
                  f("lines", "array", "the invoice's lines", fields=LINE),
                  f("number", ro=True), f("total", "money", ro=True), f("amount_due", "money", ro=True),
                  f("amount_paid", "money", ro=True), f("amount_remaining", "money", ro=True), METADATA, CREATED),
            "invoice.created invoice.updated invoice.deleted invoice.finalized invoice.paid invoice.voided "
            "invoice.marked_uncollectible invoice.payment_succeeded invoice.payment_failed invoice.sent "
            "invoice.overdue invoice.finalization_failed invoice.payment_action_required invoice.upcoming "
            "invoice.will_be_due invoice.overpaid",
            create="customer currency status collection_method due_date description lines metadata",
            update="customer currency status collection_method due_date description lines metadata",
            remove="void", description="invoices (created as drafts with lines; edited while draft)",
        ),
        _obj(
            "invoice_payments", "/v1/invoice_payments", "invoice_payment",
            READ | {C.DELETES_IN_CHANGES},
            table(ID, f("invoice", ro=True), f("currency", ro=True), f("amount_paid", "money", ro=True),
                  f("amount_requested", "money", ro=True), f("status", ro=True), f("is_default", "boolean", ro=True),
                  f("paid_at", "datetime", "status_transitions.paid_at", ro=True),
                  f("payment_intent", ro=True), f("charge", ro=True),
                  f("amount_refunded", "money", "refunded on the payment's charge", ro=True),
                  f("net_amount", "money", "amount_paid minus amount_refunded", ro=True), CREATED),
            "invoice_payment.paid invoice_payment.canceled invoice_payment.created",
            description="payments of invoices (read; refunds reduce `net_amount`)",
            related_events=frozenset({"charge.refunded", "charge.refund.updated", "refund.created",
                                      "refund.updated", "refund.failed"}),
        ),
        _obj(
            "payment_intents", "/v1/payment_intents", "payment_intent", READ,
            table(ID, f("amount", "money", ro=True), f("amount_received", "money", ro=True), f("currency", ro=True),
                  f("status", ro=True), f("customer", ro=True), f("description", ro=True),
                  f("latest_charge", ro=True), METADATA, CREATED),
            "payment_intent.created payment_intent.succeeded payment_intent.canceled payment_intent.processing "
            "payment_intent.payment_failed payment_intent.requires_action payment_intent.amount_capturable_updated "
            "payment_intent.partially_funded",
            description="payment intents (read)",
        ),
        _obj(
            "charges", "/v1/charges", "charge", READ,
            table(ID, f("amount", "money", ro=True), f("amount_captured", "money", ro=True),
                  f("amount_refunded", "money", ro=True), f("currency", ro=True), f("status", ro=True),
                  f("paid", "boolean", ro=True), f("refunded", "boolean", ro=True), f("customer", ro=True),
                  f("payment_intent", ro=True), f("description", ro=True), METADATA, CREATED),
            "charge.succeeded charge.failed charge.captured charge.refunded charge.updated charge.pending "
            "charge.expired",
            description="charges (read)",
        ),
        _obj(
            "refunds", "/v1/refunds", "refund", READ,
            table(ID, f("amount", "money", ro=True), f("currency", ro=True), f("charge", ro=True),
                  f("payment_intent", ro=True), f("status", ro=True), f("reason", ro=True), METADATA, CREATED),
            "refund.created refund.updated refund.failed",
            description="refunds (read)",
        ),
    )
}

#: every event type some object listens to; a type outside this set is unknown: skipped and counted.
KNOWN_EVENT_TYPES = frozenset(t for o in OBJECTS.values() for t in o.events | o.related_events)
