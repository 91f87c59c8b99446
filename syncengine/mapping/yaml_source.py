"""A mapping file as plain Python data plus the line and column of every node in it.

ruamel.yaml's round-trip loader knows where each key and value sits; we copy those positions
into a flat index keyed by the node's path (``("pairs", 0, "fields", 3, "left")``) and hand the
rest of the package plain ``dict``/``list``/``str`` values. That keeps pydantic and the checks
free of ruamel types, while any error can still be pointed at ``file:line:column`` (1-based).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from syncengine.errors import ConfigError, ConfigErrors

__all__ = ["Loc", "Position", "YamlSource", "load_yaml"]

#: the path of a node from the document root: mapping keys and sequence indexes.
Loc = tuple[Any, ...]
#: (line, column), both 1-based.
Position = tuple[int, int]


@dataclass
class YamlSource:
    """Plain data of one YAML document and where each of its nodes was written."""

    name: str
    data: Any
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    #: values copied so far: aliases can make a 1 KB document expand to billions (an alias bomb).
    copied: int = 0

    def position(self, loc: Loc) -> Position:
        """Where the value at ``loc`` starts; the nearest written ancestor if it is not written
        (a missing key is reported at the mapping that lacks it)."""
        loc = self.yaml_loc(loc)
        for end in range(len(loc), -1, -1):
            found = self.values.get(loc[:end])
            if found is not None:
                return found
        return (1, 1)

    def key_position(self, loc: Loc) -> Position:
        """Where the key of ``loc`` is written (for unknown keys), else :meth:`position`."""
        found = self.keys.get(self.yaml_loc(loc))
        return found if found is not None else self.position(loc)

    def yaml_loc(self, loc: Loc) -> Loc:
        """Undo our own normalisation of "one X or a list of X": a validator that wrapped a
        single mapping in a list reports ``(..., 0, key)`` where the file has ``(..., key)``."""
        out: list[Any] = []
        node: Any = self.data
        for part in loc:
            if isinstance(part, int) and isinstance(node, Mapping) and part == 0 and 0 not in node:
                continue
            out.append(part)
            if isinstance(node, Mapping):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                node = None
        return tuple(out)


def _plain(node: Any, loc: Loc, source: YamlSource) -> Any:
    """Copy a ruamel node into plain Python, recording positions on the way."""
    source.copied += 1
    if source.copied > MAX_VALUES:
        raise ConfigErrors([ConfigError(
            f"the document expands to more than {MAX_VALUES} values (aliases repeated too often?): "
            "write it out plainly", file=source.name)])
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            plain_key = _scalar(key)
            child = (*loc, plain_key)
            try:
                kl, kc = node.lc.key(key)
                source.keys[child] = (kl + 1, kc + 1)
                vl, vc = node.lc.value(key)
                source.values[child] = (vl + 1, vc + 1)
            except (KeyError, TypeError):  # merged keys (<<) carry no position of their own
                pass
            if isinstance(value, CommentedMap | CommentedSeq) and value.lc.line is not None:
                # a nested block mapping starts at its first key, not after the parent's colon
                source.values[child] = (value.lc.line + 1, value.lc.col + 1)
            out[plain_key] = _plain(value, child, source)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*loc, index)
            try:
                il, ic = node.lc.item(index)
                source.values[child] = (il + 1, ic + 1)
            except (KeyError, TypeError):
                pass
            items.append(_plain(value, child, source))
        return items
    return _scalar(node)


def _scalar(value: Any) -> Any:
    # ruamel wraps some scalars (ScalarFloat, ScalarInt, ScalarBoolean, TimeStamp, quoted strings)
    # in subclasses; plain types keep pydantic's strict mode and equality simple.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return datetime.fromisoformat(value.isoformat())
    if isinstance(value, date):
        return date.fromisoformat(value.isoformat())
    if isinstance(value, CommentedMap | CommentedSeq):
        return str(value)  # a complex key; only ever reported, never used
    return value


def _syntax_error(exc: MarkedYAMLError, name: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, DuplicateKeyError):
        start = exc.context_mark
        where = f" (the mapping starting at line {start.line + 1} already has it)" if start is not None else ""
        # ruamel's problem text is 'found duplicate key "a" with value ...'; keep the key only
        key = problem.split('"')[1] if problem.count('"') >= 2 else "?"
        return ConfigError(
            f"duplicate key '{key}'{where}",
            file=name,
            line=line,
            column=column,
            hint="each key may appear once; remove or merge the repeated entry",
        )
    if "'\\t'" in problem or "\t" in problem:
        return ConfigError(
            "tab character in indentation; YAML indents with spaces only",
            file=name,
            line=line,
            column=column,
            hint="replace the tab with spaces",
        )
    context = f"{exc.context}: " if exc.context and exc.problem else ""
    started = exc.context_mark
    if started is not None and exc.problem_mark is not None and started.line != exc.problem_mark.line:
        context = f"{context.rstrip(': ')} (started at line {started.line + 1}, column {started.column + 1}): "
    return ConfigError(f"YAML syntax error: {context}{problem}", file=name, line=line, column=column)


#: Limits for one config or mapping document: far above any real one, far below an attack.
MAX_DOCUMENT_CHARS = 2_000_000
MAX_VALUES = 200_000


def load_yaml(text: str, name: str) -> YamlSource:
    """Parse one YAML document; a syntax error becomes :class:`ConfigErrors` with its position."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ConfigErrors([ConfigError(
            f"the document is larger than {MAX_DOCUMENT_CHARS} characters: is it the right file?", file=name)])
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        raise ConfigErrors([_syntax_error(exc, name)]) from None
    except YAMLError as exc:
        raise ConfigErrors([ConfigError(f"YAML error: {exc}", file=name)]) from None
    source = YamlSource(name=name, data=None)
    source.values[()] = (1, 1)
    if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
        source.values[()] = (node.lc.line + 1, node.lc.col + 1)
    source.data = _plain(node, (), source)
    return source
