"""API cost of an incremental sync: 10 changed clients out of N whose other records changed days ago.

Goal (shared/benchmarks.md): <= 3 list calls for the changes, where a full re-list is N/100 calls.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .conftest import SandboxServer, connector_for

N = int(os.environ.get("SYNCENGINE_FB_COST_N", "2000"))


def test_incremental_sync_of_ten_changed_costs_two_list_calls() -> None:
    with SandboxServer(seed=N, port=0) as sb:
        fb = connector_for(sb)
        other_side = connector_for(sb)
        try:
            fb.business()
            fb.calls.clear()
            start = time.monotonic()
            cursor = None
            for page in fb.changes("clients", None):
                cursor = page.cursor
            full_calls, full_seconds = fb.calls["clients"], time.monotonic() - start

            sb.advance(3 * 86400)  # time passes; a scheduled sync finds nothing new
            for page in fb.changes("clients", cursor):
                cursor = page.cursor

            keys = [str(row["id"]) for row in sb.state.list("clients")[:: N // 10][:10]]
            for i, key in enumerate(keys):
                other_side.update("clients", key, {"organization": f"Changed {i}"}, idempotency_key=str(i))
            fb.calls.clear()
            changed: dict[str, Any] = {}
            for page in fb.changes("clients", cursor):
                changed.update({r.key: r for r in page.records})
            incremental_calls = fb.calls["clients"]
        finally:
            fb.close()
            other_side.close()
    print(
        f"\nclients N={N}: full pull {full_calls} calls ({full_seconds:.1f}s); "
        f"incremental with 10 changed: {incremental_calls} list calls, {len(changed)} records"
    )
    assert set(keys) <= set(changed)
    assert full_calls == -(-N // 100)
    assert incremental_calls <= 3
    assert len(changed) == 10
