"""The connector under every open FreshBooks behaviour (the sandbox's variants), not just one pick.

Each test runs once per value of the variant it is about; the findings of issue 10 are here:
lines duplicated when FreshBooks appends lines sent without ``lineid``, a 429 without
``Retry-After`` failing the read under a 30 requests/minute budget, error shapes mistyped."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.scopes import MissingScopeError
from syncengine.config import load_config
from syncengine.errors import AuthError, NotFoundError, ValidationError
from syncengine.http import normalize_token_response
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, run_pipeline
from syncengine.records import Money, Record
from syncengine.tokens import MemoryTokenStore
from tests.conftest import free_port

from .conftest import SandboxServer, connector_for

LINES_MODES = ["append", "replace"]


def _line(name: str, amount: str) -> dict[str, Any]:
    return {"name": name, "qty": Decimal(1), "unit_cost": Money(Decimal(amount), "USD")}


@pytest.mark.parametrize("mode", LINES_MODES)
def test_invoice_lines_are_edited_in_place_under_either_reading(
    sandbox: Any, fb: FreshBooksConnector, mode: str
) -> None:
    sandbox.set_variants(lines_without_id=mode)
    made = fb.create("invoices", {"customerid": 1001, "currency_code": "USD",
                                  "lines": [_line("a", "10.00"), _line("b", "20.00")]}, "k1")
    first_ids = [line["lineid"] for line in made.fields["lines"]]
    edited = fb.update("invoices", made.key, {"lines": [_line("a2", "11.00"), _line("b", "20.00")]}, "k2")
    assert [line["name"] for line in edited.fields["lines"]] == ["a2", "b"]
    assert [line["lineid"] for line in edited.fields["lines"]] == first_ids  # updated in place
    shorter = fb.update("invoices", made.key, {"lines": [_line("b", "20.00")]}, "k3")
    assert [line["name"] for line in shorter.fields["lines"]] == ["b"]  # removed explicitly
    stored = fb.get("invoices", [made.key])[0]
    assert [line["name"] for line in stored.fields["lines"]] == ["b"]
    assert stored.fields["amount"] == Money(Decimal("20.00"), "USD")


@pytest.mark.parametrize("retry_after", ["none", "seconds"])
def test_a_429_without_retry_after_waits_out_the_minute(retry_after: str) -> None:
    """30 requests/minute and a read needing ~40 pages: every 429 is waited out, nothing fails.
    The connector's sleep advances the sandbox clock, so no test really waits a minute."""
    with SandboxServer(seed=40, port=0, variants={"retry_after": retry_after}) as sb:
        sb.set_budget(30)
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            sb.advance(seconds)

        fb = connector_for(sb, page_size=1, sleep=sleep)
        try:
            records = [r for page in fb.changes("clients", None) for r in page.records]
        finally:
            fb.close()
        assert len(records) == sb.state.count("clients", include_deleted=True)
        assert sb.stats()["rate_limited"] >= 1
        assert sum(slept) >= 1


ERROR_VARIANTS = [
    {"error_shape": "legacy", "validation_status": "400"},
    {"error_shape": "legacy", "validation_status": "422"},
    {"error_shape": "code_details", "validation_status": "400"},
    {"error_shape": "code_details", "validation_status": "422"},
    {"error_shape": "http200_error", "validation_status": "422"},
]


@pytest.mark.parametrize("variants", ERROR_VARIANTS, ids=lambda v: f"{v['error_shape']}-{v['validation_status']}")
def test_every_error_shape_maps_to_the_right_typed_error(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector], variants: dict[str, str]
) -> None:
    sandbox.set_variants(**variants)
    fb = make_connector()
    with pytest.raises(ValidationError) as invalid:
        fb.update("invoices", "100001", {"customerid": 999999}, "k")
    assert invalid.value.field == "customerid"
    with pytest.raises(NotFoundError):
        fb.update("clients", "999999", {"organization": "x"}, "k")


# -- cleared text, deletes of time entries and projects --------------------------------------------

