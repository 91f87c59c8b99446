"""What a connector is: the objects it offers (``ObjectSpec``) and the operations on them.

The engine only ever talks to this protocol. A connector pages through changes since a cursor,
reads records by key, and writes in batches; whatever the outside system's wire format, it
hands the engine :class:`~syncengine.records.Record` values and raises the typed errors of
:mod:`syncengine.errors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from syncengine.errors import ConnectorError, RecordError, UnsupportedError
from syncengine.records import Record

__all__ = [
    "BaseConnector",
    "BatchConnector",
    "Capability",
    "Connector",
    "FieldSpec",
    "FieldType",
    "ObjectSpec",
    "Page",
    "WriteOp",
    "WriteResult",
]


class Capability(StrEnum):
    LIST = "list"
    GET = "get"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ARCHIVE = "archive"
    #: ``changes`` can filter by a cursor; without it every pull is a full listing.
    INCREMENTAL = "incremental"
    #: deleted records show up in ``changes`` with ``deleted=True``.
    DELETES_IN_CHANGES = "deletes_in_changes"
    #: ``find`` can look records up by a field's value (used by match rules).
    FIND = "find"
    #: a write repeated with the same idempotency key is answered with the first write's result
    #: (so an interrupted create is replayed rather than looked for).
    IDEMPOTENT_WRITES = "idempotent_writes"


READ_ONLY = frozenset({Capability.LIST, Capability.GET})

FieldType = Literal[
    "string", "integer", "decimal", "money", "boolean", "date", "datetime", "object", "array", "any"
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an object, for mapping validation and for the README's field tables."""

    name: str
    type: FieldType = "string"
    description: str = ""
    required: bool = False
    #: set by the outside system (ids, totals, timestamps); a mapping may not write it.
    read_only: bool = False
    #: sub-fields of an ``object`` (or of each item of an ``array``); empty means "anything below".
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)

    def child(self, name: str) -> FieldSpec | None:
        if self.type == "money":
            return _MONEY_PARTS.get(name)
        return self.fields.get(name)

    def accepts_any_child(self) -> bool:
        return self.type == "any" or (self.type in ("object", "array") and not self.fields)


_MONEY_PARTS = {
    "amount": FieldSpec("amount", "decimal", "the amount as a decimal"),
    "currency": FieldSpec("currency", "string", "ISO 4217 currency code"),
}


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """A small declaration of one object: its name, key, cursor field, what it can do, its fields."""

    name: str
    key: str
    capabilities: frozenset[Capability]
    fields: Mapping[str, FieldSpec]
    cursor_field: str | None = None
    description: str = ""

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def writable(self) -> bool:
        return bool(self.capabilities & {Capability.CREATE, Capability.UPDATE, Capability.DELETE})

    def field_at(self, path: str) -> FieldSpec | None:
        """The spec at a dotted path, or None if no such path exists."""
        parts = path.split(".")
        spec = self.fields.get(parts[0])
        for part in parts[1:]:
            if spec is None:
                return None
            if spec.accepts_any_child():
                return FieldSpec(part, "any")
            spec = spec.child(part)
        return spec


