"""A loose guard on ``project``'s per-field overhead (the benchmark maps a million records).

Measured about 0.1 µs per plain field on a laptop-class CPU; the bound here is far looser so a
busy CI machine never fails it, yet an accidental per-record registry lookup or pydantic call
(tens of µs) would.
"""

from __future__ import annotations

import time

from syncengine.mapping import NO_REFS
from tests.fixtures.mappings.helpers import load

FIELDS = [("email", "email"), ("first_name", "fname"), ("last_name", "lname"), ("status", "state"),
          ("country", "country_code")]


def test_project_overhead_per_plain_field_is_small() -> None:
    body = "\n".join(f"      - {{left: {left}, right: {right}}}" for left, right in FIELDS)
    pair = load(f"pairs:\n  - name: c\n    left: contacts\n    right: people\n    fields:\n{body}\n").pairs[0]
    record = {"email": "a@x", "first_name": "A", "last_name": "B", "status": "1", "country": "US"}
    rounds = 20_000
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            pair.project("left", record, NO_REFS)
        best = min(best, time.perf_counter() - started)
    per_field_us = best / rounds / len(FIELDS) * 1e6
    assert per_field_us < 2.0, f"{per_field_us:.2f} µs per field"
