"""Reads the ledger (a SQLite file) directly, to check it against both sides after a trial."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.reliability.core import Problem


@dataclass
class LedgerView:
    links: dict[str, list[tuple[str, str]]] = field(default_factory=dict)   # pair -> [(left, right)]
    pending: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, pipeline: str) -> LedgerView:
        view = cls()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            for pair, left, right in conn.execute(
                    "SELECT pair, left_key, right_key FROM links WHERE pipeline = ? AND status = 'active' "
                    "ORDER BY id", (pipeline,)):
                view.links.setdefault(pair, []).append((str(left), str(right)))
            view.pending = [tuple(r) for r in conn.execute(
                "SELECT pair, side, op, source_key, target_key FROM intents WHERE pipeline = ? AND state = 'pending'",
                (pipeline,))]
            for run_id, status, counts in conn.execute(
                    "SELECT id, status, counts_json FROM runs WHERE pipeline = ?", (pipeline,)):
                view.runs[int(run_id)] = {"status": status, "counts": json.loads(counts or "{}")}
        finally:
            conn.close()
        return view

    def run_writes(self, run_id: int) -> int | None:
        run = self.runs.get(run_id)
        if run is None:
            return None
        counts = run["counts"]
        return sum(int(v) for k, v in counts.items()
                   if k.split("_")[0] in ("created", "updated", "deleted", "archived") and isinstance(v, int))


def check_pair_links(view: LedgerView, pair: str, left: Mapping[str, Any], right: Mapping[str, Any],
                     problems: list[Problem], *, left_name: str = "left", right_name: str = "right",
                     most: int = 8) -> None:
    """Every active link's keys exist on both sides; every live record is linked; counts agree."""
    links = view.links.get(pair, [])
    dangling_left = [f"{lk}->{rk}" for lk, rk in links if lk not in left]
    dangling_right = [f"{lk}->{rk}" for lk, rk in links if rk not in right]
    linked_left = {lk for lk, _ in links}
    linked_right = {rk for _, rk in links}
    unlinked_left = sorted(k for k in left if k not in linked_left)
    unlinked_right = sorted(k for k in right if k not in linked_right)
    if dangling_left:
        problems.append(Problem("ledger", f"{pair}: {len(dangling_left)} link(s) to a {left_name} record that "
                                          f"does not exist: {dangling_left[:most]}"))
    if dangling_right:
        problems.append(Problem("ledger", f"{pair}: {len(dangling_right)} link(s) to a {right_name} record that "
                                          f"does not exist: {dangling_right[:most]}"))
    if unlinked_left:
        problems.append(Problem("ledger", f"{pair}: {len(unlinked_left)} live {left_name} record(s) without a "
                                          f"link: {unlinked_left[:most]}"))
    if unlinked_right:
        problems.append(Problem("ledger", f"{pair}: {len(unlinked_right)} live {right_name} record(s) without a "
                                          f"link: {unlinked_right[:most]}"))
    if not (len(links) == len(left) == len(right)):
        problems.append(Problem("ledger", f"{pair}: {len(links)} links, {len(left)} live {left_name} records, "
                                          f"{len(right)} live {right_name} records"))


def check_pending(view: LedgerView, problems: list[Problem], most: int = 8) -> None:
    if view.pending:
        shown = [f"{pair} {op} on {side} src={src} tgt={tgt}" for pair, side, op, src, tgt in view.pending[:most]]
        problems.append(Problem("ledger", f"{len(view.pending)} pending intent(s) after a successful run: {shown}"))
