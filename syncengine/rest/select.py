"""Where the data sits in an answer: a dotted path into the JSON body (``response.result.clients``).

dlt calls this a data selector; we keep it a tiny value object so a resource table can say
``Select("data")`` for Stripe and ``Select("response.result.clients")`` for FreshBooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Select"]


@dataclass(frozen=True, slots=True)
class Select:
    """A dotted path; ``""`` is the body itself. A missing step gives ``default``."""

    path: str = ""

    def __call__(self, body: Any, default: Any = None) -> Any:
        value = body
        for part in self.path.split(".") if self.path else ():
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return value

    def rows(self, body: Any) -> list[Mapping[str, Any]]:
        """The records at this path: a list of objects, one object, or none."""
        value = self(body, [])
        if isinstance(value, Mapping):
            return [value]
        return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
