"""Leases: one owner at a time, renewable, taken over only after expiry."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from syncengine.ledger import Ledger


def test_acquire_renew_refuse_release(ledger: Ledger) -> None:
    assert ledger.acquire_lease("pipeline:p", "daemon-a", 30) is True
    holder = ledger.lease_holder("pipeline:p")
    assert holder is not None and holder.owner == "daemon-a"
    assert ledger.acquire_lease("pipeline:p", "daemon-b", 30) is False
    assert ledger.acquire_lease("pipeline:p", "daemon-a", 60) is True  # renewal extends it
    renewed = ledger.lease_holder("pipeline:p")
    assert renewed is not None and renewed.expires_at > holder.expires_at
    assert ledger.release_lease("pipeline:p", "daemon-b") is False  # not b's to release
    assert ledger.acquire_lease("pipeline:p", "daemon-b", 30) is False
    assert ledger.release_lease("pipeline:p", "daemon-a") is True
    assert ledger.lease_holder("pipeline:p") is None
    assert ledger.acquire_lease("pipeline:p", "daemon-b", 30) is True
    assert ledger.acquire_lease("pipeline:other", "daemon-a", 30) is True


def test_an_expired_lease_can_be_taken_over(ledger: Ledger) -> None:
    assert ledger.acquire_lease("l", "dead-daemon", 0.3)
    assert ledger.acquire_lease("l", "b", 30) is False
    time.sleep(0.5)
    assert ledger.lease_holder("l") is None
    assert ledger.acquire_lease("l", "b", 30) is True
    holder = ledger.lease_holder("l")
    assert holder is not None and holder.owner == "b"
    # The old owner coming back does not get it.
    assert ledger.acquire_lease("l", "dead-daemon", 30) is False


def test_only_one_of_many_contenders_wins(ledger: Ledger) -> None:
    owners = [f"d{n}" for n in range(8)]
    with ThreadPoolExecutor(len(owners)) as pool:
        results = list(pool.map(lambda owner: ledger.acquire_lease("race", owner, 30), owners))
    assert results.count(True) == 1


def test_ttl_must_be_positive(ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.acquire_lease("l", "a", 0)
