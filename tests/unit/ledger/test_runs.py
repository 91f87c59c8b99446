"""Runs: what each reconcile did, newest first."""

from __future__ import annotations

from syncengine.ledger import Ledger


def test_run_lifecycle_and_recent_runs(ledger: Ledger) -> None:
    first = ledger.start_run("p", "sync")
    ledger.finish_run(first, "ok", {"created": 3, "updated": 1}, [])
    second = ledger.start_run("q", "full")
    third = ledger.start_run("p", "plan")
    ledger.finish_run(third, "failed", {}, ["[fb/clients/7] 422", "boom"])
    runs = ledger.recent_runs()
    assert [r.id for r in runs] == [third, second, first]
    done = runs[2]
    assert (done.pipeline, done.mode, done.status) == ("p", "sync", "ok")
    assert done.counts == {"created": 3, "updated": 1}
    assert done.duration_seconds is not None and done.duration_seconds >= 0
    running = runs[1]
    assert (running.status, running.finished_at, running.duration_seconds) == ("running", None, None)
    assert runs[0].errors == ["[fb/clients/7] 422", "boom"]
    assert [r.id for r in ledger.recent_runs(limit=1)] == [third]
    assert [r.id for r in ledger.recent_runs(pipeline="p")] == [third, first]
