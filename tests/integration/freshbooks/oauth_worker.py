"""A separate process using the FreshBooks connector with the ledger as its token store.

Run as ``python -m tests.integration.freshbooks.oauth_worker <json args>``; used by the OAuth
tests to prove that a rotated refresh token survives a hard process death (``os._exit`` right
after the refresh), that processes sharing a ledger refresh once, and (``loop_seconds``) that
processes reading for a while across several refreshes never fail when a refresh revokes the
access token the others hold.
"""

from __future__ import annotations

import json
import os
import sys
import time

from connectors.freshbooks.connector import FreshBooksConnector
from syncengine.ledger import Ledger


def main() -> None:
    args = json.loads(sys.argv[1])
    ledger = Ledger.open(args["ledger"])
    connector = FreshBooksConnector(
        "freshbooks",
        base_url=args["url"],
        client_id=args["client_id"],
        client_secret=args["client_secret"],
        redirect_uri=args["redirect_uri"],
        store=ledger,
    )
    skew = float(args.get("clock_skew", 0))
    if skew:  # this machine's clock runs ahead: it sees the shared token expiring before the others do
        connector.auth._clock = lambda: time.time() + skew
    start_at = args.get("start_at")
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))  # several workers hit the expired token together
    loop_until = time.time() + float(args.get("loop_seconds", 0))
    reads = 0
    errors: list[str] = []
    if not args.get("loop_seconds"):
        records = connector.get("clients", [args["key"]])
        print(json.dumps({"records": len(records), "refreshes": connector.auth.refresh_count}), flush=True)
    while args.get("loop_seconds"):  # again and again until loop_seconds pass (tokens expire meanwhile)
        try:
            reads += len(connector.get("clients", [args["key"]]))
        except Exception as exc:  # reported, not raised: the test wants every failure by name
            errors.append(f"{type(exc).__name__}: {exc}")
        if time.time() >= loop_until:
            print(json.dumps({"reads": reads, "errors": errors, "refreshes": connector.auth.refresh_count}),
                  flush=True)
            break
        time.sleep(0.05)
    if args.get("die"):
        os._exit(9)  # no cleanup, no close: whatever was not committed is lost
    connector.close()
    ledger.close()


if __name__ == "__main__":
    main()
