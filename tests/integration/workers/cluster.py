"""A throwaway PostgreSQL database, SQLite <-> SQLite pipelines and `syncengine worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from syncengine.engine import Engine
from tests.conftest import PG_URL, sqlalchemy_pg_url
from tests.integration.reconcile.world import MAPPING, SqlStore, now

ROOT = Path(__file__).parents[3]


@contextmanager
def scratch_database(prefix: str = "h_worker") -> Iterator[str]:
    """A database of its own (``<prefix>_<random>``), dropped afterwards; yields its libpq URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def row(i: int, tag: str = "") -> dict[str, Any]:
    return {"id": f"r{i}", "email": f"p{i}{tag}@example.com", "first_name": f"First{i}{tag}",
            "last_name": f"Last{i}", "balance": f"{i}.25"}


class Cluster:
    """A config with pipelines ``name -> (left SQLite, right SQLite)``, a PostgreSQL ledger
    that is also procrastinate's database, and worker processes started on demand."""

    def __init__(self, root: Path, database: str, pipelines: dict[str, str | None], workers: str) -> None:
        self.root = root
        self.database = database
        self.stores: dict[str, tuple[SqlStore, SqlStore]] = {}
        connectors, pipes = [], []
        for name, schedule in pipelines.items():
            left, right = (SqlStore(f"sqlite:///{root / f'{name}_{side}.db'}") for side in ("left", "right"))
            self.stores[name] = (left, right)
            connectors.append(f"  {name}_left:\n{left.options()}  {name}_right:\n{right.options()}")
            pipes.append(f"  - name: {name}\n    left: {name}_left\n    right: {name}_right\n"
                         "    mapping: mapping.yaml\n" + (f"    schedule: \"{schedule}\"\n" if schedule else ""))
        (root / "mapping.yaml").write_text(MAPPING.format(conflict="newest_wins", deletes="propagate", match="",
                                                          id_field="      - {left: id, right: id}\n"))
        self.config = root / "config.yaml"
        self.config.write_text(f"ledger: \"{database}\"\nconnectors:\n" + "".join(connectors)
                               + "pipelines:\n" + "".join(pipes) + "workers:\n" + workers)
        with Engine(self.config) as engine:  # the ledger's schema, and each side's table (create: true)
            for name in pipelines:
                engine.mapping(name)
        self.sql = sa.create_engine(sqlalchemy_pg_url(database))
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    def load_left(self, pipeline: str, count: int) -> dict[str, dict[str, Any]]:
        left = self.stores[pipeline][0]
        table = sa.Table("clients", sa.MetaData(), autoload_with=left.engine)
        stamp = now().replace(tzinfo=None)
        rows = [row(i) for i in range(count)]
        with left.engine.begin() as conn:
            conn.execute(table.insert(), [{**r, "updated_at": stamp} for r in rows])
        return {r["id"]: r for r in rows}

    def start_worker(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"worker{len(self.procs)}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen([sys.executable, "-m", "syncengine", "--log-level", "info", "worker",
                                 "-c", str(self.config), *args],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("worker*.log")))

    def query(self, text: str, **params: Any) -> list[Any]:
        with self.sql.connect() as conn:
            return list(conn.execute(sa.text(text), params))

    def runs(self, pipeline: str) -> list[Any]:
        return self.query("SELECT id, started_at, finished_at, status, mode FROM runs WHERE pipeline = :p "
                          "ORDER BY started_at", p=pipeline)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            dead = [p.pid for p in self.procs if p.poll() is not None and p.returncode != -signal.SIGKILL]
            assert not dead, f"worker(s) {dead} exited while waiting for {what}:\n{self.logs()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.logs()}"
            time.sleep(0.05)

    def stop_all(self) -> list[int | None]:
        """SIGTERM every live worker; their exit codes (None: still running after 30 s)."""
        live = [p for p in self.procs if p.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for proc in live:
            try:
                codes.append(proc.wait(timeout=30))
            except subprocess.TimeoutExpired:
                codes.append(None)
        return codes

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        for log in self._logs:
            log.close()
        self.sql.dispose()
        for left, right in self.stores.values():
            left.dispose()
            right.dispose()
