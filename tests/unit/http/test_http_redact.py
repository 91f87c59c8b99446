"""No token, secret, code or Authorization header reaches a log."""

from __future__ import annotations

import httpx
import structlog
from structlog.testing import capture_logs

from syncengine.http.redact import REDACTED, redact, redact_headers, redact_processor, redact_text, redact_url


def test_url_query_secrets_and_userinfo() -> None:
    url = "https://u:pw9@api.test/cb?code=abc123&state=xyz7&page=2&access_token=tk-55&search[updated_min]=2026-01-01"
    out = redact_url(url)
    for secret in ("abc123", "xyz7", "tk-55", "pw9"):
        assert secret not in out
    assert "page=2" in out and "search[updated_min]=2026-01-01" in out


def test_headers() -> None:
    headers = httpx.Headers({"Authorization": "Bearer abc", "X-Api-Key": "k", "Accept": "json"})
    assert redact_headers(headers) == {"authorization": REDACTED, "x-api-key": REDACTED, "accept": "json"}


def test_text_and_nested_values() -> None:
    assert "abc.def" not in redact_text("header was Bearer abc.def and more")
    assert "rt-1" not in redact_text('{"refresh_token": "rt-1", "x": 1}')
    assert "s3" not in redact_text("client_secret=s3&grant_type=refresh_token")
    value = {"token": {"access_token": "a", "refresh_token": "r"}, "note": "Bearer zzz", "code": "1012"}
    out = redact(value)
    assert out["token"] == REDACTED
    assert "zzz" not in out["note"]
    assert out["code"] == "1012"  # an error code in a log is not the OAuth code


def test_processor_in_a_structlog_chain() -> None:
    with capture_logs(processors=[redact_processor]) as logs:
        structlog.get_logger().info(
            "calling",
            url="https://a.test/x?refresh_token=rt-77",
            client_secret="cs-88",
            headers={"Authorization": "Bearer hdr-99"},
        )
    text = str(logs)
    for secret in ("rt-77", "cs-88", "hdr-99"):
        assert secret not in text
