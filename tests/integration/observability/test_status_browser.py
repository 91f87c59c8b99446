"""The status page in a real headless Chromium (Debian's ``chromium``): what a person sees after a
run with an error and an open conflict. Skipped, saying why, only when Chromium is not installed
(``.ci/run`` installs it)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncengine.observability import status_app
from tests.integration.observability.helpers import serve, world_with_trouble

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (install Debian's `chromium`; .ci/run does)")


def test_a_person_sees_the_pipeline_its_partial_run_the_error_and_the_conflict(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` package (test extra) is missing")
    world = world_with_trouble(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    next_run = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    app = status_app(world.config, world.ledger, scheduler_info=lambda: {"world": next_run})
    with serve(app) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(java_script_enabled=False)  # the page needs none
            response = page.goto(base + "/")
            assert response is not None and response.status == 200
            assert page.title() == "syncengine status"

            pipeline = page.locator("table.pipelines tbody tr")
            assert pipeline.count() == 1
            cells = pipeline.locator("td").all_inner_texts()
            assert cells[0] == "world"
            assert cells[4] == "2030-01-02 03:04:05 UTC"
            assert cells[5].splitlines()[0].strip() == "partial"
            assert "1 record(s) failed, retried next run" in cells[5]
            assert cells[6] == "1"

            outcome = pipeline.locator(".outcome").first
            assert outcome.is_visible()
            assert outcome.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 243, 214)"

            error_rows = page.locator("#run-2-errors table.errors tbody tr")
            assert error_rows.count() == 1
            assert error_rows.first.locator("td").all_inner_texts()[:2] == ["clients", "left c9"]
            message = error_rows.first.locator("td").nth(2)
            assert message.is_visible() and "not a decimal: 'lots' (field 'balance')" in message.inner_text()

            conflict = page.locator("#conflict-1")
            assert conflict.is_visible()
            assert "Conflict 1: world / clients, left c2 ↔ right c2" in conflict.locator("h3").inner_text()
            values = conflict.locator("table.conflict-fields tbody tr").first.locator("td").all_inner_texts()
            assert values == ["first_name", "F2", "<script>alert(1)</script>", "Bea & Co"], "shown as text, not run"
            assert page.locator("h2#conflicts").inner_text() == "Open conflicts (1)"
        finally:
            browser.close()
    world.close()
