"""kill -9 of the real `syncengine sync`, then reruns: no duplicates, no lost edits or deletes, a
consistent ledger and a quiet sync after (the 10-trial version of `make bench-reliability`).

Each trial edits both sides (creates, updates, conflicting updates with a known winner, deletes),
starts `syncengine sync` in a child process and SIGKILLs it at a fixed event: the N-th remote
write the FreshBooks sandbox applies (killed before its answer leaves, or a few ms after), the
N-th commit to the ledger or to the SQLite database, the CSV file being replaced. The trial code
is bench/reliability/; a failure message carries the command that repeats the trial.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.reliability.core import TrialResult
from bench.reliability.csv_sqlite import CsvSqliteBase
from bench.reliability.freshbooks_sqlite import FreshBooksBase
from bench.reliability.report import failure_lines
from bench.reliability.runner import Calibration, World, parse_kill, run_trial

# (seed, kill point), as `python -m bench.reliability --seed S --trials 1 --kill K` takes them. Seeds
# alternate the CSV configuration (even: the `syncengine init` starter, ids mapped and a match rule;
# odd: keys generated on both sides, only the ledger links records). `target@target commit:1` is the
# engine's first commit to the SQLite table (the kill lands before the ledger commit that follows
# it, most of the time), `target@clients.csv replaced:2` the second time it replaces the CSV file;
# `write@POST invoices:1` the first invoice the sandbox creates (killed before its answer leaves;
# `+0.02`: 20 ms after).
CSV_TRIALS = [(2, "target@target commit:1"), (3, "target@target commit:1"), (4, "target@clients.csv replaced:1"),
              (5, "commit:3"), (7, "target@clients.csv replaced:2+0.001")]
FRESHBOOKS_TRIALS = [(11, "write@POST invoices:1"), (12, "write@POST invoices:2+0.02"), (13, "write@POST clients:1"),
                     (14, "write@PUT clients/:1"), (15, "commit:5")]


@pytest.fixture(scope="module")
def csv_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvSqliteBase]:
    world = CsvSqliteBase(tmp_path_factory.mktemp("kill9-csv"))
    world.build()
    yield world


@pytest.fixture(scope="module")
def freshbooks_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshBooksBase]:
    world = FreshBooksBase(tmp_path_factory.mktemp("kill9-freshbooks"))
    world.build()
    yield world


def trial(world: World, pipeline: str, seed: int, kill: str, workdir: Path) -> TrialResult:
    result, _ = run_trial(world, pipeline, seed, seed, workdir, calibration=Calibration(), kill=parse_kill(kill),
                          keep=True)
    return result


def verdict(result: TrialResult) -> str:
    return "\n".join(failure_lines(result, most=12))


@pytest.mark.xdist_group("kill9-csv")
@pytest.mark.parametrize(("seed", "kill"), CSV_TRIALS, ids=[f"seed{s}-{k}" for s, k in CSV_TRIALS])
def test_kill9_csv_sqlite(csv_world: CsvSqliteBase, tmp_path: Path, seed: int, kill: str) -> None:
    result = trial(csv_world, "csv", seed, kill, tmp_path)
    assert result.outcome.killed, f"the kill point {kill} was never reached: {result.outcome.describe()}"
    assert result.ok, verdict(result)
    assert result.quiet_writes == 0


@pytest.mark.xdist_group("kill9-freshbooks")
@pytest.mark.parametrize(("seed", "kill"), FRESHBOOKS_TRIALS, ids=[f"seed{s}-{k}" for s, k in FRESHBOOKS_TRIALS])
def test_kill9_freshbooks_sqlite(freshbooks_world: FreshBooksBase, tmp_path: Path, seed: int, kill: str) -> None:
    result = trial(freshbooks_world, "freshbooks", seed, kill, tmp_path)
    assert result.outcome.killed, f"the kill point {kill} was never reached: {result.outcome.describe()}"
    assert result.ok, verdict(result)
    assert result.quiet_writes == 0
