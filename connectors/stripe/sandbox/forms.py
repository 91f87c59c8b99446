"""Form-encoded Stripe parameters: nested keys (``metadata[k]=v``, ``lines[0][price]=p``, ``expand[]=x``)
turned into dicts and lists, and :class:`Params`, a typed reader that answers Stripe's 400s.

Stripe reads GET/DELETE parameters from the query string and POST parameters from the form body,
with the same bracket syntax (reference "Requests and lists"). Every value arrives as a string; a
handler asks for the type it wants (``params.integer("amount")``) and a bad value is a 400 naming the
parameter. An empty string means "unset" on update (Stripe's documented convention).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import StripeError, invalid, required, unknown_parameter

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_form(text: str) -> dict[str, Any]:
    """Decode ``a[b][0]=c&a[b][1]=d&x[]=y`` into ``{"a": {"b": ["c", "d"]}, "x": ["y"]}``."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if match is None:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        path: list[str] = [match.group(1), *_PART.findall(match.group(2))]
        _assign(root, path, value, raw_key)
    result: dict[str, Any] = _listify(root)
    return result


def _assign(node: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":  # ``x[]``: append
            part = f"\0{len(node)}"
        if last:
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise invalid(f"Invalid parameter: {raw_key} mixes a value and a hash", param=raw_key)
        node = child


def _listify(node: Any) -> Any:
    """Dicts whose keys are all indexes (``0``, ``1`` or appended) become lists in index order."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.startswith("\0") or k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=lambda k: int(k.lstrip("\0")))]
    return converted


class Params:
    """The request's parameters with typed accessors; tracks which names the handler knew."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def only(self, *allowed: str) -> None:
        """400 ``parameter_unknown`` for a name the endpoint does not take (``expand`` always allowed)."""
        for name in self.data:
            if name != "expand" and name not in allowed:
                raise unknown_parameter(name)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def text(self, name: str, *, need: bool = False, empty_is_none: bool = True) -> str | None:
        value = self.data.get(name)
        if value is None:
            if need:
                raise required(name)
            return None
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {name} must be a string", param=name)
        if value == "" and empty_is_none:
            if need:
                raise required(name)
            return None
        return value

    def need_text(self, name: str) -> str:
        value = self.text(name, need=True)
        assert value is not None
        return value

    def integer(self, name: str, *, need: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if need:
                raise required(name)
            return None
        return to_int(value, name, minimum, maximum)

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if value in ("true", "false"):
            return bool(value == "true")
        raise invalid(f"Invalid boolean: {value}", param=name)

    def hash(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {name} must be a hash", param=name)
        return value

    def array(self, name: str) -> list[Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if value == "":
            return []
        if isinstance(value, str):
            raise invalid(f"Invalid array: {name} must be an array", param=name)
        if isinstance(value, dict):  # ``x[a]=..`` where a list was expected
            raise invalid(f"Invalid array: {name} must be an array", param=name)
        return [*value]

    def expand(self) -> list[str]:
        value = self.data.get("expand")
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [str(v) for v in value]
        raise invalid("Invalid array: expand must be an array of strings", param="expand")


def to_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, int):
        number = value
    else:
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", param=name)
        number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=name)
    if maximum is not None and number > maximum:
        raise invalid(f"This value must be less than or equal to {maximum}.", param=name)
    return number


def metadata_update(current: dict[str, str], value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata rules: keys merge, ``metadata[k]=`` removes k, ``metadata=`` removes all;
    at most 50 keys, keys <= 40 characters, values <= 500 characters."""
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param=param)
    merged = dict(current)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"Invalid value for metadata[{key}]", param=f"{param}[{key}]")
        if item == "":
            merged.pop(key, None)
            continue
        if len(key) > 40:
            raise invalid("Metadata keys can have up to 40 characters.", param=f"{param}[{key}]")
        if len(item) > 500:
            raise invalid("Metadata values can have up to 500 characters.", param=f"{param}[{key}]")
        merged[key] = item
    if len(merged) > 50:
        raise invalid("You can have up to 50 metadata keys.", param=param)
    return merged


def need(condition: bool, message: str, param: str | None = None) -> None:
    if not condition:
        raise StripeError(400, message, param=param)
