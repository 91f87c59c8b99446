"""The file as lines of text, for writing: only the rows a write touches are re-rendered.

The document keeps the original lines and the line where each record starts; untouched rows,
malformed rows and blank lines are copied back as those lines, byte for byte, so a sync never
reformats a person's file or "repairs" a row it could not read (and a million-row file costs its
lines plus an index entry per row, not an object per row). The new file
is written next to the old one, fsynced and swapped in with ``os.replace``: a crash leaves either
the old file or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .reader import UnreadableFile, misquoted
from .schema import RowSchema

__all__ = ["Document", "RowSchemaFactory", "write_atomically"]

RowSchemaFactory = Callable[[list[str]], RowSchema]


@dataclass(slots=True)
class Document:
    #: the file's physical lines, each with its own line break (records may span several).
    lines: list[str]
    header: list[str]
    #: the header's original text; None once a column was added (it is rendered then).
    header_raw: str | None
    #: the line where each record (good, malformed or blank) starts.
    starts: array[int]
    newline: str
    delimiter: str
    schema: RowSchema
    #: key -> record number, for good rows (originals first, then appended rows).
    index: dict[str, int] = field(default_factory=dict)
    #: record number -> new cells, for changed originals.
    replaced: dict[int, list[str]] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    #: new rows (None once removed again), numbered after the originals.
    appended: list[list[str] | None] = field(default_factory=list)
    #: header width when read: good rows narrower than the header get empty cells appended.
    width: int = 0

    @classmethod
    def parse(cls, text: Iterable[str], schema_of: RowSchemaFactory, delimiter: str) -> Document:
        """Index the lines of ``text`` (a file opened with ``newline=""``); ValueError if it has no header."""
        lines: list[str] = []

        def physical_lines() -> Iterator[str]:
            for line in text:
                lines.append(line)
                yield line

        reader = csv.reader(physical_lines(), delimiter=delimiter, strict=False)
        try:
            return cls._index(reader, lines, schema_of, delimiter)
        except csv.Error as exc:
            raise UnreadableFile(reader.line_num, exc) from None

    @classmethod
    def _index(cls, reader: Any, lines: list[str], schema_of: RowSchemaFactory, delimiter: str) -> Document:
        header = next(reader, None)
        if header is None:
            raise ValueError("the file has no header")
        schema = schema_of(header)
        header_raw = "".join(lines)
        doc = cls(
            lines=lines,
            header=list(schema.names),
            header_raw=header_raw,
            starts=array("q"),
            newline=_newline_of(header_raw),
            delimiter=delimiter,
            schema=schema,
            width=len(schema.names),
        )
        index = doc.index
        starts = doc.starts
        check = schema.check
        key_index = schema.key_index
        # csv.reader never reads ahead: after each record, len(lines) is the line after it.
        consumed = len(lines)
        for cells in reader:
            number = len(starts)
            starts.append(consumed)
            first_line = consumed + 1
            consumed = len(lines)
            if not cells:
                continue  # a blank line: kept verbatim
            key = cells[key_index] if len(cells) > key_index else ""
            if key in index or check(cells, first_line) is not None:
                continue  # malformed or a duplicate: kept verbatim, never written through
            if consumed - first_line > 0 and misquoted(lines[first_line - 1 : consumed], delimiter):
                continue  # a run-on quoted field (rows swallowed): kept verbatim too
            index[key] = number
        return doc

    @classmethod
    def empty(cls, header: list[str], schema: RowSchema, delimiter: str) -> Document:
        return cls([], header, None, array("q"), "\n", delimiter, schema, width=len(header))

    # -- rows ----------------------------------------------------------------------------------

    def cells(self, key: str) -> list[str]:
        """The cells of a good row, as the header is now wide."""
        number = self.index[key]
        if number >= len(self.starts):
            cells = self.appended[number - len(self.starts)]
            assert cells is not None
        elif number in self.replaced:
            cells = self.replaced[number]
        else:
            cells = next(csv.reader([self._raw(number)], delimiter=self.delimiter, strict=False))
        return cells + [""] * (len(self.header) - len(cells))

    def set_cells(self, key: str, cells: list[str]) -> None:
        number = self.index[key]
        if number >= len(self.starts):
            self.appended[number - len(self.starts)] = cells
        else:
            self.replaced[number] = cells

    def append(self, key: str, cells: list[str]) -> None:
        self.index[key] = len(self.starts) + len(self.appended)
        self.appended.append(cells)

    def remove(self, key: str) -> None:
        number = self.index.pop(key)
        if number >= len(self.starts):
            self.appended[number - len(self.starts)] = None
        else:
            self.replaced.pop(number, None)
            self.removed.add(number)

    def fill_empty_keys(self, derive: Callable[[str], str]) -> int:
        """Give every row without a key (and otherwise readable) the key ``derive(row text)``
        makes, in file order; the number of rows filled. Only those rows are re-rendered."""
        good = set(self.index.values())
        key_index = self.schema.key_index
        filled = 0
        for number in range(len(self.starts)):
            if number in good or number in self.removed:
                continue
            raw = self._raw(number)
            cells = next(csv.reader([raw], delimiter=self.delimiter, strict=False), [])
            if not cells or len(cells) != self.width or cells[key_index]:
                continue
            key = derive(raw)
            cells[key_index] = key
            start, end = self._span(number)
            if key in self.index or self.schema.check(cells, start + 1) is not None:
                continue
            if end - start > 1 and misquoted(self.lines[start:end], self.delimiter):
                continue
            self.replaced[number] = cells
            self.index[key] = number
            filled += 1
        return filled

    def add_column(self, name: str) -> None:
        """A new column at the end; the header is re-rendered and good rows gain an empty cell."""
        self.header.append(name)
        self.header_raw = None

    # -- text ----------------------------------------------------------------------------------

    def render(self) -> Iterator[str]:
        """The new file text, in pieces: long runs of untouched rows are single slices."""
        line = _RowFormatter(self.delimiter, self.newline)
        yield self.header_raw if self.header_raw is not None else line(self.header)
        last = self.header_raw if self.header_raw is not None else self.newline
        pieces = self._widened(line) if len(self.header) > self.width else self._slices(line)
        for piece in pieces:
            if piece:
                yield piece
                last = piece
        new_rows = [cells for cells in self.appended if cells is not None]
        if new_rows and last and not last.endswith(("\n", "\r")):
            yield self.newline  # the old last line had no line break
        for cells in new_rows:
            yield line(cells + [""] * (len(self.header) - len(cells)))

    def render_new_rows(self) -> str:
        """Only the rows appended to this document, as the text to add at the end of the file
        (the caller adds a line break first if the file's last line has none)."""
        line = _RowFormatter(self.delimiter, self.newline)
        width = len(self.header)
        return "".join(line(cells + [""] * (width - len(cells))) for cells in self.appended if cells is not None)

    def _slices(self, line: _RowFormatter) -> Iterator[str]:
        position = self.starts[0] if self.starts else len(self.lines)
        for number in sorted(self.replaced.keys() | self.removed):
            start, end = self._span(number)
            yield from self.lines[position:start]
            position = end
            if number in self.replaced:
                yield line(self.replaced[number])
        yield from self.lines[position:]

    def _widened(self, line: _RowFormatter) -> Iterator[str]:
        """Row by row: good rows gain empty cells for the new columns, the rest stay verbatim."""
        good = set(self.index.values())
        missing = len(self.header) - self.width
        for number in range(len(self.starts)):
            if number in self.removed:
                continue
            if number in self.replaced:
                cells = self.replaced[number]
                yield line(cells + [""] * (len(self.header) - len(cells)))
                continue
            raw = self._raw(number)
            if number in good:
                body, newline = _split_newline(raw)
                yield body + self.delimiter * missing + (newline or self.newline)
            else:
                yield raw

    def _span(self, number: int) -> tuple[int, int]:
        end = self.starts[number + 1] if number + 1 < len(self.starts) else len(self.lines)
        return self.starts[number], end

    def _raw(self, number: int) -> str:
        start, end = self._span(number)
        return "".join(self.lines[start:end])


class _RowFormatter:
    """One row as CSV text, with the file's delimiter and line break (minimal quoting)."""

    def __init__(self, delimiter: str, newline: str) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=delimiter, lineterminator=newline)

    def __call__(self, cells: list[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        return self.buffer.getvalue()


def _newline_of(raw: str) -> str:
    if raw.endswith("\r\n"):
        return "\r\n"
    if raw.endswith("\r"):
        return "\r"
    return "\n"


def _split_newline(raw: str) -> tuple[str, str]:
    for ending in ("\r\n", "\n", "\r"):
        if raw.endswith(ending):
            return raw[: -len(ending)], ending
    return raw, ""


def write_atomically(
    path: Path,
    text: Iterable[str],
    encoding: str,
    *,
    mode: int | None = None,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write ``text`` (pieces) to a temp file beside ``path``, fsync it, ``os.replace`` it over ``path``.

    The temp file lives in the same directory so the rename is atomic on the same file system;
    the directory is fsynced afterwards so the rename itself survives a power cut.
    ``before_replace`` runs after the fsync, as late as possible: it may raise to abandon the
    write (the caller saw another writer change the file meanwhile).
    """
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.writelines(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
