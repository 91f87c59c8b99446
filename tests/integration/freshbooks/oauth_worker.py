"""A separate process using the FreshBooks connector with the ledger as its token store.

Run as ``python -m tests.integration.freshbooks.oauth_worker <json args>``; used by the OAuth
tests to prove that a rotated refresh token survives a hard process death (``os._exit`` right
after the refresh) and that processes sharing a ledger refresh once.
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
    start_at = args.get("start_at")
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))  # several workers hit the expired token together
    records = connector.get("clients", [args["key"]])
    print(json.dumps({"records": len(records), "refreshes": connector.auth.refresh_count}), flush=True)
    if args.get("die"):
        os._exit(9)  # no cleanup, no close: whatever was not committed is lost
    connector.close()
    ledger.close()


if __name__ == "__main__":
    main()
