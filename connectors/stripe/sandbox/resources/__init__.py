"""Handlers per object family; each is ``handler(sb, params, **path) -> object or list`` run under the store lock."""
