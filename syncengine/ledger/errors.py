"""Errors the ledger raises on purpose, with the pipeline and pair they concern and a hint."""

from __future__ import annotations

from syncengine.errors import SyncEngineError

__all__ = [
    "ConflictNotOpenError",
    "LedgerError",
    "LedgerStorageError",
    "LinkConflictError",
    "NotALedgerError",
    "PipelineBusyError",
]


class LedgerError(SyncEngineError):
    """Something about the ledger's state, not about an outside system."""


class LinkConflictError(LedgerError):
    """A link write would make one record linked twice (links are unique on both sides)."""

    def __init__(self, message: str, *, pipeline: str, pair: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pipeline = pipeline
        self.pair = pair

    @classmethod
    def from_driver(cls, pipeline: str, pair: str, exc: Exception) -> LinkConflictError:
        return cls(
            f"[{pipeline}/{pair}] a link write breaks link uniqueness: {exc}",
            pipeline=pipeline,
            pair=pair,
            hint="a right key can belong to one link only: drop the old link before re-linking it",
        )


class ConflictNotOpenError(LedgerError):
    """A conflict was resolved twice, or does not exist."""


class NotALedgerError(LedgerError):
    """The ledger URL points at something that is not a syncengine ledger: an empty or foreign
    file, a corrupt database, tables of another application, a schema revision we do not know.

    ``reason`` is one of: ``no_folder``, ``not_a_file``, ``unreadable``, ``empty``, ``not_sqlite``, ``no_tables``,
    ``foreign``, ``corrupt``, ``unknown_revision``. Nothing was written to it."""

    def __init__(self, message: str, *, location: str, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.location = location
        self.reason = reason


class PipelineBusyError(LedgerError):
    """Another run of the same pipeline holds its lease (see :mod:`syncengine.ledger.run_lease`)."""

    def __init__(self, message: str, *, pipeline: str, holder: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pipeline = pipeline
        self.holder = holder


class LedgerStorageError(LedgerError):
    """The ledger's storage failed under a read or write: a full disk, a file-size limit, an I/O
    error. The transaction in hand was rolled back, so nothing is half-written; a run stops there
    (the CLI exits 2) and the next one, once there is room, carries on where the last commit left."""
