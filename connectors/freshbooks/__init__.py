"""FreshBooks: connector, object specs, OAuth, webhooks and the local sandbox emulator."""

from connectors.freshbooks.connector import FreshBooksConnector

__all__ = ["FreshBooksConnector"]
