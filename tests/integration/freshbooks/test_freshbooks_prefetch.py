"""Listings read one page ahead: the next page is on its way while the engine works on this one,
every page still arrives once and in order, and a failed page raises where it is taken."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.errors import ConnectorError


def _clients_requests(sandbox: Any) -> int:
    path = f"/accounting/account/{sandbox.account_id}/users/clients"
    return int(sandbox.stats()["by_path"].get(path, 0))


def _wait_for_requests(sandbox: Any, count: int) -> int:
    deadline = time.monotonic() + 3
    while _clients_requests(sandbox) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return _clients_requests(sandbox)


def test_next_page_is_requested_while_the_caller_holds_this_one(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=5)  # 30 clients: 6 pages
    fb.business()
    pages = fb.changes("clients", None)
    first = next(pages)
    assert [r.key for r in first.records] == [str(k) for k in range(1001, 1006)]
    # changes() reads page 2 before it hands out page 1 (only the last page carries the cursor);
    # page 3 goes out while the caller holds page 1, without the caller asking
    assert _wait_for_requests(sandbox, 3) == 3
    time.sleep(0.1)
    assert _clients_requests(sandbox) == 3  # and never more than one page ahead
    rest = list(pages)
    keys = [r.key for page in [first, *rest] for r in page.records]
    assert keys == [str(c["id"]) for c in sandbox.state.list("clients")]
    assert _clients_requests(sandbox) == 6 and fb.calls["clients"] == 6


def test_a_failed_page_raises_where_the_caller_takes_it(
    sandbox: Any, make_connector: Callable[..., FreshBooksConnector]
) -> None:
    fb = make_connector(page_size=5)
    fb.business()
    pages = fb.changes("clients", None)
    next(pages)
    _wait_for_requests(sandbox, 3)  # page 3 answered, read ahead, before the fault is switched on
    sandbox.set_faults(error_rate=1.0, error_statuses=(400,))
    second = next(pages)
    assert [r.key for r in second.records] == [str(k) for k in range(1006, 1011)]
    with pytest.raises(ConnectorError):
        next(pages)  # page 4 failed on the helper thread; page 3 is handed out only after it
