"""Pipeline (a): a CSV file <-> a SQLite table, two ways, newest_wins, deletes propagate.

Two configurations, alternating by trial seed:

* ``starter``: exactly what `syncengine init` writes (ids mapped both ways, a match rule on
  email), with a bigger clients.csv;
* ``keys``: nothing links records but the ledger: no id mapping and no match rule, the SQLite key
  is an autoincrement integer and the CSV connector generates keys for the rows it creates (as in
  tests/integration/reconcile/test_crash_safety.py), so only the intents can prevent a duplicate.

Edits from outside go straight to the file and the table, stamped with ``updated_at`` so that the
winner of each conflict is known in advance: both sides change ``organization``, one of them
clearly later.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.reliability.core import Problem, run_sync, syncengine_exe
from bench.reliability.ledger_view import LedgerView, check_pair_links, check_pending

COLUMNS = ["id", "email", "first_name", "last_name", "organization", "currency", "balance", "updated_at"]
FIELDS = ["first_name", "last_name", "organization", "currency", "balance"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman", "Thompson"]
CURRENCIES = ["USD", "EUR", "GBP", "CAD"]
PIPELINE = {"starter": "sheet-db", "keys": "sheet-db"}

KEYS_CONFIG = """\
ledger: sqlite:///ledger.db
connectors:
  sheet:
    type: csvfile
    objects:
      clients:
        path: clients.csv
        key: id
        updated_at: updated_at
        columns: {balance: decimal, updated_at: datetime}
  db:
    type: sqldb
    url: sqlite:///clients.db
    objects:
      clients:
        table: clients
        key: id
        updated_at: updated_at
        deleted: deleted_at
        create: true
        columns: {id: integer, email: string, first_name: string, last_name: string, organization: string,
                  currency: string, balance: decimal, updated_at: datetime, deleted_at: datetime}
pipelines:
  - name: sheet-db
    left: sheet
    right: db
    mapping: clients.mapping.yaml
safety:
  max_delete_fraction: 0.25
  min_mass_delete: 10
"""

KEYS_MAPPING = """\
pairs:
  - name: clients
    left: clients
    right: clients
    direction: both
    conflict: newest_wins
    deletes: propagate
    fields:
      - {left: email, right: email, transform: lower}
      - {left: first_name, right: first_name}
      - {left: last_name, right: last_name}
      - {left: organization, right: organization}
      - {left: currency, right: currency, transform: [upper, {default: USD}]}
      - {left: balance, right: balance}
"""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _sql_time(moment: datetime) -> str:
    """How SQLAlchemy stores a naive UTC DateTime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _norm(name: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if name == "balance":
        return Decimal(str(value)).normalize()
    return str(value)


@dataclass
class Expected:
    """What each live record must hold after the trial, by email, and which emails must be gone."""

    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)          # email -> the edit that set its values
    deleted: dict[str, str] = field(default_factory=dict)      # email -> "deleted in csv" / "in db"


