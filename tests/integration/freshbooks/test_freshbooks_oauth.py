"""OAuth against the sandbox: expiry mid-sync, rotation that survives a crash, invalid_grant, one refresh."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.errors import AuthError
from syncengine.http import normalize_token_response
from syncengine.ledger import Ledger
from syncengine.tokens import MemoryTokenStore

from .conftest import SandboxServer, connector_for, token_store

TOKEN_PATH = "/auth/oauth/token"


def token_calls(sb: Any) -> int:
    """Token-endpoint calls the sandbox counted. It counts after sending the answer, so a
    reading taken right after a response may lag: wait until the count stops moving."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        now = int(sb.stats()["by_path"].get(TOKEN_PATH, 0))
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 0.15:
            break
        time.sleep(0.02)
    return last


def full_pull(fb: FreshBooksConnector, obj: str, between_pages: Callable[[], None] | None = None) -> int:
    count = 0
    for page in fb.changes(obj, None):
        count += len(page.records)
        if between_pages:
            between_pages()
    return count


def test_access_token_expiring_mid_sync_is_refreshed(sandbox: Any) -> None:
    store = token_store(sandbox)
    # a batch a page, so the token expires with pages still to read
    fb = connector_for(sandbox, store, page_size=1, records_per_batch=1)
    before = dict(store.load_token("freshbooks") or {})
    expected = sandbox.state.count("clients")
    calls = 0

    def expire_after_first_page() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            sandbox.advance(43200 + 60)  # the sandbox now considers our access token expired

    try:
        pulled = full_pull(fb, "clients", expire_after_first_page)
    finally:
        fb.close()
    assert pulled >= expected  # the whole listing (plus the deletion pass) came through
    after = store.load_token("freshbooks") or {}
    assert fb.auth.refresh_count == 1
    assert token_calls(sandbox) == 1
    assert after["refresh_token"] != before["refresh_token"]


def test_short_lived_tokens_refresh_before_expiry(sandbox: Any) -> None:
    store = MemoryTokenStore({"freshbooks": normalize_token_response(sandbox.issue_tokens(ttl=2), now=time.time())})
    fb = connector_for(sandbox, store, page_size=1)
    # the pull lasts longer than the token: 30 pages of 400 ms, read 4 at a time (readahead.py)
    sandbox.set_faults(latency_ms=400)
    try:
        records = full_pull(fb, "clients")
    finally:
        fb.close()
        sandbox.set_faults()
    assert records >= sandbox.state.count("clients")
    assert fb.auth.refresh_count >= 1
    stats = sandbox.stats()
    assert stats["by_status"].get("401", 0) <= 1  # refreshed ahead of expiry, not after rejections


