"""The file as lines of text, for writing: every row keeps its raw text until a write touches it.

A write re-renders only the rows it changes. Untouched rows, malformed rows and blank lines
are written back byte for byte, so a sync never reformats a person's file or "repairs" a row it
could not read. The new file is written next to the old one, fsynced and swapped in with
``os.replace``: a crash leaves either the old file or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from syncengine.errors import RecordError

from .schema import RowSchema

__all__ = ["Document", "Row", "RowSchemaFactory", "write_atomically"]

RowSchemaFactory = Callable[[list[str]], RowSchema]


@dataclass(slots=True)
class Row:
    """One physical record of the file: its raw text, its cells, and whether it can be synced."""

    raw: str | None
    cells: list[str]
    line: int
    #: the key of a good row; None for malformed rows and blank lines (kept verbatim).
    key: str | None = None
    error: RecordError | None = None

    @property
    def good(self) -> bool:
        return self.key is not None


@dataclass(slots=True)
class Document:
    header: list[str]
    header_raw: str | None
    rows: list[Row | None]
    newline: str
    delimiter: str
    schema: RowSchema
    #: original header width: good rows narrower than the header get empty cells appended.
    width: int = 0
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: TextIO, schema_of: RowSchemaFactory, delimiter: str) -> Document:
        pending: list[str] = []

        def physical_lines() -> Iterator[str]:
            for line in text:
                pending.append(line)
                yield line

        reader = csv.reader(physical_lines(), delimiter=delimiter, strict=False)
        header = next(reader, None)
        if header is None:
            raise ValueError("the file has no header")
        header_raw = "".join(pending)
        pending.clear()
        schema = schema_of(header)
        doc = cls(
            header=list(schema.names),
            header_raw=header_raw,
            rows=[],
            newline=_newline_of(header_raw),
            delimiter=delimiter,
            schema=schema,
            width=len(schema.names),
        )
        line = reader.line_num
        for cells in reader:
            start = line + 1
            line = reader.line_num
            raw = "".join(pending)
            pending.clear()
            row = Row(raw, cells, start)
            if cells:
                error = schema.check(cells, start)
                if error is None and cells[schema.key_index] in doc.index:
                    error = schema.duplicate(cells[schema.key_index], start)
                if error is None:
                    row.key = cells[schema.key_index]
                    doc.index[row.key] = len(doc.rows)
                else:
                    row.error = error
            doc.rows.append(row)
        return doc

    @classmethod
    def empty(cls, header: list[str], schema: RowSchema, delimiter: str) -> Document:
        return cls(header, None, [], "\n", delimiter, schema, len(header))

    def add_column(self, name: str) -> None:
        """A new column at the end; the header is re-rendered and good rows gain an empty cell."""
        self.header.append(name)
        self.header_raw = None

    def render(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator=self.newline)
        if self.header_raw is not None:
            out.write(self.header_raw)
        else:
            writer.writerow(self.header)
        missing = len(self.header) - self.width
        for row in self.rows:
            if row is None:
                continue
            if row.raw is None:
                writer.writerow(row.cells + [""] * (len(self.header) - len(row.cells)))
                continue
            if missing and row.good:
                body, newline = _split_newline(row.raw)
                out.write(body + self.delimiter * missing + (newline or self.newline))
                continue
            out.write(row.raw)
        return out.getvalue()

    def append(self, row: Row) -> None:
        last = self._last()
        if last is not None and last.raw is not None and not _split_newline(last.raw)[1]:
            last.raw += self.newline  # the old last line had no line break; the new row needs one
        elif last is None and self.header_raw is not None and not _split_newline(self.header_raw)[1]:
            self.header_raw += self.newline
        assert row.key is not None
        self.index[row.key] = len(self.rows)
        self.rows.append(row)

    def remove(self, key: str) -> None:
        position = self.index.pop(key)
        self.rows[position] = None

    def _last(self) -> Row | None:
        for row in reversed(self.rows):
            if row is not None:
                return row
        return None


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
    text: str,
    encoding: str,
    *,
    mode: int | None = None,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write ``text`` to a temp file beside ``path``, fsync it, ``os.replace`` it over ``path``.

    The temp file lives in the same directory so the rename is atomic on the same file system;
    the directory is fsynced afterwards so the rename itself survives a power cut.
    ``before_replace`` runs after the fsync, as late as possible: it may raise to abandon the
    write (the caller saw another writer change the file meanwhile).
    """
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
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
