"""The kill -9 machinery: run the real `syncengine sync` in a child process, SIGKILL it at a chosen
point, rerun it until it exits 0, and check a further sync is quiet.

Kill points (a :class:`KillPlan`):

* ``time``: a delay from the spawn, drawn within the measured wall time of an uninterrupted sync;
* ``commit``: the N-th commit to the ledger, seen by polling SQLite's ``PRAGMA data_version``
  from this process (so the next statement after that commit is racing the kill);
* ``target``: the N-th write to a store the engine writes to (a commit to the SQLite database, the
  CSV file replaced), seen the same way: a kill here lands between a write and its ledger commit;
* ``request`` / ``write`` (FreshBooks): the N-th API request / the N-th write the sandbox applied,
  killed from inside the sandbox just before it sends the answer (optionally a few ms later), so
  the engine never hears what it created.

Nothing is injected into the child: it is the installed ``syncengine`` command with its own
config; the kill is a real ``SIGKILL`` of its process id.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: How long one `syncengine sync` may take before the harness calls it hung (and kills it).
SYNC_TIMEOUT = 180.0
#: Reruns after the kill before a trial is declared "never succeeded".
MAX_RERUNS = 5
#: Seconds between polls of the watched files.
POLL_INTERVAL = 0.0005

WRITES_RE = re.compile(r"(\d+) writes, run (\d+)")


def syncengine_exe() -> str:
    """The `syncengine` console script beside this interpreter (the venv's editable install)."""
    candidate = Path(sys.executable).with_name("syncengine")
    if candidate.exists():
        return str(candidate)
    raise SystemExit(f"no syncengine command beside {sys.executable}: run `make lint` to create .venv")


@dataclass
class Problem:
    """One thing a trial found wrong; ``kind`` is one of :data:`KINDS`."""

    kind: str
    detail: str


KINDS = (
    "duplicate",        # two records for one source record (either side)
    "missing",          # a record that should exist on a side does not (lost create)
    "lost_edit",        # a field does not hold the value the conflict policy says
    "lost_delete",      # a deleted record is still alive on the other side
    "unexpected",       # a live record nobody made
    "wrong_value",      # a record nobody edited changed
    "ledger",           # link to a missing record, unlinked record, pending intent, count mismatch
    "not_quiet",        # the sync after the successful rerun wrote something
    "no_success",       # no rerun exited 0 within MAX_RERUNS
    "hung",             # a sync ran past SYNC_TIMEOUT
    "harness",          # the harness itself failed (setup); not a verdict on the engine
)


@dataclass
class KillPlan:
    mode: str = "none"          # none | time | active | commit | target | request | write
    n: int = 0                  # the event count to kill at (event modes)
    #: seconds: from the spawn (time), from the first event (active), or after the event (event modes)
    delay: float = 0.0
    #: event modes: count only events whose label contains this (e.g. "POST invoices")
    match: str = ""

    def describe(self) -> str:
        if self.mode == "none":
            return "no kill"
        if self.mode == "time":
            return f"at {self.delay * 1000:.0f} ms"
        if self.mode == "active":
            return f"{self.delay * 1000:.0f} ms into the run"
        extra = f" +{self.delay * 1000:.0f} ms" if self.delay else ""
        which = f"{self.mode} [{self.match}]" if self.match else self.mode
        return f"after {which} #{self.n}{extra}"

    def spec(self) -> str:
        """The --kill text that repeats this plan."""
        if self.mode == "none":
            return "none"
        if self.mode in ("time", "active"):
            return f"{self.mode}:{self.delay:.3f}"
        which = f"{self.mode}@{self.match}" if self.match else self.mode
        return f"{which}:{self.n}" + (f"+{self.delay}" if self.delay else "")


@dataclass
class Outcome:
    """What happened to the child the plan was aimed at."""

    killed: bool = False
    rc: int | None = None
    seconds: float = 0.0
    events: dict[str, int] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)
    #: seconds from spawn to the first event (the end of start-up: imports, config, ledger open)
    first_event: float | None = None
    last_event: float | None = None
    #: intents the killed run left pending: > 0 means the kill landed inside a write batch
    #: (after the intent's commit, before the commit of its results)
    pending: int = 0

    def describe(self) -> str:
        if not self.killed:
            return f"not killed (exit {self.rc} after {self.seconds:.2f} s)"
        seen = ", ".join(f"{k}={v}" for k, v in sorted(self.events.items()))
        last = "; ".join(f"last {k}: {v}" for k, v in sorted(self.last.items()) if k == "write")
        inside = f"; {self.pending} intent(s) left pending" if self.pending else ""
        return f"SIGKILL at {self.seconds:.2f} s ({seen}{'; ' + last if last else ''}{inside})"