def test_rotation_survives_a_process_dying_right_after_refresh(sandbox: Any) -> None:
    store = token_store(sandbox)
    old_refresh = (store.load_token("freshbooks") or {})["refresh_token"]
    first = connector_for(sandbox, store)
    sandbox.advance(43200 + 60)
    first.get("clients", [str(sandbox.state.list("clients")[0]["id"])])  # 401 -> refresh -> saved
    assert token_calls(sandbox) == 1
    first.close()  # the process dies: only the store survives
    del first

    second = connector_for(sandbox, store)
    try:
        assert second.get("clients", [str(sandbox.state.list("clients")[1]["id"])])
    finally:
        second.close()
    assert token_calls(sandbox) == 1  # the saved pair was good; no second refresh
    reused = httpx.post(
        f"{sandbox.url}{TOKEN_PATH}",
        data={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "refresh_token",
            "redirect_uri": sandbox.redirect_uri,
            "refresh_token": old_refresh,
        },
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_invalid_grant_is_auth_error_with_hint_and_one_token_call(sandbox: Any) -> None:
    token = normalize_token_response(sandbox.issue_tokens(), now=time.time())
    token["refresh_token"] = "spent-or-revoked"
    store = MemoryTokenStore({"freshbooks": token})
    fb = connector_for(sandbox, store)
    sandbox.advance(43200 + 60)
    try:
        with pytest.raises(AuthError) as info:
            list(fb.changes("clients", None))
    finally:
        fb.close()
    assert "syncengine auth freshbooks" in str(info.value)
    assert token_calls(sandbox) == 1


def test_two_clients_refreshing_concurrently_refresh_once(sandbox: Any) -> None:
    store = token_store(sandbox)
    connectors = [connector_for(sandbox, store) for _ in range(3)]
    for fb in connectors:
        fb.business()  # discover first, so all three hit the expired token at once below
    sandbox.advance(43200 + 60)
    barrier = threading.Barrier(len(connectors))
    errors: list[BaseException] = []
    keys = [str(r["id"]) for r in sandbox.state.list("clients")[:3]]

    def run(fb: FreshBooksConnector, key: str) -> None:
        try:
            barrier.wait()
            assert fb.get("clients", [key])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fb, k)) for fb, k in zip(connectors, keys, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for fb in connectors:
        fb.close()
    assert not errors
    assert token_calls(sandbox) == 1
    assert sum(fb.auth.refresh_count for fb in connectors) == 1


def test_authorize_command_flow(sandbox: Any) -> None:
    from connectors.freshbooks.auth import authorize

    sandbox.set_variants(redirect_uri="any_loopback")  # no redirect_uri: a loopback listener's own

    store = MemoryTokenStore()
    urls: list[str] = []
    result: dict[str, Any] = {}
    config = {"base_url": sandbox.url, "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}

    def run() -> None:
        result.update(authorize(config, store, port=0, open_browser=False, announce=urls.append, timeout=10))

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while not urls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert httpx.get(urls[0].splitlines()[-1], follow_redirects=True).status_code == 200  # the "browser"
    thread.join(timeout=10)
    assert (store.load_token("freshbooks") or {}).get("access_token")
    assert [b["business_id"] for b in result["businesses"]] == [sandbox.business_id]
    assert "access_token" not in result


# -- across processes, with the ledger as the token store ------------------------------------------


def run_worker(sb: Any, ledger_url: str, key: str, **extra: Any) -> subprocess.Popen[str]:
    args = {
        "ledger": ledger_url,
        "url": sb.url,
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "redirect_uri": sb.redirect_uri,
        "key": key,
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.freshbooks.oauth_worker", json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = process.communicate(timeout=60)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, err
    return process.returncode, json.loads(lines[-1])


def test_process_killed_right_after_refresh_loses_nothing(sandbox: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        ledger.save_token("freshbooks", normalize_token_response(sandbox.issue_tokens(), now=time.time()))
        old = dict(ledger.load_token("freshbooks") or {})
    keys = [str(r["id"]) for r in sandbox.state.list("clients")[:2]]
    sandbox.advance(43200 + 60)  # the stored access token is now expired for the sandbox

    code, report = finished(run_worker(sandbox, url, keys[0], die=True))
    assert code == 9 and report == {"records": 1, "refreshes": 1}
    assert token_calls(sandbox) == 1

    with Ledger.open(url) as ledger:  # a new process opens the ledger the dead one left behind
        saved = ledger.load_token("freshbooks") or {}
    assert saved["refresh_token"] != old["refresh_token"]
    code, report = finished(run_worker(sandbox, url, keys[1]))
    assert code == 0 and report == {"records": 1, "refreshes": 0}
    assert token_calls(sandbox) == 1


def test_processes_sharing_a_ledger_refresh_once(sandbox: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        ledger.save_token("freshbooks", normalize_token_response(sandbox.issue_tokens(), now=time.time()))
    sandbox.advance(43200 + 60)
    keys = [str(r["id"]) for r in sandbox.state.list("clients")[:3]]
    start_at = time.time() + 3.0  # after every interpreter has started
    workers = [run_worker(sandbox, url, key, start_at=start_at) for key in keys]
    reports = [finished(w) for w in workers]
    assert all(code == 0 and report["records"] == 1 for code, report in reports)
    assert sum(report["refreshes"] for _, report in reports) == 1
    assert token_calls(sandbox) == 1


def test_authorize_command_with_the_registered_https_redirect(sandbox: Any) -> None:
    from connectors.freshbooks.auth import authorize

    store = MemoryTokenStore()
    urls: list[str] = []
    config = {
        "base_url": sandbox.url,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "redirect_uri": sandbox.redirect_uri,  # https://..., as FreshBooks requires
    }

    def paste(prompt: str) -> str:
        return httpx.get(urls[0].splitlines()[-1], follow_redirects=False).headers["location"]

    result = authorize(config, store, port=0, open_browser=False, announce=urls.append, paste=paste)
    assert (store.load_token("freshbooks") or {}).get("refresh_token")
    assert result["businesses"][0]["business_id"] == sandbox.business_id


@pytest.mark.parametrize(("backend", "mode"), [
    ("sqlite", "revoked"), pytest.param("postgres", "revoked", marks=pytest.mark.postgres), ("sqlite", "valid")])
def test_processes_reading_across_refreshes_that_revoke_never_fail(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str, mode: str
) -> None:
    """``token_after_refresh=revoked``: a refresh kills the access token the other processes hold.
    Three processes share one ledger and read for 9 s with 6 s tokens; their clocks run 0, 1.5
    and 3 s ahead, so the one ahead refreshes while the others still trust (and use) the token it
    just revoked. Every 401 that causes is answered by the token in the ledger: no read fails, no
    refresh token is spent twice, and the ledger ends with a token the API accepts."""
    url = (f"sqlite:///{tmp_path / 'ledger.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("pg_schema_url")))
    with SandboxServer(seed=5, port=0, token_ttl=6, variants={"token_after_refresh": mode}) as sb:
        with Ledger.open(url) as ledger:
            ledger.save_token("freshbooks", normalize_token_response(sb.issue_tokens(), now=time.time()))
        keys = [str(r["id"]) for r in sb.state.list("clients")[:3]]
        start_at = time.time() + 3.0
        workers = [run_worker(sb, url, key, start_at=start_at, loop_seconds=9, clock_skew=skew)
                   for key, skew in zip(keys, (0.0, 1.5, 3.0), strict=True)]
        reports = [finished(w) for w in workers]
        assert all(code == 0 for code, _ in reports), reports
        assert [r["errors"] for _, r in reports] == [[], [], []]
        assert all(r["reads"] >= 10 for _, r in reports), reports
        refreshes = sum(r["refreshes"] for _, r in reports)
        assert refreshes >= 2
        assert token_calls(sb) == refreshes  # every refresh succeeded: none spent a dead refresh token
        status = sb.stats()["by_status"]
        assert status.get("400", 0) == 0
        if mode == "revoked":
            assert status.get("401", 0) >= 1  # the revocation did bite a process holding the old token
        else:
            assert status.get("401", 0) == 0
        with Ledger.open(url) as ledger:
            token = ledger.load_token("freshbooks") or {}
        me = httpx.get(f"{sb.url}/auth/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.status_code == 200
