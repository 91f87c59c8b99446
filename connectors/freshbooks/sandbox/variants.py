"""Named switches for every behaviour FreshBooks' documentation leaves open (UNCONFIRMED).

Each :class:`Variant` lists the plausible answers, the default (the least forgiving of them, so a
connector tested against the defaults does not lean on a lucky pick) and the answer the
documentation supports, if it supports one. ``--variant NAME=VALUE`` on ``syncengine sandbox
freshbooks`` and ``GET/POST /_sandbox/variants`` read and set them; handlers ask
``sandbox.variants.value(NAME)``. ``wired`` says whether the sandbox behaves differently per value
(every one does now; a new open question can be listed before it is wired, so it stays visible).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variant:
    name: str
    values: tuple[str, ...]
    default: str
    documented: str | None
    what: str
    wired: bool = True

    def to_json(self, current: str) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values), "default": self.default,
                "documented": self.documented, "value": current, "what": self.what, "wired": self.wired}


VARIANTS: tuple[Variant, ...] = (
    Variant("retry_after", ("none", "seconds"), "none", None,
            "a 429 carries no Retry-After header, or the whole seconds until a slot frees"),
    Variant("lines_without_id", ("append", "replace"), "append", None,
            "invoice/estimate lines sent without lineid are added to the stored ones (lines sent "
            "with a lineid update that line, and when any is named the unnamed ones are removed), "
            "or the sent list replaces every line"),
    Variant("cleared_text", ("null", "empty_string"), "null", None,
            "a text field cleared by the client reads back as null or as \"\""),
    Variant("validation_status", ("400", "422"), "400", None,
            "the HTTP status of an accounting validation error"),
    Variant("error_shape", ("legacy", "code_details", "http200_error"), "legacy", None,
            "accounting errors as response.errors[], the newer {code, message, details}, or HTTP 200 "
            "with the errors in the body"),
    Variant("time_entry_delete", ("hard", "inactive"), "hard", None,
            "a deleted time entry is gone, or kept with active: false"),
    Variant("project_delete", ("hard", "soft"), "hard", None,
            "a deleted project is gone (and never listed), or kept with vis_state 1"),
    Variant("token_after_refresh", ("revoked", "valid"), "revoked", None,
            "the access token issued before a refresh stops working at once, or lives to its expiry"),
    Variant("redirect_uri", ("exact", "any_loopback"), "exact", "exact",
            "only the registered redirect URI, or any http(s)://127.0.0.1|localhost one"),
    Variant("scopes", ("enforced", "ignored"), "enforced", "enforced",
            "a call outside the token's scopes answers 403, or scopes are recorded only"),
    Variant("jpy_fractional", ("refused", "accepted"), "refused", None,
            "a JPY amount with decimals is a validation error, or accepted as sent"),
    Variant("kwd", ("refused", "accepted"), "refused", None,
            "KWD (three decimals) is refused as an unknown currency, or accepted"),
)

BY_NAME: dict[str, Variant] = {v.name: v for v in VARIANTS}


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["retry_after=seconds", ...]`` -> a checked dict; ValueError names the bad item."""
    chosen: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"variant {item!r}: write NAME=VALUE")
        chosen[name.strip()] = value.strip()
    check(chosen)
    return chosen


def check(chosen: dict[str, str]) -> None:
    for name, value in chosen.items():
        variant = BY_NAME.get(name)
        if variant is None:
            raise ValueError(f"unknown variant {name!r}; known: {', '.join(BY_NAME)}")
        if value not in variant.values:
            raise ValueError(f"variant {name}: {value!r} is not one of {', '.join(variant.values)}")


class Variants:
    """The current pick for each variant; thread-safe, changed at run time by the control API."""

    def __init__(self, chosen: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._initial = dict(chosen or {})
        check(self._initial)
        self._current = {v.name: self._initial.get(v.name, v.default) for v in VARIANTS}

    def value(self, name: str) -> str:
        with self._lock:
            return self._current[name]

    def set(self, chosen: dict[str, str]) -> None:
        check(chosen)
        with self._lock:
            self._current.update(chosen)

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [v.to_json(self._current[v.name]) for v in VARIANTS]


#: The variants of the sandbox serving the current request (set by the traffic layer), for value
#: rules deep in the write layer that do not see the sandbox object.
CURRENT: ContextVar[Variants | None] = ContextVar("freshbooks_sandbox_variants", default=None)


def current(name: str) -> str:
    """The running sandbox's pick for ``name`` (the default outside a request)."""
    variants = CURRENT.get()
    return variants.value(name) if variants is not None else BY_NAME[name].default
