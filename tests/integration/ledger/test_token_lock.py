"""The token lock keeps other connections and processes out while a refresh is in flight, and a
saved token is durable the moment ``save`` returns, even if the process dies right after."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from syncengine.ledger import Ledger


def test_a_second_ledger_waits_for_the_lock_and_sees_the_new_token(ledger: Ledger) -> None:
    ledger.save_token("fb", {"refresh_token": "r0"})
    other = Ledger.open(ledger.url)
    entered = threading.Event()
    seen: list[object] = []

    def refresh_elsewhere() -> None:
        with other.token_lock("fb") as slot:
            entered.set()
            seen.append(slot.value)
            slot.save({"refresh_token": "r2"})

    try:
        with ledger.token_lock("fb") as slot:
            assert slot.value == {"refresh_token": "r0"}
            worker = threading.Thread(target=refresh_elsewhere)
            worker.start()
            # While we hold the lock the other ledger must not get in, even after our save.
            assert not entered.wait(0.5)
            slot.save({"refresh_token": "r1"})
            assert not entered.wait(0.3)
        assert entered.wait(10)
        worker.join(10)
        # It read the token we rotated, not the one it would have seen without the lock.
        assert seen == [{"refresh_token": "r1"}]
        assert ledger.load_token("fb") == {"refresh_token": "r2"}
    finally:
        other.close()


def test_other_token_names_are_not_blocked(ledger: Ledger) -> None:
    other = Ledger.open(ledger.url)
    got: list[bool] = []

    def use_stripe() -> None:
        with other.token_lock("stripe") as slot:
            slot.save({"k": 1})
            got.append(True)

    try:
        with ledger.token_lock("freshbooks"):
            worker = threading.Thread(target=use_stripe)
            worker.start()
            worker.join(10)
            assert got == [True]
    finally:
        other.close()


def test_lock_excludes_another_process(ledger: Ledger, tmp_path: Path) -> None:
    marker = tmp_path / "holding"
    script = (
        "import sys, time, pathlib\n"
        "from syncengine.ledger import Ledger\n"
        "led = Ledger.open(sys.argv[1])\n"
        "with led.token_lock('fb') as slot:\n"
        "    pathlib.Path(sys.argv[2]).write_text('x')\n"
        "    time.sleep(1.5)\n"
        "    slot.save({'refresh_token': 'from-child'})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, ledger.url, str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "child never took the lock"
            assert child.poll() is None, "child exited early"
            time.sleep(0.02)
        started = time.monotonic()
        with ledger.token_lock("fb") as slot:
            waited = time.monotonic() - started
            assert slot.value == {"refresh_token": "from-child"}
        assert waited > 0.8
    finally:
        child.wait(60)
    assert child.returncode == 0


def test_a_token_saved_just_before_a_crash_is_kept_and_the_lock_freed(ledger: Ledger) -> None:
    script = (
        "import os, sys\n"
        "from syncengine.ledger import Ledger\n"
        "led = Ledger.open(sys.argv[1])\n"
        "with led.token_lock('fb') as slot:\n"
        "    slot.save({'refresh_token': 'rotated'})\n"
        "    os._exit(3)\n"  # dies holding the lock, without closing anything
    )
    done = subprocess.run([sys.executable, "-c", script, ledger.url], timeout=60, check=False)
    assert done.returncode == 3
    fresh = Ledger.open(ledger.url)
    try:
        assert fresh.load_token("fb") == {"refresh_token": "rotated"}
        started = time.monotonic()
        with fresh.token_lock("fb") as slot:
            assert slot.value == {"refresh_token": "rotated"}
        assert time.monotonic() - started < 10
    finally:
        fresh.close()
