"""Malformed CSV rows: reported with the physical line where they start, and left exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.csvfile import CsvConnector, CsvObjectConfig
from syncengine.connector import WriteOp
from syncengine.errors import NotFoundError, RecordError

COLUMNS = {"age": "integer", "balance": "decimal", "born": "date", "seen": "datetime", "vip": "boolean"}

GOOD_HEADER = "id,name,age,balance,born,seen,vip\n"


def connector_for(path: Path, **options: object) -> CsvConnector:
    config = CsvObjectConfig(path, columns=COLUMNS, **options)  # type: ignore[arg-type]
    return CsvConnector("csv", {"rows": config}, page_size=2)


def read_all(connector: CsvConnector) -> tuple[dict[str, dict[str, object]], list[RecordError]]:
    records: dict[str, dict[str, object]] = {}
    errors: list[RecordError] = []
    for page in connector.changes("rows", None):
        records.update({r.key: r.fields for r in page.records})
        errors.extend(page.errors)
    return records, errors


@pytest.mark.parametrize(
    ("bad_row", "field", "key"),
    [
        ("9,Too,Few\n", None, "9"),
        ("9,Too,1,2.0,2020-01-01,2020-01-01T00:00:00,true,extra\n", None, "9"),
        ("9,Age,old,2.0,,,\n", "age", "9"),
        ("9,Balance,1,1.2.3,,,\n", "balance", "9"),
        ("9,Born,1,2,2020-13-45,,\n", "born", "9"),
        ("9,Seen,1,2,,yesterday,\n", "seen", "9"),
        ("9,Vip,1,2,,,maybe\n", "vip", "9"),
        (",NoKey,1,2,,,\n", "id", None),
        ("1,Duplicate,1,2,,,\n", "id", "1"),
    ],
    ids=["few-cells", "many-cells", "integer", "decimal", "date", "datetime", "boolean", "empty-key", "duplicate"],
)
def test_each_kind_is_reported_with_its_line_and_kept_verbatim(
    tmp_path: Path, bad_row: str, field: str | None, key: str | None
) -> None:
    path = tmp_path / "rows.csv"
    # Line 2 is a row whose quoted name spans two physical lines, so the bad row starts on line 4.
    text = GOOD_HEADER + '1,"Ann\nSmith",30,10.50,1990-01-02,2025-01-01T10:00:00Z,true\n' + bad_row + "2,Bob,,,,,\n"
    path.write_text(text, encoding="utf-8", newline="")
    connector = connector_for(path)

    records, errors = read_all(connector)

    assert set(records) == {"1", "2"}
    assert records["1"]["name"] == "Ann\nSmith"
    (error,) = errors
    assert error.line == 4
    assert error.field == field
    assert error.key == key
    assert error.source == str(path)
    assert f"{path}:4" in str(error)

    results = connector.write_batch(
        "rows",
        [
            WriteOp("update", "2", {"name": "Bobby"}, "u"),
            WriteOp("create", None, {"name": "New", "age": 5}, "c"),
        ],
    )
    assert all(r.ok for r in results), [r.error for r in results]
    after = path.read_text(encoding="utf-8")
    lines = after.splitlines(keepends=True)
    assert lines[3] == bad_row, "the malformed row must stay byte for byte at its place"
    assert after.startswith(GOOD_HEADER + '1,"Ann\nSmith",30,10.50,1990-01-02,2025-01-01T10:00:00Z,true\n' + bad_row)
    assert "2,Bobby" in lines[4]
    assert lines[5].split(",")[1] == "New"

    records, errors = read_all(connector)
    assert set(records) == {"1", "2", results[1].record.key}  # type: ignore[union-attr]
    assert [e.line for e in errors] == [4]


def test_many_malformed_rows_do_not_stop_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    lines = [GOOD_HEADER]
    for n in range(1, 101):
        lines.append(f"{n},Name {n},{'x' if n % 10 == 0 else n},1.00,,,\n")
    path.write_text("".join(lines), encoding="utf-8")
    records, errors = read_all(connector_for(path))
    assert len(records) == 90
    assert [e.line for e in errors] == [n + 1 for n in range(10, 101, 10)]
    assert all(e.field == "age" for e in errors)


def test_blank_lines_are_neither_records_nor_errors_and_survive_writes(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(GOOD_HEADER + "1,A,,,,,\n\n2,B,,,,,\n", encoding="utf-8")
    connector = connector_for(path)
    records, errors = read_all(connector)
    assert set(records) == {"1", "2"} and not errors
    connector.update("rows", "2", {"name": "B2"}, "u")
    assert path.read_text(encoding="utf-8") == GOOD_HEADER + "1,A,,,,,\n\n2,B2,,,,,\n"


def test_a_file_in_the_wrong_encoding_is_a_typed_error(tmp_path: Path) -> None:
    from syncengine.errors import ConfigError

    path = tmp_path / "rows.csv"
    path.write_bytes(GOOD_HEADER.encode() + "1,Zoë,,,,,\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"rows\.csv:2: not utf-8 text .*set `encoding:`"):
        read_all(connector_for(path))
    records, _ = read_all(connector_for(path, encoding="latin-1"))
    assert records["1"]["name"] == "Zoë"


def test_a_header_without_the_key_column_is_a_typed_error(tmp_path: Path) -> None:
    from syncengine.errors import ConfigError

    path = tmp_path / "rows.csv"
    path.write_text("name,age\nA,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rows\.csv:1: the key column 'id' is not in the header"):
        read_all(connector_for(path))


def test_a_file_the_parser_gives_up_on_is_a_typed_error_with_its_line(tmp_path: Path) -> None:
    import csv

    from syncengine.errors import ValidationError

    path = tmp_path / "rows.csv"
    huge = "x" * (csv.field_size_limit() + 10)
    path.write_text(GOOD_HEADER + "1,A,,,,,\n" + f"2,{huge},,,,,\n", encoding="utf-8")
    connector = connector_for(path)
    for attempt in (
        lambda: read_all(connector),
        lambda: connector.get("rows", ["1"]),
        lambda: connector.update("rows", "1", {"name": "B"}, "u"),
    ):
        with pytest.raises(ValidationError, match=r"rows.csv:line 3"):
            attempt()


def test_any_header_text_is_just_a_name(tmp_path: Path) -> None:
    """Column names reach a generated converter only as literals: quotes or code stay names."""
    path = tmp_path / "rows.csv"
    names = ["id", 'say "hi"', "back\\slash", "it's", "__import__('os').system('false')", "two\nlines"]
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerow(["1", "a", "b", "c", "d", "e"])
    config = CsvObjectConfig(path, columns={"it's": "string"})
    records = [r for page in CsvConnector("csv", {"rows": config}).changes("rows", None) for r in page.records]
    assert records[0].fields == dict(zip(names, ["1", "a", "b", "c", "d", "e"], strict=True))


def test_updated_at_must_be_a_datetime_column(tmp_path: Path) -> None:
    from syncengine.errors import ConfigError

    with pytest.raises(ConfigError, match="must be a datetime"):
        CsvObjectConfig(tmp_path / "x.csv", updated_at="changed", columns={"changed": "date"})


# A quote that is never closed where it should be swallows the rows after it into one field, up to
# the next quote. Before, when that next quote opened a field of a later row, the swallowing row
# came out with the right cell count: a good record, and the rows inside it vanished from a full
# listing with no error at all (so the engine could take them for deletions).
SWALLOWING = GOOD_HEADER + '1,Ann,1,,,,\n2,"Bob,2,,,,\n3,Cy,3,,,,\n4,Di,4,,,,\n5,"Ed",5,,,,\n6,Fay,6,,,,\n'

UNREADABLE_FILES = {
    "swallowed-rows": SWALLOWING,
    "unterminated-at-the-end": GOOD_HEADER + '1,Ann,1,,,,\n2,"Bob,2,,,,\n3,Cy,3,,,,\n',
    "text-after-a-closing-quote-over-lines": GOOD_HEADER + '1,"Ann\nSmith" Jr,1,,,,\n2,Bob,2,,,,\n',
    "lone-carriage-return": GOOD_HEADER + "1,Ann,1,,,,\n2,Bo\rb,2,,,,\n3,Cy,3,,,,\n",
    "few-cells": GOOD_HEADER + "1,Ann\n",
    "bad-integer": GOOD_HEADER + "1,Ann,x,,,,\n",
    "empty-key": GOOD_HEADER + ",Ann,1,,,,\n",
    "duplicate-key": GOOD_HEADER + "1,Ann,1,,,,\n1,Bob,2,,,,\n",
}


@pytest.mark.parametrize("text", list(UNREADABLE_FILES.values()), ids=list(UNREADABLE_FILES))
@pytest.mark.parametrize("page_size", [1, 2, 1000])
def test_a_listing_with_any_unreadable_row_says_so_in_its_pages(tmp_path: Path, text: str, page_size: int) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8", newline="")
    connector = CsvConnector("csv", {"rows": CsvObjectConfig(path, columns=COLUMNS)}, page_size=page_size)
    pages = list(connector.changes("rows", None))
    assert any(page.errors for page in pages), [(len(p.records), p.errors) for p in pages]


def test_rows_swallowed_by_a_stray_quote_are_reported_and_the_row_is_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(SWALLOWING, encoding="utf-8", newline="")
    connector = connector_for(path)
    records, errors = read_all(connector)
    assert set(records) == {"1", "6"}
    (error,) = errors
    assert error.line == 3 and error.key == "2"
    assert "quot" in error.message
    with pytest.raises(NotFoundError):  # not a good row: never re-rendered (which would fix the damage in)
        connector.update("rows", "2", {"name": "Bobby"}, "u")
    connector.update("rows", "6", {"name": "Faye"}, "u")
    assert path.read_text(encoding="utf-8") == SWALLOWING.replace("6,Fay,", "6,Faye,")
