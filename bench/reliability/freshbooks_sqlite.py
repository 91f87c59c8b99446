"""Pipeline (b): the FreshBooks sandbox <-> SQLite with the shipped example config
(examples/freshbooks-sqldb.yaml and mappings/freshbooks-sqldb.yaml, every object, newest_wins,
deletes propagate), pointed at a sandbox on a free loopback port through the environment.

The baseline (seeded sandbox + plain clients without invoices, synced twice) is built once and
copied per trial: the sandbox restarts from its state file (tokens included), the ledger and the
database are copied files. Edits in FreshBooks go through its HTTP API like any client's; edits in
the database are SQL statements stamped with ``updated_at``. Each conflict has a known winner:
the losing side is stamped a couple of seconds before the winner (the sandbox clock is moved
forward, never back, to make room).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.reliability.core import Killer, Problem, run_sync
from bench.reliability.csv_sqlite import checkpoint
from bench.reliability.ledger_view import LedgerView, check_pair_links, check_pending

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "freshbooks-sqldb.yaml"
PIPELINE = "books-db"
#: Two-way pairs (deletes propagate): FreshBooks collection -> SQL table (same names here).
TWO_WAY = ["clients", "taxes", "items", "tasks", "invoices", "estimates", "payments", "expenses", "projects",
           "time_entries"]
ONE_WAY = {"account": "account", "accounts": "ledger_accounts", "balance_sheet": "balance_sheets",
           "cash_flow": "cash_flows"}
#: Client fields checked on both sides: common name -> (FreshBooks field, SQL column).
CLIENT_FIELDS = {"first_name": ("fname", "first_name"), "last_name": ("lname", "last_name"),
                 "organization": ("organization", "organization"), "phone": ("bus_phone", "phone"),
                 "note": ("note", "note")}
INVOICE_FIELDS = {"notes": ("notes", "notes"), "po_number": ("po_number", "po_number"),
                  "terms": ("terms", "terms")}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Fault mix of the `freshbooks-faults` pipeline: 10% timeouts, 10% dropped connections.
FAULTS = {"timeout_rate": 0.1, "drop_rate": 0.1}
CLIENT_TIMEOUT = 1.0      # the engine's HTTP timeout under faults (FRESHBOOKS_TIMEOUT) ...
SANDBOX_SLEEP = 1.3       # ... and how long a "timeout" fault holds a request before applying it


def _norm(value: Any) -> Any:
    return None if value is None or value == "" else str(value)


def _sql_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Expected:
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)        # email -> common fields
    client_why: dict[str, str] = field(default_factory=dict)
    clients_deleted: dict[str, str] = field(default_factory=dict)           # email -> why
    #: invoice identity -> fields + "client" (the client's email); identity "fb:<id>" or "tag:<po>"
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoice_why: dict[str, str] = field(default_factory=dict)
    invoices_deleted: dict[str, str] = field(default_factory=dict)


def _sandbox() -> Any:
    from connectors.freshbooks.sandbox import SandboxServer

    # A child killed mid-request makes uvicorn log the handler's ClientDisconnect with a traceback:
    # expected here, and noise in the harness's output.
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)

    return SandboxServer


class FreshBooksBase:
    """The agreed baseline, built once per harness run."""

    def __init__(self, root: Path, *, clients: int = 10, plain_clients: int = 20, extra_invoices: int = 12,
                 faults: bool = False) -> None:
        self.root = root.resolve()
        self.clients = clients
        self.plain_clients = plain_clients
        self.extra_invoices = extra_invoices
        self.faults = faults
        self.name = "freshbooks-faults" if faults else "freshbooks"
        self.base = root / "base-freshbooks"
        self.baseline = Expected()
        self.plain: set[str] = set()        # emails of clients with nothing referring to them
        self.records = 0

    def build(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        server = _sandbox()(seed=self.clients, port=0, rng_seed=7, state_file=self.base / "sandbox.json",
                            save_interval=3600)
        with server as sb:
            from syncengine.http import normalize_token_response
            from syncengine.ledger import Ledger

            ledger = Ledger.open(f"sqlite:///{self.base / 'ledger.db'}")
            try:
                with ledger.token_lock("freshbooks") as slot:  # what `syncengine auth freshbooks` stores
                    slot.save(normalize_token_response(sb.issue_tokens(), now=time.time()))
            finally:
                ledger.close()
            with Api(sb) as api:
                seeded = [int(c["id"]) for c in sb.state.list("clients")]
                for i in range(self.extra_invoices):
                    api.create("invoices", "invoices/invoices", {
                        "customerid": seeded[i % len(seeded)], "create_date": "2026-11-02", "currency_code": "USD",
                        "notes": f"base invoice {i}",
                        "lines": [{"name": "Base work", "qty": "1", "unit_cost": {"amount": "10.00", "code": "USD"}}]})
                for i in range(self.plain_clients):
                    api.create("clients", "users/clients", {
                        "email": f"plain{i}@base.example.com", "fname": "Plain", "lname": f"Client{i}",
                        "organization": f"Plain Org {i}", "currency_code": "USD"})
            env = fb_env(sb, self.base, faults=False)
            for attempt in (1, 2):
                run = run_sync(CONFIG, env, self.base, self.base / f"base-sync{attempt}")
                if run.rc != 0:
                    raise RuntimeError(f"baseline FreshBooks sync {attempt} failed: {run.tail()}")
                if attempt == 2 and run.writes != 0:
                    raise RuntimeError(f"the FreshBooks baseline is not quiet: {run.writes} writes")
            self.baseline = expected_from(sb)
            referred = referenced_clients(sb)
            self.plain = {str(c["email"]).lower() for c in sb.state.list("clients") if c["id"] not in referred}
            self.records = sum(sb.state.count(c) for c in TWO_WAY)
        for db in ("ledger.db", "freshbooks.db"):
            checkpoint(self.base / db)

    def trial(self, directory: Path, seed: int) -> FreshBooksTrial:
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(self.base, directory, ignore=shutil.ignore_patterns("base-sync*"))
        return FreshBooksTrial(self, directory, seed)


def referenced_clients(sb: Any) -> set[int]:
    used: set[int] = set()
    for collection, key in (("invoices", "customerid"), ("estimates", "customerid"), ("projects", "client_id"),
                            ("expenses", "clientid"), ("time_entries", "client_id")):
        for record in sb.state.list(collection, include_deleted=True):
            if record.get(key):
                used.add(int(record[key]))
    return used


def expected_from(sb: Any) -> Expected:
    exp = Expected()
    emails: dict[int, str] = {}
    for client in sb.state.list("clients"):
        email = str(client["email"]).lower()
        emails[int(client["id"])] = email
        exp.clients[email] = {name: _norm(client.get(fb)) for name, (fb, _) in CLIENT_FIELDS.items()}
        exp.client_why[email] = "unedited"
    for invoice in sb.state.list("invoices"):
        ident = f"fb:{invoice['id']}"
        exp.invoices[ident] = {name: _norm(invoice.get(fb)) for name, (fb, _) in INVOICE_FIELDS.items()}
        exp.invoices[ident]["client"] = emails.get(int(invoice["customerid"]))
        exp.invoice_why[ident] = "unedited"
    return exp


def fb_env(sb: Any, directory: Path, *, faults: bool) -> dict[str, str]:
    # the secret key stays: tokens stored in-process must be read by the child
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SYNCENGINE_", "FRESHBOOKS_")) or k.startswith("SYNCENGINE_SECRET_KEY")}
    env.update({
        "FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
        "FRESHBOOKS_CLIENT_SECRET": sb.client_secret, "FRESHBOOKS_REDIRECT_URI": sb.redirect_uri,
        "SYNCENGINE_LEDGER_URL": f"sqlite:///{directory / 'ledger.db'}",
        "FRESHBOOKS_DB_URL": f"sqlite:///{directory / 'freshbooks.db'}",
        "FRESHBOOKS_RATE_LIMIT": "60000", "NO_COLOR": "1", "COLUMNS": "160",
    })
    if faults:
        env["FRESHBOOKS_TIMEOUT"] = str(CLIENT_TIMEOUT)
    return env


class Api:
    """FreshBooks' HTTP API as an outside user of the account (its own token)."""

    def __init__(self, sb: Any) -> None:
        token = sb.issue_tokens()["access_token"]
        self.http = httpx.Client(base_url=f"{sb.url}/accounting/account/{sb.account_id}",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _result(self, response: httpx.Response, single: str) -> dict[str, Any]:
        if response.status_code >= 400:
            raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} "
                               f"{response.text[:300]}")
        result: dict[str, Any] = response.json()["response"]["result"][single]
        return result

    def create(self, single: str, path: str, fields: dict[str, Any]) -> dict[str, Any]:
        single = single.rstrip("s")
        return self._result(self.http.post(f"/{path}", json={single: fields}), single)

    def update(self, single: str, path: str, key: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self._result(self.http.put(f"/{path}/{key}", json={single: fields}), single)


class FreshBooksTrial:
    pipeline = PIPELINE

    def __init__(self, base: FreshBooksBase, directory: Path, seed: int) -> None:
        self.base = base
        self.dir = directory
        self.variant = "faults" if base.faults else "plain"
        self.config = CONFIG
        self.ledger_path = directory / "ledger.db"
        self.db_path = directory / "freshbooks.db"
        self.sb = _sandbox()(seed=base.clients, port=0, rng_seed=seed, state_file=directory / "sandbox.json",
                             save_interval=3600).start()
        self.env = fb_env(self.sb, directory, faults=base.faults)
        b = base.baseline
        self.expected = Expected(
            clients={k: dict(v) for k, v in b.clients.items()}, client_why=dict(b.client_why),
            invoices={k: dict(v) for k, v in b.invoices.items()}, invoice_why=dict(b.invoice_why))
        self.edits: Counter[str] = Counter()
        self.records = base.records

    # -- the sides -----------------------------------------------------------------------------
    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def db_rows(self, table: str) -> list[dict[str, Any]]:
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE deleted_at IS NULL")]
        finally:
            conn.close()

    # -- edits ---------------------------------------------------------------------------------
    def edit(self, rng: random.Random, seed: int) -> None:
        exp = self.expected
        sb = self.sb
        fb_clients = {str(c["email"]).lower(): c for c in sb.state.list("clients")}
        db_clients = {str(r["email"]).lower(): r for r in self.db_rows("clients")}
        paid = {int(p["invoiceid"]) for p in sb.state.list("payments", include_deleted=True)}
        plain = sorted(self.base.plain & set(fb_clients))
        others = sorted(set(fb_clients) - set(plain))
        rng.shuffle(plain)
        rng.shuffle(others)
        pool = iter(others + plain[4:])
        deletable = iter(plain[:4])

        def pick(n: int) -> list[str]:
            return [next(pool) for _ in range(n)]

        c_plan = {
            "fb_client_update": pick(rng.randint(1, 3)), "db_client_update": pick(rng.randint(1, 3)),
            "client_both_disjoint": pick(rng.randint(0, 2)), "client_conflict_fb_wins": pick(rng.randint(0, 2)),
            "client_conflict_db_wins": pick(rng.randint(0, 2)),
            "fb_client_delete": [next(deletable) for _ in range(rng.randint(0, 2))],
        }
        c_plan["db_client_delete"] = [next(deletable) for _ in range(rng.randint(0, 2))]
        deleted_emails = set(c_plan["fb_client_delete"] + c_plan["db_client_delete"])
        invoices = [i for i in sb.state.list("invoices")]
        rng.shuffle(invoices)
        unpaid = [f"fb:{i['id']}" for i in invoices if int(i["id"]) not in paid]
        paid_ids = [f"fb:{i['id']}" for i in invoices if int(i["id"]) in paid]
        inv_pool = iter(paid_ids + unpaid[4:])
        inv_deletable = iter(unpaid[:4])

        def pick_inv(n: int) -> list[str]:
            return [next(inv_pool) for _ in range(n)]

        i_plan = {
            "fb_invoice_update": pick_inv(rng.randint(1, 2)), "db_invoice_update": pick_inv(rng.randint(1, 2)),
            "invoice_conflict_fb_wins": pick_inv(rng.randint(0, 1)),
            "invoice_conflict_db_wins": pick_inv(rng.randint(0, 1)),
            "fb_invoice_delete": [next(inv_deletable) for _ in range(rng.randint(0, 2))],
        }
        i_plan["db_invoice_delete"] = [next(inv_deletable) for _ in range(rng.randint(0, 2))]
        fb_client_creates, db_client_creates = rng.randint(1, 3), rng.randint(1, 3)
        fb_invoice_creates, db_invoice_creates = rng.randint(1, 3), rng.randint(2, 5)
        live_for_invoices = [e for e in others if e not in deleted_emails]

        db_id = {e: str(r["id"]) for e, r in db_clients.items()}
        invoice_row = {f"fb:{r['freshbooks_id']}": r for r in self.db_rows("invoices")}

        now = datetime.now(UTC)
        early_ts = _sql_time(now)
        # Room for FreshBooks' edits to be clearly later than the early database ones (1 s resolution).
        gap = (now + timedelta(seconds=2) - sb.now()).total_seconds()
        if gap > 0:
            sb.advance(gap)

        conn = self.db()
        try:
            # FreshBooks, through its API.
            with Api(sb) as api, conn:
                for kind in ("fb_client_update", "client_both_disjoint", "client_conflict_fb_wins",
                             "client_conflict_db_wins"):
                    for email in c_plan[kind]:
                        values = {"organization": f"FB {kind} {seed}", "note": f"fb note {seed}"}
                        if kind == "client_both_disjoint":
                            values = {"organization": f"FB both {seed}"}
                        if kind.startswith("client_conflict"):
                            values = {"organization": f"FB conflict {seed}"}
                        api.update("client", "users/clients", fb_clients[email]["id"], values)
                        if kind != "client_conflict_db_wins":
                            exp.clients[email].update({"organization": values["organization"],
                                                       **({"note": values["note"]} if "note" in values else {})})
                        exp.client_why[email] = kind
                for email in c_plan["fb_client_delete"]:
                    api.update("client", "users/clients", fb_clients[email]["id"], {"vis_state": 1})
                    exp.clients.pop(email)
                    exp.clients_deleted[email] = "deleted in FreshBooks"
                new_fb_clients: list[tuple[str, int]] = []
                for j in range(fb_client_creates):
                    email = f"fb{seed}.{j}@new.example.com"
                    values = {"email": email, "fname": "Fbnew", "lname": f"N{j}", "organization": f"FB new {seed}",
                              "bus_phone": f"555-01{j:02d}", "currency_code": "USD"}
                    made = api.create("clients", "users/clients", values)
                    new_fb_clients.append((email, int(made["id"])))
                    exp.clients[email] = {"first_name": "Fbnew", "last_name": f"N{j}",
                                          "organization": f"FB new {seed}", "phone": f"555-01{j:02d}", "note": None}
                    exp.client_why[email] = "created in FreshBooks"
                for kind in ("fb_invoice_update", "invoice_conflict_fb_wins", "invoice_conflict_db_wins"):
                    for ident in i_plan[kind]:
                        notes = f"FB {kind} {seed}"
                        api.update("invoice", "invoices/invoices", int(ident[3:]), {"notes": notes})
                        if kind != "invoice_conflict_db_wins":
                            exp.invoices[ident]["notes"] = notes
                        exp.invoice_why[ident] = kind
                for ident in i_plan["fb_invoice_delete"]:
                    api.update("invoice", "invoices/invoices", int(ident[3:]), {"vis_state": 1})
                    exp.invoices.pop(ident)
                    exp.invoices_deleted[ident] = "deleted in FreshBooks"
                fb_ids = {e: int(c["id"]) for e, c in fb_clients.items()} | dict(new_fb_clients)
                for j in range(fb_invoice_creates):
                    email = new_fb_clients[j][0] if j < len(new_fb_clients) and j % 2 == 0 else \
                        rng.choice(live_for_invoices)
                    tag = f"FB-{seed}-{j}"
                    made = api.create("invoices", "invoices/invoices", {
                        "customerid": fb_ids[email], "create_date": "2026-11-20", "currency_code": "USD",
                        "po_number": tag, "notes": f"fb invoice {seed}",
                        "lines": [{"name": "Work", "qty": "2", "unit_cost": {"amount": "45.50", "code": "USD"}}]})
                    ident = f"fb:{made['id']}"
                    exp.invoices[ident] = {"notes": f"fb invoice {seed}", "po_number": tag, "terms": None,
                                           "client": email}
                    exp.invoice_why[ident] = "created in FreshBooks"
                late_ts = _sql_time(sb.now().replace(microsecond=0) + timedelta(seconds=2))

                # The database, in one transaction: early stamps lose conflicts, late ones win.
                for kind in ("db_client_update", "client_both_disjoint", "client_conflict_fb_wins",
                             "client_conflict_db_wins"):
                    for email in c_plan[kind]:
                        ts = late_ts if kind == "client_conflict_db_wins" else early_ts
                        values = {"organization": f"DB {kind} {seed}", "phone": f"+1 555 {seed % 10000:04d}"}
                        if kind == "client_both_disjoint":
                            values = {"phone": f"+44 {seed % 10000:04d}"}
                        if kind.startswith("client_conflict"):
                            values = {"organization": f"DB conflict {seed}"}
                        self._db_update(conn, "clients", "lower(email) = ?", email, ts, values)
                        if kind != "client_conflict_fb_wins":
                            exp.clients[email].update(values)
                        exp.client_why[email] = kind
                for email in c_plan["db_client_delete"]:
                    self._db_update(conn, "clients", "lower(email) = ?", email, early_ts, {"deleted_at": early_ts})
                    exp.clients.pop(email)
                    exp.clients_deleted[email] = "deleted in the database"
                new_db_clients: list[str] = []
                for j in range(db_client_creates):
                    email = f"db{seed}.{j}@new.example.com"
                    key = f"d{seed}-{j}"
                    conn.execute("INSERT INTO clients (id, email, first_name, last_name, organization, currency, "
                                 "phone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (key, email, "Dbnew", f"M{j}", f"DB new {seed}", "USD", f"555-02{j:02d}", early_ts))
                    db_id[email] = key
                    new_db_clients.append(email)
                    exp.clients[email] = {"first_name": "Dbnew", "last_name": f"M{j}", "organization": f"DB new {seed}",
                                          "phone": f"555-02{j:02d}", "note": None}
                    exp.client_why[email] = "created in the database"
                for kind in ("db_invoice_update", "invoice_conflict_fb_wins", "invoice_conflict_db_wins"):
                    for ident in i_plan[kind]:
                        ts = late_ts if kind == "invoice_conflict_db_wins" else early_ts
                        notes = f"DB {kind} {seed}"
                        self._db_update(conn, "invoices", "id = ?", str(invoice_row[ident]["id"]), ts,
                                        {"notes": notes})
                        if kind != "invoice_conflict_fb_wins":
                            exp.invoices[ident]["notes"] = notes
                        exp.invoice_why[ident] = kind
                for ident in i_plan["db_invoice_delete"]:
                    self._db_update(conn, "invoices", "id = ?", str(invoice_row[ident]["id"]), early_ts,
                                    {"deleted_at": early_ts})
                    exp.invoices.pop(ident)
                    exp.invoices_deleted[ident] = "deleted in the database"
                lines = json.dumps([{"name": "Work", "qty": {"$decimal": "2"},
                                     "unit_cost": {"$money": ["45.50", "USD"]}}])
                for j in range(db_invoice_creates):
                    email = new_db_clients[j] if j < len(new_db_clients) and j % 2 == 0 else \
                        rng.choice(live_for_invoices)
                    tag = f"DB-{seed}-{j}"
                    conn.execute("INSERT INTO invoices (id, client_id, issue_date, currency, notes, po_number, lines, "
                                 "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (f"di{seed}-{j}", db_id[email], "2026-11-21", "USD", f"db invoice {seed}", tag,
                                  lines, early_ts))
                    ident = f"tag:{tag}"
                    exp.invoices[ident] = {"notes": f"db invoice {seed}", "po_number": tag, "terms": None,
                                           "client": email}
                    exp.invoice_why[ident] = "created in the database"
        finally:
            conn.close()
        self.edits = Counter({k: len(v) for k, v in (c_plan | i_plan).items()})
        self.edits.update(fb_client_create=fb_client_creates, db_client_create=db_client_creates,
                          fb_invoice_create=fb_invoice_creates, db_invoice_create=db_invoice_creates)

    @staticmethod
    def _db_update(conn: sqlite3.Connection, table: str, where: str, key: str, ts: str,
                   values: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        done = conn.execute(f"UPDATE {table} SET {sets}, updated_at = ? WHERE {where} AND deleted_at IS NULL",
                            [*values.values(), ts, key])
        if done.rowcount != 1:
            raise RuntimeError(f"{table}: {done.rowcount} live rows where {where} with {key}")

    # -- what the kill harness watches -----------------------------------------------------------
    def sqlite_watch(self) -> dict[str, Path]:
        return {"commit": self.ledger_path, "target": self.db_path}

    def file_watch(self) -> dict[str, Path]:
        return {}

    def kill_targets(self) -> list[tuple[str, str, int]]:
        """The writes the database-side edits make the engine send to FreshBooks, by kind, and how
        many of each (a kill at one of them, before or just after its answer, is the window
        between a remote write and its ledger commit)."""
        e = self.edits
        return [
            ("write", "POST invoices", e["db_invoice_create"]),
            ("write", "POST clients", e["db_client_create"]),
            ("write", "PUT clients/", e["db_client_update"] + e["client_both_disjoint"] + e["client_conflict_db_wins"]
             + e["db_client_delete"]),
            ("write", "PUT invoices/", e["db_invoice_update"] + e["invoice_conflict_db_wins"]),
            ("write", "DELETE invoices/", e["db_invoice_delete"]),
            ("target", "target commit", 2),
        ]

    def hook(self, killer: Killer) -> Callable[[], None]:
        """Report each API request (and each applied write) to the killer, from inside the sandbox,
        just before its answer leaves: a kill then means the engine never hears the answer."""
        stats = self.sb.sandbox.stats
        original = stats.record

        def record(method: str, path: str, status: int | None) -> None:
            original(method, path, status)
            label = f"{method} {path.split('/', 5)[-1]} {status if status is not None else 'dropped'}"
            killer.event("request", label)
            if method in WRITE_METHODS and status is not None and status < 400 and "oauth" not in path:
                killer.event("write", label)

        stats.record = record

        def unhook() -> None:
            del stats.record

        return unhook

    def set_faults(self, on: bool) -> None:
        if on:
            self.sb.set_faults(timeout_seconds=SANDBOX_SLEEP, **FAULTS)
        else:
            self.sb.set_faults()
            # A request held by a "timeout" fault is still applied after its client gave up: let the
            # last ones land before the checks look.
            time.sleep(SANDBOX_SLEEP + 0.5)

    # -- checks ----------------------------------------------------------------------------------
    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        sb = self.sb
        fb_live = {c: {str(r["id"]): r for r in sb.state.list(c)} for c in TWO_WAY}
        db_live = {c: {str(r["id"]): r for r in self.db_rows(c)} for c in TWO_WAY}
        self._check_clients(problems, fb_live["clients"], db_live["clients"])
        self._check_invoices(problems, fb_live, db_live)
        view = self.ledger_view()
        for collection in TWO_WAY:
            fb, db = fb_live[collection], db_live[collection]
            check_pair_links(view, collection, fb, db, problems, left_name="FreshBooks", right_name="db")
            ids = Counter(r["freshbooks_id"] for r in db.values() if r["freshbooks_id"] is not None)
            dup = {k: [key for key, r in db.items() if r["freshbooks_id"] == k] for k, n in ids.items() if n > 1}
            if dup:
                problems.append(Problem("duplicate", f"db {collection}: several live rows per FreshBooks id: "
                                                     f"{dict(list(dup.items())[:8])}"))
            unsynced = sorted(k for k, r in db.items() if r["freshbooks_id"] is None)
            if unsynced:
                problems.append(Problem("ledger", f"db {collection}: live rows with no freshbooks_id: "
                                                  f"{unsynced[:8]}"))
            stale = sorted(f"{k}->{r['freshbooks_id']}" for k, r in db.items()
                           if r["freshbooks_id"] is not None and str(r["freshbooks_id"]) not in fb)
            if stale:
                problems.append(Problem("lost_delete" if collection in ("clients", "invoices") else "ledger",
                                        f"db {collection}: live rows whose FreshBooks record is not live: "
                                        f"{stale[:8]}"))
            wrong_links = [f"{lk}->{rk}" for lk, rk in view.links.get(collection, [])
                           if rk in db and str(db[rk]["freshbooks_id"]) != lk]
            if wrong_links:
                problems.append(Problem("ledger", f"{collection}: links whose db row names another FreshBooks "
                                                  f"id: {wrong_links[:8]}"))
        for pair, table in ONE_WAY.items():
            rows = {str(r["id"]) for r in self.db_rows(table)}
            dangling = [rk for _, rk in view.links.get(pair, []) if rk not in rows]
            if dangling:
                problems.append(Problem("ledger", f"{pair}: links to db rows that do not exist: {dangling[:8]}"))
        check_pending(view, problems)
        return problems

    def _check_clients(self, problems: list[Problem], fb: dict[str, dict[str, Any]],
                       db: dict[str, dict[str, Any]]) -> None:
        exp = self.expected
        sides = {"FreshBooks": (fb, 0), "db": (db, 1)}
        for side, (rows, col) in sides.items():
            email_field = "email"
            by_email: dict[str, list[str]] = {}
            for key, r in rows.items():
                by_email.setdefault(str(r[email_field]).lower(), []).append(key)
            for email, keys in sorted(by_email.items()):
                if len(keys) > 1:
                    problems.append(Problem("duplicate", f"{side} clients: {len(keys)} live for {email} "
                                                         f"({exp.client_why.get(email, '?')}), keys {keys}"))
            for email, why in sorted(exp.clients_deleted.items()):
                if email in by_email:
                    problems.append(Problem("lost_delete", f"client {email} ({why}) still live in {side}, "
                                                           f"keys {by_email[email]}"))
            for email in sorted(set(by_email) - set(exp.clients) - set(exp.clients_deleted)):
                problems.append(Problem("unexpected", f"{side} clients: nobody made {email}, keys {by_email[email]}"))
            for email, want in sorted(exp.clients.items()):
                found = by_email.get(email)
                if not found:
                    problems.append(Problem("missing", f"client {email} ({exp.client_why[email]}) not live in {side}"))
                    continue
                row = rows[found[0]]
                got = {name: _norm(row.get(names[col])) for name, names in CLIENT_FIELDS.items()}
                wrong = {k: (v, got[k]) for k, v in want.items() if got[k] != v}
                if wrong:
                    kind = "wrong_value" if exp.client_why[email] == "unedited" else "lost_edit"
                    shown = "; ".join(f"{k}: want {a!r} got {b!r}" for k, (a, b) in wrong.items())
                    problems.append(Problem(kind, f"{side} client {found[0]} {email} ({exp.client_why[email]}): "
                                                  f"{shown}"))

    def _check_invoices(self, problems: list[Problem], fb_live: dict[str, dict[str, dict[str, Any]]],
                        db_live: dict[str, dict[str, dict[str, Any]]]) -> None:
        exp = self.expected
        fb, db = fb_live["invoices"], db_live["invoices"]
        fb_email = {k: str(r["email"]).lower() for k, r in fb_live["clients"].items()}
        db_email = {k: str(r["email"]).lower() for k, r in db_live["clients"].items()}
        all_fb = {str(r["id"]): r for r in self.sb.state.list("invoices", include_deleted=True)}

        def fb_ident(key: str, row: dict[str, Any]) -> str:
            return f"fb:{key}" if f"fb:{key}" in exp.invoices or f"fb:{key}" in exp.invoices_deleted or \
                not row.get("po_number") else f"tag:{row['po_number']}"

        def db_ident(row: dict[str, Any]) -> str:
            fid = row.get("freshbooks_id")
            if fid is not None and (f"fb:{fid}" in exp.invoices or f"fb:{fid}" in exp.invoices_deleted):
                return f"fb:{fid}"
            if row.get("po_number") and str(row["po_number"]).startswith("DB-"):
                return f"tag:{row['po_number']}"
            return f"fb:{fid}"

        sides: dict[str, dict[str, list[str]]] = {"FreshBooks": {}, "db": {}}
        for key, row in fb.items():
            sides["FreshBooks"].setdefault(fb_ident(key, row), []).append(key)
        for key, row in db.items():
            sides["db"].setdefault(db_ident(row), []).append(key)
        # Every po_number a trial gave must be on exactly one live invoice per side.
        for side, rows in (("FreshBooks", fb), ("db", db)):
            tags = Counter(str(r["po_number"]) for r in rows.values() if r.get("po_number"))
            for tag, n in sorted(tags.items()):
                if n > 1:
                    keys = [k for k, r in rows.items() if r.get("po_number") == tag]
                    problems.append(Problem("duplicate", f"{side} invoices: {n} live with po_number {tag}, "
                                                         f"keys {keys}"))
        for side, idents in sides.items():
            rows = fb if side == "FreshBooks" else db
            emails = fb_email if side == "FreshBooks" else db_email
            client_col = "customerid" if side == "FreshBooks" else "client_id"
            col = 0 if side == "FreshBooks" else 1
            for ident, keys in sorted(idents.items()):
                if len(keys) > 1 and not ident.startswith("tag:"):
                    problems.append(Problem("duplicate", f"{side} invoices: {len(keys)} live for {ident}, "
                                                         f"keys {keys}"))
            for ident, why in sorted(exp.invoices_deleted.items()):
                if ident in idents:
                    problems.append(Problem("lost_delete", f"invoice {ident} ({why}) still live in {side}, "
                                                           f"keys {idents[ident]}"))
            for ident in sorted(set(idents) - set(exp.invoices) - set(exp.invoices_deleted)):
                problems.append(Problem("unexpected", f"{side} invoices: nobody made {ident}, keys {idents[ident]}"))
            for ident, want in sorted(exp.invoices.items()):
                found = idents.get(ident)
                if not found:
                    gone = ""
                    if side == "FreshBooks" and ident.startswith("fb:") and ident[3:] in all_fb:
                        gone = f" (vis_state {all_fb[ident[3:]].get('vis_state')})"
                    problems.append(Problem("missing", f"invoice {ident} ({exp.invoice_why[ident]}) not live in "
                                                       f"{side}{gone}"))
                    continue
                row = rows[found[0]]
                got = {name: _norm(row.get(names[col])) for name, names in INVOICE_FIELDS.items()}
                got["client"] = emails.get(str(row.get(client_col)))
                wrong = {k: (v, got[k]) for k, v in want.items() if got[k] != v}
                if wrong:
                    kind = "wrong_value" if exp.invoice_why[ident] == "unedited" else "lost_edit"
                    shown = "; ".join(f"{k}: want {a!r} got {b!r}" for k, (a, b) in wrong.items())
                    problems.append(Problem(kind, f"{side} invoice {found[0]} {ident} ({exp.invoice_why[ident]}): "
                                                  f"{shown}"))

    def ledger_view(self) -> LedgerView:
        return LedgerView.read(self.ledger_path, self.pipeline)

    def close(self) -> None:
        self.sb.stop()
