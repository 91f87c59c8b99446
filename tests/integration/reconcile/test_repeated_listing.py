"""A complete listing that repeats a record across pages still reveals a deletion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from syncengine.connector import BaseConnector, Capability, FieldSpec, ObjectSpec, Page, WriteOp, WriteResult
from syncengine.ledger import Ledger, LinkWrite
from syncengine.mapping import load_mapping
from syncengine.reconcile import PairOptions, run_pipeline
from syncengine.records import Record, fields_hash

SPEC = ObjectSpec("things", "id", frozenset({Capability.LIST, Capability.GET, Capability.CREATE,
                                              Capability.UPDATE, Capability.DELETE}),
                  {"id": FieldSpec("id"), "name": FieldSpec("name")})


class PagedStore(BaseConnector):
    """In memory; lists in pages of two and can be told to repeat a record on the next page."""

    def __init__(self, name: str, rows: dict[str, str], repeat: str | None = None) -> None:
        self.name = name
        self.rows = dict(rows)
        self.repeat = repeat
        self.deleted: list[str] = []

    def objects(self) -> Mapping[str, ObjectSpec]:
        return {"things": SPEC}

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        keys = sorted(self.rows)
        for start in range(0, len(keys), 2):
            page = keys[start:start + 2]
            if self.repeat and start and self.repeat in self.rows:
                page = [self.repeat, *page]  # a record that shifted pages is listed again
            yield Page([Record(k, {"id": k, "name": self.rows[k]}) for k in page], "c", full=True)

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        return [Record(k, {"id": k, "name": self.rows[k]}) for k in keys if k in self.rows]

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        results = []
        for op in ops:
            if op.kind == "delete" and op.key is not None:
                self.rows.pop(op.key, None)
                self.deleted.append(op.key)
                results.append(WriteResult(op))
            else:
                key = str(op.fields.get("id") or op.key)
                self.rows[key] = str(op.fields.get("name", self.rows.get(key, "")))
                results.append(WriteResult(op, record=Record(key, {"id": key, "name": self.rows[key]})))
        return results


def test_a_repeated_record_does_not_hide_a_deletion(tmp_path: Path) -> None:
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text("pairs:\n  - {name: things, left: things, right: things, fields: "
                            "[{left: id, right: id}, {left: name, right: name}]}\n")
    mapping = load_mapping(mapping_file, {"things": SPEC}, {"things": SPEC})
    rows = {k: f"n{k}" for k in ("a", "b", "c", "d")}
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    left = PagedStore("left", {k: v for k, v in rows.items() if k != "d"}, repeat="b")  # d is gone on the left
    right = PagedStore("right", rows)
    with ledger.transaction() as tx:
        common = {k: {"id": k, "name": v} for k, v in rows.items()}
        tx.put_links("p", "things", [LinkWrite(k, k, c, fields_hash(c), fields_hash(c)) for k, c in common.items()])
    report = run_pipeline(ledger=ledger, pipeline="p", mapping=mapping, left=left, right=right,
                          options=PairOptions(min_mass_delete=0, max_delete_fraction=1.0))
    ledger.close()
    assert report.ok, report.errors
    assert right.deleted == ["d"]
    assert report.writes == 1


class Broken(PagedStore):
    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        raise KeyError("a bug in a connector")


def test_an_unexpected_error_ends_the_run_as_failed_and_moves_no_cursor(tmp_path: Path) -> None:
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text("pairs:\n  - {name: things, left: things, right: things, fields: "
                            "[{left: id, right: id}, {left: name, right: name}]}\n")
    mapping = load_mapping(mapping_file, {"things": SPEC}, {"things": SPEC})
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        report = run_pipeline(ledger=ledger, pipeline="p", mapping=mapping, left=PagedStore("left", {"a": "x"}),
                              right=Broken("right", {}), options=PairOptions())
        assert not report.ok
        assert "unexpected KeyError" in report.errors[0]
        (run,) = ledger.recent_runs(limit=1)
        assert run.status == "error"
        assert ledger.get_cursor("p", "things", "left") is None
        assert ledger.get_cursor("p", "things", "right") is None
    finally:
        ledger.close()
