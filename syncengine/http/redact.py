"""Redaction for logs: no token, secret, authorization code or ``Authorization`` header is ever logged.

Everything the HTTP layer logs goes through these functions first, and :func:`redact_processor`
can sit in any structlog chain as a second net for values other modules log. Redaction is by
*name* (query parameters, headers, mapping keys) plus a pattern for bearer tokens inside free
text, because a secret's value cannot be recognised, only the place it is kept in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

__all__ = [
    "REDACTED",
    "is_sensitive_name",
    "redact",
    "redact_headers",
    "redact_processor",
    "redact_text",
    "redact_url",
]

REDACTED = "[REDACTED]"

#: Names (of query parameters, form fields, JSON keys, headers) whose values are secrets.
_SENSITIVE_EXACT = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "verifier",
        "password",
        "client_secret",
        "x-api-key",
        "api_key",
        "apikey",
        "hmac",
        "x-freshbooks-hmac-sha256",
        "stripe-signature",
    }
)
_SENSITIVE_PARTS = ("token", "secret", "password", "signature")
#: In URLs and form bodies these are OAuth's authorization code and CSRF state; as log keys
#: ("code": "1012") they are usually harmless error codes, so they are redacted only as parameters.
_SENSITIVE_PARAMS = frozenset({"code", "state"})

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+")
_KEY_VALUE = re.compile(
    r"(?i)\b((?:access_|refresh_|id_)?token|client_secret|code|state|password|secret|verifier)"
    r"(\"?\s*[:=]\s*\"?)([^\s&\"',}]+)"
)


def is_sensitive_name(name: str, *, parameter: bool = False) -> bool:
    """Whether a value kept under ``name`` is a secret (``parameter``: a URL query or form field)."""
    lowered = name.lower()
    if parameter and lowered in _SENSITIVE_PARAMS:
        return True
    return lowered in _SENSITIVE_EXACT or any(part in lowered for part in _SENSITIVE_PARTS)


def redact_url(url: str | httpx.URL) -> str:
    """The URL with sensitive query parameters' values and any user:password replaced."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact_text(text)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if is_sensitive_name(k, parameter=True) else v) for k, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    return {k: (REDACTED if is_sensitive_name(k) else v) for k, v in headers.items()}


def redact_text(text: str) -> str:
    """Free text (an error body, an exception message) with bearer tokens and key=value secrets hidden."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def redact(value: Any) -> Any:
    """Any loggable value, redacted recursively: mappings by key, URLs and strings by pattern."""
    if isinstance(value, httpx.URL):
        return redact_url(value)
    if isinstance(value, httpx.Headers):
        return redact_headers(value)
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_sensitive_name(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return redact_url(value)
        return redact_text(value)
    return value


def redact_processor(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: every value of the event, redacted (put it before the renderer)."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = redact(event_dict[key])
        elif is_sensitive_name(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact(event_dict[key])
    return event_dict
