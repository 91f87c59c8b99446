"""Three-way merge of one record pair, field by field, against the last agreed snapshot.

A field changed on one side only takes that side's value. A field changed on both sides to
different values is a true conflict, settled by the pair's policy or parked for a person; it is
never silently alternated (the Heroku Connect flip-flop). With no agreed value for a field (two
records linked for the first time, or a field new to the mapping) an empty side gives way to a
value, and two different values count as changed on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["MergeResult", "Side", "merge_fields", "other_side"]

Side = Literal["left", "right"]
Policy = Literal["newest_wins", "left_wins", "right_wins", "manual"]

_ABSENT = object()


def _empty_as_none(value: Any) -> Any:
    """"" and null are one value (a snapshot written before projection folded them may hold "")."""
    return None if value == "" else value


def other_side(side: Side) -> Side:
    return "right" if side == "left" else "left"


@dataclass(slots=True)
class MergeResult:
    """The merged common record, what each side must be told, and the fields in true conflict."""

    merged: dict[str, Any]
    #: common names whose merged value differs from what the left / right side holds now.
    to_left: dict[str, Any] = field(default_factory=dict)
    to_right: dict[str, Any] = field(default_factory=dict)
    #: fields changed on both sides to different values (settled by policy unless ``manual``).
    conflicts: list[str] = field(default_factory=list)
    #: true when ``manual`` left a conflict unsettled: nothing may be written.
    parked: bool = False


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _newest(left_at: datetime | None, right_at: datetime | None) -> Side:
    """The side edited last; an unknown time loses to a known one, and a tie goes to the left."""
    left_at, right_at = _aware(left_at), _aware(right_at)
    if left_at is None and right_at is None:
        return "left"
    if left_at is None:
        return "right"
    if right_at is None:
        return "left"
    return "right" if right_at > left_at else "left"


def merge_fields(
    names: list[str],
    base: Mapping[str, Any] | None,
    left: Mapping[str, Any] | None,
    right: Mapping[str, Any] | None,
    *,
    flows_from: Callable[[Side, str], bool],
    flows_to: Callable[[Side, str], bool],
    policy: Policy,
    left_updated_at: datetime | None = None,
    right_updated_at: datetime | None = None,
) -> MergeResult:
    """Merge common-shape records. ``left``/``right`` None means that side did not change since
    ``base`` (so it still holds ``base``); both None is not a merge."""
    if left is None and right is None:
        raise ValueError("merge_fields needs at least one changed side")
    winner_on_conflict: Side | None = None
    if policy == "left_wins":
        winner_on_conflict = "left"
    elif policy == "right_wins":
        winner_on_conflict = "right"
    elif policy == "newest_wins":
        winner_on_conflict = _newest(left_updated_at, right_updated_at)

    result = MergeResult(merged={})
    for name in names:
        b = _empty_as_none(base.get(name, _ABSENT)) if base is not None else _ABSENT
        # A side that did not change still holds the base value.
        lv = _empty_as_none(left.get(name)) if left is not None else (None if b is _ABSENT else b)
        rv = _empty_as_none(right.get(name)) if right is not None else (None if b is _ABSENT else b)
        # A change only counts from a side the field flows from; elsewhere it is overwritten back.
        l_changed = left is not None and flows_from("left", name) and (b is _ABSENT or lv != b)
        r_changed = right is not None and flows_from("right", name) and (b is _ABSENT or rv != b)

        if lv == rv or (l_changed and not r_changed):
            value = lv
        elif r_changed and not l_changed:
            value = rv
        elif b is _ABSENT and (lv is None) != (rv is None):
            # No agreed value yet (a field new to the mapping, or two records just matched): an
            # empty side has not *changed* anything, it simply never had the value. Emptiness
            # never erases a value; only two different values are a conflict.
            value = lv if rv is None else rv
        elif l_changed and r_changed:
            result.conflicts.append(name)
            if winner_on_conflict is None:
                result.parked = True
                value = b if b is not _ABSENT else lv
            else:
                value = lv if winner_on_conflict == "left" else rv
        elif b is not _ABSENT:
            value = b
        else:
            value = lv if flows_from("left", name) else rv
        result.merged[name] = value
        if flows_to("left", name) and value != lv:
            result.to_left[name] = value
        if flows_to("right", name) and value != rv:
            result.to_right[name] = value
    if result.parked:
        result.to_left.clear()
        result.to_right.clear()
    return result
