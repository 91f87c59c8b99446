"""One mapped field: its common name, its path on each side, its direction and transforms.

Kept apart from the compiled pair so the checks can build these before anything is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncengine.mapping.schema import Direction
from syncengine.mapping.transforms import Side, Transform

__all__ = ["FieldMapping", "flows"]


def flows(direction: str, source: Side, target: Side) -> bool:
    """Whether values move from ``source`` to ``target`` under ``direction``."""
    if source == target:
        return False
    if direction == "both":
        return True
    return direction == f"{source}_to_{target}"


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """A field of a pair. ``name`` is its key in the common shape."""

    name: str
    left_path: str
    right_path: str
    direction: Direction
    transforms: tuple[Transform, ...] = ()

    def path(self, side: Side) -> str:
        return self.left_path if side == "left" else self.right_path

    def flows_from(self, side: Side) -> bool:
        """Changes on ``side`` are carried to the other side."""
        return self.direction == "both" or self.direction == f"{side}_to_{_other(side)}"

    def flows_to(self, side: Side) -> bool:
        """The engine may write this field on ``side``."""
        return self.flows_from(_other(side))

    @property
    def refs(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for transform in self.transforms:
            out |= transform.refs()
        return out


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"
