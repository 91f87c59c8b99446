"""Listings read ahead and hand the engine batches: the next API pages are on their way while the
engine works on this batch, every record still arrives once and in order, FreshBooks' 100-record
pages reach the engine joined into batches of ``records_per_batch``, and a failed page raises
where it is taken."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from connectors.freshbooks.connector import READ_AHEAD_PAGES, READ_AHEAD_REQUESTS, FreshBooksConnector
from syncengine.errors import ConnectorError


def _clients_requests(sandbox: Any) -> int:
    path = f"/accounting/account/{sandbox.account_id}/users/clients"
    return int(sandbox.stats()["by_path"].get(path, 0))


def _wait_for_requests(sandbox: Any, count: int) -> int:
    deadline = time.monotonic() + 3
    while _clients_requests(sandbox) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return _clients_requests(sandbox)


def test_api_pages_reach_the_engine_as_batches(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=5)  # 30 clients: 6 API pages
    pages = list(fb.changes("clients", None))
    assert [len(p.records) for p in pages] == [30]
    assert [r.key for r in pages[0].records] == [str(c["id"]) for c in sandbox.state.list("clients")]
    assert fb.calls["clients"] == 6 and pages[-1].cursor is not None and pages[0].full

    batches = list(make_connector(page_size=5, records_per_batch=12).changes("clients", None))
    assert [len(p.records) for p in batches] == [15, 15]  # whole API pages, joined past 12
    assert batches[0].cursor is None and batches[-1].cursor is not None


def test_next_pages_are_requested_while_the_caller_holds_a_batch(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=1, records_per_batch=1)  # 30 clients: 30 API pages
    fb.business()
    pages = fb.changes("clients", None)
    first = next(pages)
    assert [r.key for r in first.records] == ["1001"]
    # changes() holds page 2 back (only the last page carries the cursor); behind it the helpers
    # read READ_AHEAD_PAGES more, one more that waits for room and the requests still out with
    # it, without being asked
    held = 2 + READ_AHEAD_PAGES + READ_AHEAD_REQUESTS
    assert _wait_for_requests(sandbox, held) == held
    time.sleep(0.2)
    assert _clients_requests(sandbox) == held  # and no further
    rest = list(pages)
    keys = [r.key for page in [first, *rest] for r in page.records]
    assert keys == [str(c["id"]) for c in sandbox.state.list("clients")]
    assert _clients_requests(sandbox) == 30 and fb.calls["clients"] == 30


def test_a_failed_page_raises_where_the_caller_takes_it(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=1, records_per_batch=1)
    fb.business()
    pages = fb.changes("clients", None)
    next(pages)
    read = _wait_for_requests(sandbox, 2 + READ_AHEAD_PAGES + READ_AHEAD_REQUESTS)  # answered before the fault
    sandbox.set_faults(error_rate=1.0, error_statuses=(400,))
    keys = []
    with pytest.raises(ConnectorError):
        for page in pages:
            keys += [r.key for r in page.records]
    assert keys == [str(k) for k in range(1002, 1001 + read - 1)]  # every page read, then the error


def test_a_pull_stopped_early_stops_reading(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=1, records_per_batch=1)
    fb.business()
    pages = fb.changes("clients", None)
    next(pages)
    _wait_for_requests(sandbox, 2 + READ_AHEAD_PAGES + READ_AHEAD_REQUESTS)
    pages.close()
    settled = _clients_requests(sandbox)
    time.sleep(0.3)
    assert _clients_requests(sandbox) == settled < 30
