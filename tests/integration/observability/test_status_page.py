"""The status page over real HTTP: what it shows after real runs, escaped, with no secret on it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx

from syncengine.config import load_config
from syncengine.ledger import Ledger
from syncengine.observability import status_app
from syncengine.observability.status_page import RunError, describe_cursor, parse_run_error
from tests.integration.observability.helpers import serve, world_with_trouble


def text_of(html: str) -> str:
    """The page's text as a person reads it (tags dropped, entities kept)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_pipelines_runs_errors_cursors_and_conflicts(tmp_path: Path, ledger_url: str) -> None:
    world = world_with_trouble(tmp_path, ledger_url)
    next_run = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    app = status_app(world.config, world.ledger, scheduler_info=lambda: {"world": next_run})
    with serve(app) as base:
        response = httpx.get(base + "/", timeout=10)
        assert httpx.post(base + "/", timeout=10).status_code == 405, "read-only"
    world.close()
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    html = response.text
    text = text_of(html)

    pipelines = html.split('<table class="pipelines">')[1].split("</table>")[0]
    assert "world" in pipelines and "left (csvfile)" in pipelines and "right (sqldb)" in pipelines
    assert "2030-01-02 03:04:05 UTC" in pipelines
    assert '<span class="outcome partial">partial</span>' in pipelines
    assert "1 record(s) failed, retried next run" in pipelines
    assert re.search(r"<td>1</td>\s*</tr>", pipelines), "one open conflict"

    runs = html.split('<table class="runs">')[1].split("</table>")[0]
    assert runs.count('class="outcome partial"') == 2
    assert "3 created on right, 1 error (" in runs and "1 conflict, 1 error (" in runs

    assert "Errors of run 2 (world," in text
    errors = html.split('id="run-2-errors"')[1].split("</section>")[0]
    assert "<td>clients</td><td>left c9</td>" in errors
    assert "not a decimal: &#x27;lots&#x27; (field &#x27;balance&#x27;)" in errors

    cursors = html.split('<table class="cursors">')[1].split("</table>")[0]
    assert re.search(r"<td>changes up to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(record c[23]\)</td>", cursors)
    assert "{&quot;" not in cursors and '{"' not in cursors, "cursors are shown in words, not as JSON"

    conflict = html.split('id="conflict-1"')[1].split("</section>")[0]
    assert "world / clients, left c2 ↔ right c2" in conflict
    assert "syncengine conflicts resolve 1 --take left|right" in conflict
    row = conflict.split("<td>first_name</td>")[1].split("</tr>")[0]
    assert re.findall(r"<td>(.*?)</td>", row) == ["F2", "&lt;script&gt;alert(1)&lt;/script&gt;", "Bea &amp; Co"]
    assert "<script" not in html, "everything is escaped"
    assert str(tmp_path) + "/clients.csv" not in pipelines, "connector options are never shown"


def test_secrets_never_reach_the_page(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("pairs: []\n")
    (tmp_path / "config.yaml").write_text(
        f'ledger: "sqlite:///{tmp_path / "ledger.db"}"\n'
        "connectors:\n"
        "  fb: {type: freshbooks, client_id: app-id, client_secret: s3cr3t-client, business_id: 7}\n"
        "  db: {type: sqldb, url: 'postgresql://syncer:pa55word@db.example/x', objects: {}}\n"
        "pipelines:\n  - {name: p, left: fb, right: db, mapping: m.yaml, schedule: 5m}\n")
    config = load_config(tmp_path / "config.yaml")
    ledger = Ledger.open(config.ledger_url)
    run = ledger.start_run("p", "incremental")
    ledger.finish_run(run, "partial", {"errors": 1},
                      ["clients left=7 right=-: refused (Authorization: Bearer abc.def.ghi, refresh_token=r-123)"],
                      reason="1 record(s) failed, retried next run")
    with serve(status_app(config, ledger)) as base:
        html = httpx.get(base + "/", timeout=10).text
    ledger.close()
    config.close()
    for secret in ("s3cr3t-client", "pa55word", "abc.def.ghi", "r-123", "app-id"):
        assert secret not in html
    assert "[REDACTED]" in html
    assert "fb (freshbooks)" in html and "no scheduler running" in html and ">5m<" in html


def test_a_ledger_that_cannot_be_read_answers_503_saying_so(tmp_path: Path) -> None:
    world = world_with_trouble(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    with world.ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE runs")
    with serve(status_app(world.config, world.ledger)) as base:
        response = httpx.get(base + "/", timeout=10)
    world.close()
    assert response.status_code == 503
    assert "The ledger could not be read" in response.text and "runs" in response.text


def test_error_lines_are_taken_apart_for_people() -> None:
    assert parse_run_error("invoices left=12 right=-: right create failed: [stripe] no such customer") == RunError(
        "invoices", "left 12", "right create failed: [stripe] no such customer")
    assert parse_run_error("clients right 5: cannot map: email missing") == RunError(
        "clients", "right 5", "cannot map: email missing")
    assert parse_run_error("clients left: x.csv:5: key 'c9': not a decimal") == RunError(
        "clients", "left c9", "x.csv:5: key 'c9': not a decimal")
    assert parse_run_error("clients: [fb] unauthorized") == RunError("clients", "", "[fb] unauthorized")
    assert parse_run_error("a thing went wrong") == RunError("", "", "a thing went wrong")


def test_cursors_in_words() -> None:
    assert describe_cursor(None) == "not started (the next run reads everything)"
    assert describe_cursor('{"key":"c3","updated_at":"2026-12-01T10:42:22.284732+00:00"}') == (
        "changes up to 2026-12-01 10:42:22 UTC (record c3)")
    assert describe_cursor('{"file":"252:17961:994ec8"}') == "file: 252:17961:994ec8"
    assert describe_cursor("page=4") == "page=4"