CLEARED_MAPPING = """\
pairs:
  - name: clients
    left: clients
    right: clients
    conflict: newest_wins
    deletes: propagate
    fields:
      - {left: id, right: freshbooks_id, direction: left_to_right}
      - {left: organization, right: organization}
      - {left: note, right: note}
      - {left: mob_phone, right: mob_phone}
"""

CLEARED_CONFIG = """\
ledger: "sqlite:///{work}/ledger.db"
connectors:
  books:
    type: freshbooks
    base_url: "{url}"
    client_id: "{client_id}"
    client_secret: "{client_secret}"
    redirect_uri: "{redirect_uri}"
  db:
    type: sqldb
    url: "sqlite:///{work}/target.db"
    objects:
      clients:
        table: clients
        key: id
        updated_at: updated_at
        create: true
        columns: {{id: string, freshbooks_id: integer, organization: string, note: string, mob_phone: string,
                   updated_at: datetime}}
pipelines:
  - {{name: books-db, left: books, right: db, mapping: mapping.yaml}}
"""


@pytest.mark.parametrize("mode", ["null", "empty_string"])
def test_cleared_text_round_trips_without_a_loop(tmp_path: Path, mode: str) -> None:
    """A field cleared in the database clears in FreshBooks and reads back as cleared (null or "",
    as the variant has it): the next sync writes nothing. A field cleared in FreshBooks clears in
    the database the same way."""
    expected = None if mode == "null" else ""
    with SandboxServer(seed=3, port=0, variants={"cleared_text": mode}) as sb:
        fb = connector_for(sb)
        for key in ("1001", "1002", "1003"):
            fb.update("clients", key, {"note": f"note {key}", "mob_phone": f"555-{key}"}, f"seed-{key}")
        (tmp_path / "mapping.yaml").write_text(CLEARED_MAPPING)
        (tmp_path / "config.yaml").write_text(CLEARED_CONFIG.format(
            work=tmp_path, url=sb.url, client_id=sb.client_id, client_secret=sb.client_secret,
            redirect_uri=sb.redirect_uri))
        config = load_config(tmp_path / "config.yaml")
        ledger = Ledger.open(config.ledger_url)
        mapping = config.mapping(config.pipeline("books-db"), ledger)
        db = config.connector("db", ledger)

        def sync() -> int:
            report = run_pipeline(ledger=ledger, pipeline="books-db", mapping=mapping, left=fb, right=db,
                                  options=PairOptions())
            assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
            return report.writes

        def row(key: int) -> tuple[Any, ...]:
            with sqlite3.connect(tmp_path / "target.db") as conn:
                found = conn.execute("SELECT note, mob_phone FROM clients WHERE freshbooks_id = ?", (key,)).fetchone()
            assert found is not None
            return tuple(found)

        try:
            assert sync() == 3 and sync() == 0
            assert row(1001) == ("note 1001", "555-1001")
            with sqlite3.connect(tmp_path / "target.db") as conn:  # cleared as NULL and as ""
                conn.execute("UPDATE clients SET note = NULL, mob_phone = '', updated_at = '2099-01-01T00:00:00+00:00' "
                             "WHERE freshbooks_id = 1001")
            assert sync() == 1
            stored = sb.state.get("clients", 1001) or {}
            assert (stored["note"], stored["mob_phone"]) == (expected, expected)
            assert sync() == 0  # the cleared read-back is our own echo, however FreshBooks shows it
            assert sync() == 0

            fb.update("clients", "1002", {"note": None}, "clear-1002")  # cleared in FreshBooks
            assert (sb.state.get("clients", 1002) or {})["note"] == expected
            assert sync() == 1
            assert row(1002)[0] in (None, "") and row(1002)[1] == "555-1002"
            assert sync() == 0
        finally:
            fb.close()
            db.close()
            ledger.close()


