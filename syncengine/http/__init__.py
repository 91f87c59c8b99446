"""The shared HTTP layer: one httpx client per API with retries, a rate limiter, OAuth and redaction.

Vendor-free: connectors bring their base URL, their limits and an error-body parser.
"""

from syncengine.http.client import DEFAULT_USER_AGENT, make_client
from syncengine.http.errors import (
    ErrorContext,
    ErrorDetail,
    ErrorParser,
    raise_for_response,
    transport_errors,
)
from syncengine.http.oauth import (
    OAuth2RefreshAuth,
    build_authorize_url,
    exchange_authorization_code,
    normalize_token_response,
)
from syncengine.http.oauth_redirect import run_local_authorization
from syncengine.http.ratelimit import RateLimit, TokenBucket
from syncengine.http.redact import redact, redact_headers, redact_processor, redact_url
from syncengine.http.retry import NO_RETRY, RetryPolicy, RetryTransport, parse_retry_after

__all__ = [
    "DEFAULT_USER_AGENT",
    "NO_RETRY",
    "ErrorContext",
    "ErrorDetail",
    "ErrorParser",
    "OAuth2RefreshAuth",
    "RateLimit",
    "RetryPolicy",
    "RetryTransport",
    "TokenBucket",
    "build_authorize_url",
    "exchange_authorization_code",
    "make_client",
    "normalize_token_response",
    "parse_retry_after",
    "raise_for_response",
    "redact",
    "redact_headers",
    "redact_processor",
    "redact_url",
    "run_local_authorization",
    "transport_errors",
]
