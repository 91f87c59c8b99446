"""FreshBooks -> webhook -> keyed sync -> CSV, with the schedule a year away; what the inbox refuses."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from connectors.freshbooks.webhooks import sign
from syncengine.daemon.queue import InProcessQueue

from .conftest import Running, wait_until


def _events(r: Running) -> list[tuple[str, str]]:
    with r.daemon.ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT source, event_id FROM webhook_events"))
        return [(row.source, row.event_id) for row in rows]


def _client(r: Running, email: str) -> str:
    made = r.api("POST", "users/clients", json={"client": {"email": email, "fname": "First", "lname": "L"}})
    assert made.status_code == 200, made.text
    return str(made.json()["response"]["result"]["client"]["id"])


def test_an_edit_in_freshbooks_reaches_the_csv_through_the_webhook(running: Running) -> None:
    r = running
    assert r.daemon.next_runs()["books-sheet"].year > 2000  # scheduled, but not before the test ends
    assert not r.csv
    client_id = _client(r, "hook@x.io")
    wait_until(lambda: r.csv.get("hook@x.io"), what="the created client in the CSV")
    r.api("PUT", f"users/clients/{client_id}", json={"client": {"fname": "Edited"}})
    wait_until(lambda: r.csv.get("hook@x.io", {}).get("first_name") == "Edited", what="the edit in the CSV")
    r.sb.sandbox.webhooks.wait_idle()
    # a row leaves pending_syncs once its run is recorded: stopping earlier could cut that run short
    wait_until(lambda: not r.daemon.ledger.pending_syncs(), what="the last keyed run to end")
    r.daemon.queue.stop()
    assert set(r.csv) == {"hook@x.io"}  # only the record the webhooks named, no full run
    runs = r.daemon.ledger.recent_runs(pipeline="books-sheet")
    assert runs and all(run.status == "ok" and run.mode == "keyed" for run in runs), runs


def _signed(r: Running, fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    verifiers = r.daemon.ledger.load_token("webhook:books")["verifiers"]
    verifier = next(iter(verifiers.values()))
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    return body, {"X-FreshBooks-Hmac-SHA256": sign(fields, verifier),
                  "Content-Type": "application/x-www-form-urlencoded"}


def test_duplicate_bad_signature_and_garbage_have_no_effect(running: Running) -> None:
    r = running
    client_id = _client(r, "dup@x.io")
    wait_until(lambda: ("books", "clients", client_id) in r.synced, what="the client's keyed sync")
    r.sb.sandbox.webhooks.wait_idle()
    before_events, before_synced = len(_events(r)), len(r.synced)
    fields = {"name": "client.update", "object_id": client_id, "account_id": r.sb.account_id,
              "business_id": str(r.sb.business_id), "identity_id": "1", "user_id": "1"}
    body, headers = _signed(r, fields)
    url = f"{r.url}/webhooks/books"
    with r.daemon.queue.paused():  # both arrive before the record is refetched: one sync
        first = r.http.post(url, content=body, headers=headers)
        again = r.http.post(url, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["stored"] is True
    assert again.status_code == 200 and again.json()["stored"] is False
    forged = r.http.post(url, content=body, headers={**headers, "X-FreshBooks-Hmac-SHA256": "AAAA"})
    unsigned = r.http.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    garbage = r.http.post(url, content=b"\\xff\\xfe{not a form", headers=headers)
    huge = r.http.post(url, content=b"a=" + b"x" * (r.daemon.config.daemon.max_body_bytes + 1), headers=headers)
    assert (forged.status_code, unsigned.status_code, garbage.status_code, huge.status_code) == (401, 401, 400, 413)
    wait_until(lambda: len(r.synced) > before_synced, what="the keyed sync")
    r.daemon.queue.stop()  # drain finished: nothing else may arrive after this
    assert len(_events(r)) == before_events + 1
    # once the record was refetched, the same body is a new edit (FreshBooks sends no event id)
    assert r.daemon.ledger.store_webhook_event("books", _events(r)[-1][1], "", [], repeatable=True) is True
    assert r.synced[before_synced:] == [("books", "clients", client_id)]
    received = r.daemon.metrics.webhook_events
    assert received.labels("books", "duplicate")._value.get() == 1
    assert received.labels("books", "rejected")._value.get() == 4


def test_deliveries_out_of_order_end_with_what_freshbooks_holds(running: Running) -> None:
    r = running
    client_id = _client(r, "order@x.io")
    wait_until(lambda: r.csv.get("order@x.io"), what="the client in the CSV")
    r.sb.sandbox.webhooks.wait_idle()
    r.api("PUT", f"users/clients/{client_id}", json={"client": {"fname": "Second"}})
    r.api("PUT", f"users/clients/{client_id}", json={"client": {"fname": "Third"}})
    # a stale 'create' delivered after the updates: the record is refetched, so it cannot undo them
    stale = {"name": "client.create", "object_id": client_id, "account_id": r.sb.account_id,
             "business_id": str(r.sb.business_id), "identity_id": "1", "user_id": "1"}
    body, headers = _signed(r, stale)
    assert r.http.post(f"{r.url}/webhooks/books", content=body, headers=headers).status_code == 200
    r.sb.sandbox.webhooks.wait_idle()
    wait_until(lambda: r.csv.get("order@x.io", {}).get("first_name") == "Third", what="the last edit")
    r.daemon.queue.stop()
    assert r.csv["order@x.io"]["first_name"] == "Third"


def test_healthz_metrics_and_status_page(running: Running) -> None:
    r = running
    health = r.http.get(f"{r.url}/healthz")
    assert (health.status_code, health.json()) == (200, {"ok": True, "queue": "in-process", "ledger": True,
                                                         "scheduler": True, "worker": True})
    rejected = r.http.post(f"{r.url}/webhooks/books", content=b"name=client.update&object_id=1")
    assert rejected.status_code == 401
    metrics = r.http.get(f"{r.url}/metrics").text
    assert 'syncengine_webhook_events_total{connector="books",outcome="rejected"} 1.0' in metrics
    page = r.http.get(f"{r.url}/")
    assert page.status_code == 200 and "books-sheet" in page.text
    r.daemon.queue.stop()
    after = r.http.get(f"{r.url}/healthz")
    assert (after.status_code, after.json()["worker"]) == (503, False)


def test_a_burst_that_arrives_during_a_run_costs_one_or_two_runs(running: Running) -> None:
    r = running
    first = _client(r, "first@x.io")
    wait_until(lambda: ("books", "clients", first) in r.synced, what="the first client's keyed sync")
    r.sb.sandbox.webhooks.wait_idle()
    r.daemon.queue.stop()  # the drain in hand is recorded before we count
    before = {run.id for run in r.daemon.ledger.recent_runs(limit=100, pipeline="books-sheet")}

    # hold a keyed run in progress (in its CSV write) while 20 deliveries for 20 records arrive
    sheet = r.daemon.engine.config.connector("sheet", r.daemon.ledger)
    entered, release = threading.Event(), threading.Event()
    write_batch = sheet.write_batch

    def held_write(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(30)
        return write_batch(*args, **kwargs)

    sheet.write_batch = held_write  # type: ignore[method-assign]
    r.daemon.queue = queue = InProcessQueue(r.daemon.drain_pending, r.daemon.run_scheduled)
    queue.start()
    r.api("PUT", f"users/clients/{first}", json={"client": {"fname": "Held"}})
    assert entered.wait(20), "no keyed run started"
    emails = [f"burst{i}@x.io" for i in range(20)]
    ids = [_client(r, email) for email in emails]
    r.sb.sandbox.webhooks.wait_idle()  # every delivery stored (answered 2xx) while the run waits
    wait_until(lambda: len(r.daemon.ledger.pending_syncs()) >= 20, what="the 20 queued syncs")
    release.set()
    wait_until(lambda: all(e in r.csv for e in emails), what="the 20 records in the CSV")
    # stopping while a run finishes (the CSV is written before the run ends) would leave it partial
    wait_until(lambda: {key for _, _, key in r.synced} >= set(ids) and not r.daemon.ledger.pending_syncs(),
               what="the runs that wrote them to end")
    queue.stop()

    runs = [run for run in r.daemon.ledger.recent_runs(limit=100, pipeline="books-sheet") if run.id not in before]
    assert all(run.mode == "keyed" and run.status == "ok" for run in runs), runs
    assert len(runs) <= 3, [run.counts for run in runs]  # the held run and at most two more, not 20
    assert {key for _, _, key in r.synced} >= set(ids)
    assert not r.daemon.ledger.pending_syncs()


def test_a_keyed_sync_held_back_by_another_runs_lease_goes_as_soon_as_the_lease_is_released(
        running: Running) -> None:
    # The queue's own poll is 300 s: only the release of the lease may wake the held-back sync.
    r = running
    assert isinstance(r.daemon.queue, InProcessQueue)
    r.daemon.queue.poll_seconds = 300.0
    client_id = _client(r, "lease@x.io")
    wait_until(lambda: r.csv.get("lease@x.io"), what="the created client in the CSV")
    r.sb.sandbox.webhooks.wait_idle()
    tried: list[Any] = []
    sync = r.daemon.engine.sync

    def watched_sync(*args: Any, **kwargs: Any) -> Any:  # passes through; says when the drain tried
        tried.append(kwargs.get("keys"))
        return sync(*args, **kwargs)

    r.daemon.engine.sync = watched_sync  # type: ignore[method-assign]
    holder = "elsewhere:4242 since 2026-01-01 00:00:00 UTC (lease 000000)"  # another machine's `sync`
    with r.daemon.queue.paused():  # the keyed sync in hand (and its lease) is over
        assert r.daemon.ledger.acquire_lease("pipeline:books-sheet", holder, 600)
    r.api("PUT", f"users/clients/{client_id}", json={"client": {"fname": "AfterLease"}})
    wait_until(lambda: tried, what="the keyed sync's attempt while the lease is held")
    assert r.csv["lease@x.io"]["first_name"] == "First"  # held back, still queued
    assert [(p.connector, p.key) for p in r.daemon.ledger.pending_syncs()] == [("books", client_id)]
    assert r.daemon.ledger.release_lease("pipeline:books-sheet", holder)
    wait_until(lambda: r.csv.get("lease@x.io", {}).get("first_name") == "AfterLease", what="the edit in the CSV")
    r.daemon.queue.stop()
    assert r.daemon.ledger.pending_syncs() == []