@dataclass
class SyncRun:
    rc: int
    seconds: float
    writes: int | None
    run_id: int | None
    stdout: str
    stderr: str

    def tail(self, lines: int = 6) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:])


@dataclass
class TrialResult:
    pipeline: str
    trial: int
    seed: int
    variant: str
    plan: KillPlan
    outcome: Outcome
    reruns: list[int] = field(default_factory=list)      # exit codes of the reruns
    quiet_writes: int | None = None
    problems: list[Problem] = field(default_factory=list)
    edits: dict[str, int] = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> list[str]:
        return sorted({p.kind for p in self.problems})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["kill_point"] = self.plan.describe()
        data["kill_outcome"] = self.outcome.describe()
        return data


class Killer:
    """Counts events from the watchers and the sandbox hook; SIGKILLs the child at the plan's one."""

    def __init__(self, plan: KillPlan) -> None:
        self.plan = plan
        self.counts: dict[str, int] = {}
        self.last: dict[str, str] = {}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self.killed_at: float | None = None
        self.killed_counts: dict[str, int] = {}
        self.killed_last: dict[str, str] = {}
        self.first_event_at: float | None = None
        self.last_event_at: float | None = None
        self._timer: threading.Timer | None = None

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._proc = proc
            self._started = time.monotonic()

    def event(self, source: str, label: str = "") -> None:
        fire = False
        with self._lock:
            if self._proc is None:
                return
            self.counts[source] = self.counts.get(source, 0) + 1
            now = time.monotonic() - self._started
            self.last_event_at = now
            if self.first_event_at is None:
                self.first_event_at = now
                if self.plan.mode == "active":
                    self._later(self.plan.delay)
            if label:
                self.last[source] = label
            if self.plan.mode == source and self.killed_at is None:
                if self.plan.match:
                    if self.plan.match in label:
                        key = f"{source}@{self.plan.match}"
                        self.counts[key] = self.counts.get(key, 0) + 1
                        fire = self.counts[key] == self.plan.n
                else:
                    fire = self.counts[source] == self.plan.n
        if fire:
            if self.plan.delay > 0:
                self._later(self.plan.delay)
            else:
                self.kill()

    def _later(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self.kill)
        self._timer.daemon = True
        self._timer.start()

    def kill(self) -> None:
        """SIGKILL the child now, if it is still running (by its pid; it is our own child)."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.returncode is not None or self.killed_at is not None:
                return
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self.killed_at = time.monotonic() - self._started
            self.killed_counts = dict(self.counts)
            self.killed_last = dict(self.last)

    def detach(self) -> None:
        with self._lock:
            self._proc = None
            if self._timer is not None:
                self._timer.cancel()


class Watcher(threading.Thread):
    """Polls SQLite files (``PRAGMA data_version`` moves when another connection commits) and
    plain files (inode, size, mtime) and reports each change to the killer as one event."""

    def __init__(self, killer: Killer, sqlite_files: Mapping[str, Path], plain_files: Mapping[str, Path]) -> None:
        super().__init__(name="kill9-watcher", daemon=True)
        self.killer = killer
        self._stop_event = threading.Event()
        self._dbs: list[tuple[str, sqlite3.Connection, int]] = []
        for source, path in sqlite_files.items():
            conn = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
            self._dbs.append((source, conn, self._version(conn)))
        self._files = [(source, path, self._stat(path)) for source, path in plain_files.items()]

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        try:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return -1

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def run(self) -> None:
        while not self._stop_event.is_set():
            for i, (source, conn, version) in enumerate(self._dbs):
                now = self._version(conn)
                if now != version:
                    self._dbs[i] = (source, conn, now)
                    self.killer.event(source, f"{source} commit")
            for i, (source, path, stat) in enumerate(self._files):
                now_stat = self._stat(path)
                if now_stat != stat:
                    self._files[i] = (source, path, now_stat)
                    self.killer.event(source, f"{path.name} replaced")
            time.sleep(POLL_INTERVAL)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
        for _, conn, _ in self._dbs:
            conn.close()


def parse_writes(stdout: str) -> tuple[int | None, int | None]:
    match = WRITES_RE.search(stdout)
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _spawn(args: list[str], env: Mapping[str, str], cwd: Path, log: Path) -> tuple[subprocess.Popen[bytes], Any, Any]:
    out = (log.with_suffix(".out")).open("wb")
    err = (log.with_suffix(".err")).open("wb")
    proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    return proc, out, err


def _collect(log: Path, rc: int, seconds: float) -> SyncRun:
    stdout = log.with_suffix(".out").read_text(encoding="utf-8", errors="replace")
    stderr = log.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
    writes, run_id = parse_writes(stdout)
    return SyncRun(rc, seconds, writes, run_id, stdout, stderr)


def sync_args(config: Path) -> list[str]:
    return [syncengine_exe(), "--log-level", "warning", "sync", "-c", str(config)]


def run_sync(config: Path, env: Mapping[str, str], cwd: Path, log: Path) -> SyncRun:
    """One uninterrupted `syncengine sync` (killed only if it hangs past SYNC_TIMEOUT)."""
    started = time.monotonic()
    proc, out, err = _spawn(sync_args(config), env, cwd, log)
    try:
        rc = proc.wait(timeout=SYNC_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        rc = -999
    finally:
        out.close()
        err.close()
    return _collect(log, rc, time.monotonic() - started)


def run_sync_with_kill(
    config: Path,
    env: Mapping[str, str],
    cwd: Path,
    log: Path,
    plan: KillPlan,
    *,
    sqlite_files: Mapping[str, Path],
    plain_files: Mapping[str, Path],
    hook: Callable[[Killer], Callable[[], None]] | None = None,
) -> tuple[SyncRun, Outcome]:
    """Run `syncengine sync`, kill it per ``plan``, and report what happened and the events seen.

    ``hook(killer)`` installs an in-process event source (the sandbox's request hook) and returns
    the function that removes it.
    """
    killer = Killer(plan)
    watcher = Watcher(killer, sqlite_files, plain_files)
    unhook = hook(killer) if hook is not None else None
    started = time.monotonic()
    proc, out, err = _spawn(sync_args(config), env, cwd, log)
    killer.attach(proc)
    watcher.start()
    try:
        if plan.mode == "time":
            try:
                proc.wait(timeout=plan.delay)
            except subprocess.TimeoutExpired:
                killer.kill()
        try:
            rc = proc.wait(timeout=SYNC_TIMEOUT)
        except subprocess.TimeoutExpired:
            killer.kill()
            rc = proc.wait()
            rc = -999
    finally:
        seconds = time.monotonic() - started
        killer.detach()
        watcher.stop()
        if unhook is not None:
            unhook()
        out.close()
        err.close()
    outcome = Outcome(
        killed=killer.killed_at is not None and rc == -signal.SIGKILL,
        rc=rc,
        seconds=killer.killed_at if killer.killed_at is not None else seconds,
        events=dict(killer.killed_counts if killer.killed_at is not None else killer.counts),
        last=dict(killer.killed_last if killer.killed_at is not None else killer.last),
        first_event=killer.first_event_at,
        last_event=killer.last_event_at,
    )
    return _collect(log, rc, seconds), outcome


def rerun_until_ok(config: Path, env: Mapping[str, str], cwd: Path, logdir: Path,
                   before_each: Callable[[int], None] | None = None) -> tuple[list[SyncRun], bool]:
    """Rerun `syncengine sync` until it exits 0, at most MAX_RERUNS times."""
    runs: list[SyncRun] = []
    for attempt in range(1, MAX_RERUNS + 1):
        if before_each is not None:
            before_each(attempt)
        run = run_sync(config, env, cwd, logdir / f"rerun{attempt}")
        runs.append(run)
        if run.rc == 0:
            return runs, True
    return runs, False
