"""What a reconcile decided and did: actions with field diffs, and the counts of a pair's run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from deepdiff import DeepDiff

from syncengine.reconcile.merge import Side

__all__ = ["Action", "ActionKind", "PairReport", "describe_change", "field_diff"]

ActionKind = Literal["create", "update", "delete", "archive", "link", "conflict", "error"]


def field_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Per common field: (old, new) where they differ."""
    old = old or {}
    return {name: (old.get(name), value) for name, value in new.items() if old.get(name) != value}


def describe_change(before: Any, after: Any) -> str:
    """A short human text for one field's change. Nested values (invoice lines) go through
    deepdiff, so the plan says *what* inside them changed rather than printing both wholes."""
    if isinstance(before, dict | list) and isinstance(after, dict | list):
        delta = DeepDiff(before, after, verbose_level=2)
        parts: list[str] = []
        for kind, entries in delta.items():
            if isinstance(entries, dict):
                for path, change in list(entries.items())[:5]:
                    if isinstance(change, dict) and "old_value" in change:
                        parts.append(f"{path}: {change['old_value']!s} -> {change['new_value']!s}")
                    else:
                        parts.append(f"{kind.replace('_', ' ')} {path}")
            else:
                parts.extend(f"{kind.replace('_', ' ')} {p}" for p in list(entries)[:5])
        return "; ".join(parts) or "changed"
    return f"{_short(before)} -> {_short(after)}"


def _short(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(slots=True)
class Action:
    """One decision about one record pair. ``side`` is the side written, if any."""

    kind: ActionKind
    side: Side | None
    left_key: str | None
    right_key: str | None
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str = ""
    #: an update that carries back values the other side's system assigned or computed when it
    #: was written (a new record's id, a number): made in the same run as the write it follows.
    write_back: bool = False


@dataclass(slots=True)
class PairReport:
    """Counts, kept actions and errors of one object pair in one run."""

    pair: str
    counts: Counter[str] = field(default_factory=Counter)
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keep_actions: int = 10_000

    @property
    def keeps_actions(self) -> bool:
        """Whether another action would be kept (building one with its diff costs time)."""
        return len(self.actions) < self.keep_actions

    def tally(self, kind: ActionKind, side: Side | None) -> None:
        if kind in ("create", "update", "delete", "archive"):
            self.counts[f"{kind}d_{side}"] += 1
        else:
            self.counts[{"link": "linked", "conflict": "conflicts", "error": "errors"}[kind]] += 1

    def add(self, action: Action) -> None:
        self.tally(action.kind, action.side)
        if self.keeps_actions:
            self.actions.append(action)

    def error(self, message: str) -> None:
        self.counts["errors"] += 1
        if len(self.errors) < 1000:
            self.errors.append(message)

    @property
    def writes(self) -> int:
        return sum(v for k, v in self.counts.items() if k.split("_")[0] in
                   ("created", "updated", "deleted", "archived"))
