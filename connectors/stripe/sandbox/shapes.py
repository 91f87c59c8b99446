"""Every object type's full set of fields with Stripe's defaults, in the pinned API version's shape.

The key sets follow ``shared/reference/stripe-fixtures.json`` (Stripe's own example objects, from its
OpenAPI fixtures): each builder returns every key the fixture has and no other top-level key, with
the values a freshly created object of this account has (test mode, no tax, no discounts).
"""

from __future__ import annotations

from typing import Any

ACCOUNT_COUNTRY = "US"


def address(value: dict[str, Any] | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None,
                            "state": None}
    for key, item in (value or {}).items():
        if key in base:
            base[key] = item or None
    return base


def customer(object_id: str, created: int, invoice_prefix: str) -> dict[str, Any]:
    return {
        "id": object_id, "object": "customer", "address": None, "balance": 0, "created": created,
        "currency": None, "default_source": None, "delinquent": False, "description": None, "discount": None,
        "email": None, "invoice_prefix": invoice_prefix,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                             "rendering_options": None},
        "livemode": False, "metadata": {}, "name": None, "next_invoice_sequence": 1, "phone": None,
        "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
    }


def product(object_id: str, created: int, name: str) -> dict[str, Any]:
    return {
        "id": object_id, "object": "product", "active": True, "created": created, "default_price": None,
        "description": None, "images": [], "livemode": False, "marketing_features": [], "metadata": {},
        "name": name, "package_dimensions": None, "shippable": None, "statement_descriptor": None,
        "tax_code": None, "type": "service", "unit_label": None, "updated": created, "url": None,
    }


def price(object_id: str, created: int, product_id: str, currency: str, unit_amount: int | None,
          unit_amount_decimal: str | None, recurring: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": object_id, "object": "price", "active": True, "billing_scheme": "per_unit", "created": created,
        "currency": currency, "custom_unit_amount": None, "livemode": False, "lookup_key": None,
        "metadata": {}, "nickname": None, "product": product_id, "recurring": recurring,
        "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
        "type": "recurring" if recurring else "one_time", "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }


def invoiceitem(object_id: str, created: int, customer_id: str, currency: str) -> dict[str, Any]:
    return {
        "id": object_id, "object": "invoiceitem", "amount": 0, "currency": currency, "customer": customer_id,
        "customer_account": None, "date": created, "description": None, "discountable": True, "discounts": [],
        "invoice": None, "livemode": False, "metadata": {}, "net_amount": 0, "parent": None,
        "period": {"end": created, "start": created},
        "pricing": {"price_details": None, "type": "price_details", "unit_amount_decimal": "0"},
        "proration": False, "quantity": 1, "quantity_decimal": "1", "tax_rates": [], "test_clock": None,
    }


def line_item(object_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """The invoice line an invoice item becomes (``parent.invoice_item_details``)."""
    return {
        "id": object_id, "object": "line_item", "amount": item["amount"], "currency": item["currency"],
        "description": item["description"], "discount_amounts": [], "discountable": item["discountable"],
        "discounts": [], "invoice": item["invoice"], "livemode": False, "metadata": dict(item["metadata"]),
        "parent": {"invoice_item_details": {"invoice_item": item["id"], "proration": False,
                                            "proration_details": {"credited_items": None}, "subscription": None},
                   "subscription_item_details": None, "type": "invoice_item_details"},
        "period": dict(item["period"]), "pretax_credit_amounts": [], "pricing": dict(item["pricing"]),
        "quantity": item["quantity"], "quantity_decimal": item["quantity_decimal"], "subscription": None,
        "subtotal": item["amount"], "taxes": [],
    }


def invoice(object_id: str, created: int, cust: dict[str, Any], currency: str) -> dict[str, Any]:
    return {
        "id": object_id, "object": "invoice", "account_country": ACCOUNT_COUNTRY, "account_name": "Sandbox Inc.",
        "account_tax_ids": None, "amount_due": 0, "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": 0,
        "amount_shipping": 0, "application": None, "attempt_count": 0, "attempted": False, "auto_advance": False,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None,
                          "status": None},
        "automatically_finalizes_at": None, "billing_reason": "manual",
        "collection_method": "charge_automatically", "created": created, "currency": currency,
        "custom_fields": None, "customer": cust["id"], "customer_account": None,
        "customer_address": cust["address"], "customer_email": cust["email"], "customer_name": cust["name"],
        "customer_phone": cust["phone"], "customer_shipping": cust["shipping"],
        "customer_tax_exempt": cust["tax_exempt"], "customer_tax_ids": [], "default_payment_method": None,
        "default_source": None, "default_tax_rates": [], "description": None, "discounts": [], "due_date": None,
        "effective_at": None, "ending_balance": None, "footer": None, "from_invoice": None,
        "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{object_id}/lines"},
        "livemode": False, "metadata": {}, "next_payment_attempt": None, "number": None, "on_behalf_of": None,
        "parent": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": created, "period_start": created, "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0, "receipt_number": None,
        "rendering": {"amount_tax_display": None, "pdf": {"page_size": "auto"}, "template": None,
                      "template_version": None},
        "shipping_cost": None, "shipping_details": None, "starting_balance": 0, "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
                               "voided_at": None},
        "subscription": None, "subtotal": 0, "subtotal_excluding_tax": 0, "test_clock": None, "total": 0,
        "total_discount_amounts": [], "total_excluding_tax": 0, "total_pretax_credit_amounts": [],
        "total_taxes": [], "webhooks_delivered_at": None,
    }


