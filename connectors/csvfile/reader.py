"""The fast read path: one pass of ``csv.reader`` turning rows into pages of records.

This is the loop the million-row benchmark runs, so it builds nothing per row beyond the Record
and its fields: each row goes through one function compiled for the header
(:meth:`RowSchema.converter`), and malformed rows turn into :class:`~syncengine.errors.RecordError`
values (with the physical line where the row starts) without stopping the rest.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from syncengine.errors import RecordError
from syncengine.records import Record

from .cells import is_truthy
from .schema import RowSchema

__all__ = ["Chunk", "UnreadableFile", "collector_paused", "misquoted", "read_chunks"]


class UnreadableFile(Exception):
    """The CSV parser itself gave up (e.g. a field beyond the size limit): no row can be trusted."""

    def __init__(self, line: int, error: csv.Error) -> None:
        super().__init__(f"line {line}: {error}")
        self.line = line


@dataclass(slots=True)
class Chunk:
    records: list[Record] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    #: data rows consumed so far (records + errors, blank lines excluded), for resume cursors.
    rows: int = 0


def read_chunks(
    text: TextIO,
    schema_of: Callable[[list[str]], RowSchema],
    *,
    delimiter: str,
    page_size: int,
    skip_rows: int = 0,
    keys: frozenset[str] | None = None,
    derive_key: Callable[[str], str] | None = None,
) -> Iterator[Chunk]:
    """Chunks of about ``page_size`` rows; the last chunk may be short (or empty).

    ``schema_of(header)`` builds the :class:`RowSchema`; ``skip_rows`` data rows are checked for
    duplicate keys but not returned (a resumed listing); ``keys`` limits the output to those keys
    and converts nothing else (``get``). ``derive_key(row text)`` gives a row with an empty key the
    key it will be assigned (a plan of an object with ``key.generate``: nothing is written).
    """
    # The physical lines of the record being read: csv.reader never reads ahead, so after each
    # record they are exactly its lines (kept for the rare record that spans several).
    raw: list[str] = []

    def physical_lines() -> Iterator[str]:
        for line in text:
            raw.append(line)
            yield line

    reader = csv.reader(physical_lines(), delimiter=delimiter, strict=False)
    try:
        yield from _read_chunks(reader, raw, delimiter, schema_of, page_size, skip_rows, keys, derive_key)
    except csv.Error as exc:
        raise UnreadableFile(reader.line_num, exc) from None


def misquoted(lines: list[str], delimiter: str) -> bool:
    """Whether a record that spans several lines breaks the quoting rules.

    The lenient parse reads a quote that is never closed where it should be as a field running
    on, over the following rows, up to the next quote in the file: those rows vanish into one
    cell, and the record may even come out with the right number of cells. A well-quoted
    multi-line field passes a strict parse; a run-on one ends with text after its "closing"
    quote (or at the end of the file) and does not.
    """
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _read_chunks(
    reader: Any,
    raw: list[str],
    delimiter: str,
    schema_of: Callable[[list[str]], RowSchema],
    page_size: int,
    skip_rows: int,
    keys: frozenset[str] | None,
    derive_key: Callable[[str], str] | None,
) -> Iterator[Chunk]:
    try:
        header = next(reader)
    except StopIteration:
        yield Chunk()
        return
    raw.clear()
    schema: RowSchema = schema_of(header)
    width = len(schema.names)
    key_index = schema.key_index
    convert = schema.converter()
    updated_name = schema.names[schema.updated_index] if schema.updated_index is not None else None
    archive_index = schema.archive_index
    seen: set[str] = set()
    line = reader.line_num
    chunk = Chunk()
    records, errors = chunk.records, chunk.errors
    append = records.append
    rows = 0
    room = page_size
    for row in reader:
        start = line + 1
        line = reader.line_num
        run_on = line > start and misquoted(raw, delimiter)
        if derive_key is not None and row and len(row) == width and not row[key_index]:
            row[key_index] = derive_key("".join(raw))
        raw.clear()
        if not row:
            continue  # a blank line: kept in the file, not a record
        rows += 1
        if run_on:
            if rows > skip_rows:
                errors.append(schema.misquoted(row, start, line))
        elif len(row) != width:
            if rows > skip_rows:
                error = schema.check(row, start)
                if error is not None:
                    errors.append(error)
        else:
            key = row[key_index]
            if not key or key in seen:
                if rows > skip_rows:
                    errors.append(schema.duplicate(key, start) if key else _as_error(schema, row, start))
            else:
                seen.add(key)
                if rows <= skip_rows or (keys is not None and key not in keys):
                    continue
                try:
                    fields = convert(row)
                except ValueError:
                    errors.append(_as_error(schema, row, start))
                else:
                    append(
                        Record(
                            key,
                            fields,
                            fields[updated_name] if updated_name is not None else None,
                            archive_index is not None and is_truthy(row[archive_index]),
                        )
                    )
                room -= 1
                if room:
                    continue
        if len(records) + len(errors) >= page_size:
            chunk.rows = rows
            yield chunk
            chunk = Chunk()
            records, errors = chunk.records, chunk.errors
            append = records.append
            room = page_size
    chunk.rows = rows
    yield chunk


def _as_error(schema: RowSchema, row: list[str], line: int) -> RecordError:
    error = schema.check(row, line)
    assert error is not None, "a row that failed to convert must fail the check"
    return error


def collector_paused(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Run the cyclic GC only while the consumer holds a page, not while a page is built.

    Building a page allocates tens of thousands of acyclic objects (records, dicts); the
    collector would traverse them over and over for nothing (about a quarter of the read time).
    The previous state is restored whenever control leaves this generator, however it leaves.
    """
    if not gc.isenabled():
        yield from chunks
        return
    try:
        while True:
            gc.disable()
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                gc.enable()
            yield chunk
    finally:
        gc.enable()
