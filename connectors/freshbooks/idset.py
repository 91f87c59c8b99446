"""A compact set of integer ids, kept as sorted inclusive ranges: ``"3-7,9,12-40"``.

FreshBooks hands out ids in increasing order, so the ids of one object in one business are mostly
runs; 10,000 projects with a few deleted take a few dozen characters in a cursor instead of
60 kB. Used by the connector to remember which records an id-only listing saw last time, for
objects whose API never lists a deletion (projects): an id that was there and is gone was deleted.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

__all__ = ["IdSet"]


class IdSet:
    """An immutable set of non-negative integers, stored as sorted disjoint inclusive ranges."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, ids: Iterable[int] = ()) -> None:
        starts: list[int] = []
        ends: list[int] = []
        for value in sorted(set(ids)):
            if value < 0:
                raise ValueError(f"ids are non-negative: {value}")
            if ends and value == ends[-1] + 1:
                ends[-1] = value
            else:
                starts.append(value)
                ends.append(value)
        self._starts = starts
        self._ends = ends

    # -- text form -------------------------------------------------------------------------
    @classmethod
    def decode(cls, text: str) -> IdSet:
        """The set written by :meth:`encode`; ValueError for anything else."""
        out = cls()
        previous = -2
        for part in filter(None, text.split(",")):
            low, _, high = part.partition("-")
            start, end = int(low), int(high or low)
            if start < 0 or end < start or start <= previous + 1:
                raise ValueError(f"not an id set: {text[:60]!r}")
            out._starts.append(start)
            out._ends.append(end)
            previous = end
        return out

    def encode(self) -> str:
        return ",".join(str(s) if s == e else f"{s}-{e}" for s, e in zip(self._starts, self._ends, strict=True))

    # -- set behaviour ---------------------------------------------------------------------
    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect.bisect_right(self._starts, value) - 1
        return i >= 0 and value <= self._ends[i]

    def __iter__(self) -> Iterator[int]:
        for start, end in zip(self._starts, self._ends, strict=True):
            yield from range(start, end + 1)

    def __len__(self) -> int:
        return sum(e - s + 1 for s, e in zip(self._starts, self._ends, strict=True))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdSet) and self._starts == other._starts and self._ends == other._ends

    def __hash__(self) -> int:
        return hash((tuple(self._starts), tuple(self._ends)))

    def __repr__(self) -> str:
        text = self.encode()
        return f"IdSet({text[:60]!r}{'...' if len(text) > 60 else ''})"

    @property
    def ranges(self) -> int:
        """How many runs the set holds (the size of its text form, roughly)."""
        return len(self._starts)

    def missing_from(self, present: Iterable[int]) -> list[int]:
        """The ids of this set that are not in ``present``, ascending."""
        seen = present if isinstance(present, (set, frozenset, IdSet)) else set(present)
        return [i for i in self if i not in seen]

    def union(self, other: Iterable[int]) -> IdSet:
        return IdSet([*self, *other])
