"""OAuth: codes and refresh tokens are single-use, tokens expire, every body encoding is accepted."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer


def _authorize(sb: SandboxServer, redirect_uri: str | None = None) -> str:
    answer = httpx.get(f"{sb.url}/oauth/authorize", trust_env=False, params={
        "client_id": sb.client_id, "response_type": "code", "redirect_uri": redirect_uri or sb.redirect_uri,
        "state": "s1"})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def _grant(sb: SandboxServer, **fields: str) -> dict[str, str]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret, "redirect_uri": sb.redirect_uri, **fields}


def _post(sb: SandboxServer, encoding: str, fields: dict[str, str]) -> httpx.Response:
    url = f"{sb.url}/auth/oauth/token"
    if encoding == "json":
        return httpx.post(url, json=fields, trust_env=False)
    if encoding == "multipart":
        return httpx.post(url, files={k: (None, v) for k, v in fields.items()}, trust_env=False)
    return httpx.post(url, data=fields, trust_env=False)


@pytest.mark.parametrize("encoding", ["form", "json", "multipart"])
def test_token_endpoint_accepts_every_encoding(sb: SandboxServer, encoding: str) -> None:
    answer = _post(sb, encoding, _grant(sb, grant_type="authorization_code", code=_authorize(sb)))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"access_token", "refresh_token", "token_type", "expires_in", "scope", "created_at"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 43200
    assert body["created_at"] == pytest.approx(sb.now().timestamp(), abs=5)


def test_refresh_token_is_single_use_and_rotated(sb: SandboxServer) -> None:
    first: dict[str, Any] = _post(sb, "form", _grant(sb, grant_type="authorization_code",
                                                     code=_authorize(sb))).json()
    second = _post(sb, "form", _grant(sb, grant_type="refresh_token", refresh_token=first["refresh_token"]))
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    again = _post(sb, "form", _grant(sb, grant_type="refresh_token", refresh_token=first["refresh_token"]))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant" and again.json()["error_description"]
    third = _post(sb, "json", _grant(sb, grant_type="refresh_token", refresh_token=second.json()["refresh_token"]))
    assert third.status_code == 200


def test_code_is_single_use_and_expires_after_five_minutes(sb: SandboxServer) -> None:
    code = _authorize(sb)
    assert _post(sb, "form", _grant(sb, grant_type="authorization_code", code=code)).status_code == 200
    reused = _post(sb, "form", _grant(sb, grant_type="authorization_code", code=code))
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    late = _authorize(sb)
    sb.advance(301)
    expired = _post(sb, "form", _grant(sb, grant_type="authorization_code", code=late))
    assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")


def test_bad_client_secret_and_unknown_grant(sb: SandboxServer) -> None:
    bad = _post(sb, "form", {**_grant(sb, grant_type="authorization_code", code=_authorize(sb)),
                             "client_secret": "wrong"})
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    odd = _post(sb, "form", _grant(sb, grant_type="password"))
    assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")


def test_authorize_redirects_errors_to_the_client(sb: SandboxServer) -> None:
    answer = httpx.get(f"{sb.url}/oauth/authorize", trust_env=False, params={
        "client_id": sb.client_id, "response_type": "token", "redirect_uri": sb.redirect_uri, "state": "q"})
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert answer.status_code == 302 and query["error"] == ["unsupported_response_type"] and query["state"] == ["q"]
    unknown = httpx.get(f"{sb.url}/oauth/authorize", trust_env=False, params={
        "client_id": "nope", "response_type": "code", "redirect_uri": sb.redirect_uri})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"


def test_expired_access_token_is_401_in_each_familys_shape(sb: SandboxServer) -> None:
    token = sb.issue_tokens(ttl=60)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    paths = {
        "accounting": f"/accounting/account/{sb.account_id}/users/clients",
        "projects": f"/projects/business/{sb.business_id}/projects",
        "time": f"/timetracking/business/{sb.business_id}/time_entries",
        "events": f"/events/account/{sb.account_id}/events/callbacks",
        "identity": "/auth/api/v1/users/me",
        "ledger": f"/accounting/businesses/{sb.business_uuid}/ledger_accounts/accounts",
    }
    with httpx.Client(base_url=sb.url, headers=headers, trust_env=False) as http:
        assert all(http.get(p).status_code == 200 for p in paths.values())
        sb.advance(61)
        answers = {name: http.get(p) for name, p in paths.items()}
    assert {a.status_code for a in answers.values()} == {401}
    assert answers["accounting"].json()["response"]["errors"][0]["errno"] == 1003
    assert "authorized" in answers["projects"].json()["message"]
    assert "authorized" in answers["time"].json()["message"]
    assert answers["events"].json()["errno"] == 401
    assert answers["identity"].json()["error"] == "unauthenticated"
    assert answers["ledger"].json()["errors"]["status"] == 401
    missing = httpx.get(f"{sb.url}{paths['accounting']}", trust_env=False)
    assert missing.status_code == 401


def test_second_business_is_listed_and_served(sb: SandboxServer) -> None:
    with SandboxServer(seed=3, second_business=True) as two:
        token = two.issue_tokens()["access_token"]
        with httpx.Client(base_url=two.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as http:
            memberships = http.get("/auth/api/v1/users/me").json()["response"]["business_memberships"]
            assert len(memberships) == 2
            other = memberships[1]["business"]
            assert other["account_id"] != two.account_id and memberships[1]["id"] != other["id"]
            clients = http.get(f"/accounting/account/{other['account_id']}/users/clients").json()
            assert clients["response"]["result"]["total"] == 3
            assert http.get(f"/projects/business/{other['id']}/projects").status_code == 200
            denied = http.get("/accounting/account/NOPE12/users/clients")
            assert denied.status_code == 403