@dataclass(slots=True)
class Page:
    """One page of changes and the cursor to resume *after* it.

    ``full`` says the pages of this pull together list *every* live record, so a linked record
    that is absent was deleted; the engine infers deletes only when every page of a pull says so
    and it finished without error. ``errors`` are records the connector could not read; the
    engine reports them and never takes their absence for a delete. ``counts`` are added to the
    run's counts as ``<side>_<name>``.
    """

    records: list[Record]
    cursor: str | None
    errors: list[RecordError] = field(default_factory=list)
    full: bool = False
    #: what the connector wants counted in the run's report, not as errors (Stripe: events of
    #: unknown types skipped, a cursor past the events window answered by a full listing).
    counts: dict[str, int] = field(default_factory=dict)
    #: the key of every live record of the object, from a complete id-only listing made during
    #: this pull, when its pages carry only the changed records (an API that lists no deletes).
    #: A linked key absent from it and from the pull may be a delete the connector could not see
    #: (a record this engine created and someone deleted before the next pull): the engine reads
    #: each such key (``get``) and takes only those not found for deletes.
    present: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One write the engine asks for. ``idempotency_key`` is stable across retries and reruns."""

    kind: Literal["create", "update", "delete", "archive"]
    key: str | None
    fields: Mapping[str, Any]
    idempotency_key: str


@dataclass(slots=True)
class WriteResult:
    """What became of one :class:`WriteOp`: the record as the system now holds it, or the error."""

    op: WriteOp
    record: Record | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class Connector(Protocol):
    """The whole surface the engine uses. See :class:`BaseConnector` for the batch defaults."""

    name: str

    def objects(self) -> Mapping[str, ObjectSpec]: ...

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Pages of records changed since ``cursor`` (None: everything), each with its resume cursor.

        The cursor of the last page must be safe to resume from: it may repeat records (the
        engine de-duplicates by hash) but never skip one.
        """
        ...

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        """The records with these keys; a missing key is simply absent from the result."""
        ...

    def create(self, obj: str, fields: Mapping[str, Any], idempotency_key: str) -> Record: ...

    def update(self, obj: str, key: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        """Change only the given fields; return the whole record as stored afterwards."""
        ...

    def delete(self, obj: str, key: str) -> None: ...

    def archive(self, obj: str, key: str) -> None: ...

    def find(self, obj: str, field: str, values: Sequence[Any]) -> list[Record]:
        """Records whose ``field`` equals one of ``values`` (for match rules); [] if unsupported."""
        ...

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Apply several writes; one result per op, in order. One bad op does not fail the others."""
        ...

    def close(self) -> None: ...


class BaseConnector:
    """Defaults for the optional parts of :class:`Connector`; subclasses override what they can do
    better (a SQL table writes a batch in one transaction)."""

    name: str = "connector"

    def objects(self) -> Mapping[str, ObjectSpec]:
        raise NotImplementedError

    def spec(self, obj: str) -> ObjectSpec:
        try:
            return self.objects()[obj]
        except KeyError:
            raise UnsupportedError(
                f"unknown object {obj!r}; this connector has: {', '.join(sorted(self.objects()))}",
                connector=self.name,
                obj=obj,
            ) from None

    def require(self, obj: str, capability: Capability) -> ObjectSpec:
        spec = self.spec(obj)
        if not spec.can(capability):
            raise UnsupportedError(
                f"{obj} does not support {capability.value}", connector=self.name, obj=obj
            )
        return spec

    def archive(self, obj: str, key: str) -> None:
        raise UnsupportedError(f"{obj} cannot be archived", connector=self.name, obj=obj, key=key)

    def find(self, obj: str, field: str, values: Sequence[Any]) -> list[Record]:
        return []

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        results: list[WriteResult] = []
        for op in ops:
            try:
                if op.kind == "create":
                    results.append(WriteResult(op, record=self.create(obj, op.fields, op.idempotency_key)))
                elif op.kind == "update":
                    assert op.key is not None
                    results.append(
                        WriteResult(op, record=self.update(obj, op.key, op.fields, op.idempotency_key))
                    )
                elif op.kind == "delete":
                    assert op.key is not None
                    self.delete(obj, op.key)
                    results.append(WriteResult(op))
                else:
                    assert op.key is not None
                    self.archive(obj, op.key)
                    results.append(WriteResult(op))
            except ConnectorError as exc:
                results.append(WriteResult(op, error=exc))
        return results

    def create(self, obj: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        raise NotImplementedError

    def update(self, obj: str, key: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        raise NotImplementedError

    def delete(self, obj: str, key: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class BatchConnector(BaseConnector):
    """For connectors whose natural unit of writing is a batch (a file rewrite, a transaction):
    a single write is a batch of one, and its error is raised rather than returned."""

    def write_batch(self, obj: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        raise NotImplementedError

    def create(self, obj: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        return self._one(obj, WriteOp("create", None, fields, idempotency_key))

    def update(self, obj: str, key: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        return self._one(obj, WriteOp("update", key, fields, idempotency_key))

    def delete(self, obj: str, key: str) -> None:
        self._one(obj, WriteOp("delete", key, {}, f"delete:{key}"))

    def archive(self, obj: str, key: str) -> None:
        self.require(obj, Capability.ARCHIVE)
        self._one(obj, WriteOp("archive", key, {}, f"archive:{key}"))

    def _one(self, obj: str, op: WriteOp) -> Record:
        (result,) = self.write_batch(obj, [op])
        if result.error is not None:
            raise result.error
        return result.record if result.record is not None else Record(op.key or "", deleted=True)