def invoice_payment(object_id: str, created: int, invoice_id: str, currency: str, amount_requested: int,
                    payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": object_id, "object": "invoice_payment", "amount_paid": None, "amount_requested": amount_requested,
        "created": created, "currency": currency, "invoice": invoice_id, "is_default": True, "livemode": False,
        "payment": payment, "status": "open", "status_transitions": {"canceled_at": None, "paid_at": None},
    }


def payment_intent(object_id: str, created: int, amount: int, currency: str) -> dict[str, Any]:
    return {
        "id": object_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None, "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True}, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{object_id}_secret_{object_id[3:][::-1]}", "confirmation_method": "automatic",
        "created": created, "currency": currency, "customer": None, "customer_account": None,
        "description": None, "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "managed_payments": None, "metadata": {}, "next_action": None,
        "on_behalf_of": None, "payment_method": None, "payment_method_configuration_details": None,
        "payment_method_options": {}, "payment_method_types": ["card"], "processing": None,
        "receipt_email": None, "review": None, "setup_future_usage": None, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None,
    }


def card_details(brand: str, last4: str, amount: int) -> dict[str, Any]:
    return {"card": {"amount_authorized": amount, "authorization_code": None, "brand": brand,
                     "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                "cvc_check": "pass"},
                     "country": "US", "exp_month": 12, "exp_year": 2034, "extended_authorization": None,
                     "fingerprint": f"fp{last4}{brand}", "funding": "credit", "incremental_authorization": None,
                     "installments": None, "last4": last4, "mandate": None, "multicapture": None,
                     "network": brand, "network_token": {"used": False}, "network_transaction_id": None,
                     "overcapture": None, "regulated_status": "unregulated", "three_d_secure": None,
                     "wallet": None},
            "type": "card"}


def charge(object_id: str, created: int, amount: int, currency: str, payment_method: str,
           details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": object_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": {"address": address(), "email": None, "name": None, "phone": None, "tax_id": None},
        "calculated_statement_descriptor": "SANDBOX", "captured": True, "created": created,
        "currency": currency, "customer": None, "description": None, "disputed": False,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "livemode": False, "metadata": {}, "on_behalf_of": None,
        "outcome": {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                    "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": None, "payment_method": payment_method,
        "payment_method_details": details, "receipt_email": None, "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/sandbox/{object_id}", "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{object_id}/refunds"},
        "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None, "status": "succeeded",
        "transfer_data": None, "transfer_group": None,
    }


def refund(object_id: str, created: int, amount: int, ch: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": object_id, "object": "refund", "amount": amount, "balance_transaction": None, "charge": ch["id"],
        "created": created, "currency": ch["currency"], "customer": ch["customer"], "customer_account": None,
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": {}, "payment_intent": ch["payment_intent"], "payment_method": ch["payment_method"],
        "reason": None, "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
        "transfer_reversal": None,
    }


def event(object_id: str, created: int, api_version: str, type: str, data: dict[str, Any],
          request_id: str | None, idempotency_key: str | None) -> dict[str, Any]:
    return {
        "id": object_id, "object": "event", "api_version": api_version, "created": created, "data": data,
        "livemode": False, "pending_webhooks": 0, "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def webhook_endpoint(object_id: str, created: int, url: str, events: list[str]) -> dict[str, Any]:
    return {
        "id": object_id, "object": "webhook_endpoint", "api_version": None, "application": None,
        "created": created, "description": None, "enabled_events": events, "livemode": False, "metadata": {},
        "status": "enabled", "url": url,
    }


def deleted(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": kind, "deleted": True}
