"""Stripe: the local sandbox emulator (``connectors.stripe.sandbox``); the connector lives beside it."""
