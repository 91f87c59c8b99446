"""The API's URL table: (method, path pattern) -> handler. Path parameters are ``{name}`` segments."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .resources import billing, catalog, customers, hooks, payments

Handler = Callable[..., dict[str, Any]]

TABLE: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/customers", customers.create),
    ("GET", "/v1/customers", customers.list_),
    ("GET", "/v1/customers/{id}", customers.retrieve),
    ("POST", "/v1/customers/{id}", customers.update),
    ("DELETE", "/v1/customers/{id}", customers.delete),
    ("POST", "/v1/products", catalog.create_product),
    ("GET", "/v1/products", catalog.list_products),
    ("GET", "/v1/products/{id}", catalog.retrieve_product),
    ("POST", "/v1/products/{id}", catalog.update_product),
    ("DELETE", "/v1/products/{id}", catalog.delete_product),
    ("POST", "/v1/prices", catalog.create_price),
    ("GET", "/v1/prices", catalog.list_prices),
    ("GET", "/v1/prices/{id}", catalog.retrieve_price),
    ("POST", "/v1/prices/{id}", catalog.update_price),
    ("POST", "/v1/invoiceitems", billing.create_item),
    ("GET", "/v1/invoiceitems", billing.list_items),
    ("GET", "/v1/invoiceitems/{id}", billing.retrieve_item),
    ("POST", "/v1/invoiceitems/{id}", billing.update_item),
    ("DELETE", "/v1/invoiceitems/{id}", billing.delete_item),
    ("POST", "/v1/invoices", billing.create_invoice),
    ("GET", "/v1/invoices", billing.list_invoices),
    ("GET", "/v1/invoices/{id}", billing.retrieve_invoice),
    ("POST", "/v1/invoices/{id}", billing.update_invoice),
    ("DELETE", "/v1/invoices/{id}", billing.delete_invoice),
    ("POST", "/v1/invoices/{id}/finalize", billing.finalize),
    ("POST", "/v1/invoices/{id}/pay", billing.pay),
    ("POST", "/v1/invoices/{id}/attach_payment", billing.attach_payment),
    ("POST", "/v1/invoices/{id}/void", billing.void),
    ("POST", "/v1/invoices/{id}/mark_uncollectible", billing.mark_uncollectible),
    ("GET", "/v1/invoices/{id}/lines", billing.list_lines),
    ("POST", "/v1/invoices/{id}/lines/{line_id}", billing.update_line),
    ("POST", "/v1/invoices/{id}/add_lines", billing.add_lines),
    ("POST", "/v1/invoices/{id}/update_lines", billing.update_lines),
    ("POST", "/v1/invoices/{id}/remove_lines", billing.remove_lines),
    ("GET", "/v1/invoice_payments", billing.list_invoice_payments),
    ("GET", "/v1/invoice_payments/{id}", billing.retrieve_invoice_payment),
    ("POST", "/v1/payment_intents", payments.create_intent),
    ("GET", "/v1/payment_intents", payments.list_intents),
    ("GET", "/v1/payment_intents/{id}", payments.retrieve_intent),
    ("POST", "/v1/payment_intents/{id}", payments.update_intent),
    ("POST", "/v1/payment_intents/{id}/confirm", payments.confirm_intent),
    ("POST", "/v1/payment_intents/{id}/capture", payments.capture_intent),
    ("POST", "/v1/payment_intents/{id}/cancel", payments.cancel_intent),
    ("POST", "/v1/charges", payments.create_charge),
    ("GET", "/v1/charges", payments.list_charges),
    ("GET", "/v1/charges/{id}", payments.retrieve_charge),
    ("POST", "/v1/charges/{id}", payments.update_charge),
    ("POST", "/v1/charges/{id}/capture", payments.capture_charge),
    ("POST", "/v1/refunds", payments.create_refund),
    ("GET", "/v1/refunds", payments.list_refunds),
    ("GET", "/v1/refunds/{id}", payments.retrieve_refund),
    ("POST", "/v1/refunds/{id}", payments.update_refund),
    ("POST", "/v1/refunds/{id}/cancel", payments.cancel_refund),
    ("GET", "/v1/events", hooks.list_events),
    ("GET", "/v1/events/{id}", hooks.retrieve_event),
    ("POST", "/v1/webhook_endpoints", hooks.create_endpoint),
    ("GET", "/v1/webhook_endpoints", hooks.list_endpoints),
    ("GET", "/v1/webhook_endpoints/{id}", hooks.retrieve_endpoint),
    ("POST", "/v1/webhook_endpoints/{id}", hooks.update_endpoint),
    ("DELETE", "/v1/webhook_endpoints/{id}", hooks.delete_endpoint),
]

_COMPILED = [(method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), handler)
             for method, path, handler in TABLE]


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for route_method, pattern, handler in _COMPILED:
        if route_method == method:
            found = pattern.match(path)
            if found:
                return handler, found.groupdict()
    return None
