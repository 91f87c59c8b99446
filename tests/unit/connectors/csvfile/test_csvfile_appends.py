"""A batch of only creates is appended to the file, not a rewrite of it: N creates cost O(N).

Before, every batch read, hashed and rewrote the whole file: 100k creates took 40 s, 200k 102 s.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.csvfile import CsvConnector, CsvObjectConfig
from syncengine.connector import WriteOp
from syncengine.errors import RecordError, ValidationError


def make(path: Path, **options: Any) -> CsvConnector:
    options.setdefault("columns", {"balance": "decimal"})
    return CsvConnector("csv", {"clients": CsvObjectConfig(path, **options)})


def read(connector: CsvConnector) -> tuple[dict[str, dict[str, Any]], list[RecordError]]:
    records: dict[str, dict[str, Any]] = {}
    errors: list[RecordError] = []
    for page in connector.changes("clients", None):
        records.update({r.key: r.fields for r in page.records})
        errors.extend(page.errors)
    return records, errors


def creates(*rows: dict[str, Any]) -> list[WriteOp]:
    return [WriteOp("create", None, row, f"create-{row.get('id', n)}-{n}") for n, row in enumerate(rows)]


def test_creates_are_appended_in_the_files_own_dialect_and_the_rest_stays_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    original = (
        b'notes;id;"name";balance\r\n'
        b'"two\r\nlines";1;"Ann";10.50\r\n'
        b"broken;row\r\n"  # malformed: kept verbatim, reported on every read
        b"x;2;Bob;"  # no final line break
    )
    path.write_bytes(original)
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    connector = make(path, delimiter=";")

    results = connector.write_batch("clients", creates({"id": "3", "name": "Cy; Jr", "balance": Decimal("1.5")},
                                                       {"id": "4", "name": "Di"}))
    assert [r.ok for r in results] == [True, True]
    after_first = original + b'\r\n;3;"Cy; Jr";1.5\r\n;4;Di;\r\n'
    assert path.read_bytes() == after_first
    assert path.stat().st_ino == inode, "appended in place, not replaced"
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)

    # The next batch appends again (the file is as this connector left it).
    connector.write_batch("clients", creates({"id": "5", "name": "Ed"}))
    assert path.read_bytes() == after_first + b";5;Ed;\r\n"
    assert path.stat().st_ino == inode

    records, errors = read(connector)
    assert set(records) == {"1", "2", "3", "4", "5"}
    assert records["1"]["notes"] == "two\r\nlines" and records["3"]["name"] == "Cy; Jr"
    assert records["3"]["balance"] == Decimal("1.5")
    assert [e.line for e in errors] == [4]


def test_a_key_taken_in_the_file_or_the_batch_is_refused_and_nothing_is_duplicated(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name,balance\n1,Ann,\n", encoding="utf-8")
    connector = make(path)
    connector.write_batch("clients", creates({"id": "2", "name": "Bob"}))
    results = connector.write_batch("clients", creates({"id": "1", "name": "again"}, {"id": "2", "name": "again"},
                                                       {"id": "3", "name": "Cy"}, {"id": "3", "name": "twice"}))
    assert [r.ok for r in results] == [False, False, True, False]
    assert all(isinstance(r.error, ValidationError) for r in results if not r.ok)
    assert path.read_text(encoding="utf-8") == "id,name,balance\n1,Ann,\n2,Bob,\n3,Cy,\n"


def test_another_programs_change_between_batches_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name,balance\n1,Ann,\n", encoding="utf-8")
    connector = make(path)
    connector.write_batch("clients", creates({"id": "2", "name": "Bob"}))
    with path.open("a", encoding="utf-8") as handle:  # a person adds a row
        handle.write("7,Gus,\n")
    results = connector.write_batch("clients", creates({"id": "7", "name": "mine"}, {"id": "8", "name": "Hal"}))
    assert [r.ok for r in results] == [False, True]
    assert path.read_text(encoding="utf-8") == "id,name,balance\n1,Ann,\n2,Bob,\n7,Gus,\n8,Hal,\n"

    # An editor replaces the file (a new inode, other content): the next batch goes onto that file.
    replacement = tmp_path / "edited.csv"
    replacement.write_text("id,name,balance\n1,Ann,\n9,Ida,\n", encoding="utf-8")
    os.replace(replacement, path)
    results = connector.write_batch("clients", creates({"id": "9", "name": "mine"}, {"id": "10", "name": "Jo"}))
    assert [r.ok for r in results] == [False, True]
    assert path.read_text(encoding="utf-8") == "id,name,balance\n1,Ann,\n9,Ida,\n10,Jo,\n"


def test_a_retried_create_still_updates_its_own_row(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name,balance\n", encoding="utf-8")
    connector = make(path)
    first = connector.write_batch("clients", [WriteOp("create", None, {"name": "Ann"}, "same")])
    again = connector.write_batch("clients", [WriteOp("create", None, {"name": "Ann B"}, "same")])
    assert first[0].record is not None and again[0].record is not None
    assert first[0].record.key == again[0].record.key
    records, _ = read(connector)
    assert list(records) == [first[0].record.key] and records[first[0].record.key]["name"] == "Ann B"


def test_a_create_with_a_new_field_still_adds_the_column(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("id,name\n1,Ann\n", encoding="utf-8")
    connector = make(path, columns={})
    connector.write_batch("clients", creates({"id": "2", "name": "Bob"}))
    connector.write_batch("clients", creates({"id": "3", "name": "Cy", "phone": "555"}))
    assert path.read_text(encoding="utf-8") == "id,name,phone\n1,Ann,\n2,Bob,\n3,Cy,555\n"
    connector.write_batch("clients", creates({"id": "4", "name": "Di"}))
    assert path.read_text(encoding="utf-8") == "id,name,phone\n1,Ann,\n2,Bob,\n3,Cy,555\n4,Di,\n"


def test_a_bom_stays_at_the_start_only(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("\ufeffid,name\n1,Ann\n".encode())
    connector = make(path, columns={}, encoding="utf-8-sig")
    connector.write_batch("clients", creates({"id": "2", "name": "Zoë"}))
    connector.write_batch("clients", creates({"id": "3", "name": "Cy"}))
    assert path.read_bytes() == "\ufeffid,name\n1,Ann\n2,Zoë\n3,Cy\n".encode()


def test_an_empty_file_gets_its_header_first(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(b"")
    connector = make(path, columns={"name": "string"})
    connector.write_batch("clients", creates({"id": "1", "name": "Ann"}))
    connector.write_batch("clients", creates({"id": "2", "name": "Bob"}))
    assert path.read_text(encoding="utf-8") == "id,name\n1,Ann\n2,Bob\n"


def _bytes_read() -> int:
    with open("/proc/self/io") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("rchar:"))


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_a_batch_of_creates_does_not_read_the_file_it_appends_to(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,name,balance\n")
        handle.writelines(f"k{i},Name {i},{i}.25\n" for i in range(100_000))
    size = path.stat().st_size
    connector = make(path)
    connector.write_batch("clients", creates(*({"id": f"n{i}", "name": "x"} for i in range(10))))  # reads it once
    before = _bytes_read()
    for batch in range(5):
        results = connector.write_batch("clients", creates(*({"id": f"b{batch}-{i}", "name": "y"} for i in range(500))))
        assert all(r.ok for r in results)
    read_meanwhile = _bytes_read() - before
    assert read_meanwhile < size / 10, f"5 batches read {read_meanwhile} bytes of a {size}-byte file"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1 + 100_000 + 10 + 2500
