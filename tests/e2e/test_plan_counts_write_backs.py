"""Issue 7, point 3: `plan` shows every write `sync` makes, write-backs included.

Found on main: a row added to a CSV file of the FreshBooks <-> CSV example planned one write (a
FreshBooks create) and the sync made two (the create, then an update of the CSV row with the id
and signup date FreshBooks assigned). Through the real command, against the FreshBooks sandbox.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.config import load_config
from syncengine.ledger import Ledger

SYNCENGINE = str(Path(sys.executable).parent / "syncengine")
EXAMPLE = Path(__file__).parents[2] / "examples" / "freshbooks-csv.yaml"
COUNTED = ("created", "updated", "deleted", "archived")


def counts(stdout: str) -> dict[tuple[str, str, str], int]:
    """(pair, kind, side) -> writes, read from the summary table (cells such as ``←1 →0``)."""
    found: dict[tuple[str, str, str], int] = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) != 8 or cells[0] in ("pair", ""):
            continue
        for kind, cell in zip(COUNTED, cells[1:5], strict=True):
            match = re.fullmatch(r"←(\d+) →(\d+)", cell)
            left, right = (int(match[1]), int(match[2])) if match else (0, 0)
            for side, n in (("left", left), ("right", right)):
                if n:
                    found[(cells[0], kind, side)] = n
    return found


def append_row(path: Path, values: dict[str, str]) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header).writerow(values)


def test_plan_counts_the_write_backs_sync_makes(tmp_path: Path) -> None:
    with SandboxServer(seed=3, port=0) as sb:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCENGINE_", "FRESHBOOKS_"))}
        env.update(FRESHBOOKS_API_URL=sb.url, FRESHBOOKS_CLIENT_ID=sb.client_id,
                   FRESHBOOKS_CLIENT_SECRET=sb.client_secret, FRESHBOOKS_REDIRECT_URI=sb.redirect_uri,
                   SYNCENGINE_SECRET_KEY_FILE=str(tmp_path / "secret.key"))
        (tmp_path / "config.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            done = subprocess.run([SYNCENGINE, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            return done

        saved = dict(os.environ)
        try:  # the tokens go into the ledger the command opens, encrypted with the same key file
            os.environ.clear()
            os.environ.update(env)
            config = load_config(tmp_path / "config.yaml")
            ledger = Ledger.open(config.ledger_url)
            with ledger.token_lock("freshbooks") as slot:
                slot.save(sb.issue_tokens())
            ledger.close()
            config.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)

        run("sync")
        files = tmp_path / "freshbooks-csv"
        # In GBP, a currency the seeded books use: a client in a currency new to the business also
        # makes the reports' pairs add that currency's sheet, which only the sync can see (README).
        append_row(files / "clients.csv", {"id": "new-client", "email": "new@example.com", "first_name": "New",
                                           "last_name": "Person", "organization": "Acme", "currency": "GBP"})
        append_row(files / "items.csv", {"id": "new-item", "name": "Widget", "qty": "1", "currency": "GBP",
                                         "unit_cost": "9.50"})
        append_row(files / "taxes.csv", {"id": "new-tax", "name": "Levy", "rate_percent": "5"})

        plan = run("plan")
        sync = run("sync")
        planned, synced = counts(plan.stdout), counts(sync.stdout)
        for pair in ("clients", "items", "taxes"):
            # written on FreshBooks (left), then the id it assigned written back to the file (right)
            assert synced[(pair, "created", "left")] == 1 and synced[(pair, "updated", "right")] == 1, sync.stdout
        assert planned == synced, (plan.stdout, sync.stdout)
        write_backs = [line for line in plan.stdout.splitlines() if "write-back" in line]
        assert len(write_backs) == 3 and all("right" in line for line in write_backs), plan.stdout
        assert "0 writes" in run("sync").stdout
