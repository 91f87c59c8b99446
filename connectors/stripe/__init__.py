"""Stripe: customers, products, prices, invoices (two-way) and payments (read), on the REST layer."""

from connectors.stripe.connector import API_VERSION, REF_KEY, StripeConnector, StripeOptions

__all__ = ["API_VERSION", "REF_KEY", "StripeConnector", "StripeOptions"]
