"""Foreign keys through the ledger: an invoice's client id on one side becomes the other side's id.

Links of the referenced pair are read on demand and cached for the run; links this run creates
are added to the cache as they are committed, so an invoice can point at a client created a
moment earlier in the same run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncengine.ledger import Ledger

__all__ = ["LedgerRefs"]


class LedgerRefs:
    """A :class:`syncengine.mapping.RefResolver` backed by one pipeline's links."""

    def __init__(self, ledger: Ledger, pipeline: str) -> None:
        self._ledger = ledger
        self._pipeline = pipeline
        self._left_by_right: dict[tuple[str, str], str | None] = {}
        self._right_by_left: dict[tuple[str, str], str | None] = {}

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
