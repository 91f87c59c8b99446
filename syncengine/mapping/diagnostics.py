"""Collecting mapping mistakes with their place in the file, and "did you mean" suggestions.

Validation never stops at the first mistake: every check adds to one :class:`Problems` and the
loader raises them together as :class:`~syncengine.errors.ConfigErrors`, so an operator fixes a
file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from syncengine.errors import ConfigError, ConfigErrors
from syncengine.mapping.yaml_source import Loc, YamlSource

__all__ = ["Problems", "closest", "did_you_mean", "one_of"]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The most similar choice (difflib ratio >= 0.6, case-insensitive), or None."""
    options = [str(c) for c in choices]
    lowered = {o.lower(): o for o in options}
    found = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close, else the empty string."""
    best = closest(word, choices)
    return f" (did you mean {best!r}?)" if best is not None else ""


def one_of(choices: Iterable[str]) -> str:
    return ", ".join(str(c) for c in choices)


class Problems:
    """Mistakes found in one mapping file, each placed by the node it is about."""

    def __init__(self, source: YamlSource) -> None:
        self.source = source
        self.errors: list[ConfigError] = []

    def add(self, loc: Loc, message: str, *, hint: str | None = None, at_key: bool = False) -> None:
        """Record a mistake at the value of ``loc`` (or at its key, for unknown or misplaced keys)."""
        line, column = self.source.key_position(loc) if at_key else self.source.position(loc)
        self.errors.append(ConfigError(message, file=self.source.name, line=line, column=column, hint=hint))

    def extend(self, errors: Iterable[ConfigError]) -> None:
        self.errors.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            # a node reached twice through a YAML alias would report the same mistake twice
            unique = {(e.line, e.column, e.message): e for e in self.errors}
            ordered = sorted(unique.values(), key=lambda e: (e.line or 0, e.column or 0))
            raise ConfigErrors(ordered)
