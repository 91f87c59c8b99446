"""A CSV file as a table of records keyed by one column.

Every pull is a full listing (the engine finds changes by row hash) unless the file is
byte-for-byte unchanged since the cursor, which is then a single empty page. Writes rewrite the
file atomically, touching only the rows they change; malformed rows are reported with their
line and kept verbatim. A writer that changed the file between our read and our replace is
detected by its stat stamp and we start over from its version, so its edit is never lost.

A batch of only creates is appended instead (fsynced before it returns): the connector keeps
the keys, header and line break of the file as it last read or wrote it, valid while the file's
stat stamp is the one it left, so N creates cost O(N) rather than a rewrite of the file per batch.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
import uuid
from array import array
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.generated_keys import RowKeys
from syncengine.connector import (
    BatchConnector,
    Capability,
    FieldSpec,
    FieldType,
    ObjectSpec,
    Page,
    WriteOp,
    WriteResult,
)
from syncengine.errors import (
    AuthError,
    BusyError,
    ConfigError,
    ConfigErrors,
    ConflictError,
    ConnectorError,
    NotFoundError,
    TransientError,
    UnsupportedError,
    ValidationError,
    WriteBlockedError,
)
from syncengine.incremental import decode_cursor, encode_cursor
from syncengine.records import Record

from .cells import format_cell, parser_for
from .config import CsvObjectConfig, parse_objects
from .document import Document, write_atomically
from .fingerprint import FileVersion, StatStamp, fingerprint_handle, stat_stamp, unchanged_since
from .locking import LockTimeout, write_lock
from .reader import UnreadableFile, collector_paused, read_chunks
from .schema import HeaderError, RowSchema, column_types

__all__ = ["CsvConnector"]

#: namespace of the keys we derive from idempotency keys (uuid5), fixed forever.
KEY_NAMESPACE = uuid.UUID("8f5b7a52-3c1e-5d0a-9b43-6e0c2f6a1d17")
#: how often a write starts over because another writer keeps changing the file.
WRITE_ATTEMPTS = 5


class _FileChanged(Exception):
    """Another writer replaced or modified the file after we read it."""


@dataclass(slots=True)
class _AppendState:
    """What appending creates needs to know of a file, kept from our last read or write of it.

    Valid while the file's stat stamp is ``stamp``: any other writer (ours under the lock, or a
    person's editor) changes it, and the next batch reads the file again. An in-place edit that
    keeps size and timestamps (coarse clocks) can go unseen by the key check until then; appends
    never write over it."""

    stamp: StatStamp
    header: list[str]
    newline: str
    schema: RowSchema
    #: the keys of the file's good rows, as ``Document.index`` holds them (values unused: -1).
    keys: dict[str, int]


def _append_encoding(encoding: str) -> str | None:
    """The codec that appends text in ``encoding`` (no BOM mid-file); None if none can."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if name == "utf-8-sig":
        return "utf-8"
    if name.startswith(("utf-16", "utf-32")):
        return None  # these write a BOM with every encode: rewrite instead
    return encoding


