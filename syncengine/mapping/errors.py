"""Errors of mapping one record (as opposed to mistakes in the mapping file itself).

These are raised on the hot path by ``PairMapping.project`` / ``render`` / ``match_key``. They are
record-level: the reconciler reports the record, leaves it untouched and goes on with the rest.
:class:`UnresolvedRef` is separate because it is usually temporary (the referenced record is not
linked *yet*), so the reconciler retries the record after the referenced pair has synced.
"""

from __future__ import annotations

from syncengine.errors import SyncEngineError

__all__ = ["RecordMappingError", "UnresolvedRef"]


class RecordMappingError(SyncEngineError):
    """One field of one record could not be translated (an unmapped enum value, a bad date)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        pair: str | None = None,
        side: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.field = field
        self.pair = pair
        self.side = side

    def __str__(self) -> str:
        where = "/".join(p for p in (self.pair, self.side) if p)
        prefix = f"[{where}] " if where else ""
        field = f"field {self.field!r}: " if self.field else ""
        return f"{prefix}{field}{super().__str__()}"


class UnresolvedRef(RecordMappingError):
    """A foreign key whose target has no link in ``ref_pair`` yet; retry after that pair syncs."""

    def __init__(
        self,
        ref_pair: str,
        key: str,
        *,
        key_side: str,
        field: str | None = None,
        pair: str | None = None,
        side: str | None = None,
        gone: bool = False,
    ) -> None:
        if gone:
            message = f"refers to {key_side} key {key!r} of pair {ref_pair!r}, which was deleted"
            hint = "the pair's `deletes` rule decides what becomes of records that refer to it"
        else:
            message = f"no link in pair {ref_pair!r} for {key_side} key {key!r} yet"
            hint = f"sync pair {ref_pair!r} first; the record is retried later"
        super().__init__(message, field=field, pair=pair, side=side, hint=hint)
        self.ref_pair = ref_pair
        self.key = key
        self.key_side = key_side
        #: the referenced record no longer exists: retrying will never help.
        self.gone = gone
