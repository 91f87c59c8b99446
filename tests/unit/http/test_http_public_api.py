"""The public surface of syncengine.http changes only on purpose."""

import syncengine.http


def test_public_api_is_pinned() -> None:
    assert sorted(syncengine.http.__all__) == sorted(
        [
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
    )
    for name in syncengine.http.__all__:
        assert hasattr(syncengine.http, name)
