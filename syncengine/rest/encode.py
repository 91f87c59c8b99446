"""Write encodings: a request body as JSON, or as a form with nested keys (``a[b][0][c]=v``).

Form encoding follows the bracket convention of Rails and Stripe: mappings nest by key, lists
by index, booleans as ``true``/``false``, ``None`` as the empty string (which is how such APIs
clear a field). Decimals are written in plain notation, never through a float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode

__all__ = ["BodyEncoding", "Form", "Json", "flatten_form"]


class BodyEncoding(Protocol):
    def encode(self, body: Mapping[str, Any]) -> tuple[bytes, str]:
        """The body's bytes and its Content-Type."""
        ...


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def flatten_form(body: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings and lists as bracketed form pairs, in order."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs.extend(flatten_form(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                item_name = f"{name}[{index}]"
                if isinstance(item, Mapping):
                    pairs.extend(flatten_form(item, item_name))
                else:
                    pairs.append((item_name, _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


@dataclass(frozen=True, slots=True)
class Json:
    def encode(self, body: Mapping[str, Any]) -> tuple[bytes, str]:
        return json.dumps(body, default=_json_default).encode("utf-8"), "application/json"


@dataclass(frozen=True, slots=True)
class Form:
    def encode(self, body: Mapping[str, Any]) -> tuple[bytes, str]:
        return urlencode(flatten_form(body)).encode("ascii"), "application/x-www-form-urlencoded"
