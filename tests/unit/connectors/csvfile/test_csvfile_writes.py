"""CSV writes: atomic, minimal (untouched rows byte for byte), never losing another writer's edit."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.csvfile import CsvConnector, CsvObjectConfig, fingerprint
from connectors.csvfile.document import Document
from connectors.csvfile.fingerprint import FileVersion, StatStamp
from syncengine.connector import Capability, WriteOp
from syncengine.errors import AuthError, ConfigError, NotFoundError, SyncEngineError, ValidationError


def make(path: Path, **options: Any) -> CsvConnector:
    options.setdefault("columns", {"balance": "decimal", "age": "integer"})
    return CsvConnector("csv", {"clients": CsvObjectConfig(path, **options)})


def rows_of(connector: CsvConnector) -> dict[str, dict[str, Any]]:
    return {r.key: r.fields for page in connector.changes("clients", None) for r in page.records}


def test_unknown_columns_column_order_and_quoting_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    original = 'notes,id,"name",balance,age,extra\n"quoted, note",1,"Ann",10.50,30,keep me\nplain,2,Bob,,,\n'
    path.write_text(original, encoding="utf-8")
    connector = make(path)

    connector.update("clients", "2", {"balance": Decimal("7.25")}, "u")

    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == 'notes,id,"name",balance,age,extra', "header kept as written"
    assert text.splitlines()[1] == '"quoted, note",1,"Ann",10.50,30,keep me', "untouched row kept byte for byte"
    assert text.splitlines()[2] == "plain,2,Bob,7.25,,"
    assert rows_of(connector)["1"]["extra"] == "keep me"


def test_a_new_field_adds_a_column_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name\n1,Ann\n2,Bob\nbroken\n", encoding="utf-8")
    connector = make(path, columns={})
    connector.update("clients", "1", {"phone": "+1 555"}, "u")
    assert path.read_text(encoding="utf-8") == "id,name,phone\n1,Ann,+1 555\n2,Bob,\nbroken\n"
    assert rows_of(connector)["2"] == {"id": "2", "name": "Bob", "phone": None}


def test_crlf_files_stay_crlf_and_a_missing_final_newline_is_handled(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(b"id,name\r\n1,Ann\r\n2,Bob")
    connector = make(path, columns={})
    connector.create("clients", {"id": "3", "name": "Cy"}, "c")
    assert path.read_bytes() == b"id,name\r\n1,Ann\r\n2,Bob\r\n3,Cy\r\n"


def test_decimals_are_written_and_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    connector = make(path)
    big = Decimal("12345678901234567890.123456789")
    record = connector.create("clients", {"id": "1", "balance": big}, "c")
    assert record.fields["balance"] == big
    assert "12345678901234567890.123456789" in path.read_text(encoding="utf-8")
    assert rows_of(connector)["1"]["balance"] == big
    tiny = Decimal("0.1") + Decimal("0.2")
    connector.update("clients", "1", {"balance": tiny}, "u")
    assert rows_of(connector)["1"]["balance"] == Decimal("0.3")
    with pytest.raises(ValidationError) as caught:
        connector.update("clients", "1", {"balance": 0.1}, "u2")
    assert caught.value.field == "balance"


def test_keys_given_derived_and_retried(tmp_path: Path) -> None:
    connector = make(tmp_path / "clients.csv")
    connector.create("clients", {"id": "A1", "age": 3}, "c1")
    with pytest.raises(ValidationError) as caught:
        connector.create("clients", {"id": "A1"}, "c2")
    assert caught.value.field == "id"
    first = connector.create("clients", {"age": 4}, "retry-me")
    again = connector.create("clients", {"age": 5}, "retry-me")
    assert first.key == again.key
    assert rows_of(connector)[first.key]["age"] == 5
    assert len(rows_of(connector)) == 2


def test_integer_keys_are_derived_as_integers(tmp_path: Path) -> None:
    connector = make(tmp_path / "clients.csv", columns={"id": "integer"})
    record = connector.create("clients", {"name": "x"}, "idem")
    assert record.key.isdigit() and len(record.key) <= 15
    assert record.fields["id"] == int(record.key)


def test_missing_keys_and_changed_keys(tmp_path: Path) -> None:
    connector = make(tmp_path / "clients.csv")
    connector.create("clients", {"id": "1"}, "c")
    with pytest.raises(NotFoundError):
        connector.update("clients", "2", {"age": 1}, "u")
    with pytest.raises(NotFoundError):
        connector.delete("clients", "2")
    with pytest.raises(ValidationError):
        connector.update("clients", "1", {"id": "9"}, "u")
    connector.update("clients", "1", {"id": None, "age": 2}, "u")  # a key left empty is no change
    assert rows_of(connector)["1"]["age"] == 2


def test_a_failed_replace_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name\n1,Ann\n", encoding="utf-8")
    connector = make(path, columns={})

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SyncEngineError):
        connector.update("clients", "1", {"name": "Changed"}, "u")
    assert path.read_text(encoding="utf-8") == "id,name\n1,Ann\n"
    assert not [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"], "the temp file must be cleaned up"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_directory_is_a_typed_error_and_the_file_is_intact(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name\n1,Ann\n", encoding="utf-8")
    connector = make(path, columns={})
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(AuthError):
            connector.update("clients", "1", {"name": "Changed"}, "u")
    finally:
        tmp_path.chmod(0o700)
    assert path.read_text(encoding="utf-8") == "id,name\n1,Ann\n"


def test_a_concurrent_external_edit_is_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer changes the file after we read it and before we replace it."""
    path = tmp_path / "clients.csv"
    path.write_text("id,name,age\n1,Ann,30\n2,Bob,40\n", encoding="utf-8")
    connector = make(path, columns={"age": "integer"})
    original = CsvConnector._load_document
    calls = 0

    def load_then_someone_edits(self: CsvConnector, obj: str) -> tuple[Document, StatStamp | None, int | None]:
        nonlocal calls
        calls += 1
        loaded = original(self, obj)
        if calls == 1:
            # The other writer appends a row and edits Bob, without telling us.
            path.write_text("id,name,age\n1,Ann,30\n2,Bobby,40\n3,Cy,50\n", encoding="utf-8")
        return loaded

    monkeypatch.setattr(CsvConnector, "_load_document", load_then_someone_edits)
    result = connector.update("clients", "1", {"age": 31}, "u")

    assert calls == 2, "the write must start over from the other writer's version"
    assert result.fields["age"] == 31
    assert path.read_text(encoding="utf-8") == "id,name,age\n1,Ann,31\n2,Bobby,40\n3,Cy,50\n"