def _pull(fb: FreshBooksConnector, obj: str, cursor: str | None) -> tuple[list[Record], str | None]:
    records: list[Record] = []
    last = cursor
    for page in fb.changes(obj, cursor):
        records.extend(page.records)
        last = page.cursor
    return records, last


@pytest.mark.parametrize("mode", ["hard", "inactive"])
def test_a_deleted_time_entry_is_seen_as_deleted(sandbox: Any, fb: FreshBooksConnector, mode: str) -> None:
    sandbox.set_variants(time_entry_delete=mode)
    everything, cursor = _pull(fb, "time_entries", None)
    live = [r for r in everything if not r.deleted]
    victim, survivor = live[0], live[1]
    fb.delete("time_entries", victim.key)
    sandbox.advance(5)
    changed, cursor = _pull(fb, "time_entries", cursor)
    assert [r.key for r in changed if r.deleted] == [victim.key]
    assert fb.get("time_entries", [victim.key, survivor.key])[0].key == survivor.key
    again, _ = _pull(fb, "time_entries", cursor)  # seen once, not on every later pull
    assert [r.key for r in again if r.deleted] in ([], [victim.key])


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_a_deleted_project_is_seen_as_deleted(sandbox: Any, fb: FreshBooksConnector, mode: str) -> None:
    sandbox.set_variants(project_delete=mode)
    made = fb.create("projects", {"title": "Doomed"}, "p1")
    kept = fb.create("projects", {"title": "Kept"}, "p2")
    _, cursor = _pull(fb, "projects", None)
    sandbox.advance(5)
    fb.delete("projects", made.key)
    sandbox.advance(5)
    changed, cursor = _pull(fb, "projects", cursor)
    assert [r.key for r in changed if r.deleted] == [made.key]
    assert [r.key for r in fb.get("projects", [made.key, kept.key])] == [kept.key]
    full, _ = _pull(fb, "projects", None)  # a full listing does not show it live either
    assert made.key not in {r.key for r in full if not r.deleted}


# -- scopes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["enforced", "ignored"])
def test_a_missing_scope_is_named_with_the_command_that_adds_it(sandbox: Any, mode: str) -> None:
    sandbox.set_variants(scopes=mode)
    granted = "user:profile:read user:clients:read user:invoices:read"
    store = MemoryTokenStore({"freshbooks": normalize_token_response(
        sandbox.sandbox.issue_tokens(scope=granted), now=time.time())})
    fb = connector_for(sandbox, store)
    try:
        assert fb.get("clients", ["1001"])[0].key == "1001"  # a granted scope works
        if mode == "ignored":
            fb.update("clients", "1001", {"note": "written"}, "k1")
            assert (sandbox.state.get("clients", 1001) or {})["note"] == "written"
            return
        with pytest.raises(MissingScopeError) as write:
            fb.update("clients", "1001", {"note": "written"}, "k1")
        assert write.value.scope == "user:clients:write" and isinstance(write.value, AuthError)
        assert "syncengine auth freshbooks --scope user:clients:write" in str(write.value)
        with pytest.raises(MissingScopeError) as read:
            list(fb.changes("projects", None))
        assert "user:projects:read" in str(read.value) and "--scope user:projects:read" in str(read.value)
    finally:
        fb.close()


def test_auth_scope_option_adds_the_scope(sandbox: Any, tmp_path: Path) -> None:
    """`syncengine auth freshbooks --scope X` (a real process, the test playing the browser) asks for
    every scope the connector uses plus X; the stored token then passes the call that needed X."""
    sandbox.set_variants(scopes="enforced", redirect_uri="any_loopback")  # the listener's own URI
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"ledger: sqlite:///{tmp_path / 'ledger.db'}\n"
        f"connectors:\n  books:\n    type: freshbooks\n    base_url: {sandbox.url}\n"
        f"    redirect_uri: http://127.0.0.1:{port}/callback\n"
        "    scopes: [user:profile:read, user:clients:read]\n"
        "pipelines: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(config), "--port", str(port),
         "--client-id", sandbox.client_id, "--client-secret", sandbox.client_secret,
         "--scope", "user:clients:write"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    url = next(line.strip() for line in proc.stdout if line.startswith("http"))
    httpx.get(url, follow_redirects=True, timeout=30)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        token = ledger.load_token("freshbooks") or {}
    assert str(token["scope"]).split() == ["user:profile:read", "user:clients:read", "user:clients:write"]
    fb = connector_for(sandbox, MemoryTokenStore({"freshbooks": token}))
    try:
        fb.update("clients", "1001", {"note": "now allowed"}, "k1")
    finally:
        fb.close()
    assert (sandbox.state.get("clients", 1001) or {})["note"] == "now allowed"


