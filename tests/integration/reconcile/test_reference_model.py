"""A reference model of two-way sync, checked against the real engine step by step.

The convergence property (``test_convergence.py``) only sees that both sides agree; a wrong answer
that both sides share passes it. Here a few lines of plain Python say what each sync must
produce, from the last agreed state and the edits made on each side since, under the pair's
rules (``left_wins``, deletes propagate):

* a field changed on one side takes that side's value; changed on both, the left value wins;
* a record deleted on either side is gone from both, even if the other side edited it;
* a new record on one side appears on the other with the same values; one made on both sides
  (matched by email) keeps every value either side holds, the left one where both do;
* ``""`` and an empty cell are one value;
* a row deleted from a table (not soft-deleted) is carried over by ``sync --full``.

Hypothesis drives random interleavings of outside edits (a CSV file and a SQL table, edited
directly, never through the engine) and syncs, and after every sync compares both stores with
the model exactly, and checks that a second sync writes nothing.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.conftest import PG_URL, sqlalchemy_pg_url
from tests.integration.reconcile.world import CsvStore, SqlStore, Store, World, now

FIELDS = ("first_name", "last_name", "balance")
TEXTS = st.sampled_from(["Ann", "Bob", "Cy", "", None])
AMOUNTS = st.sampled_from(["0.00", "1.50", "12.30", "1000000.01", None])
SIDES = st.sampled_from(["left", "right"])

Values = dict[str, Any]


def _norm(field: str, value: Any) -> Any:
    """The common shape of one stored value: "" is empty, amounts compare as decimals."""
    if value is None or value == "":
        return None
    return Decimal(str(value)) if field == "balance" else str(value)


def _shape(row: dict[str, Any]) -> Values:
    return {f: _norm(f, row.get(f)) for f in FIELDS}


class Model:
    """What each side holds, and what both agreed on at the last sync."""

    def __init__(self) -> None:
        self.agreed: dict[str, Values] = {}
        self.sides: dict[str, dict[str, Values]] = {"left": {}, "right": {}}

    def expected(self) -> dict[str, Values]:
        left, right = self.sides["left"], self.sides["right"]
        result: dict[str, Values] = {}
        for key in set(self.agreed) | set(left) | set(right):
            base, mine, theirs = self.agreed.get(key), left.get(key), right.get(key)
            if base is None:
                if mine is not None and theirs is not None:
                    # Made on both sides (matched by email): without a base, an empty value
                    # never wins, and where both hold one the left wins.
                    result[key] = {f: theirs[f] if mine[f] is None else mine[f] for f in FIELDS}
                else:
                    result[key] = dict(mine if mine is not None else theirs or {})
                continue
            if mine is None or theirs is None:
                continue  # deleted on a side: the delete wins over any edit on the other
            merged: Values = {}
            for f in FIELDS:
                if mine[f] != base[f]:
                    merged[f] = mine[f]  # changed on the left (and on both: left wins)
                elif theirs[f] != base[f]:
                    merged[f] = theirs[f]
                else:
                    merged[f] = base[f]
            result[key] = merged
        return result

    def settle(self, state: dict[str, Values]) -> None:
        self.agreed = {k: dict(v) for k, v in state.items()}
        self.sides = {"left": {k: dict(v) for k, v in state.items()},
                      "right": {k: dict(v) for k, v in state.items()}}


class SyncAgainstModel(RuleBasedStateMachine):
    #: keep the ledger in a fresh PostgreSQL schema per example instead of a SQLite file.
    postgres: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.world: World | None = None
        self.model = Model()
        self.clock = now()
        self.serial = 0
        self.schema: str | None = None
        self.needs_full = False

    @initialize(sql_key=st.sampled_from(["string"]))
    def start(self, sql_key: str) -> None:
        root = Path(self.tmp.name)
        ledger = f"sqlite:///{root / 'ledger.db'}"
        if self.postgres:
            self.schema = f"m_{uuid.uuid4().hex[:12]}"
            with _pg_admin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            ledger = f"{sqlalchemy_pg_url(PG_URL)}?options=-csearch_path%3D{self.schema}"
        self.world = World(root, ledger, CsvStore(root / "clients.csv"),
                           SqlStore(f"sqlite:///{root / 'target.db'}", key_type=sql_key),
                           conflict="left_wins", deletes="propagate", match=True)

    def _store(self, side: str) -> Store:
        assert self.world is not None
        return self.world.left if side == "left" else self.world.right

    def _tick(self) -> Any:
        # Outside writers stamp a clock that only moves forward, as a table's updated_at does.
        self.clock += timedelta(seconds=1)
        return self.clock

    @rule(side=SIDES, first=TEXTS, last=TEXTS, balance=AMOUNTS)
    def insert(self, side: str, first: str | None, last: str | None, balance: str | None) -> None:
        self.serial += 1
        key = f"k{self.serial}"
        row = {"id": key, "email": f"{key}@x.io", "first_name": first, "last_name": last, "balance": balance}
        self._store(side).insert(row, at=self._tick())
        self.model.sides[side][key] = _shape(row)

    @rule(left=st.tuples(TEXTS, TEXTS, AMOUNTS), right=st.tuples(TEXTS, TEXTS, AMOUNTS))
    def insert_on_both_sides(self, left: tuple[Any, ...], right: tuple[Any, ...]) -> None:
        """The same client entered on both sides before they were linked (the match rule's case)."""
        self.serial += 1
        key = f"k{self.serial}"
        for side, values in (("left", left), ("right", right)):
            row = {"id": key, "email": f"{key}@x.io", **dict(zip(FIELDS, values, strict=True))}
            self._store(side).insert(row, at=self._tick())
            self.model.sides[side][key] = _shape(row)

    @precondition(lambda self: any(self.model.sides.values()))
    @rule(side=SIDES, pick=st.integers(0, 50), field=st.sampled_from(FIELDS), text=TEXTS, amount=AMOUNTS)
    def edit(self, side: str, pick: int, field: str, text: str | None, amount: str | None) -> None:
        keys = sorted(self.model.sides[side])
        if not keys:
            return
        key = keys[pick % len(keys)]
        value = amount if field == "balance" else text
        self._store(side).update(key, at=self._tick(), **{field: value})
        self.model.sides[side][key][field] = _norm(field, value)

    @precondition(lambda self: any(self.model.sides.values()))
    @rule(side=SIDES, pick=st.integers(0, 50), soft=st.booleans())
    def delete(self, side: str, pick: int, soft: bool) -> None:
        keys = sorted(self.model.sides[side])
        if not keys:
            return
        key = keys[pick % len(keys)]
        store = self._store(side)
        if soft and isinstance(store, SqlStore):
            store.soft_delete(key, at=self._tick())
        else:
            store.delete(key)
            # A row that vanishes from a table with updated_at leaves no trace for an incremental
            # pull: the documented way to carry it over is `sync --full` (a CSV file is always
            # listed whole).
            self.needs_full = self.needs_full or isinstance(store, SqlStore)
        del self.model.sides[side][key]

    @rule()
    def sync(self) -> None:
        assert self.world is not None
        expected = self.model.expected()
        report = self.world.sync(allow_mass_delete=True, full=self.needs_full)
        self.needs_full = False
        assert report.ok, report.errors + [e for p in report.pairs for e in p.errors]
        for side in ("left", "right"):
            got = {k: _shape(r) for k, r in self._store(side).rows().items()}
            assert got == expected, f"{side} after sync differs from the model"
        again = self.world.sync(allow_mass_delete=True)
        assert again.ok and again.writes == 0, "a second sync must find nothing to do"
        self.model.settle(expected)

    @invariant()
    def keys_line_up(self) -> None:
        if self.world is None:
            return
        assert all(left == right for left, right in self.world.links().items()), "ids are mapped one to one"

    def teardown(self) -> None:
        if self.world is not None:
            self.world.close()
        self.tmp.cleanup()
        if self.schema is not None:
            with _pg_admin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))


@contextmanager
def _pg_admin() -> Iterator[sa.Connection]:
    engine = sa.create_engine(sqlalchemy_pg_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


EXAMPLES = int(os.environ.get("SYNCENGINE_MODEL_EXAMPLES", "40"))


@pytest.mark.timeout(900)
def test_sync_matches_the_reference_model_on_sqlite() -> None:
    SyncAgainstModel.postgres = False
    run = SyncAgainstModel.TestCase
    run.settings = settings(max_examples=EXAMPLES, stateful_step_count=14, deadline=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_sync_matches_the_reference_model_with_a_postgres_ledger() -> None:
    SyncAgainstModel.postgres = True
    run = SyncAgainstModel.TestCase
    run.settings = settings(max_examples=max(EXAMPLES // 4, 5), stateful_step_count=10, deadline=None,
                            suppress_health_check=list(HealthCheck))
    try:
        run().runTest()
    finally:
        SyncAgainstModel.postgres = False