def test_a_thousand_creates_in_one_batch(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    connector = make(path)
    ops = [WriteOp("create", None, {"name": f"n{i}", "balance": Decimal(i) / 100}, f"c{i}") for i in range(1000)]
    results = connector.write_batch("clients", ops)
    assert all(r.ok for r in results)
    rows = rows_of(connector)
    assert len(rows) == 1000
    assert rows[results[999].record.key]["balance"] == Decimal("9.99")  # type: ignore[union-attr]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1001


def test_the_file_is_created_with_the_declared_columns(tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    connector = make(path, columns={"name": "string", "age": "integer"}, updated_at="updated_at")
    (page,) = connector.changes("clients", None)
    assert page.records == []
    assert path.read_text(encoding="utf-8") == "id,name,age,updated_at\n"
    record = connector.create("clients", {"name": "A"}, "c")
    assert record.updated_at is not None and record.updated_at.tzinfo is UTC
    missing = make(tmp_path / "absent.csv", create=False)
    with pytest.raises(NotFoundError):
        list(missing.changes("clients", None))


def test_updated_at_fills_record_updated_at_naive_is_utc(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "id,updated_at\n1,2025-03-01T10:00:00\n2,2025-03-01T10:00:00Z\n3,2025-03-01T12:00:00+02:00\n4,\n",
        encoding="utf-8",
    )
    connector = make(path, columns={}, updated_at="updated_at")
    records = {r.key: r for page in connector.changes("clients", None) for r in page.records}
    expected = datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert records["1"].updated_at == records["2"].updated_at == records["3"].updated_at == expected
    assert records["4"].updated_at is None


def test_archive_marks_the_row_and_hides_it(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name,archived\n1,A,\n2,B,false\n3,C,yes\n", encoding="utf-8")
    connector = make(path, columns={"archived": "boolean"}, archive_column="archived")
    assert Capability.ARCHIVE in connector.objects()["clients"].capabilities
    listed = {r.key: r.deleted for page in connector.changes("clients", None) for r in page.records}
    assert listed == {"1": False, "2": False, "3": True}
    connector.archive("clients", "1")
    assert connector.get("clients", ["1", "2", "3"])[0].key == "2"
    assert "1,A,true" in path.read_text(encoding="utf-8")


def test_unchanged_file_is_one_empty_page_and_mid_stream_cursors_resume(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id\n" + "".join(f"{n}\n" for n in range(10)), encoding="utf-8")
    connector = CsvConnector("csv", {"clients": CsvObjectConfig(path)}, page_size=4)
    pages = list(connector.changes("clients", None))
    assert [len(p.records) for p in pages] == [4, 4, 2] and all(p.full for p in pages)

    unchanged = list(connector.changes("clients", pages[-1].cursor))
    assert len(unchanged) == 1 and unchanged[0].records == [] and not unchanged[0].full
    assert unchanged[0].cursor == pages[-1].cursor

    resumed = list(connector.changes("clients", pages[0].cursor))
    assert [r.key for p in resumed for r in p.records] == [str(n) for n in range(4, 10)]
    assert not any(p.full for p in resumed), "a resumed listing is not a full one"

    with path.open("a", encoding="utf-8") as handle:
        handle.write("10\n")
    after_edit = list(connector.changes("clients", pages[0].cursor))
    assert [r.key for p in after_edit for r in p.records] == [str(n) for n in range(11)]
    assert all(p.full for p in after_edit)


def test_get_and_find(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,email,balance\n1,a@x,1.50\n2,b@x,2\n3,a@x,1.5\n", encoding="utf-8")
    connector = make(path)
    assert [r.key for r in connector.get("clients", ["3", "9", "1"])] == ["3", "1"]
    assert [r.key for r in connector.find("clients", "email", ["a@x"])] == ["1", "3"]
    assert [r.key for r in connector.find("clients", "balance", [Decimal("1.5")])] == ["1", "3"]
    assert connector.find("clients", "balance", ["not a number"]) == []


def test_from_config_resolves_paths_and_rejects_mistakes(tmp_path: Path) -> None:
    connector = CsvConnector.from_config(
        "csv",
        {"objects": {"clients": {"path": "data/clients.csv", "key": "id", "columns": {"age": "integer"}}}},
        base_dir=tmp_path,
    )
    assert connector.configs["clients"].file == tmp_path / "data" / "clients.csv"
    for bad in (
        {},
        {"objects": {"clients": {}}},
        {"objects": {"clients": {"path": "x.csv", "colums": {}}}},
        {"objects": {"clients": {"path": "x.csv", "columns": {"a": "money"}}}},
        {"objects": {"clients": {"path": "x.csv", "delimiter": ";;"}}},
        {"objects": {"clients": {"path": "x.csv", "create": "yes"}}},
    ):
        with pytest.raises(ConfigError):
            CsvConnector.from_config("csv", bad, base_dir=tmp_path)


def test_a_bom_in_the_header_is_not_part_of_the_key_name(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("\ufeffid,name\n1,A\n".encode())
    connector = make(path, columns={})
    assert rows_of(connector) == {"1": {"id": "1", "name": "A"}}
    connector.update("clients", "1", {"name": "B"}, "u")
    assert path.read_bytes() == "\ufeffid,name\n1,B\n".encode()


def test_one_batch_mixing_every_kind_of_edit(tmp_path: Path) -> None:
    """Creates, updates of new and old rows, deletes of both, a new column, malformed rows kept."""
    path = tmp_path / "clients.csv"
    path.write_text('id,name\n1,A\n2,"B ""quoted"""\noops,x,y,z\n3,C\n4,D', encoding="utf-8")
    connector = make(path, columns={})
    results = connector.write_batch(
        "clients",
        [
            WriteOp("create", None, {"id": "5", "name": "E"}, "c5"),
            WriteOp("update", "5", {"name": "E2"}, "u5"),
            WriteOp("create", None, {"id": "6", "name": "F"}, "c6"),
            WriteOp("delete", "6", {}, "d6"),
            WriteOp("delete", "1", {}, "d1"),
            WriteOp("update", "3", {"name": "C2"}, "u3"),
            WriteOp("update", "3", {"tag": "t"}, "u3b"),
            WriteOp("delete", "4", {}, "d4"),
        ],
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert path.read_text(encoding="utf-8") == 'id,name,tag\n2,"B ""quoted""",\noops,x,y,z\n3,C2,t\n5,E2,\n'
    assert {k: v["name"] for k, v in rows_of(connector).items()} == {"2": 'B "quoted"', "3": "C2", "5": "E2"}


def test_a_million_row_style_file_is_rewritten_by_slices(tmp_path: Path) -> None:
    """Only the touched rows are re-rendered; everything else is copied as it was."""
    path = tmp_path / "clients.csv"
    body = "".join(f'{n},"name {n}",{n}.50\n' for n in range(1, 5001))
    path.write_text("id,name,balance\n" + body, encoding="utf-8")
    connector = make(path, columns={"balance": "decimal"})
    connector.write_batch("clients", [WriteOp("update", str(n), {"balance": "1"}, f"u{n}") for n in (10, 2000, 4999)])
    expected = body.replace('10,"name 10",10.50\n', "10,name 10,1\n")
    expected = expected.replace('2000,"name 2000",2000.50\n', "2000,name 2000,1\n")
    expected = expected.replace('4999,"name 4999",4999.50\n', "4999,name 4999,1\n")
    assert path.read_text(encoding="utf-8") == "id,name,balance\n" + expected


def _append_rows(path: str, prefix: str, count: int) -> None:
    connector = make(Path(path))
    for n in range(count):
        connector.create("clients", {"id": f"{prefix}{n}", "name": prefix}, f"{prefix}{n}")


def test_our_own_writers_take_turns_threads_and_processes(tmp_path: Path) -> None:
    """Separate connectors (threads) and separate processes writing one file lose nothing."""
    import multiprocessing
    import threading

    path = tmp_path / "clients.csv"
    threads = [threading.Thread(target=_append_rows, args=(str(path), f"t{i}-", 15)) for i in range(3)]
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_append_rows, args=(str(path), f"p{i}-", 15)) for i in range(2)]
    for worker in [*processes, *threads]:  # fork before any thread runs
        worker.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.join()
        assert process.exitcode == 0
    assert len(rows_of(make(path))) == 5 * 15


def test_an_edit_hidden_from_stat_is_caught_by_the_content_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coarse timestamps: the other writer's edit leaves size and times as they were."""
    path = tmp_path / "clients.csv"
    path.write_text("id,name\n1,Ann\n2,Bob\n", encoding="utf-8")
    connector = make(path, columns={})
    monkeypatch.setattr(fingerprint, "stat_stamp", lambda st: StatStamp(st.st_ino, st.st_size, 0, 0))
    original = CsvConnector._load_document
    calls = 0

    def load_then_same_size_edit(self: CsvConnector, obj: str) -> tuple[Document, FileVersion | None, int | None]:
        nonlocal calls
        calls += 1
        loaded = original(self, obj)
        if calls == 1:
            with path.open("r+", encoding="utf-8") as handle:  # in place: same inode, same size
                handle.write("id,name\n1,Ann\n2,Bea\n")
        return loaded

    monkeypatch.setattr(CsvConnector, "_load_document", load_then_same_size_edit)
    connector.update("clients", "1", {"name": "Ana"}, "u")
    assert calls == 2
    assert path.read_text(encoding="utf-8") == "id,name\n1,Ana\n2,Bea\n"
