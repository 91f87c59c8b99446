"""Projects are deleted hard in FreshBooks and no listing shows a deletion: an ordinary sync (no
``--full``) still finds them, by a cheap id-only listing compared with the ids the cursor holds.

Real HTTP to the sandbox, a real SQLite database on the other side. The only thing between the
connector and the sandbox in the partial-listing tests is a transport that spoils one answer
(a 503 that outlasts the retries, or a page cut short), as a flaky network or API would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.sandbox import objects as sandbox_objects
from connectors.freshbooks.sandbox import writes as sandbox_writes
from syncengine.config import load_config
from syncengine.connector import Connector
from syncengine.http import RetryPolicy
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline

from .conftest import SandboxServer, connector_for

PROJECTS = 230  # three pages of 100 ids

MAPPING = """\
pairs:
  - name: projects
    left: projects
    right: projects
    conflict: newest_wins
    deletes: propagate
    fields:
      - {left: id, right: freshbooks_id, direction: left_to_right}
      - {left: title, right: title}
      - {left: description, right: description}
"""

CONFIG = """\
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
      projects:
        table: projects
        key: id
        updated_at: updated_at
        deleted: deleted_at
        create: true
        columns: {{id: string, freshbooks_id: integer, title: string, description: string,
                   updated_at: datetime, deleted_at: datetime}}
pipelines:
  - {{name: books-db, left: books, right: db, mapping: mapping.yaml}}