class CsvConnector(BatchConnector):
    #: a plan: nothing is written, not even the keys of rows added without one (see keys.py).
    dry_run: bool = False

    def __init__(self, name: str, objects: Mapping[str, CsvObjectConfig], *, page_size: int = 10_000) -> None:
        self.name = name
        self.configs = dict(objects)
        self.page_size = page_size
        self._specs: dict[str, tuple[StatStamp | None, ObjectSpec]] = {}
        self._append_states: dict[str, _AppendState] = {}

    @classmethod
    def from_config(cls, name: str, raw: Mapping[str, Any], base_dir: Path | str | None = None) -> CsvConnector:
        """From the plain YAML dict ``{"objects": {name: {"path": ..., ...}}}``."""
        return cls(name, parse_objects(raw, base_dir))

    # -- description ---------------------------------------------------------------------------

    def objects(self) -> Mapping[str, ObjectSpec]:
        return {obj: self._spec_of(obj) for obj in self.configs}

    def _spec_of(self, obj: str) -> ObjectSpec:
        config = self.configs[obj]
        try:
            stamp: StatStamp | None = stat_stamp(os.stat(config.file))
        except OSError:
            stamp = None
        cached = self._specs.get(obj)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        header = self._header_on_disk(config) if stamp is not None else None
        types = column_types(config)
        names = list(header) if header else self._initial_header(config)
        names += [n for n in types if n not in names]
        capabilities = {
            Capability.LIST,
            Capability.GET,
            Capability.CREATE,
            Capability.UPDATE,
            Capability.DELETE,
            Capability.FIND,
        }
        if config.archive_column:
            capabilities.add(Capability.ARCHIVE)
        spec = ObjectSpec(
            name=obj,
            key=config.key,
            capabilities=frozenset(capabilities),
            fields={n: FieldSpec(n, types.get(n, "string"), required=n == config.key) for n in names},
            cursor_field=config.updated_at,
            description=f"rows of {config.file}",
        )
        self._specs[obj] = (stamp, spec)
        return spec

    def problems(self) -> list[ConfigError]:
        """What is wrong with the files themselves, one line each with what to do: said instead of
        the "unknown field" errors a mapping gets from a file whose header cannot be read."""
        found = [_file_problem(c) or self._header_check(c) for c in self.configs.values()]
        return [p for p in found if p is not None]

    def _header_check(self, config: CsvObjectConfig) -> ConfigError | None:
        """A header the key setting cannot use (no key column, a column twice); None if it can."""
        header = self._header_on_disk(config) if config.file.exists() else None
        if header:
            try:
                RowSchema.from_header(header, config)
            except HeaderError as exc:
                return _header_problem(config, exc)
        return None

    def blocking_problems(self) -> list[ConfigError]:
        """Files every run would fail on whatever the mapping says: missing, with ``create: false``
        (so nothing may start them), or a header without the key column (or with a column twice).
        Checked by ``validate``, ``plan`` and ``sync`` before a run."""
        found: list[ConfigError] = []
        for config in self.configs.values():
            if not config.create and not config.file.exists():
                problem = _file_problem(config)
                if problem is not None:
                    found.append(problem)
                continue
            problem = self._header_check(config)
            if problem is not None:
                found.append(problem)
        return found

    def check(self) -> str:
        """``syncengine validate --online``: every file readable (or, missing, creatable), its folder
        writable and the file too (writes replace it); ConfigErrors naming each file that is not."""
        found: list[ConfigError] = []
        for config in self.configs.values():
            path = config.file
            if not path.exists() and config.create:
                folder = next((p for p in path.parents if p.exists()), None)
                if folder is not None and not (folder.is_dir() and os.access(folder, os.W_OK)):
                    found.append(ConfigError(f"cannot create the file: {folder} is not a writable folder",
                                             file=str(path)))
                continue
            problem = _file_problem(config) or _undecodable_at(path, config.encoding) or _read_only_problem(path)
            if problem is not None:
                found.append(problem)
            elif not os.access(path.parent, os.W_OK | os.X_OK):
                found.append(ConfigError(f"folder {path.parent} is not writable: a write replaces the file "
                                         "through a temporary file beside it", file=str(path)))
        if found:
            raise ConfigErrors(found)
        return f"{len(self.configs)} file(s) readable and writable"

    def _config(self, obj: str) -> CsvObjectConfig:
        self.spec(obj)  # raises UnsupportedError naming the known objects
        return self.configs[obj]

    def _header_on_disk(self, config: CsvObjectConfig) -> list[str] | None:
        try:
            with open(config.file, encoding=config.encoding, newline="") as handle:
                header = next(csv.reader(handle, delimiter=config.delimiter), None)
        except (OSError, UnicodeDecodeError):
            return None
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        return header

    @staticmethod
    def _initial_header(config: CsvObjectConfig) -> list[str]:
        names = [config.key, *config.columns]
        for extra in (config.updated_at, config.archive_column):
            if extra:
                names.append(extra)
        return list(dict.fromkeys(names))

    def _schema(self, obj: str, header: list[str]) -> RowSchema:
        config = self.configs[obj]
        try:
            return RowSchema.from_header(header, config)
        except HeaderError as exc:  # the file and the config disagree: no row can be read (exit 2)
            raise _header_problem(config, exc) from None

    # -- reading -------------------------------------------------------------------------------

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        config = self._config(obj)
        self._ensure_file(obj)
        try:
            _mark, previous = decode_cursor(cursor)
        except ValueError:
            previous = {}  # an unreadable cursor means "start over": repeats, never skips
        if config.generate_key is not None and not self.dry_run and previous.get("file") != self._fingerprint(obj):
            self._assign_keys(obj)
        try:
            handle = open(config.file, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise self._io_error(obj, exc) from exc
        try:
            fingerprint, _stamp = fingerprint_handle(handle)
            current = str(fingerprint)
            if previous.get("file") == current and "next" not in previous:
                yield Page([], cursor, full=False)
                return
            skip = int(previous["next"]) if previous.get("file") == current and "next" in previous else 0
            text = io.TextIOWrapper(handle, encoding=config.encoding, newline="")
            chunks = read_chunks(
                text,
                lambda header: self._schema(obj, header),
                delimiter=config.delimiter,
                page_size=self.page_size,
                skip_rows=skip,
                derive_key=self._row_keys(obj) if config.generate_key is not None else None,
            )
            pending = None
            try:
                for chunk in collector_paused(chunks):
                    if pending is not None:
                        yield Page(
                            pending.records,
                            encode_cursor(None, file=current, next=str(pending.rows)),
                            pending.errors,
                            full=skip == 0,
                        )
                    pending = chunk
            except UnicodeDecodeError as exc:
                raise self._undecodable(obj, exc) from None
            except UnreadableFile as exc:
                raise self._unreadable(obj, exc) from None
            assert pending is not None, "read_chunks always yields a last chunk"
            yield Page(pending.records, encode_cursor(None, file=current), pending.errors, full=skip == 0)
        except OSError as exc:
            raise self._io_error(obj, exc) from exc
        finally:
            handle.close()

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        config = self._config(obj)
        wanted = frozenset(str(k) for k in keys)
        if not wanted or not config.file.exists():
            return []
        found: list[Record] = []
        try:
            with open(config.file, encoding=config.encoding, newline="") as text:
                for chunk in read_chunks(
                    text,
                    lambda header: self._schema(obj, header),
                    delimiter=config.delimiter,
                    page_size=self.page_size,
                    keys=wanted,
                ):
                    found.extend(r for r in chunk.records if not r.deleted)
        except OSError as exc:
            raise self._io_error(obj, exc) from exc
        except UnicodeDecodeError as exc:
            raise self._undecodable(obj, exc) from None
        except UnreadableFile as exc:
            raise self._unreadable(obj, exc) from None
        order = {str(k): i for i, k in enumerate(keys)}
        return sorted(found, key=lambda r: order.get(r.key, 0))

    def find(self, obj: str, field: str, values: Sequence[Any]) -> list[Record]:
        config = self._config(obj)
        kind = column_types(config).get(field, "string")
        wanted = {v for v in (self._normalized(value, kind) for value in values) if v is not None}
        if not wanted:
            return []
        found: list[Record] = []
        for page in self.changes(obj, None):
            found.extend(r for r in page.records if not r.deleted and r.fields.get(field) in wanted)
        return found

    @staticmethod
    def _normalized(value: Any, kind: FieldType) -> Any:
        try:
            text = format_cell(value, kind)
        except ValueError:
            return None
        if not text:
            return None
        parser = parser_for(kind)
        return parser(text) if parser is not None else text

    # -- writing -------------------------------------------------------------------------------

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """All ops in one atomic rewrite of the file; a bad op gets its error, the rest apply."""
        config = self._config(obj)
        if not ops:
            return []
        self._ensure_file(obj)
        try:
            with self._lock(obj):
                return self._write_batch(obj, config, ops)
        except OSError as exc:
            raise self._io_error(obj, exc) from exc

    def _write_batch(self, obj: str, config: CsvObjectConfig, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if all(op.kind == "create" for op in ops):
            appended = self._append_creates(obj, config, ops)
            if appended is not None:
                return appended
        self._append_states.pop(obj, None)
        for _attempt in range(WRITE_ATTEMPTS):
            document, version, mode = self._load_document(obj)
            results = self._apply(obj, document, ops)
            if not any(r.ok for r in results):
                return results

            def unchanged(expected: FileVersion | None = version) -> None:
                if not unchanged_since(config.file, expected):
                    raise _FileChanged

            try:
                write_atomically(config.file, document.render(), config.encoding, mode=mode, before_replace=unchanged)
            except _FileChanged:
                continue  # read the other writer's version and apply our ops to it
            self._remember(obj, document)
            return results
        raise self._kept_changing(obj)

    def _kept_changing(self, obj: str) -> ConflictError:
        return ConflictError(
            f"{self.configs[obj].file} kept changing while we wrote it ({WRITE_ATTEMPTS} attempts)",
            connector=self.name,
            obj=obj,
            hint="another program is rewriting the file continuously; retry later",
        )

    def _remember(self, obj: str, document: Document) -> None:
        """After our rewrite (under the lock): what the next batch of creates needs to append."""
        try:
            stamp = stat_stamp(os.stat(self.configs[obj].file))
        except OSError:
            return
        self._append_states[obj] = _AppendState(
            stamp, list(document.header), document.newline, document.schema, dict.fromkeys(document.index, -1)
        )

    def _append_creates(self, obj: str, config: CsvObjectConfig, ops: Sequence[WriteOp]) -> list[WriteResult] | None:
        """Creates appended to the end of the file (held under the write lock), or None when
        they need the rewrite: a new column, a retried create of a row that exists (an update),
        an encoding that cannot append, a file with no header yet."""
        encoding = _append_encoding(config.encoding)
        if encoding is None:
            return None
        key_kind = column_types(config).get(config.key, "string")
        for _attempt in range(WRITE_ATTEMPTS):
            state = self._append_state(obj)
            if state is None:
                return None
            for op in ops:
                given = op.fields.get(config.key)
                if (given is None or given == "") and self.derived_key(obj, op.idempotency_key, key_kind) in state.keys:
                    return None
            # A document with no lines: the file's header and keys, and the rows this batch adds.
            document = Document([], list(state.header), "", array("q"), state.newline, config.delimiter,
                                state.schema, index=state.keys, width=len(state.header))
            results = self._apply(obj, document, ops)
            if document.header != state.header:  # a new column: the header changes
                self._append_states.pop(obj, None)
                return None
            text = document.render_new_rows()
            if not text:
                return results
            if self._append_text(obj, state, text, encoding):
                for result in results:  # keep the "values unused" promise for the next batch
                    if result.record is not None:
                        state.keys[result.record.key] = -1
                return results
            self._append_states.pop(obj, None)  # changed since we knew it: read it again
        raise self._kept_changing(obj)

    def _append_state(self, obj: str) -> _AppendState | None:
        config = self.configs[obj]
        try:
            current = stat_stamp(os.stat(config.file))
        except FileNotFoundError:
            return None
        state = self._append_states.get(obj)
        if state is not None and state.stamp == current:
            return state
        document, version, _mode = self._load_document(obj)
        if version is None or document.header_raw is None:
            return None  # missing, or no header yet: the rewrite writes one
        state = _AppendState(version.stamp, list(document.header), document.newline, document.schema,
                             dict.fromkeys(document.index, -1))
        self._append_states[obj] = state
        return state

    def _append_text(self, obj: str, state: _AppendState, text: str, encoding: str) -> bool:
        """Append ``text`` and fsync; False (nothing written) if the file is no longer as ``state`` knew it."""
        data = text.encode(encoding)
        fd = os.open(self.configs[obj].file, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        try:
            before = os.fstat(fd)
            if stat_stamp(before) != state.stamp:
                return False
            if before.st_size and os.pread(fd, 1, before.st_size - 1) not in (b"\n", b"\r"):
                data = state.newline.encode(encoding) + data  # the last line had no line break
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except BaseException:
                with suppress(OSError):
                    os.ftruncate(fd, before.st_size)  # no half row left at the end
                raise
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if after.st_size == before.st_size + len(data):
            state.stamp = stat_stamp(after)
        else:  # someone else wrote at the same time: ours is in, but read the file next time
            self._append_states.pop(obj, None)
        return True

    def _load_document(self, obj: str) -> tuple[Document, FileVersion | None, int | None]:
        """The file as it is now, with the stamp that must still hold when we replace it."""
        config = self.configs[obj]
        try:
            handle = open(config.file, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            if not config.create:
                raise self._missing(obj) from None
            header = self._initial_header(config)
            return Document.empty(header, self._schema(obj, header), config.delimiter), None, None
        except OSError as exc:
            raise self._io_error(obj, exc) from exc
        with handle:
            fingerprint, stamp = fingerprint_handle(handle)
            st = os.fstat(handle.fileno())
            text = io.TextIOWrapper(handle, encoding=config.encoding, newline="")
            try:
                document = Document.parse(text, lambda h: self._schema(obj, h), config.delimiter)
            except UnicodeDecodeError as exc:
                raise self._undecodable(obj, exc) from None
            except UnreadableFile as exc:
                raise self._unreadable(obj, exc) from None
            except ValueError:  # no header at all: an empty file
                header = self._initial_header(config)
                document = Document.empty(header, self._schema(obj, header), config.delimiter)
        return document, FileVersion(stamp, fingerprint.digest), st.st_mode & 0o7777

    def _apply(self, obj: str, document: Document, ops: Sequence[WriteOp]) -> list[WriteResult]:
        now = datetime.now(UTC)
        results: list[WriteResult] = []
        for op in ops:
            try:
                if op.kind == "create":
                    record: Record | None = self._apply_create(obj, document, op, now)
                elif op.kind == "update":
                    record = self._apply_update(obj, document, self._existing(obj, document, op), op.fields, now)
                elif op.kind == "delete":
                    document.remove(self._existing(obj, document, op))
                    record = None
                elif op.kind == "archive":
                    record = self._apply_archive(obj, document, self._existing(obj, document, op), now)
                else:
                    raise UnsupportedError(f"unknown write kind {op.kind!r}", connector=self.name, obj=obj)
                results.append(WriteResult(op, record=record))
            except ConnectorError as exc:
                results.append(WriteResult(op, error=exc))
        return results

    def _existing(self, obj: str, document: Document, op: WriteOp) -> str:
        if op.key is None or op.key not in document.index:
            raise NotFoundError(
                f"no row with key {op.key!r} in {self.configs[obj].file}",
                connector=self.name,
                obj=obj,
                key=op.key,
            )
        return op.key

    def _apply_create(self, obj: str, document: Document, op: WriteOp, now: datetime) -> Record:
        config = self.configs[obj]
        key_kind = column_types(config).get(config.key, "string")
        given = op.fields.get(config.key)
        if given is not None and given != "":
            key = self._cell(obj, config.key, given, key_kind)
            if key in document.index:
                raise ValidationError(
                    f"a row with key {key!r} already exists",
                    connector=self.name,
                    obj=obj,
                    key=key,
                    field=config.key,
                )
        else:
            key = self.derived_key(obj, op.idempotency_key, key_kind)
            if key in document.index:
                # The same create ran before (a retry after a crash): apply it to that row again.
                return self._apply_update(obj, document, key, op.fields, now)
        cells = self._changed_cells(obj, document, [""] * len(document.header), op.fields, now)
        cells[document.header.index(config.key)] = key
        document.append(key, cells)
        return document.schema.to_record(cells)

    def derived_key(self, obj: str, idempotency_key: str, kind: FieldType = "string") -> str:
        """The key of a create that did not give one: the same on every retry of that create."""
        derived = uuid.uuid5(KEY_NAMESPACE, f"{self.name}/{obj}/{idempotency_key}")
        if kind == "integer":
            return str(derived.int >> 80)  # 48 bits: 15 digits, safe in spreadsheets
        return str(derived)

    def _apply_update(self, obj: str, document: Document, key: str, fields: Mapping[str, Any], now: datetime) -> Record:
        config = self.configs[obj]
        if config.key in fields:
            given = fields[config.key]
            kind = column_types(config).get(config.key, "string")
            if given is not None and given != "" and self._cell(obj, config.key, given, kind) != key:
                raise ValidationError(
                    "the key of a row cannot change", connector=self.name, obj=obj, key=key, field=config.key
                )
            fields = {name: value for name, value in fields.items() if name != config.key}
        cells = self._changed_cells(obj, document, document.cells(key), fields, now, key)
        document.set_cells(key, cells)
        return document.schema.to_record(cells)

    def _apply_archive(self, obj: str, document: Document, key: str, now: datetime) -> Record:
        config = self.configs[obj]
        assert config.archive_column is not None
        kind = column_types(config).get(config.archive_column, "string")
        flag: Any = {"datetime": now, "date": now.date()}.get(kind, True)
        return self._apply_update(obj, document, key, {config.archive_column: flag}, now)

    def _changed_cells(
        self,
        obj: str,
        document: Document,
        base: list[str],
        fields: Mapping[str, Any],
        now: datetime,
        key: str | None = None,
    ) -> list[str]:
        """``base`` with ``fields`` written in; new columns are added only if every value fits."""
        config = self.configs[obj]
        types = column_types(config)
        texts = {name: self._cell(obj, name, value, types.get(name, "string"), key) for name, value in fields.items()}
        if config.updated_at and config.updated_at not in fields:
            texts[config.updated_at] = format_cell(now, "datetime")
        new_columns = [name for name in texts if name not in document.header]
        for name in new_columns:
            document.add_column(name)
        if new_columns:
            document.schema = self._schema(obj, document.header)
        cells = list(base) + [""] * (len(document.header) - len(base))
        for name, text in texts.items():
            cells[document.header.index(name)] = text
        return cells

    def _cell(self, obj: str, name: str, value: Any, kind: FieldType, key: str | None = None) -> str:
        try:
            return format_cell(value, kind)
        except ValueError as exc:
            raise ValidationError(str(exc), connector=self.name, obj=obj, key=key, field=name) from None

    # -- keys of rows added without one ----------------------------------------------------------

    def _row_keys(self, obj: str) -> RowKeys:
        return RowKeys(f"{self.name}/{obj}")

    def _fingerprint(self, obj: str) -> str | None:
        try:
            with open(self.configs[obj].file, "rb") as handle:
                return str(fingerprint_handle(handle)[0])
        except OSError:
            return None

    def _has_keyless_row(self, obj: str) -> bool:
        """A quick pass: is there a row of the header's width with an empty key cell?"""
        config = self.configs[obj]
        try:
            with open(config.file, encoding=config.encoding, newline="") as handle:
                reader = csv.reader(handle, delimiter=config.delimiter, strict=False)
                header = next(reader, None)
                if not header or config.key not in [h.lstrip("\ufeff") for h in header]:
                    return False
                index, width = [h.lstrip("\ufeff") for h in header].index(config.key), len(header)
                return any(len(row) == width and not row[index] for row in reader)
        except (OSError, UnicodeDecodeError, csv.Error):
            return False  # the read that follows reports what is wrong with the file

    def _assign_keys(self, obj: str) -> None:
        """Write a key into every row added without one: one atomic rewrite, before the rows are read."""
        config = self.configs[obj]
        if not self._has_keyless_row(obj):
            return
        try:
            with self._lock(obj):
                for _attempt in range(WRITE_ATTEMPTS):
                    document, version, mode = self._load_document(obj)
                    if not document.fill_empty_keys(self._row_keys(obj)):
                        return

                    def unchanged(expected: FileVersion | None = version) -> None:
                        if not unchanged_since(config.file, expected):
                            raise _FileChanged

                    try:
                        write_atomically(config.file, document.render(), config.encoding, mode=mode,
                                         before_replace=unchanged)
                    except _FileChanged:
                        continue
                    self._append_states.pop(obj, None)
                    return
        except OSError as exc:
            raise self._io_error(obj, exc) from exc
        raise self._kept_changing(obj)

    # -- files ---------------------------------------------------------------------------------

    @contextmanager
    def _lock(self, obj: str) -> Iterator[None]:
        """The file's write lock, waited for at most ``lock_timeout`` seconds (then a BusyError).
        A file whose owner may not write it is refused first (WriteBlockedError): every write
        replaces the file, which its folder allows whatever the file's mode (and root ignores
        modes), so the mode bits are checked rather than trusting EACCES."""
        config = self.configs[obj]
        read_only = _read_only_problem(config.file)
        if read_only is not None:
            raise WriteBlockedError(f"{config.file}: {read_only.message}; nothing written", connector=self.name,
                                    obj=obj)
        try:
            with write_lock(config.file, config.lock_timeout):
                yield
        except LockTimeout as exc:
            by = f"pid {exc.holder}, per {exc.lock_file.name}" if exc.holder is not None else "another program"
            raise BusyError(
                f"{config.file} is locked by another writer ({by}) for more than {exc.waited:g} s: nothing written",
                connector=self.name, obj=obj,
                hint="let that writer finish (or stop it), then sync again: the records wait for the next run; "
                     f"`lock_timeout:` under objects.{obj} sets the wait",
            ) from None

    def _ensure_file(self, obj: str) -> None:
        config = self.configs[obj]
        if config.file.exists():
            return
        if not config.create:
            raise self._missing(obj)
        header = self._initial_header(config)
        document = Document.empty(header, self._schema(obj, header), config.delimiter)
        try:
            # `create: true` starts the file, and the folder it goes in.
            config.file.parent.mkdir(parents=True, exist_ok=True)
            with self._lock(obj):
                if not config.file.exists():
                    write_atomically(config.file, document.render(), config.encoding)
        except OSError as exc:
            raise self._io_error(obj, exc) from exc

    def _undecodable(self, obj: str, exc: UnicodeDecodeError) -> ConfigError:
        """The file is not in its encoding: the whole file is refused (no row of it can be trusted
        to be read as written), named by the line of the first bad byte, found by reading the file
        again as bytes (only now: the text reader's offsets are relative to its buffer)."""
        config = self.configs[obj]
        found = _undecodable_at(config.file, config.encoding)
        return found or ConfigError(f"not {config.encoding} text ({exc.reason}): {_SAVE_AS.format(config.encoding)}",
                                    file=str(config.file))

    def _unreadable(self, obj: str, exc: UnreadableFile) -> ValidationError:
        return ValidationError(
            f"{self.configs[obj].file}:{exc}",
            connector=self.name,
            obj=obj,
            hint="check the delimiter and the quoting near that line",
        )

    def _missing(self, obj: str) -> NotFoundError:
        return NotFoundError(
            f"{self.configs[obj].file} does not exist",
            connector=self.name,
            obj=obj,
            hint="check the path, or set 'create: true' to start an empty file",
        )

    def _io_error(self, obj: str, exc: OSError) -> ConnectorError:
        path = self.configs[obj].file
        if isinstance(exc, FileNotFoundError | NotADirectoryError | FileExistsError):
            return NotFoundError(
                f"{path}: {exc.strerror}", connector=self.name, obj=obj, hint="does the directory exist?"
            )
        if isinstance(exc, PermissionError):
            return AuthError(
                f"{path}: permission denied", connector=self.name, obj=obj, hint="check the file's owner and mode"
            )
        return TransientError(f"{path}: {exc.strerror or exc}", connector=self.name, obj=obj)


def _file_problem(config: CsvObjectConfig) -> ConfigError | None:
    """What keeps a CSV file from being read, in one line with what to do; None if nothing."""
    path = config.file
    if not path.parent.is_dir():
        return ConfigError(f"folder {path.parent} does not exist: create it or fix the path", file=str(path))
    if not path.exists() and not config.create:
        return ConfigError("the file does not exist and `create: false`: create it with a header line, or set "
                           "`create: true` (with its `columns:`) to let syncengine start it", file=str(path))
    if not path.exists():
        return ConfigError("the file does not exist: create it with a header line, or declare its `columns:` "
                           "(with `create: true`) in the connector's config", file=str(path))
    try:
        head = path.read_bytes()[:65536]
    except OSError as exc:
        return ConfigError(f"cannot read the file: {exc.strerror}", file=str(path))
    if not head:
        return ConfigError("the file is empty (0 bytes): it needs a header line naming its columns", file=str(path))
    if b"\0" in head:
        return ConfigError("binary data, not CSV text: is this the right file?", file=str(path))
    try:  # the start only: the reader names a bad byte further on with its line
        codecs.getincrementaldecoder(config.encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        return _undecodable_at(path, config.encoding) or ConfigError(
            f"not {config.encoding} text (byte {exc.start}): {_SAVE_AS.format(config.encoding)}", file=str(path))
    return None


_SAVE_AS = "save it as {0} or set `encoding:` in the connector's config (e.g. latin-1, cp1252, utf-8-sig)"


def _undecodable_at(path: Path, encoding: str) -> ConfigError | None:
    """The first byte of ``path`` that ``encoding`` cannot decode, as a ConfigError naming its line;
    None if the whole file decodes (or cannot be read: the caller says why)."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        with path.open("rb") as handle:
            offset = 0
            for number, line in enumerate(handle, start=1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as exc:
                    bad = line[max(exc.start, 0):exc.end] or line[:1]
                    return ConfigError(f"not {encoding} text (byte {bad.hex(' ')} at offset {offset + exc.start}, "
                                       f"{exc.reason}): {_SAVE_AS.format(encoding)}", file=str(path), line=number)
                offset += len(line)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        return ConfigError(f"not {encoding} text (it ends inside a character: {exc.reason}): "
                           f"{_SAVE_AS.format(encoding)}", file=str(path))
    except (OSError, LookupError):
        return None
    return None


def _header_problem(config: CsvObjectConfig, exc: HeaderError) -> ConfigError:
    return ConfigError(f"{exc}: fix the header line, or the connector's `key:` setting", file=str(config.file),
                       line=1)


def _read_only_problem(path: Path) -> ConfigError | None:
    """A file whose owner may not write it (mode 0444): a write would replace it anyway (the folder
    allows it, and root ignores modes), so it is refused by its mode bits, not by EACCES."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & stat.S_IWUSR:
        return None
    return ConfigError(f"the file is read-only (mode {stat.S_IMODE(mode):04o}) and syncengine writes to it: "
                       f"allow it with `chmod u+w {path}`, or make the pair one-way from this file",
                       file=str(path))
