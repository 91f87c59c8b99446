"""Foreign keys through the ledger: an invoice's client id on one side becomes the other side's id.

Links of the referenced pair are read on demand and cached for the run; links this run creates
are added to the cache as they are committed, so an invoice can point at a client created a
moment earlier in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncengine.ledger import Ledger
    from syncengine.mapping import RefResolver

__all__ = ["ClearingRefs", "LedgerRefs"]

#: ``(pair, side, key) -> bool``: whether that record of the pair's object exists on that side.
ExistsFn = Callable[[str, str, str], bool]


class LedgerRefs:
    """A :class:`syncengine.mapping.RefResolver` backed by one pipeline's links."""

    def __init__(self, ledger: Ledger, pipeline: str) -> None:
        self._ledger = ledger
        self._pipeline = pipeline
        self._left_by_right: dict[tuple[str, str], str | None] = {}
        self._right_by_left: dict[tuple[str, str], str | None] = {}
        self._gone: dict[tuple[str, str, str], bool] = {}
        #: set by the pipeline run: reads a referenced record to tell "deleted" from "not yet linked".
        self.exists: ExistsFn | None = None

    def left_key_for(self, pair: str, right_key: str) -> str | None:
        cache_key = (pair, str(right_key))
        if cache_key not in self._left_by_right:
            links = self._ledger.links_for(self._pipeline, pair, "right", [str(right_key)])
            link = links.get(str(right_key))
            self._left_by_right[cache_key] = link.left_key if link else None
        return self._left_by_right[cache_key]

    def right_key_for(self, pair: str, left_key: str) -> str | None:
        cache_key = (pair, str(left_key))
        if cache_key not in self._right_by_left:
            links = self._ledger.links_for(self._pipeline, pair, "left", [str(left_key)])
            link = links.get(str(left_key))
            self._right_by_left[cache_key] = link.right_key if link else None
        return self._right_by_left[cache_key]

    def learn(self, pair: str, left_key: str, right_key: str) -> None:
        """Remember a link committed during this run."""
        self._left_by_right[(pair, right_key)] = left_key
        self._right_by_left[(pair, left_key)] = right_key

    def forget(self, pair: str, left_key: str | None, right_key: str | None) -> None:
        if left_key is not None:
            self._right_by_left[(pair, left_key)] = None
        if right_key is not None:
            self._left_by_right[(pair, right_key)] = None

    def is_gone(self, pair: str, side: str, key: str) -> bool:
        """Asked only for a reference without a link; the answer is kept for the run."""
        if self.exists is None:
            return False
        cache_key = (pair, side, str(key))
        if cache_key not in self._gone:
            self._gone[cache_key] = not self.exists(pair, side, str(key))
        return self._gone[cache_key]


class ClearingRefs:
    """The same links, but a reference to a deleted record resolves to "" (cleared): how a pair
    whose ``deletes`` rule is ``ignore`` keeps a dependent of a deleted record."""

    def __init__(self, refs: RefResolver) -> None:
        self._refs = refs

    def left_key_for(self, pair: str, right_key: str) -> str | None:
        found = self._refs.left_key_for(pair, right_key)
        if found is None and self._refs.is_gone(pair, "right", right_key):
            return ""
        return found

    def right_key_for(self, pair: str, left_key: str) -> str | None:
        found = self._refs.right_key_for(pair, left_key)
        if found is None and self._refs.is_gone(pair, "left", left_key):
            return ""
        return found

    def is_gone(self, pair: str, side: str, key: str) -> bool:
        return self._refs.is_gone(pair, side, key)