# -- redirect URI -----------------------------------------------------------------------------------


def _auth(sb: Any, work: Path, port: int, redirect_uri: str | None, env_uri: str | None = None,
          ) -> tuple[int, str, str]:
    """`syncengine auth freshbooks` in a real process, the test playing the browser when the
    command prints an address: (exit code, the address printed, everything it said)."""
    lines = [f"ledger: sqlite:///{work / 'ledger.db'}", "connectors:", "  books:", "    type: freshbooks",
             f"    base_url: {sb.url}"]
    if redirect_uri:
        lines.append(f"    redirect_uri: {redirect_uri}")
    (work / "config.yaml").write_text("\n".join([*lines, "pipelines: []", ""]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
    if env_uri:
        env["FRESHBOOKS_REDIRECT_URI"] = env_uri
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncengine", "auth", "freshbooks", "-c", str(work / "config.yaml"), "--port",
         str(port), "--client-id", sb.client_id, "--client-secret", sb.client_secret],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    said: list[str] = []
    url = ""
    for line in proc.stdout:
        said.append(line)
        if line.startswith("http"):
            url = line.strip()
            httpx.get(url, follow_redirects=True, timeout=30)  # the browser
            break
    rest, _ = proc.communicate(timeout=60)
    return proc.returncode, url, "".join(said) + rest


@pytest.mark.parametrize("mode", ["exact", "any_loopback"])
def test_an_unregistered_redirect_uri_is_one_clear_line(tmp_path: Path, mode: str) -> None:
    registered_port, other_port = free_port(), free_port()
    registered = f"http://127.0.0.1:{registered_port}/callback"
    other = f"http://127.0.0.1:{other_port}/callback"
    with SandboxServer(seed=1, port=0, redirect_uri=registered, variants={"redirect_uri": mode}) as sb:
        code, url, said = _auth(sb, tmp_path, other_port, other)
    if mode == "exact":
        assert code == 2 and url == "", said
        assert f"refused the redirect URI {other}" in said and "FRESHBOOKS_REDIRECT_URI" in said
        assert "Traceback" not in said and len(said.strip().splitlines()) <= 2
    else:
        assert code == 0 and "authorized" in said, said


def test_the_registered_redirect_uri_comes_from_the_environment(tmp_path: Path) -> None:
    """No redirect_uri in the config: FRESHBOOKS_REDIRECT_URI is the one sent, and the listener is
    on its port (not on --port), under the strict `exact` reading."""
    port = free_port()
    registered = f"http://127.0.0.1:{port}/callback"
    with SandboxServer(seed=1, port=0, redirect_uri=registered) as sb:
        code, url, said = _auth(sb, tmp_path, free_port(), None, env_uri=registered)
        assert code == 0, said
        assert f"redirect_uri={quote(registered, safe='')}" in url
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            assert (ledger.load_token("freshbooks") or {}).get("access_token")


# -- currencies: JPY without decimals, KWD with three ----------------------------------------------


@pytest.mark.parametrize("mode", ["refused", "accepted"])
def test_jpy_amounts_go_out_whole_under_either_reading(sandbox: Any, fb: FreshBooksConnector, mode: str) -> None:
    sandbox.set_variants(jpy_fractional=mode)
    line = {"name": "a", "qty": Decimal(3), "unit_cost": Money(Decimal("1000.4"), "JPY")}
    made = fb.create("invoices", {"customerid": 1001, "currency_code": "JPY", "lines": [line]}, "jpy-1")
    assert made.fields["lines"][0]["unit_cost"] == Money(Decimal("1000"), "JPY")
    assert made.fields["amount"] == Money(Decimal("3000"), "JPY")
    edited = fb.update("invoices", made.key, {"lines": [{**line, "unit_cost": Money(Decimal("99.5"), "JPY")}]}, "jpy-2")
    assert edited.fields["amount"] == Money(Decimal("300"), "JPY")


@pytest.mark.parametrize("mode", ["refused", "accepted"])
def test_kwd_is_kept_to_three_decimals_or_refused_by_name(sandbox: Any, fb: FreshBooksConnector, mode: str) -> None:
    sandbox.set_variants(kwd=mode)
    line = {"name": "a", "qty": Decimal(2), "unit_cost": Money(Decimal("1.2345"), "KWD")}
    body = {"customerid": 1001, "currency_code": "KWD", "lines": [line]}
    if mode == "refused":
        with pytest.raises(ValidationError) as refused:
            fb.create("invoices", body, "kwd-1")
        assert refused.value.field == "currency_code" and "KWD" in str(refused.value)
        return
    made = fb.create("invoices", body, "kwd-1")
    assert made.fields["lines"][0]["unit_cost"] == Money(Decimal("1.235"), "KWD")  # half up to 0.001
    assert made.fields["amount"] == Money(Decimal("2.470"), "KWD")


@pytest.mark.parametrize("mode", ["refused", "accepted"])
def test_a_client_in_kwd_fails_alone_and_by_name(tmp_path: Path, mode: str) -> None:
    """Clients made in the database, one in KWD: where FreshBooks refuses KWD that record fails with
    an error naming it and the currency, and the others are created all the same."""
    mapping = CLEARED_MAPPING.replace("{left: mob_phone, right: mob_phone}", "{left: currency_code, right: currency}")
    config_text = CLEARED_CONFIG.replace("mob_phone: string", "currency: string")
    with SandboxServer(seed=1, port=0, variants={"kwd": mode}) as sb:
        (tmp_path / "mapping.yaml").write_text(mapping)
        (tmp_path / "config.yaml").write_text(config_text.format(
            work=tmp_path, url=sb.url, client_id=sb.client_id, client_secret=sb.client_secret,
            redirect_uri=sb.redirect_uri))
        config = load_config(tmp_path / "config.yaml")
        ledger = Ledger.open(config.ledger_url)
        mapping_c = config.mapping(config.pipeline("books-db"), ledger)
        fb = connector_for(sb)
        db = config.connector("db", ledger)
        try:
            first = run_pipeline(ledger=ledger, pipeline="books-db", mapping=mapping_c, left=fb, right=db,
                                 options=PairOptions())
            assert first.ok, first.errors
            with sqlite3.connect(tmp_path / "target.db") as conn:
                conn.executemany("INSERT INTO clients (id, organization, currency, updated_at) VALUES (?, ?, ?, ?)",
                                 [("db-1", "Kuwait Trading", "KWD", "2099-01-01T00:00:00+00:00"),
                                  ("db-2", "Dollar Shop", "USD", "2099-01-01T00:00:00+00:00")])
            report = run_pipeline(ledger=ledger, pipeline="books-db", mapping=mapping_c, left=fb, right=db,
                                  options=PairOptions())
            made = {c["organization"]: c["currency_code"] for c in sb.state.list("clients")}
            errors = report.errors + [e for p in report.pairs for e in p.errors]
            assert made.get("Dollar Shop") == "USD"
            if mode == "accepted":
                assert made.get("Kuwait Trading") == "KWD" and errors == []
            else:
                assert "Kuwait Trading" not in made
                assert len(errors) == 1 and "db-1" in errors[0] and "KWD" in errors[0], errors
                assert report.status == "partial"
        finally:
            fb.close()
            db.close()
            ledger.close()
