"""The figures: a table of trials and failures by kind, each failing trial with what to rerun."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.reliability.core import KINDS, TrialResult


def summary_rows(results: Sequence[TrialResult]) -> list[dict[str, Any]]:
    rows = []
    for pipeline in dict.fromkeys(r.pipeline for r in results):
        mine = [r for r in results if r.pipeline == pipeline]
        kinds: Counter[str] = Counter(k for r in mine for k in r.kinds())
        killed = [r for r in mine if r.outcome.killed]
        rows.append({
            "pipeline": pipeline, "trials": len(mine), "killed": len(killed),
            "inside_batch": sum(1 for r in killed if r.outcome.pending),
            "failed": sum(1 for r in mine if not r.ok), **{k: kinds.get(k, 0) for k in KINDS},
            "median_s": round(statistics.median(r.seconds for r in mine), 2) if mine else 0.0,
            "records": max((r.records for r in mine), default=0),
            "modes": dict(Counter(r.plan.mode for r in mine)),
        })
    return rows


def table(results: Sequence[TrialResult]) -> str:
    rows = summary_rows(results)
    kinds = [k for k in KINDS if any(r[k] for r in rows)] or ["duplicate", "lost_delete"]
    head = ["pipeline", "trials", "killed", "mid-batch", "failed", *kinds, "s/trial"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = [r["pipeline"], r["trials"], r["killed"], r["inside_batch"], r["failed"], *(r[k] for k in kinds),
                 r["median_s"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def reproduce(r: TrialResult) -> str:
    pipeline = r.pipeline.split(" ")[0]
    return (f"python -m bench.reliability --pipeline {pipeline} --seed {r.seed} --trials 1 "
            f"--kill '{r.plan.spec()}' --keep")


def failure_lines(r: TrialResult, most: int = 6) -> list[str]:
    lines = [f"- {r.pipeline} trial {r.trial} seed {r.seed} ({r.variant}): kill {r.plan.describe()} -> "
             f"{r.outcome.describe()}; reruns {r.reruns or '-'}; kinds {', '.join(r.kinds())}",
             f"  reproduce: `{reproduce(r)}`"]
    lines += [f"  - [{p.kind}] {p.detail}" for p in r.problems[:most]]
    if len(r.problems) > most:
        lines.append(f"  - ... {len(r.problems) - most} more")
    return lines


def markdown(results: Sequence[TrialResult], meta: dict[str, Any]) -> str:
    out = [f"# kill -9 reliability, {meta['date']}", "",
           f"`make bench-reliability` ({meta['command']}); {meta['machine']}; commit {meta['commit']}.", "",
           "Each trial: edits on both sides (creates, updates, conflicting updates with a known winner, "
           "deletes), `syncengine sync` SIGKILLed at a drawn point, reruns until exit 0, then a sync that "
           "must write nothing, then checks against the known expected values and the ledger.", "",
           table(results), "",
           "killed: trials whose child really died by SIGKILL (a drawn point after the end of the run is no "
           "kill); mid-batch: of those, kills that left an intent pending (between the intent's commit and "
           "the commit of the write's result); failure columns count trials (one trial can fail several ways); "
           "s/trial: median seconds per trial, setup and every sync included.", "",
           "Kill points drawn: " + "; ".join(f"{r['pipeline']}: {r['modes']}" for r in summary_rows(results)),
           "", "## Failing trials", ""]
    failing = [r for r in results if not r.ok]
    for r in failing:
        out += failure_lines(r)
    if not failing:
        out.append("none")
    return "\n".join(out) + "\n"


def write(results: Sequence[TrialResult], directory: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%MZ")
    md = directory / f"reliability-{stamp}.md"
    js = directory / f"reliability-{stamp}.json"
    md.write_text(markdown(results, meta))
    js.write_text(json.dumps({"meta": meta, "summary": summary_rows(results),
                              "trials": [r.to_json() for r in results]}, indent=1, default=str))
    return md, js


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
