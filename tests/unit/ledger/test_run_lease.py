"""hold_pipeline: one run of a pipeline at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncengine.ledger import Ledger, PipelineBusyError
from syncengine.ledger.run_lease import hold_pipeline, lease_name


@pytest.fixture
def other(ledger: Ledger) -> Iterator[Ledger]:
    """A second process's view of the same ledger."""
    led = Ledger.open(ledger.url)
    try:
        yield led
    finally:
        led.close()


def test_a_second_owner_is_refused_with_the_holder_named(ledger: Ledger, other: Ledger) -> None:
    with hold_pipeline(ledger, "p") as lease:
        assert lease.owner.startswith(f"{socket.gethostname()}:{os.getpid()} since ")
        holder = other.lease_holder("pipeline:p")
        assert holder is not None and holder.owner == lease.owner
        started = time.monotonic()
        with pytest.raises(PipelineBusyError) as info, hold_pipeline(other, "p"):
            pass
        assert time.monotonic() - started < 2  # wait_seconds=0: at once
        assert str(info.value) == f"pipeline 'p' is being synced by {lease.owner}; wait for it or retry later"
        assert info.value.pipeline == "p" and info.value.holder == lease.owner
        with hold_pipeline(other, "q"):  # another pipeline is independent
            pass
    assert ledger.lease_holder("pipeline:p") is None  # released at exit
    with hold_pipeline(other, "p") as second:
        holder = ledger.lease_holder("pipeline:p")
        assert holder is not None and holder.owner == second.owner


def test_released_when_the_block_raises(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), hold_pipeline(ledger, "p"):
        raise RuntimeError("boom")
    assert ledger.lease_holder("pipeline:p") is None


def test_two_holds_in_one_process_are_two_owners(ledger: Ledger) -> None:
    with hold_pipeline(ledger, "p"), pytest.raises(PipelineBusyError), hold_pipeline(ledger, "p"):
        pass


def test_waits_up_to_wait_seconds_then_gives_up(ledger: Ledger, other: Ledger) -> None:
    with hold_pipeline(ledger, "p"):
        started = time.monotonic()
        with pytest.raises(PipelineBusyError), hold_pipeline(other, "p", wait_seconds=0.6, poll_seconds=0.1):
            pass
        assert 0.6 <= time.monotonic() - started < 5


def test_waiting_gets_the_lease_when_the_holder_finishes(ledger: Ledger, other: Ledger) -> None:
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with hold_pipeline(ledger, "p"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        threading.Timer(0.5, release.set).start()
        with hold_pipeline(other, "p", wait_seconds=20, poll_seconds=0.1) as lease:
            holder = other.lease_holder("pipeline:p")
            assert holder is not None and holder.owner == lease.owner
    finally:
        release.set()
        thread.join(10)


def test_an_expired_lease_is_taken_over(ledger: Ledger, other: Ledger) -> None:
    assert ledger.acquire_lease(lease_name("p"), "dead-host:1 since then", 0.5)
    with pytest.raises(PipelineBusyError, match="being synced by dead-host:1 since then"), hold_pipeline(other, "p"):
        pass
    with hold_pipeline(other, "p", wait_seconds=10, poll_seconds=0.1) as lease:
        holder = ledger.lease_holder("pipeline:p")
        assert holder is not None and holder.owner == lease.owner


def test_renewal_keeps_the_lease_past_its_ttl(ledger: Ledger, other: Ledger) -> None:
    # A ttl of 1 s leaves the renewal thread room on a loaded machine (0.6 s lost the lease under a
    # load average of 10 on PostgreSQL); 3.5 s is still more than three ttls.
    with hold_pipeline(ledger, "p", ttl_seconds=1.0) as lease:
        time.sleep(3.5)
        assert lease.renewals >= 3 and not lease.lost
        holder = other.lease_holder("pipeline:p")
        assert holder is not None and holder.owner == lease.owner
        with pytest.raises(PipelineBusyError), hold_pipeline(other, "p"):
            pass
    assert other.lease_holder("pipeline:p") is None


def test_a_lease_taken_away_is_reported_lost_and_not_released(ledger: Ledger) -> None:
    with hold_pipeline(ledger, "p", ttl_seconds=0.3) as lease:
        with ledger.engine.begin() as conn:  # as if this process stalled and another took over
            conn.execute(sa.text("UPDATE leases SET owner = 'thief' WHERE name = 'pipeline:p'"))
        deadline = time.monotonic() + 10
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lost
        with pytest.raises(PipelineBusyError, match="lost its lease"):
            lease.check()
    holder = ledger.lease_holder("pipeline:p")
    assert holder is not None and holder.owner == "thief"


def test_a_killed_holder_stops_renewing_and_another_run_takes_over(ledger: Ledger, tmp_path: Path) -> None:
    marker = tmp_path / "held"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from syncengine.ledger import Ledger\n"
        "from syncengine.ledger.run_lease import hold_pipeline\n"
        "led = Ledger.open(sys.argv[1])\n"
        "with hold_pipeline(led, 'p', ttl_seconds=1.5):\n"
        "    Path(sys.argv[2]).write_text('x')\n"
        "    time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, ledger.url, str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(2.0)  # past its ttl: only renewal keeps it
        with pytest.raises(PipelineBusyError, match=f":{child.pid} since "), hold_pipeline(ledger, "p"):
            pass
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        killed = time.monotonic()
        with hold_pipeline(ledger, "p", wait_seconds=10, poll_seconds=0.1):
            assert time.monotonic() - killed < 5
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
