"""Which OAuth scope a call needs (variant ``scopes``: enforced, or recorded only).

FreshBooks documents a scope per resource family, read and write (``user:clients:read``,
``user:clients:write``); a token issued without it answers 403. Paths whose scope the reference
does not name (tasks, callbacks, ledger accounts, expense categories) are not checked. The 403
names the missing scope in its message, in the family's error shape.
"""

from __future__ import annotations

import re

from .errors import ApiError

#: path pattern -> scope prefix; ``:read`` for GET, ``:write`` for every other method.
_SCOPES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), s) for p, s in (
    (r"^/auth/api/v1/users/me", "user:profile"),
    (r"^/accounting/account/[^/]+/users/clients", "user:clients"),
    (r"^/accounting/account/[^/]+/invoices/invoices", "user:invoices"),
    (r"^/accounting/account/[^/]+/estimates/estimates", "user:estimates"),
    (r"^/accounting/account/[^/]+/expenses/expenses", "user:expenses"),
    (r"^/accounting/account/[^/]+/items/items", "user:billable_items"),
    (r"^/accounting/account/[^/]+/payments/payments", "user:payments"),
    (r"^/accounting/account/[^/]+/taxes/taxes", "user:taxes"),
    (r"^/accounting/account/[^/]+/reports/", "user:reports"),
    (r"^/accounting/businesses/[^/]+/reports/", "user:reports"),
    (r"^/accounting/account/[^/]+/journal_entry_accounts/", "user:journal_entries"),
    (r"^/projects/business/", "user:projects"),
    (r"^/timetracking/business/", "user:time_entries"),
))


def required_scope(method: str, path: str) -> str | None:
    """The scope a ``method`` on ``path`` needs, or None when the sandbox does not check it."""
    for pattern, prefix in _SCOPES:
        if pattern.match(path):
            if prefix in ("user:profile", "user:reports"):
                return f"{prefix}:read"  # read-only families
            return f"{prefix}:{'read' if method in ('GET', 'HEAD') else 'write'}"
    return None


def missing_scope(method: str, path: str, granted: str) -> ApiError | None:
    """The 403 for a token whose scopes (space-separated) lack the one the call needs, or None."""
    needed = required_scope(method, path)
    if needed is None or needed in granted.split():
        return None
    return ApiError(403, 1003, f"Insufficient scope: this call needs the {needed} scope.",
                    field="scope", value=needed, oauth_error="insufficient_scope")
