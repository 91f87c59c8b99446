"""One trial: edits on both sides, `syncengine sync` killed at a drawn point, reruns until exit 0,
a quiet-sync check and the world's checks. Shared by `make bench-reliability` and the pytest test."""

from __future__ import annotations

import random
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.reliability.core import (
    Killer,
    KillPlan,
    Outcome,
    Problem,
    TrialResult,
    rerun_until_ok,
    run_sync,
    run_sync_with_kill,
)
from bench.reliability.ledger_view import LedgerView


class TrialWorld(Protocol):
    dir: Path
    config: Path
    env: dict[str, str]
    variant: str
    records: int
    edits: Any

    def edit(self, rng: random.Random, seed: int) -> None: ...
    def sqlite_watch(self) -> dict[str, Path]: ...
    def file_watch(self) -> dict[str, Path]: ...
    def kill_targets(self) -> list[tuple[str, str, int]]: ...
    def check(self) -> list[Problem]: ...
    def ledger_view(self) -> LedgerView: ...
    def close(self) -> None: ...


class World(Protocol):
    name: str

    def build(self) -> None: ...
    def trial(self, directory: Path, seed: int) -> TrialWorld: ...


@dataclass
class Calibration:
    """An uninterrupted sync of a trial's shape: its wall time and how many events of each kind."""

    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    startup: float = 0.0      # seconds before the first event (imports, config, ledger open)
    active: float = 0.0       # seconds from the first event to the last


#: How often each kind of kill point is drawn (among those a pipeline has):
#: ``targeted`` is the k-th write of a kind the trial's edits are known to cause (the world says
#: which: e.g. the k-th invoice created in FreshBooks, the k-th replacement of the CSV file).
WEIGHTS = {"targeted": 0.35, "active": 0.2, "commit": 0.15, "target": 0.1, "write": 0.05, "request": 0.05,
           "time": 0.1}


def draw_plan(rng: random.Random, cal: Calibration, targets: list[tuple[str, str, int]] | None = None) -> KillPlan:
    """A kill point spread over the run: a time within the measured run, a time after the run's
    first event within its measured span, the N-th event of a kind the calibration saw, or the
    k-th write of a kind the edits cause; event kills sometimes a few ms after the event."""
    targets = [t for t in targets or [] if t[2] > 0]
    modes = {m: w for m, w in WEIGHTS.items()
             if m in ("time", "active") or (m == "targeted" and targets) or cal.counts.get(m, 0) > 0}
    mode = rng.choices(list(modes), weights=list(modes.values()))[0]
    if mode == "time":  # from the spawn: mostly after start-up, sometimes during it
        low = 0.05 if rng.random() < 0.3 else 0.8 * cal.startup
        return KillPlan("time", delay=round(rng.uniform(low, max(low + 0.05, 0.9 * cal.seconds)), 3))
    if mode == "active":
        return KillPlan("active", delay=round(rng.uniform(0.0, cal.active * 1.1 + 0.02), 4))
    match = ""
    if mode == "targeted":
        mode, match, count = rng.choice(targets)
        n = rng.randint(1, count)
    else:
        # (the top is cut a little: runs vary, and a point after the end is no kill)
        n = rng.randint(1, max(1, round(0.85 * cal.counts.get(mode, 1))))
    if mode == "request":
        return KillPlan(mode, n, match=match)
    # A few ms after an applied write the engine has its answer; the ledger commit that follows a
    # local write comes within a millisecond or so, so those windows are sampled finer.
    if mode == "write":
        delay = 0.0 if rng.random() < 0.5 else rng.uniform(0.0, 0.05)
    else:
        delay = 0.0 if rng.random() < 0.6 else rng.uniform(0.0, 0.003)
    return KillPlan(mode, n, round(delay, 4), match)


def parse_kill(text: str) -> KillPlan:
    """``none``, ``time:0.8``, ``active:0.05``, ``commit:3``, ``write:7+0.01``,
    ``write@POST invoices:2`` (mode[@match]:n[+delay]); KillPlan.spec() writes these."""
    if text == "none":
        return KillPlan()
    head, _, rest = text.rpartition(":")
    mode, _, match = head.partition("@")
    if mode in ("time", "active"):
        return KillPlan(mode, delay=float(rest))
    n, _, delay = rest.partition("+")
    return KillPlan(mode, int(n), float(delay or 0), match)


