"""The open-behaviour switches: listed with values/default/documented, set at run time and at start,
and each wired one changing what the API answers."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer
from connectors.freshbooks.sandbox.variants import VARIANTS, parse_assignments

from .conftest import accounting

REQUIRED = {"retry_after", "lines_without_id", "cleared_text", "validation_status", "error_shape",
            "time_entry_delete", "project_delete", "token_after_refresh", "redirect_uri", "scopes",
            "jpy_fractional", "kwd"}


def test_every_open_behaviour_is_listed_with_the_least_forgiving_default(sb: SandboxServer,
                                                                         http: httpx.Client) -> None:
    listed = {v["name"]: v for v in http.get("/_sandbox/variants").json()["variants"]}
    assert set(listed) >= REQUIRED
    assert listed["retry_after"]["default"] == "none" and listed["retry_after"]["value"] == "none"
    assert listed["lines_without_id"]["default"] == "append"
    for variant in listed.values():
        assert variant["default"] in variant["values"] and len(variant["values"]) >= 2
        assert variant["documented"] in (None, *variant["values"])
    changed = http.post("/_sandbox/variants", json={"retry_after": "seconds"}).json()["variants"]
    assert {v["name"]: v["value"] for v in changed}["retry_after"] == "seconds"
    bad = http.post("/_sandbox/variants", json={"retry_after": "sometimes"})
    assert bad.status_code == 400 and "not one of" in bad.json()["response"]["errors"][0]["message"]


def test_variants_given_at_start_and_bad_ones_refused() -> None:
    assert parse_assignments(["kwd=accepted", "retry_after=seconds"]) == {"kwd": "accepted",
                                                                          "retry_after": "seconds"}
    for bad in (["kwd"], ["nope=1"], ["kwd=maybe"]):
        with pytest.raises(ValueError):
            parse_assignments(bad)
    with SandboxServer(seed=3, variants={"validation_status": "422"}) as sb:
        assert {v["name"]: v["value"] for v in sb.variants()}["validation_status"] == "422"
    assert len(VARIANTS) >= 12


def test_cli_refuses_a_bad_variant_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "syncengine", "sandbox", "freshbooks", "--port", "0",
                           "--variant", "retry_after=often"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "retry_after" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_lines_without_id_append_or_replace(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(lines_without_id=mode)
    path = accounting(sb, "invoices/invoices")
    line = {"name": "a", "qty": "1", "unit_cost": {"amount": "10.00", "code": "USD"}}
    made = http.post(path, params={"include[]": "lines"},
                     json={"invoice": {"customerid": 1001, "currency_code": "USD", "lines": [line]}}).json()
    invoice = made["response"]["result"]["invoice"]
    item = f"{path}/{invoice['id']}"
    again = http.put(item, params={"include[]": "lines"},
                     json={"invoice": {"lines": [{**line, "name": "b"}]}}).json()["response"]["result"]["invoice"]
    names = [x["name"] for x in again["lines"]]
    assert names == (["a", "b"] if mode == "append" else ["b"])
    # sent with its lineid, a line is updated in place under both readings; unnamed ones go
    lineid = again["lines"][-1]["lineid"]
    third = http.put(item, params={"include[]": "lines"},
                     json={"invoice": {"lines": [{**line, "lineid": lineid, "name": "c"}]}}).json()
    assert [x["name"] for x in third["response"]["result"]["invoice"]["lines"]] == ["c"]


@pytest.mark.parametrize("status", ["400", "422"])
def test_validation_status(sb: SandboxServer, http: httpx.Client, status: str) -> None:
    sb.set_variants(validation_status=status)
    answer = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {}})
    assert answer.status_code == int(status)
    assert answer.json()["response"]["errors"][0]["field"] == "customerid"


def test_error_shapes(sb: SandboxServer, http: httpx.Client) -> None:
    path = accounting(sb, "invoices/invoices")
    sb.set_variants(error_shape="code_details")
    answer = http.post(path, json={"invoice": {}})
    detail = answer.json()["details"][0]
    assert answer.json()["code"] == 3 and detail["reason"] == "1001" and detail["metadata"]["field"] == "customerid"
    sb.set_variants(error_shape="http200_error")
    answer = http.post(path, json={"invoice": {}})
    assert answer.status_code == 200 and answer.json()["response"]["errors"][0]["errno"] == 1001


@pytest.mark.parametrize("mode", ["null", "empty_string"])
def test_cleared_text_reads_back_as_the_variant_says(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(cleared_text=mode)
    item = accounting(sb, "users/clients/1001")
    expected = None if mode == "null" else ""
    for sent in (None, ""):  # however the client clears it
        http.put(item, json={"client": {"organization": "Kept", "p_street": "1 Main St", "note": "x"}})
        answer = http.put(item, json={"client": {"p_street": sent, "note": sent}})
        stored = answer.json()["response"]["result"]["client"]
        assert (stored["p_street"], stored["note"]) == (expected, expected)
        assert stored["organization"] == "Kept"  # a field not named is untouched
        assert http.get(item).json()["response"]["result"]["client"]["p_street"] == expected
    projects = f"/projects/business/{sb.business_id}/project"
    made = http.post(projects, json={"project": {"title": "P", "description": "d"}}).json()["project"]
    cleared = http.put(f"{projects}/{made['id']}", json={"project": {"description": ""}}).json()["project"]
    assert cleared["description"] == expected


@pytest.mark.parametrize("mode", ["hard", "inactive"])
def test_time_entry_delete(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(time_entry_delete=mode)
    base = f"/timetracking/business/{sb.business_id}/time_entries"
    made = http.post(base, json={"time_entry": {"started_at": "2026-01-10T10:00:00Z", "duration": 60}}).json()
    key = made["time_entry"]["id"]
    assert http.delete(f"{base}/{key}").status_code == 204
    assert http.get(f"{base}/{key}").status_code == 404
    live = [e["id"] for e in http.get(base, params={"per_page": 100}).json()["time_entries"]]
    assert key not in live
    listed = {e["id"]: e["active"] for e in
              http.get(base, params={"include_deleted": "true", "per_page": 100}).json()["time_entries"]}
    assert listed.get(key) == (None if mode == "hard" else False)
    assert (sb.state.raw("time_entries", key) is None) == (mode == "hard")


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_project_delete(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(project_delete=mode)
    base = f"/projects/business/{sb.business_id}"
    made = http.post(f"{base}/project", json={"project": {"title": "Doomed"}}).json()["project"]
    assert http.delete(f"{base}/project/{made['id']}").status_code == 204
    got = http.get(f"{base}/project/{made['id']}")
    listed = {p["id"]: p for p in http.get(f"{base}/projects", params={"per_page": 100}).json()["projects"]}
    if mode == "hard":
        assert got.status_code == 404 and made["id"] not in listed
    else:
        assert got.status_code == 200 and got.json()["project"]["vis_state"] == 1
        assert listed[made["id"]]["vis_state"] == 1
        assert sb.state.count("projects") == sb.state.count("projects", include_deleted=True) - 1


@pytest.mark.parametrize("mode", ["revoked", "valid"])
def test_token_after_refresh(sb: SandboxServer, mode: str) -> None:
    sb.set_variants(token_after_refresh=mode)
    first = sb.issue_tokens()
    me = f"{sb.url}/auth/api/v1/users/me"

    def status(token: str) -> int:
        return httpx.get(me, headers={"Authorization": f"Bearer {token}"}, trust_env=False).status_code
    assert status(first["access_token"]) == 200
    second = httpx.post(f"{sb.url}/auth/oauth/token", trust_env=False, data={
        "client_id": sb.client_id, "client_secret": sb.client_secret, "redirect_uri": sb.redirect_uri,
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}).json()
    assert status(second["access_token"]) == 200
    assert status(first["access_token"]) == (401 if mode == "revoked" else 200)


@pytest.mark.parametrize("mode", ["exact", "any_loopback"])
def test_redirect_uri(sb: SandboxServer, mode: str) -> None:
    sb.set_variants(redirect_uri=mode)

    def authorize(uri: str) -> httpx.Response:
        return httpx.get(f"{sb.url}/oauth/authorize", trust_env=False, params={
            "client_id": sb.client_id, "response_type": "code", "redirect_uri": uri, "state": "s"})
    assert authorize(sb.redirect_uri).status_code == 302
    other = authorize("http://127.0.0.1:5555/callback")
    if mode == "exact":
        assert other.status_code == 400 and other.json()["error"] == "invalid_redirect_uri"
    else:
        assert other.status_code == 302 and other.headers["location"].startswith("http://127.0.0.1:5555/callback?")
    assert authorize("https://example.com/callback").status_code == 400  # never a remote one


def test_a_registered_redirect_uri_is_the_one_accepted() -> None:
    with SandboxServer(seed=1, redirect_uri="http://127.0.0.1:9/cb") as sb:
        assert sb.redirect_uri == "http://127.0.0.1:9/cb"
        answer = httpx.get(f"{sb.url}/oauth/authorize", trust_env=False, params={
            "client_id": sb.client_id, "response_type": "code", "redirect_uri": "http://127.0.0.1:9/cb"})
        assert answer.status_code == 302


@pytest.mark.parametrize("mode", ["enforced", "ignored"])
def test_scopes(sb: SandboxServer, mode: str) -> None:
    sb.set_variants(scopes=mode)
    token = sb.issue_tokens(scope="user:profile:read user:clients:read")["access_token"]
    with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as http:
        assert http.get(accounting(sb, "users/clients")).status_code == 200
        assert http.get("/auth/api/v1/users/me").status_code == 200
        write = http.put(accounting(sb, "users/clients/1001"), json={"client": {"note": "n"}})
        read = http.get(accounting(sb, "invoices/invoices"))
        projects = http.get(f"/projects/business/{sb.business_id}/projects")
    if mode == "ignored":
        assert (write.status_code, read.status_code, projects.status_code) == (200, 200, 200)
        return
    assert write.status_code == 403
    error = write.json()["response"]["errors"][0]
    assert error["errno"] == 1003 and "user:clients:write" in error["message"]
    assert read.status_code == 403 and "user:invoices:read" in read.json()["response"]["errors"][0]["message"]
    assert projects.status_code == 403 and "user:projects:read" in projects.json()["error"]
    assert sb.state.get("clients", 1001)["note"] != "n"  # type: ignore[index]


@pytest.mark.parametrize("mode", ["refused", "accepted"])
def test_jpy_fractional(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(jpy_fractional=mode)
    path = accounting(sb, "invoices/invoices")
    line = {"name": "a", "qty": "1", "unit_cost": {"amount": "1000.5", "code": "JPY"}}
    answer = http.post(path, params={"include[]": "lines"},
                       json={"invoice": {"customerid": 1001, "currency_code": "JPY", "lines": [line]}})
    yen = {**line, "unit_cost": {"amount": "1000", "code": "JPY"}}
    whole = http.post(path, params={"include[]": "lines"},
                      json={"invoice": {"customerid": 1001, "currency_code": "JPY", "lines": [yen]}})
    assert whole.status_code == 200
    if mode == "refused":
        assert answer.status_code == 400
        error = answer.json()["response"]["errors"][0]
        assert error["errno"] == 1004 and "JPY" in error["message"]
    else:
        assert answer.status_code == 200
        stored = answer.json()["response"]["result"]["invoice"]["lines"][0]["unit_cost"]
        assert stored == {"amount": "1000.50", "code": "JPY"}


@pytest.mark.parametrize("mode", ["refused", "accepted"])
def test_kwd(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(kwd=mode)
    line = {"name": "a", "qty": "2", "unit_cost": {"amount": "1.234", "code": "KWD"}}
    answer = http.post(accounting(sb, "invoices/invoices"), params={"include[]": "lines"},
                       json={"invoice": {"customerid": 1001, "currency_code": "KWD", "lines": [line]}})
    if mode == "refused":
        assert answer.status_code == 400
        error = answer.json()["response"]["errors"][0]
        assert error["errno"] == 1004 and error["field"] == "currency_code"
    else:
        invoice = answer.json()["response"]["result"]["invoice"]
        assert invoice["currency_code"] == "KWD"
        assert invoice["lines"][0]["unit_cost"] == {"amount": "1.234", "code": "KWD"}
        assert invoice["amount"] == {"amount": "2.468", "code": "KWD"}


def test_every_variant_is_wired() -> None:
    assert all(v.wired for v in VARIANTS)
