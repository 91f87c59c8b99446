"""The FreshBooks <-> SQLite demo: the local sandbox with seeded data, every object both ways.

It uses the shipped example config (examples/freshbooks-sqldb.yaml) and mapping as they are,
pointed at the sandbox and at files under demo-work/ through environment variables.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from connectors.freshbooks.sandbox import SandboxServer
from demo.steps import banner, console, run, say

WORK = Path("demo-work/freshbooks").resolve()
CONFIG = "examples/freshbooks-sqldb.yaml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _authorize(port: int) -> None:
    """`syncengine auth freshbooks`, with this function playing the browser: it opens the URL
    the command prints; the sandbox approves and redirects to the command's local listener."""
    exe = shutil.which("syncengine", path=os.path.dirname(sys.executable)) or "syncengine"
    console.print(f"[bold]$ syncengine auth freshbooks -c {CONFIG} --port {port}[/bold]", highlight=False)
    proc = subprocess.Popen([exe, "auth", "freshbooks", "-c", CONFIG, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        say(line.rstrip())
        if line.startswith("http"):
            url = line.strip()
            break
    say("(the demo opens that address as a browser would)")
    httpx.get(url, follow_redirects=True, timeout=30)
    rest, _ = proc.communicate(timeout=60)
    say(rest.rstrip())
    if proc.returncode != 0:
        raise SystemExit("demo step failed: syncengine auth freshbooks")


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def main() -> None:
    """Runs with the sandbox's settings in the environment, and puts the environment back after,
    so the next demo (or anything else in this process) does not inherit this ledger."""
    saved = dict(os.environ)
    try:
        _run()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    db = WORK / "freshbooks.db"
    port = _free_port()
    with SandboxServer(seed=200, port=0, redirect_uri=f"http://127.0.0.1:{port}/callback") as sb:
        os.environ.update({
            "FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
            "FRESHBOOKS_CLIENT_SECRET": sb.client_secret,
            "FRESHBOOKS_REDIRECT_URI": f"http://127.0.0.1:{port}/callback",
            "SYNCENGINE_LEDGER_URL": f"sqlite:///{WORK / 'ledger.db'}", "FRESHBOOKS_DB_URL": f"sqlite:///{db}",
        })
        banner("1. The FreshBooks sandbox, seeded: " + ", ".join(
            f"{sb.state.count(o)} {o}" for o in ("clients", "invoices", "payments", "expenses", "time_entries")))
        say(f"sandbox at {sb.url}; config {CONFIG}; mapping mappings/freshbooks-sqldb.yaml")
        _authorize(port)
        run("validate", "-c", CONFIG)

        banner("2. plan, then the first sync: every FreshBooks object into an empty SQLite database")
        run("plan", "-c", CONFIG, "--limit", "12")
        run("sync", "-c", CONFIG)
        say("a few clients as the database now holds them:")
        for row in _query(db, "SELECT id, freshbooks_id, first_name, last_name, email, currency FROM clients "
                              "ORDER BY freshbooks_id LIMIT 3"):
            say(f"  {row}")
        say("an invoice, its client translated to the database's key, lines as JSON:")
        for row in _query(db, "SELECT invoice_number, client_id, total, currency, status, substr(lines, 1, 90) "
                              "FROM invoices ORDER BY freshbooks_id LIMIT 1"):
            say(f"  {row}")

        banner("3. Edits on both sides")
        token = sb.issue_tokens()["access_token"]
        client = sb.state.list("clients")[0]
        say(f"in FreshBooks: client {client['id']} gets a new organization (PUT through the API)")
        httpx.put(f"{sb.url}/accounting/account/{sb.account_id}/users/clients/{client['id']}",
                  json={"client": {"organization": "Renamed in FreshBooks"}},
                  headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
        other_id, other_fb = _query(db, "SELECT id, freshbooks_id FROM clients ORDER BY freshbooks_id "
                                        "LIMIT 1 OFFSET 1")[0]
        say(f"in SQLite: client {other_id} (FreshBooks {other_fb}) gets a phone number; a new client is inserted")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE clients SET phone = '+1 555 0100', updated_at = datetime('now') WHERE id = ?",
                         (other_id,))
            conn.execute("INSERT INTO clients (id, email, first_name, last_name, organization, currency, updated_at) "
                         "VALUES ('db-1', 'grace@example.com', 'Grace', 'Hopper', 'Navy', 'USD', datetime('now'))")
        run("plan", "-c", CONFIG)
        run("sync", "-c", CONFIG)
        fb_id = _query(db, "SELECT freshbooks_id FROM clients WHERE id = 'db-1'")[0][0]
        created = sb.state.get("clients", fb_id)
        renamed = _query(db, f"SELECT organization FROM clients WHERE freshbooks_id = {client['id']}")[0][0]
        say(f"the new client now exists in FreshBooks as {fb_id}: {created['fname']} {created['lname']}; "
            f"client {other_fb}'s phone there: {sb.state.get('clients', other_fb)['bus_phone']}; "
            f"the database's organization for {client['id']}: {renamed}")

        banner("4. Nothing changed since: the next sync writes nothing")
        run("sync", "-c", CONFIG)
        run("status", "-c", CONFIG)
        stats = sb.stats()
        say(f"the sandbox answered {stats['requests']} requests in all, {stats.get('rate_limited', 0)} of them 429")


if __name__ == "__main__":
    main()
