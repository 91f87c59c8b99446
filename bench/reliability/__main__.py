"""`make bench-reliability`: kill -9 trials of the real `syncengine sync`, then reruns and checks.

    python -m bench.reliability                                   # 100 csv, 100 freshbooks, 20 with faults
    python -m bench.reliability --pipeline csv --trials 30
    python -m bench.reliability --trials 30 --faults-trials 10
    python -m bench.reliability --pipeline freshbooks --seed 1234 --trials 1 --kill write:7 --keep

Results: a table on stdout and bench/results/reliability-<date>.{md,json}.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.reliability import report
from bench.reliability.core import TrialResult
from bench.reliability.csv_sqlite import CsvSqliteBase
from bench.reliability.freshbooks_sqlite import FreshBooksBase
from bench.reliability.runner import Calibration, World, parse_kill, run_trial

HERE = Path(__file__).resolve().parent
DEFAULT_TRIALS = {"csv": 100, "freshbooks": 100, "freshbooks-faults": 20}
#: Calibration trials use seeds far from the numbered ones, so `--seed S --trials 1` repeats trial S.
CALIBRATION_SEED = 900_000


def faults_switch(name: str) -> Callable[[Any, bool], None] | None:
    if name != "freshbooks-faults":
        return None
    return lambda tw, on: tw.set_faults(on)


class Worlds:
    """Baselines are built on first use; the two FreshBooks pipelines share one."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._csv: CsvSqliteBase | None = None
        self._fb: FreshBooksBase | None = None

    def get(self, name: str) -> World:
        if name == "csv":
            if self._csv is None:
                self._csv = CsvSqliteBase(self.workdir)
                self._csv.build()
            return self._csv
        if self._fb is None:
            self._fb = FreshBooksBase(self.workdir)
            self._fb.build()
        if name == "freshbooks":
            return self._fb
        faulty = copy.copy(self._fb)
        faulty.faults = True
        faulty.name = name
        return faulty


def run_pipeline(worlds: Worlds, name: str, trials: int, seed: int, *, kill: str | None, keep: bool,
                 calibration: Calibration | None = None) -> list[TrialResult]:
    world = worlds.get(name)
    print(f"== {name}", flush=True)
    results: list[TrialResult] = []
    if calibration is None and kill:
        calibration = Calibration()  # a forced kill point needs no measured run
    if calibration is None:
        cal_result, calibration = run_trial(world, name, 0, CALIBRATION_SEED + seed, worlds.workdir,
                                            calibration=None, faults=faults_switch(name), keep=keep)
        cal_result.pipeline = f"{name} (uninterrupted)"
        results.append(cal_result)
        _print(cal_result)
        print(f"   calibration: {calibration.seconds:.2f} s (start-up {calibration.startup:.2f} s, active "
              f"{calibration.active:.3f} s), events {calibration.counts}", flush=True)
    plan = parse_kill(kill) if kill else None
    for i in range(trials):
        result, _ = run_trial(world, name, i + 1, seed + i, worlds.workdir, calibration=calibration, kill=plan,
                              faults=faults_switch(name), keep=keep)
        results.append(result)
        _print(result)
    return results


def _print(r: TrialResult) -> None:
    verdict = "ok" if r.ok else "FAIL " + ", ".join(r.kinds())
    print(f"{r.pipeline:<18} #{r.trial:<3} seed {r.seed:<7} {r.variant:<7} kill {r.plan.describe():<22} "
          f"{r.outcome.describe()[:70]:<70} reruns {r.reruns or '-'}  {verdict}  ({r.seconds:.1f} s)", flush=True)
    if not r.ok:
        for p in r.problems[:4]:
            print(f"      [{p.kind}] {p.detail[:300]}", flush=True)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default="all",
                        help="csv, freshbooks, freshbooks-faults, several joined by commas, or all (default)")
    parser.add_argument("--trials", type=int, help="trials per pipeline (default 100, 100 and 20)")
    parser.add_argument("--faults-trials", type=int, help="trials of freshbooks-faults (default: --trials, else 20)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first trial; trial i uses seed+i")
    parser.add_argument("--kill", help="force one kill point: none, time:SECONDS, commit:N, target:N, "
                                       "request:N or write:N, each optionally +DELAY seconds")
    parser.add_argument("--keep", action="store_true", help="keep every trial's folder (failing ones are kept)")
    parser.add_argument("--workdir", type=Path, default=HERE.parent / "work" / "reliability")
    parser.add_argument("--results", type=Path, default=HERE.parent / "results")
    parser.add_argument("--no-write", action="store_true", help="print only; write no results file")
    args = parser.parse_args(argv)

    args.workdir = args.workdir.resolve()
    names = list(DEFAULT_TRIALS) if args.pipeline == "all" else args.pipeline.split(",")
    unknown = [n for n in names if n not in DEFAULT_TRIALS]
    if unknown:
        parser.error(f"unknown pipeline(s) {unknown}: choose from {', '.join(DEFAULT_TRIALS)} or all")
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    worlds = Worlds(args.workdir)
    started = time.monotonic()
    results: list[TrialResult] = []
    for name in names:
        trials = args.trials if args.trials is not None else DEFAULT_TRIALS[name]
        if name == "freshbooks-faults" and args.faults_trials is not None:
            trials = args.faults_trials
        results += run_pipeline(worlds, name, trials, args.seed, kill=args.kill, keep=args.keep)
    elapsed = time.monotonic() - started
    print()
    print(report.table(results))
    failing = [r for r in results if not r.ok]
    if failing:
        print("\nFailing trials:")
        for r in failing:
            print("\n".join(report.failure_lines(r, most=3)))
    print(f"\n{len(results)} trials in {elapsed / 60:.1f} min")
    if not args.no_write:
        meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": report.machine(),
                "commit": _commit(), "command": " ".join(["python -m bench.reliability", *(argv or sys.argv[1:])]),
                "seconds": round(elapsed, 1)}
        md, js = report.write(results, args.results, meta)
        print(f"written: {md} and {js.name}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
