"""Errors the ledger raises on purpose, with the pipeline and pair they concern and a hint."""

from __future__ import annotations

from syncengine.errors import SyncEngineError

__all__ = ["ConflictNotOpenError", "LedgerError", "LinkConflictError"]


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
