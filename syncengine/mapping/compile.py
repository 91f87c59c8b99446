"""Compiled pairs: the functions the reconciler calls on every record.

``project`` runs for every record of every sync (a million in the benchmark), so each side's work
is compiled once into a tuple of plain steps ``(common name, path, is_dotted, converter)``; the
per-record loop does a dict read, at most one closure call and a dict write per field. No
pydantic, no registry lookups, no per-record allocation beyond the result.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncengine.mapping.errors import RecordMappingError
from syncengine.mapping.fields import FieldMapping
from syncengine.mapping.transforms import (
    SIDES,
    Converter,
    RefResolver,
    Side,
    chain_from_common,
    chain_to_common,
)
from syncengine.mapping.validate import PairDraft
from syncengine.records import canonical_bytes, get_path, set_path

__all__ = ["CompiledMapping", "PairMapping"]

_ProjectStep = tuple[str, str, bool, Converter | None]
#: name, path, converter, extra writes [(path, transform-bound function of the common value)]
_RenderStep = tuple[str, str, Converter | None, tuple[tuple[str, Any], ...]]


def _normalise_match(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, dict | list):
        return canonical_bytes({"v": value}).decode("utf-8")
    return value


class PairMapping:
    """One object pair, compiled. Attributes are read-only by convention."""

    def __init__(self, draft: PairDraft) -> None:
        self.name = draft.name
        self.left_object = draft.left_object
        self.right_object = draft.right_object
        self.direction = draft.direction
        self.conflict = draft.conflict
        self.deletes = draft.deletes
        self.match: list[tuple[str, str]] = list(draft.match)
        self.fields: list[FieldMapping] = list(draft.fields)
        self.refs: set[str] = set(draft.refs)
        self._by_name = {f.name: f for f in self.fields}
        self._project: dict[str, tuple[_ProjectStep, ...]] = {}
        self._render: dict[str, dict[str, _RenderStep]] = {}
        self._match: dict[str, tuple[tuple[str, Converter | None], ...]] = {}
        for side in SIDES:
            mapped = {f.path(side) for f in self.fields}
            self._project[side] = tuple(
                (f.name, f.path(side), "." in f.path(side), chain_to_common(list(f.transforms), side))
                for f in self.fields
            )
            # Only fields that flow to this side get a render step: the direction is a promise
            # never to write there, and checking it once here keeps render's loop lean.
            steps: dict[str, _RenderStep] = {}
            for f in self.fields:
                if not f.flows_to(side):
                    continue
                extras = tuple(
                    (path, _bind_extra(t, side, path))
                    for t in f.transforms
                    for path in t.extra_writes(side)
                    if path not in mapped and path not in draft.read_only_extras[side]
                )
                steps[f.name] = (f.name, f.path(side), chain_from_common(list(f.transforms), side), extras)
            self._render[side] = steps
            rules: list[tuple[str, Converter | None]] = []
            for left_path, right_path in self.match:
                path = left_path if side == "left" else right_path
                same = next(
                    (f for f in self.fields if f.left_path == left_path and f.right_path == right_path), None
                )
                rules.append((path, chain_to_common(list(same.transforms), side) if same else None))
            self._match[side] = tuple(rules)

    def __repr__(self) -> str:
        sides = f"{self.left_object} <-> {self.right_object}"
        return f"PairMapping({self.name!r}: {sides}, {len(self.fields)} fields)"

    def field(self, name: str) -> FieldMapping:
        return self._by_name[name]

    def _steps(self, side: str) -> Any:
        try:
            return self._project[side]
        except KeyError:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}") from None

    def project(self, side: Side, record_fields: Mapping[str, Any], refs: RefResolver) -> dict[str, Any]:
        """The common shape of one record of ``side``: every mapped field by common name (None
        where the record lacks it or holds an empty string). Raises :class:`RecordMappingError` / ``UnresolvedRef``."""
        steps = self._steps(side)
        out: dict[str, Any] = {}
        name = ""
        try:
            for name, path, dotted, convert in steps:
                value = get_path(record_fields, path) if dotted else record_fields.get(path)
                if convert is not None:
                    value = convert(value, record_fields, refs)
                # "" and null are one value in the common shape: a CSV cell cannot tell them
                # apart, nor can a nullable text column written by one, so a difference between
                # them is never a change (nor a reason to write either side).
                out[name] = None if value == "" else value
        except RecordMappingError as exc:
            raise self._placed(exc, name, side) from None
        except (ValueError, TypeError, ArithmeticError, OverflowError) as exc:
            raise RecordMappingError(str(exc), field=name, pair=self.name, side=side) from exc
        return out

    def _placed(self, exc: RecordMappingError, name: str, side: str) -> RecordMappingError:
        exc.field = exc.field or name
        exc.pair = exc.pair or self.name
        exc.side = exc.side or side
        return exc

    def render(
        self,
        side: Side,
        common: Mapping[str, Any],
        names: Iterable[str],
        refs: RefResolver,
        current: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The payload to write to ``side`` for the common ``names``: nested dicts for dotted paths.

        A name whose field does not flow to ``side`` is skipped: the direction is a promise
        never to write there. So is a name this pair does not map (a snapshot taken under an
        older version of the mapping may still hold it). With ``current`` (the target's fields now), a nested object is
        written whole, starting from its current content, so a connector that replaces the
        object does not lose the sub-fields we do not map. A money field kept in minor units or
        as a decimal also writes its currency field when no other field maps it."""
        try:
            steps = self._render[side]
        except KeyError:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}") from None
        out: dict[str, Any] = {}
        base: Mapping[str, Any] = current if current is not None else {}
        name = ""
        try:
            for name in names:
                step = steps.get(name)
                if step is None:
                    continue
                _, path, convert, extras = step
                value = common.get(name)
                self._put(out, path, value if convert is None else convert(value, base, refs), current)
                for extra_path, extra in extras:
                    extra_value = extra(value)
                    if extra_value is not None:
                        self._put(out, extra_path, extra_value, current)
        except RecordMappingError as exc:
            raise self._placed(exc, name, side) from None
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise RecordMappingError(str(exc), field=name, pair=self.name, side=side) from exc
        return out

    @staticmethod
    def _put(out: dict[str, Any], path: str, value: Any, current: Mapping[str, Any] | None) -> None:
        if "." not in path:
            out[path] = value
            return
        if current is not None:
            top = path.split(".", 1)[0]
            if top not in out and isinstance(current.get(top), dict):
                out[top] = copy.deepcopy(current[top])
        set_path(out, path, value)

    def match_key(
        self, side: Side, record_fields: Mapping[str, Any], refs: RefResolver
    ) -> tuple[Any, ...] | None:
        """The values that link this record to one on the other side before the first sync:
        through the field's transforms when the match paths are a mapped field (so a ``ref`` is
        translated), then stripped and lower-cased if text. None if the pair has no match rule or
        any value is missing. An unresolvable ref raises ``UnresolvedRef`` (retry later) rather
        than returning None, which would make the reconciler create a duplicate."""
        rules = self._match.get(side)
        if rules is None:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}")
        if not rules:
            return None
        values: list[Any] = []
        for path, convert in rules:
            value = get_path(record_fields, path)
            if convert is not None:
                try:
                    value = convert(value, record_fields, refs)
                except RecordMappingError as exc:
                    raise self._placed(exc, path, side) from None
            if value is None or value == "":
                return None
            values.append(_normalise_match(value))
        return tuple(values)


def _bind_extra(transform: Any, side: Side, path: str) -> Any:
    def extra(common: Any) -> Any:
        return transform.extra_value(side, path, common)

    return extra


@dataclass
class CompiledMapping:
    """A whole mapping file, compiled: pairs in an order where referenced pairs come first."""

    pairs: list[PairMapping]
    source: str = "<mapping>"
    _by_name: dict[str, PairMapping] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {p.name: p for p in self.pairs}

    def pair(self, name: str) -> PairMapping:
        return self._by_name[name]

    def __iter__(self) -> Any:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def ref_order(drafts: list[PairDraft]) -> list[PairDraft]:
    """Stable topological order: each pair after the pairs it refs, file order otherwise."""
    placed: list[PairDraft] = []
    done: set[str] = set()
    remaining = list(drafts)
    known = {d.name for d in drafts}
    while remaining:
        for draft in remaining:
            if all(r in done or r not in known for r in draft.refs):
                placed.append(draft)
                done.add(draft.name)
                remaining.remove(draft)
                break
        else:  # a cycle; validation reports it, keep file order for the rest
            placed.extend(remaining)
            break
    return placed
