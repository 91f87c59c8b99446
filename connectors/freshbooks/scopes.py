"""The OAuth scope each FreshBooks object needs, and the error that names a missing one.

FreshBooks grants access per resource family and direction (``user:clients:read``,
``user:clients:write``). A token authorized without a scope answers 403, which the generic
mapping reads as "authorize again": useless advice unless the person knows which scope to add.
So a 403 on an object whose scope the stored token lacks becomes :class:`MissingScopeError`,
naming the scope and the command that adds it (``syncengine auth freshbooks --scope ...``).
"""

from __future__ import annotations

import re

from syncengine.errors import AuthError

__all__ = ["ALL_SCOPES", "MissingScopeError", "needed_scope", "scope_named"]

#: object -> scope family; ``:read`` for GET, ``:write`` otherwise (profile and reports: read only).
_FAMILIES: dict[str, str] = {
    "clients": "user:clients",
    "invoices": "user:invoices",
    "estimates": "user:estimates",
    "expenses": "user:expenses",
    "items": "user:billable_items",
    "payments": "user:payments",
    "taxes": "user:taxes",
    "projects": "user:projects",
    "time_entries": "user:time_entries",
    "account": "user:profile",
    "balance_sheet": "user:reports",
    "cash_flow": "user:reports",
}
_READ_ONLY = frozenset({"user:profile", "user:reports"})

#: every scope the connector can use, for ``syncengine auth freshbooks --scope`` to add to.
ALL_SCOPES: tuple[str, ...] = tuple(
    dict.fromkeys(
        f"{family}:{way}"
        for family in _FAMILIES.values()
        for way in (("read",) if family in _READ_ONLY else ("read", "write"))
    )
)

_SCOPE_TEXT = re.compile(r"\buser:[a-z_]+:(?:read|write)\b")


def needed_scope(obj: str, method: str) -> str | None:
    """The scope a ``method`` call on ``obj`` needs, or None when we do not know it."""
    family = _FAMILIES.get(obj)
    if family is None:
        return None
    if family in _READ_ONLY or method.upper() in ("GET", "HEAD"):
        return f"{family}:read"
    return f"{family}:write"


def scope_named(text: str) -> str | None:
    """A scope named in an error message (FreshBooks' 403 may say which), or None."""
    found = _SCOPE_TEXT.search(text)
    return found.group(0) if found else None


class MissingScopeError(AuthError):
    """The authorization lacks a scope the call needs; re-authorizing as before would not help."""

    def __init__(self, scope: str, *, connector: str, obj: str, key: str | None, method: str) -> None:
        super().__init__(
            f"FreshBooks refused {method} on {obj} (HTTP 403): the authorization lacks the scope {scope}",
            connector=connector,
            obj=obj,
            key=key,
            status=403,
            code="insufficient_scope",
            hint=f"add it: `syncengine auth freshbooks --scope {scope}`",
        )
        self.scope = scope