class CsvSqliteBase:
    """The baseline world both sides agree on, built once and copied for every trial."""

    name = "csv"

    def __init__(self, root: Path, records: int = 100) -> None:
        self.root = root.resolve()
        self.records = records
        self.bases: dict[str, Path] = {}
        self.baseline: dict[str, dict[str, dict[str, Any]]] = {}

    def variant(self, seed: int) -> str:
        return "starter" if seed % 2 == 0 else "keys"

    def build(self) -> None:
        """Baselines are built on first use, one per configuration."""

    def _build(self, variant: str) -> Path:
        base = self.root / f"base-csv-{variant}"
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        if variant == "starter":
            subprocess.run([syncengine_exe(), "init", str(base)], check=True, capture_output=True)
        else:
            (base / "config.yaml").write_text(KEYS_CONFIG)
            (base / "clients.mapping.yaml").write_text(KEYS_MAPPING)
        rng = random.Random(4242)
        rows: dict[str, dict[str, Any]] = {}
        when = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        with (base / "clients.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for i in range(1, self.records + 1):
                email = f"person{i}@base.example.com"
                row = {"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
                       "organization": f"Base Org {i}", "currency": rng.choice(CURRENCIES),
                       "balance": f"{rng.randint(0, 99999) / 100:.2f}"}
                rows[email] = {k: _norm(k, v) for k, v in row.items()}
                writer.writerow([f"c{i}", email, row["first_name"], row["last_name"], row["organization"],
                                 row["currency"], row["balance"], _iso(when + timedelta(minutes=i))])
        env = trial_env(base)
        for attempt in (1, 2):
            run = run_sync(base / "config.yaml", env, base, base / f"base-sync{attempt}")
            if run.rc != 0:
                raise RuntimeError(f"baseline sync {attempt} of the {variant} world failed: {run.tail()}")
            if attempt == 2 and run.writes != 0:
                raise RuntimeError(f"baseline of the {variant} world is not quiet: {run.writes} writes")
        for db in ("ledger.db", "clients.db"):
            checkpoint(base / db)
        self.baseline[variant] = rows
        return base

    def trial(self, directory: Path, seed: int) -> CsvSqliteTrial:
        variant = self.variant(seed)
        if variant not in self.bases:
            self.bases[variant] = self._build(variant)
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(self.bases[variant], directory, ignore=shutil.ignore_patterns("base-sync*"))
        return CsvSqliteTrial(directory, variant, self.baseline[variant])


def trial_env(directory: Path) -> dict[str, str]:
    # the secret key stays: tokens stored in-process must be read by the child
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SYNCENGINE_", "FRESHBOOKS_")) or k.startswith("SYNCENGINE_SECRET_KEY")}
    env["SYNCENGINE_LEDGER_URL"] = f"sqlite:///{directory / 'ledger.db'}"
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "160"
    return env


def checkpoint(path: Path) -> None:
    """Fold the WAL into the database file, so a copy of the folder is complete."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


class CsvSqliteTrial:
    pipeline = "sheet-db"

    def __init__(self, directory: Path, variant: str, baseline: dict[str, dict[str, Any]]) -> None:
        self.dir = directory
        self.variant = variant
        self.config = directory / "config.yaml"
        self.env = trial_env(directory)
        self.csv_path = directory / "clients.csv"
        self.db_path = directory / "clients.db"
        self.ledger_path = directory / "ledger.db"
        self.expected = Expected(live={k: dict(v) for k, v in baseline.items()},
                                 why={k: "unedited" for k in baseline})
        self.edits: Counter[str] = Counter()
        self.records = len(baseline)

    # -- the world as each side holds it -----------------------------------------------------------
    def csv_rows(self) -> list[dict[str, str]]:
        with self.csv_path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def _write_csv(self, rows: list[dict[str, str]]) -> None:
        with self.csv_path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        tmp = self.csv_path.with_suffix(".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(self.csv_path)

    def db_rows(self, live_only: bool = True) -> list[dict[str, Any]]:
        conn = sqlite3.connect(self.db_path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            where = " WHERE deleted_at IS NULL" if live_only else ""
            return [dict(r) for r in conn.execute(f"SELECT * FROM clients{where}")]
        finally:
            conn.close()

    # -- edits ---------------------------------------------------------------------------------
    def edit(self, rng: random.Random, seed: int) -> None:
        """Creates, updates, conflicting updates and deletes on both sides, with known results."""
        emails = sorted(self.expected.live)
        rng.shuffle(emails)
        take = iter(emails)

        def pick(n: int) -> list[str]:
            return [next(take) for _ in range(n)]

        plan = {
            "csv_update": pick(rng.randint(2, 6)), "db_update": pick(rng.randint(2, 6)),
            "both_disjoint": pick(rng.randint(1, 3)), "conflict_csv_wins": pick(rng.randint(1, 3)),
            "conflict_db_wins": pick(rng.randint(1, 3)), "csv_delete": pick(rng.randint(1, 4)),
            "db_delete": pick(rng.randint(1, 4)),
        }
        csv_creates, db_creates = rng.randint(2, 6), rng.randint(2, 6)
        now = datetime.now(UTC)
        later, earlier = now + timedelta(seconds=2), now - timedelta(hours=1)
        exp = self.expected

        # The CSV file, in one rewrite.
        rows = self.csv_rows()
        by_email = {r["email"].lower(): r for r in rows}
        for email in plan["csv_update"]:
            values = {"organization": f"CSV org {seed}-{email.split('@')[0]}", "first_name": f"Csvname{seed}"}
            by_email[email].update(values, updated_at=_iso(now))
            exp.live[email].update({k: _norm(k, v) for k, v in values.items()})
            exp.why[email] = "updated in csv"
        for email in plan["both_disjoint"]:
            by_email[email].update(first_name=f"Both{seed}", updated_at=_iso(now))
            exp.live[email]["first_name"] = f"Both{seed}"
            exp.why[email] = "csv: first_name, db: balance"
        for kind, stamp in (("conflict_csv_wins", later), ("conflict_db_wins", earlier)):
            for email in plan[kind]:
                by_email[email].update(organization=f"CSV conflict {seed}", updated_at=_iso(stamp))
                if kind == "conflict_csv_wins":
                    exp.live[email]["organization"] = f"CSV conflict {seed}"
                exp.why[email] = f"{kind.replace('_', ' ')} (organization)"
        for email in plan["csv_delete"]:
            del by_email[email]
            exp.live.pop(email)
            exp.deleted[email] = "deleted in csv"
        kept = [r for r in rows if r["email"].lower() in by_email]
        for j in range(csv_creates):
            email = f"csv{seed}.{j}@new.example.com"
            values = {"first_name": "Csvnew", "last_name": f"N{j}", "organization": f"CSV new {seed}",
                      "currency": "EUR", "balance": f"{j}.25"}
            kept.append({"id": f"n{seed}-{j}", "email": email, **values, "updated_at": _iso(now)})
            exp.live[email] = {k: _norm(k, v) for k, v in values.items()}
            exp.why[email] = "created in csv"
        self._write_csv(kept)

        # The SQLite table, in one transaction.
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            with conn:
                ts = _sql_time(now)
                for email in plan["db_update"]:
                    org, balance = f"DB org {seed}-{email.split('@')[0]}", Decimal(f"{seed % 1000}.5")
                    self._db_update(conn, email, ts, organization=org, balance=str(balance))
                    exp.live[email].update(organization=org, balance=balance.normalize())
                    exp.why[email] = "updated in db"
                for email in plan["both_disjoint"]:
                    self._db_update(conn, email, ts, balance="7.77")
                    exp.live[email]["balance"] = Decimal("7.77")
                for email in plan["conflict_csv_wins"] + plan["conflict_db_wins"]:
                    self._db_update(conn, email, ts, organization=f"DB conflict {seed}")
                    if email in plan["conflict_db_wins"]:
                        exp.live[email]["organization"] = f"DB conflict {seed}"
                for email in plan["db_delete"]:
                    self._db_update(conn, email, ts, deleted_at=ts)
                    exp.live.pop(email)
                    exp.deleted[email] = "deleted in db"
                for j in range(db_creates):
                    email = f"db{seed}.{j}@new.example.com"
                    row: dict[str, Any] = {"email": email, "first_name": "Dbnew", "last_name": f"M{j}",
                                           "organization": f"DB new {seed}", "currency": "GBP",
                                           "balance": f"{j}.75", "updated_at": ts}
                    if self.variant == "starter":
                        row["id"] = f"d{seed}-{j}"
                    cols = ", ".join(row)
                    conn.execute(f"INSERT INTO clients ({cols}) VALUES ({', '.join('?' * len(row))})",
                                 list(row.values()))
                    exp.live[email] = {k: _norm(k, row[k]) for k in FIELDS}
                    exp.why[email] = "created in db"
        finally:
            conn.close()
        self.edits = Counter({k: len(v) for k, v in plan.items()})
        self.edits.update(csv_create=csv_creates, db_create=db_creates)

    @staticmethod
    def _db_update(conn: sqlite3.Connection, email: str, ts: str, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        done = conn.execute(f"UPDATE clients SET {sets}, updated_at = ? WHERE lower(email) = ? "
                            "AND deleted_at IS NULL", [*values.values(), ts, email])
        if done.rowcount != 1:
            raise RuntimeError(f"the baseline has {done.rowcount} live db rows for {email}")

    # -- what the kill harness watches -----------------------------------------------------------
    def sqlite_watch(self) -> dict[str, Path]:
        return {"commit": self.ledger_path, "target": self.db_path}

    def file_watch(self) -> dict[str, Path]:
        return {"target": self.csv_path}

    def kill_targets(self) -> list[tuple[str, str, int]]:
        """Writes every trial causes: the CSV file is replaced (creates, then updates and deletes)
        and the table gets a commit or two, each followed by a ledger commit."""
        return [("target", "clients.csv replaced", 3), ("target", "target commit", 2)]

    # -- checks ----------------------------------------------------------------------------------
    def check(self) -> list[Problem]:
        problems: list[Problem] = []
        csv_rows = self.csv_rows()
        db_rows = self.db_rows()
        sides = {
            "csv": {r["email"].lower(): r for r in csv_rows},
            "db": {str(r["email"]).lower(): r for r in db_rows},
        }
        for side, rows in (("csv", csv_rows), ("db", db_rows)):
            counts = Counter(str(r["email"]).lower() for r in rows)
            for email, n in sorted(counts.items()):
                if n > 1:
                    keys = [str(r["id"]) for r in rows if str(r["email"]).lower() == email]
                    problems.append(Problem("duplicate", f"{side}: {n} live rows for {email} "
                                                         f"({self.expected.why.get(email, '?')}), keys {keys}"))
            ids = Counter(str(r["id"]) for r in rows)
            for key, n in sorted(ids.items()):
                if n > 1:
                    problems.append(Problem("duplicate", f"{side}: key {key} on {n} rows"))
        exp = self.expected
        for side, rows_by_email in sides.items():
            for email, why in sorted(exp.deleted.items()):
                if email in rows_by_email:
                    problems.append(Problem("lost_delete", f"{email} ({why}) is still live in {side} "
                                                           f"(key {rows_by_email[email]['id']})"))
            for email in sorted(set(rows_by_email) - set(exp.live) - set(exp.deleted)):
                problems.append(Problem("unexpected", f"{side}: a row nobody made: {email} "
                                                      f"(key {rows_by_email[email]['id']})"))
            for email, want in sorted(exp.live.items()):
                row = rows_by_email.get(email)
                if row is None:
                    problems.append(Problem("missing", f"{email} ({exp.why[email]}) is not live in {side}"))
                    continue
                wrong = {k: (v, _norm(k, row.get(k))) for k, v in want.items() if _norm(k, row.get(k)) != v}
                if wrong:
                    kind = "wrong_value" if exp.why[email] == "unedited" else "lost_edit"
                    shown = "; ".join(f"{k}: want {a!r} got {b!r}" for k, (a, b) in wrong.items())
                    problems.append(Problem(kind, f"{side} key {row['id']} {email} ({exp.why[email]}): {shown}"))
        view = LedgerView.read(self.ledger_path, self.pipeline)
        csv_by_key = {r["id"]: r for r in csv_rows}
        db_by_key = {str(r["id"]): r for r in db_rows}
        check_pair_links(view, "clients", csv_by_key, db_by_key, problems, left_name="csv", right_name="db")
        joined_wrong = [f"{lk}->{rk}" for lk, rk in view.links.get("clients", [])
                        if lk in csv_by_key and rk in db_by_key
                        and csv_by_key[lk]["email"].lower() != str(db_by_key[rk]["email"]).lower()]
        if joined_wrong:
            problems.append(Problem("ledger", f"clients: links joining different records: {joined_wrong[:8]}"))
        check_pending(view, problems)
        return problems

    def ledger_view(self) -> LedgerView:
        return LedgerView.read(self.ledger_path, self.pipeline)

    def close(self) -> None:
        pass
