"""Property: any interleaving of edits on both sides and syncs converges, and both sides then
agree through the mapping, and one more sync writes nothing."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.reconcile.world import CsvStore, SqlStore, World, now

SIDES = st.sampled_from(["left", "right"])
NAMES = st.sampled_from(["Ann", "Bob", "Cy", "Dee"])
FIELDS = st.sampled_from(["first_name", "last_name", "balance"])

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), SIDES),
        st.tuples(st.just("edit"), SIDES, st.integers(0, 20), FIELDS, NAMES, st.integers(0, 90)),
        st.tuples(st.just("delete"), SIDES, st.integers(0, 20)),
        st.tuples(st.just("sync")),
    ),
    min_size=1,
    max_size=14,
)


def _value(field: str, name: str) -> Any:
    return f"{len(name)}.{ord(name[0])}" if field == "balance" else name


def run_interleaving(ledger_url: str, ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = World(root, ledger_url, CsvStore(root / "clients.csv"), SqlStore(f"sqlite:///{root / 't.db'}"),
                      conflict="newest_wins", deletes="propagate")
        try:
            counter = {"left": 0, "right": 0}
            # Outside writers stamp the current time (a table's updated_at only moves forward);
            # a back-dated write is invisible to any incremental pull, which `sync --full` repairs.
            clock = now()
            for op in ops:
                clock += timedelta(seconds=1)
                if op[0] == "sync":
                    report = world.sync()
                    assert report.ok, report.errors + report.pairs[0].errors
                    continue
                side = op[1]
                store = world.left if side == "left" else world.right
                if op[0] == "create":
                    counter[side] += 1
                    key = f"{side[0]}{counter[side]}"
                    store.insert({"id": key, "email": f"{key}@x.io", "first_name": "New", "last_name": key,
                                  "balance": "0.00"}, at=clock)
                    continue
                rows = sorted(store.rows())
                if not rows:
                    continue
                key = rows[op[2] % len(rows)]
                if op[0] == "edit":
                    store.update(key, at=clock + timedelta(seconds=op[5]), **{op[3]: _value(op[3], op[4])})
                elif isinstance(store, SqlStore):
                    store.soft_delete(key, at=clock)
                else:
                    store.delete(key)
            for _ in range(2):
                report = world.sync()
                assert report.ok, report.errors + report.pairs[0].errors
            left, right = world.agreed()
            assert left == right
            assert set(world.left.rows()) == set(world.right.rows())
            assert world.sync().writes == 0
        finally:
            world.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_interleavings_converge_on_sqlite_ledger(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_interleaving(f"sqlite:///{Path(tmp) / 'ledger.db'}", ops)


@pytest.mark.postgres
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_interleavings_converge_on_postgres_ledger(pg_schema_url: str, ops: list[tuple[Any, ...]]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_schema_url)
    with engine.begin() as conn:  # each example starts from an empty ledger in the test's schema
        for table in sa.inspect(conn).get_table_names():
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()
    run_interleaving(pg_schema_url, ops)