Hook = Callable[[Killer], Callable[[], None]]


def run_trial(world: World, pipeline: str, number: int, seed: int, workdir: Path, *,
              calibration: Calibration | None, kill: KillPlan | None = None,
              faults: Callable[[TrialWorld, bool], None] | None = None,
              keep: bool = False) -> tuple[TrialResult, Calibration]:
    """Run one trial; with ``calibration`` None the sync is not killed and its figures are measured."""
    started = time.monotonic()
    directory = workdir / f"{pipeline}-{number:03d}-s{seed}"
    result = TrialResult(pipeline, number, seed, "", KillPlan(), Outcome())
    measured = Calibration()
    tw: TrialWorld | None = None
    try:
        tw = world.trial(directory, seed)
        result.variant = tw.variant
        result.records = tw.records
        rng = random.Random(seed)
        tw.edit(rng, seed)
        result.edits = dict(tw.edits)
        if calibration is not None:
            result.plan = kill if kill is not None else draw_plan(rng, calibration, tw.kill_targets())
        plan = result.plan
        if faults is not None:
            faults(tw, True)
        hook: Hook | None = getattr(tw, "hook", None)
        run, outcome = run_sync_with_kill(tw.config, tw.env, tw.dir, tw.dir / "killed", plan,
                                          sqlite_files=tw.sqlite_watch(), plain_files=tw.file_watch(), hook=hook)
        result.outcome = outcome
        measured = Calibration(run.seconds, dict(outcome.events), outcome.first_event or 0.0,
                               (outcome.last_event or 0.0) - (outcome.first_event or 0.0))
        if outcome.killed:
            outcome.pending = len(tw.ledger_view().pending)
        if run.rc == -999:
            result.problems.append(Problem("hung", f"the first sync ran past its timeout: {run.tail()}"))
        succeeded = run.rc == 0
        if not succeeded:
            reruns, succeeded = rerun_until_ok(tw.config, tw.env, tw.dir, tw.dir)
            result.reruns = [r.rc for r in reruns]
            if not succeeded:
                result.problems.append(Problem("no_success", f"{len(reruns)} reruns, none exited 0; last: "
                                                             f"{reruns[-1].tail()}"))
            elif any(r.rc == -999 for r in reruns):
                result.problems.append(Problem("hung", "a rerun ran past its timeout"))
        if faults is not None:
            faults(tw, False)
        # The state the successful rerun left (or the last failed one), before anything else runs.
        result.problems.extend(tw.check())
        if succeeded:
            quiet = run_sync(tw.config, tw.env, tw.dir, tw.dir / "quiet")
            writes = quiet.writes
            if writes is None and quiet.run_id is not None:
                writes = tw.ledger_view().run_writes(quiet.run_id)
            result.quiet_writes = writes
            if quiet.rc != 0 or writes != 0:
                result.problems.append(Problem("not_quiet", f"the sync after success: exit {quiet.rc}, "
                                                            f"{writes} writes: {busy_pairs(quiet.stdout)}"
                                                            f"{' ' + quiet.tail(3) if quiet.rc else ''}"))
    except Exception as exc:  # the harness's own failure, reported as such, never as a pass
        result.problems.append(Problem("harness", f"{exc!r} at {traceback.format_exc(limit=-3)}"))
    finally:
        if tw is not None:
            tw.close()
        result.seconds = time.monotonic() - started
        if result.ok and not keep:
            _remove(directory)
    return result, measured


def busy_pairs(stdout: str) -> str:
    """The rows of a sync's summary table that are not all zero, as `pair: created ←0 →1, ...`."""
    columns = ("created", "updated", "deleted", "archived", "linked", "conflicts", "errors")
    shown = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) != len(columns) + 1 or cells[0] == "pair":
            continue
        busy = [f"{name} {value}" for name, value in zip(columns, cells[1:], strict=True) if value != "0"]
        if busy:
            shown.append(f"{cells[0]}: {', '.join(busy)}")
    return "; ".join(shown) or "(no summary table)"


def _remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