safety: {{max_delete_fraction: 0.5, min_mass_delete: 10}}
"""


def seed_projects(sb: Any, count: int) -> None:
    """``count`` projects changed last over the past days (not all in the look-back window)."""
    book = sb.state.book()
    start = sb.now() - timedelta(days=10)
    for i in range(count):
        sandbox_writes.create(book, sandbox_objects.PROJECTS, {"title": f"Project {i + 1}"},
                              start + timedelta(minutes=30 * i))


def delete_project(sb: Any, key: int) -> None:
    token = sb.issue_tokens()["access_token"]
    response = httpx.delete(f"{sb.url}/projects/business/{sb.business_id}/project/{key}",
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 204), response.text


def live_rows(work: Path) -> dict[int, str]:
    with sqlite3.connect(work / "target.db") as db:
        return {int(fid): title for fid, title in
                db.execute("SELECT freshbooks_id, title FROM projects WHERE deleted_at IS NULL")}


def project_requests(sb: Any) -> dict[str, int]:
    """Requests to the projects API since the last reset, by method."""
    counts: dict[str, int] = {}
    for entry, n in sb.stats()["by_path"].items():
        if "/projects/business/" in entry:
            counts[entry] = n
    return counts


class Rig:
    def __init__(self, sb: Any, work: Path) -> None:
        self.sb = sb
        self.work = work
        (work / "mapping.yaml").write_text(MAPPING)
        (work / "config.yaml").write_text(CONFIG.format(work=work, url=sb.url, client_id=sb.client_id,
                                                          client_secret=sb.client_secret, redirect_uri=sb.redirect_uri))
        self.config = load_config(work / "config.yaml")
        self.ledger = Ledger.open(self.config.ledger_url)
        self.mapping = self.config.mapping(self.config.pipeline("books-db"), self.ledger)
        self.db: Connector = self.config.connector("db", self.ledger)

    def sync(self, books: FreshBooksConnector, *, full: bool = False, ok: bool = True) -> RunReport:
        report = run_pipeline(ledger=self.ledger, pipeline="books-db", mapping=self.mapping, left=books,
                              right=self.db, options=PairOptions(full=full))
        if ok:
            assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
        return report

    def close(self) -> None:
        self.db.close()
        self.ledger.close()


def spoiling(spoil: Callable[[httpx.Request], httpx.Response | None]) -> httpx.BaseTransport:
    """A real HTTP transport whose answers ``spoil`` may replace."""
    real = httpx.HTTPTransport()

    class Spoiling(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = real.handle_request(request)
            spoiled = spoil(request)
            if spoiled is None:
                return response
            response.read()
            response.close()
            return spoiled

        def close(self) -> None:
            real.close()

    return Spoiling()


def is_id_listing(request: httpx.Request) -> bool:
    """A projects listing without a change filter: the id-only listing of an incremental pull."""
    return request.method == "GET" and request.url.path.endswith("/projects") \
        and "updated_since" not in request.url.params


def test_a_project_deleted_in_freshbooks_is_deleted_by_an_ordinary_sync(tmp_path: Path) -> None:
    with SandboxServer(seed=5, port=0) as sb:
        seed_projects(sb, PROJECTS)
        total = len(sb.state.list("projects"))
        assert total > 200
        rig = Rig(sb, tmp_path)
        books = connector_for(sb)
        try:
            rig.sync(books)
            assert len(live_rows(tmp_path)) == total
            sb.advance(3600)
            assert rig.sync(books).writes == 0

            gone = int(sb.state.list("projects")[57]["id"])
            delete_project(sb, gone)
            sb.advance(3600)
            sb.sandbox.stats.reset()
            report = rig.sync(books)  # no --full
            requests = project_requests(sb)
            counts = report.counts
        finally:
            books.close()
            rig.close()
    rows = live_rows(tmp_path)
    assert gone not in rows and len(rows) == total - 1
    assert report.writes == 1  # the one delete, on the database side
    pages = -(-(total - 1) // 100)
    listing = f"/projects/business/{sb.business_id}/projects"
    # one page of changes (updated_since: nothing changed) + the id listing's pages, and the
    # one missing id read to confirm it is gone (a 404); nothing else
    assert requests == {listing: 1 + pages, f"/projects/business/{sb.business_id}/project/{gone}": 1}, requests
    assert counts["left_id_listing_pages"] == pages
    assert counts["left_deleted_by_absence"] == 1


def test_a_failed_id_listing_infers_no_delete(tmp_path: Path) -> None:
    with SandboxServer(seed=5, port=0) as sb:
        seed_projects(sb, PROJECTS)
        total = len(sb.state.list("projects"))
        rig = Rig(sb, tmp_path)
        plain = connector_for(sb)
        state = {"fail": False}

        def fail_page_two(request: httpx.Request) -> httpx.Response | None:
            if state["fail"] and is_id_listing(request) and request.url.params.get("page") == "2":
                return httpx.Response(503, json={"response": {"errors": [{"message": "unavailable"}]}})
            return None

        flaky = connector_for(sb, transport=spoiling(fail_page_two),
                              retry=RetryPolicy(max_attempts=2, backoff_base=0.0, deadline=5.0))
        try:
            rig.sync(plain)
            gone = int(sb.state.list("projects")[10]["id"])
            delete_project(sb, gone)
            sb.advance(3600)
            state["fail"] = True
            report = rig.sync(flaky, ok=False)
            assert report.counts["left_id_listing_incomplete"] == 1
            assert report.counts["left_deleted_by_absence"] == 0
            assert gone in live_rows(tmp_path)  # a partial listing proves nothing
            state["fail"] = False
            rig.sync(plain)
            assert gone not in live_rows(tmp_path)
            assert len(live_rows(tmp_path)) == total - 1
        finally:
            plain.close()
            flaky.close()
            rig.close()


def test_an_id_listing_cut_short_infers_no_delete(tmp_path: Path) -> None:
    with SandboxServer(seed=5, port=0) as sb:
        seed_projects(sb, PROJECTS)
        total = len(sb.state.list("projects"))
        rig = Rig(sb, tmp_path)
        state = {"cut": False}

        def empty_page_two(request: httpx.Request) -> httpx.Response | None:
            # an answer that says there are more pages and then lists nothing: ids went missing
            if state["cut"] and is_id_listing(request) and request.url.params.get("page") == "2":
                body = {"projects": [], "meta": {"page": 2, "pages": 3, "per_page": 100, "total": total}}
                return httpx.Response(200, content=json.dumps(body).encode(),
                                      headers={"content-type": "application/json"})
            return None

        books = connector_for(sb, transport=spoiling(empty_page_two))
        try:
            rig.sync(books)
            gone = int(sb.state.list("projects")[10]["id"])
            delete_project(sb, gone)
            sb.advance(3600)
            state["cut"] = True
            report = rig.sync(books, ok=False)
            assert report.counts["left_id_listing_incomplete"] == 1
            assert report.counts["left_deleted_by_absence"] == 0
            assert len(live_rows(tmp_path)) == total  # nothing deleted, not even the real one
            state["cut"] = False
            rig.sync(books)
            rows = live_rows(tmp_path)
            assert gone not in rows and len(rows) == total - 1
        finally:
            books.close()
            rig.close()


def test_a_project_the_sync_created_and_freshbooks_deleted_before_the_next_sync(tmp_path: Path) -> None:
    """The one case the connector's own id set cannot see: a project made in FreshBooks by the
    sync (from a database row) after that pull listed the ids, deleted in FreshBooks before the
    next sync. It is in neither id set; the engine compares the pull's complete id listing
    (Page.present) with the pair's links, reads the missing one back (a 404), and deletes the row."""
    with SandboxServer(seed=5, port=0) as sb:
        seed_projects(sb, 20)
        rig = Rig(sb, tmp_path)
        books = connector_for(sb)
        try:
            rig.sync(books)
            before = live_rows(tmp_path)
            sb.advance(60)
            made = rig.db.create("projects", {"id": "from-db-1", "title": "Made in the database",
                                              "description": "row first"}, "test-row")
            sb.advance(60)
            created = rig.sync(books)
            assert created.writes >= 1
            fid = next(fid for fid, title in live_rows(tmp_path).items() if title == "Made in the database")
            assert fid not in before and any(int(p["id"]) == fid for p in sb.state.list("projects"))

            delete_project(sb, fid)
            sb.advance(3600)
            report = rig.sync(books)  # no --full
            again = rig.sync(books)
        finally:
            books.close()
            rig.close()
    assert made.key == "from-db-1"
    rows = live_rows(tmp_path)
    assert fid not in rows and rows == before, rows
    assert report.counts["left_deleted_by_absence_of_links"] == 1
    assert report.counts["left_absence_checks"] == 1  # only that one key was read back
    assert again.writes == 0 and "left_absence_checks" not in again.counts
