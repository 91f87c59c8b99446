"""Reading writable fields from a request into changes: each field has a kind that says how.

Kinds: ``str`` (empty string unsets to null), ``int``, ``bool``, ``metadata`` (Stripe's merge
rules), ``address`` (the six address keys), ``hash`` (a nested object taken as sent), ``strings``
(an array of strings).
"""

from __future__ import annotations

import re
from typing import Any

from . import shapes
from .errors import invalid
from .forms import Params, metadata_update

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def read(obj: dict[str, Any], p: Params, kinds: dict[str, str]) -> dict[str, Any]:
    """The new values of the fields ``kinds`` names that the request sets (others untouched)."""
    changes: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in p:
            continue
        if kind == "str":
            changes[name] = p.text(name)
        elif kind == "email":
            value = p.text(name)
            if value is not None and not EMAIL.match(value):
                raise invalid(f"Invalid email address: {value}", param=name, code="email_invalid")
            changes[name] = value
        elif kind == "int":
            changes[name] = p.integer(name)
        elif kind == "bool":
            changes[name] = p.boolean(name)
        elif kind == "metadata":
            changes[name] = metadata_update(obj.get(name) or {}, p.raw(name), name)
        elif kind == "address":
            address = p.hash(name)
            if address:
                unknown = set(address) - {"city", "country", "line1", "line2", "postal_code", "state"}
                if unknown:
                    raise invalid(f"Received unknown parameter: {name}[{sorted(unknown)[0]}]", param=name,
                                  code="parameter_unknown")
                merged = dict(obj.get(name) or shapes.address())
                merged.update({k: (v or None) for k, v in address.items()})
                changes[name] = merged
            else:
                changes[name] = None
        elif kind == "hash":
            changes[name] = p.hash(name) or None
        elif kind == "strings":
            changes[name] = [str(v) for v in (p.array(name) or [])]
        else:  # pragma: no cover - a programming error in a field table
            raise AssertionError(kind)
    return changes
