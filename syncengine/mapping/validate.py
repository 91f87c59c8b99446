"""Checking a mapping document: its shape, then every name and path against the connectors.

Everything found is added to one :class:`~syncengine.mapping.diagnostics.Problems`; a pair with a
mistake is left out of the result but the checks go on, so the operator sees every mistake of the
file at once. What comes out is a list of :class:`PairDraft` that is known to be sound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from syncengine.connector import Capability, FieldSpec, ObjectSpec
from syncengine.mapping.diagnostics import Problems, did_you_mean
from syncengine.mapping.fields import FieldMapping, flows
from syncengine.mapping.registry import parse_transforms
from syncengine.mapping.schema import FieldEntry, PairEntry, explain, kind_of
from syncengine.mapping.transforms import SIDES, BuildContext, Side
from syncengine.mapping.yaml_source import Loc

__all__ = ["PairDraft", "check_document"]


@dataclass
class PairDraft:
    """A pair that passed every check, ready to compile."""

    name: str
    left_object: str
    right_object: str
    direction: str
    conflict: str
    deletes: str
    match: list[tuple[str, str]]
    fields: list[FieldMapping]
    refs: set[str] = field(default_factory=set)
    #: where each ``ref`` was written, for cycle errors.
    ref_locs: dict[str, Loc] = field(default_factory=dict)
    #: per side, paths a transform would write alongside its field (a money field's currency)
    #: that the connector marks read-only: those extra writes are left out.
    read_only_extras: dict[str, set[str]] = field(default_factory=lambda: {"left": set(), "right": set()})
    loc: Loc = ()


def _validate_model(
    model: type[PairEntry] | type[FieldEntry], data: Any, loc: Loc, context: str, problems: Problems
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            where, message, hint, at_key = explain(error, context, data)
            problems.add((*loc, *where), message, hint=hint, at_key=at_key)
        return None


def _pairs_of(problems: Problems) -> list[Any]:
    data = problems.source.data
    if data is None:
        problems.add((), "the mapping file is empty", hint="start with 'pairs:' and a list of pairs")
        return []
    if not isinstance(data, dict):
        problems.add((), f"the mapping file must be a mapping with a 'pairs' key, not {kind_of(data)}")
        return []
    for key in data:
        # ``x-...`` keys hold YAML anchors to share between pairs (as docker-compose allows)
        if key != "pairs" and not str(key).startswith("x-"):
            problems.add(
                (key,),
                f"unknown top-level key {key!r}{did_you_mean(str(key), ['pairs'])}",
                hint="the only top-level key is 'pairs' (and x-... keys for shared YAML anchors)",
                at_key=True,
            )
    if "pairs" not in data:
        problems.add((), "missing required key 'pairs' at top level")
        return []
    pairs = data["pairs"]
    if not isinstance(pairs, list):
        problems.add(
            ("pairs",), f"pairs must be a list of pairs (each starting with '- name:'), not {kind_of(pairs)}"
        )
        return []
    if not pairs:
        problems.add(("pairs",), "pairs is empty; a mapping needs at least one pair")
    return pairs


def _suggest_path(spec: ObjectSpec, path: str) -> str:
    """' (did you mean 'x.y'?)' for the first part of ``path`` that does not exist."""
    parts = path.split(".")
    level: Mapping[str, FieldSpec] = spec.fields
    prefix: list[str] = []
    for part in parts:
        node = level.get(part)
        if node is None:
            names = list(level)
            best = did_you_mean(part, names)
            if not best:
                return ""
            guess = best.split("'")[1]
            return f" (did you mean {'.'.join([*prefix, guess, *parts[len(prefix) + 1 :]])!r}?)"
        prefix.append(part)
        if node.type == "money":
            level = {"amount": FieldSpec("amount"), "currency": FieldSpec("currency")}
        else:
            level = node.fields
    return ""


def _check_path(spec: ObjectSpec, path: Any, loc: Loc, problems: Problems, side: Side) -> FieldSpec | None:
    if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
        problems.add(loc, f"{side} path must be a dotted field name like 'email' or 'amount.amount'")
        return None
    found = spec.field_at(path)
    if found is None:
        problems.add(
            loc,
            f"unknown field {path!r} on {spec.name}{_suggest_path(spec, path)}",
            hint=f"{side} object {spec.name} has: {', '.join(sorted(spec.fields))}",
        )
    return found


def _check_object(
    name: str, specs: Mapping[str, ObjectSpec], loc: Loc, problems: Problems, side: Side
) -> ObjectSpec | None:
    spec = specs.get(name)
    if spec is None:
        problems.add(
            loc,
            f"unknown {side} object {name!r}{did_you_mean(name, specs)}",
            hint=f"the {side} connector has: {', '.join(sorted(specs)) or 'no objects'}",
        )
    return spec


def _check_capabilities(
    pair: PairEntry,
    specs: dict[Side, ObjectSpec],
    fields: list[FieldMapping],
    loc: Loc,
    problems: Problems,
) -> bool:
    ok = True
    where = (*loc, "direction") if "direction" in pair.model_fields_set else (*loc, "name")
    for side in SIDES:
        other: Side = "right" if side == "left" else "left"
        spec = specs[side]
        # the pair's direction, not its fields', decides: creates and deletes follow the pair
        writes = flows(pair.direction, other, side)
        reads = flows(pair.direction, side, other)
        if reads and not spec.can(Capability.LIST):
            problems.add(
                where,
                f"{side} object {spec.name!r} cannot be listed, so pair {pair.name!r} "
                f"cannot read changes from it",
            )
            ok = False
        if writes and not (spec.can(Capability.CREATE) or spec.can(Capability.UPDATE)):
            can = ", ".join(sorted(c.value for c in spec.capabilities)) or "nothing"
            fix = "right_to_left" if side == "right" else "left_to_right"
            problems.add(
                where,
                f"pair {pair.name!r} writes to {side} object {spec.name!r}, which cannot be "
                f"created or updated (it supports: {can})",
                hint=f"set direction: {fix}",
            )
            ok = False
            continue
        if not writes:
            continue
        deletes_at = (*loc, "deletes") if "deletes" in pair.model_fields_set else where
        if pair.deletes == "archive" and not spec.can(Capability.ARCHIVE):
            problems.add(
                deletes_at,
                f"deletes: archive, but {side} object {spec.name!r} cannot be archived",
                hint="use deletes: propagate or ignore",
            )
            ok = False
        if pair.deletes == "propagate" and not spec.can(Capability.DELETE):
            alt = "archive or ignore" if spec.can(Capability.ARCHIVE) else "ignore"
            problems.add(
                deletes_at,
                f"deletes: propagate, but {side} object {spec.name!r} cannot delete",
                hint=f"use deletes: {alt}",
            )
            ok = False
    return ok


def _check_field(
    index: int,
    raw: Any,
    pair: PairEntry,
    specs: dict[Side, ObjectSpec],
    loc: Loc,
    problems: Problems,
    pair_names: frozenset[str],
    draft: PairDraft,
) -> FieldMapping | None:
    floc = (*loc, "fields", index)
    if not isinstance(raw, dict):
        problems.add(
            floc, f"a field must be a mapping like {{left: email, right: email}}, not {kind_of(raw)}"
        )
        return None
    entry = _validate_model(FieldEntry, raw, floc, "field", problems)
    if entry is None:
        return None
    ok = True
    field_specs: dict[Side, FieldSpec | None] = {}
    for side in SIDES:
        field_specs[side] = _check_path(specs[side], getattr(entry, side), (*floc, side), problems, side)
        ok = ok and field_specs[side] is not None
    direction = entry.direction or pair.direction
    if entry.direction is not None and pair.direction != "both" and entry.direction != pair.direction:
        problems.add(
            (*floc, "direction"),
            f"field direction {entry.direction} goes against the pair's direction {pair.direction}",
            hint=f"a field of a {pair.direction} pair can only be {pair.direction}",
        )
        ok = False
    name = entry.name if entry.name is not None else entry.left
    if not name:
        problems.add((*floc, "name"), "name must not be empty")
        ok = False
    for side in SIDES:
        other: Side = "right" if side == "left" else "left"
        found = field_specs[side]
        if found is not None and found.read_only and flows(direction, other, side):
            problems.add(
                (*floc, side),
                f"field {getattr(entry, side)!r} is read-only on {side} object {specs[side].name!r}; "
                f"this field would write it",
                hint=f"add direction: {side}_to_{other}",
            )
            ok = False
    ctx = BuildContext(
        pair.name,
        pair_names,
        lambda where, message, hint=None, at_key=False: problems.add(
            (*floc, "transform", *where), message, hint=hint, at_key=at_key
        ),
    )
    chain = parse_transforms(entry.transform, ctx)
    if chain is None:
        return None
    for transform in chain:
        for side in SIDES:
            for path in transform.reads(side):
                if specs[side].field_at(path) is None:
                    problems.add(
                        (*floc, "transform"),
                        f"unknown field {path!r} on {specs[side].name}"
                        f"{_suggest_path(specs[side], path)} ({transform.name} reads it on the {side})",
                    )
                    ok = False
            for sub in transform.item_paths(side):
                array = field_specs[side]
                if array is not None and array.type != "array" and not array.accepts_any_child():
                    problems.add(
                        (*floc, "transform"),
                        f"items maps each item of a list, but {getattr(entry, side)!r} on "
                        f"{specs[side].name} is {array.type}",
                    )
                    ok = False
                    break
                if array is not None and specs[side].field_at(f"{getattr(entry, side)}.{sub}") is None:
                    known = ", ".join(array.fields)
                    problems.add(
                        (*floc, "transform"),
                        f"unknown item field {sub!r} in {getattr(entry, side)!r} on {specs[side].name} "
                        f"({side})",
                        hint=f"each item has: {known}" if known else None,
                    )
                    ok = False
            for path in transform.extra_writes(side):
                spec_at = specs[side].field_at(path)
                if spec_at is not None and spec_at.read_only:
                    draft.read_only_extras[side].add(path)
        for target in transform.refs():
            draft.refs.add(target)
            draft.ref_locs.setdefault(target, (*floc, "transform"))
    if not ok:
        return None
    return FieldMapping(name, entry.left, entry.right, direction, tuple(chain))


def _check_pair(
    index: int,
    raw: Any,
    left_specs: Mapping[str, ObjectSpec],
    right_specs: Mapping[str, ObjectSpec],
    pair_names: frozenset[str],
    seen: dict[str, int],
    problems: Problems,
) -> PairDraft | None:
    loc: Loc = ("pairs", index)
    if not isinstance(raw, dict):
        problems.add(loc, f"a pair must be a mapping with name, left, right and fields, not {kind_of(raw)}")
        return None
    before = len(problems.errors)
    pair = _validate_model(PairEntry, raw, loc, "pair", problems)
    if pair is None:
        # Still check what can be checked (objects, fields) so the file's mistakes show at once:
        # drop the keys that were wrong and let their defaults stand in, silently.
        bad: set[Any] = set()
        try:
            PairEntry.model_validate(raw)
        except ValidationError as exc:
            bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
        cleaned = {k: v for k, v in raw.items() if k not in bad or k == "fields"}
        if not isinstance(cleaned.get("fields"), list):
            return None
        try:
            pair = PairEntry.model_validate(cleaned)
        except ValidationError:
            return None
    if pair.name in seen:
        problems.add(
            (*loc, "name"),
            f"duplicate pair name {pair.name!r} (first used by pair {seen[pair.name] + 1})",
            hint="pair names must be unique; refs use them",
        )
    seen.setdefault(pair.name, index)
    left = _check_object(pair.left, left_specs, (*loc, "left"), problems, "left")
    right = _check_object(pair.right, right_specs, (*loc, "right"), problems, "right")
    if left is None or right is None:
        return None
    specs: dict[Side, ObjectSpec] = {"left": left, "right": right}
    draft = PairDraft(
        pair.name, pair.left, pair.right, pair.direction, pair.conflict, pair.deletes, [], [], loc=loc
    )
    if not pair.fields:
        problems.add((*loc, "fields"), f"pair {pair.name!r} maps no fields")
    names: dict[str, int] = {}
    written: dict[tuple[Side, str], int] = {}
    for findex, raw_field in enumerate(pair.fields):
        mapped = _check_field(findex, raw_field, pair, specs, loc, problems, pair_names, draft)
        if mapped is None:
            continue
        if mapped.name in names:
            at = (*loc, "fields", findex, "name" if "name" in raw_field else "left")
            problems.add(
                at,
                f"duplicate common name {mapped.name!r} in pair {pair.name!r} "
                f"(also field {names[mapped.name] + 1})",
                hint="give one of them a distinct name: <name>",
            )
            continue
        names[mapped.name] = findex
        for side in SIDES:
            if mapped.flows_to(side):
                key = (side, mapped.path(side))
                if key in written:
                    problems.add(
                        (*loc, "fields", findex, side),
                        f"{side} field {mapped.path(side)!r} is written by two fields "
                        f"(also field {written[key] + 1})",
                        hint="give one of them a direction that does not write it",
                    )
                written.setdefault(key, findex)
        draft.fields.append(mapped)
    for (side, path), findex in written.items():
        for (other_side, other_path), other_index in written.items():
            if side == other_side and path.startswith(other_path + "."):
                problems.add(
                    (*loc, "fields", findex, side),
                    f"{side} field {path!r} is inside {other_path!r}, which field {other_index + 1} "
                    f"also writes",
                    hint="map the whole object or its parts, not both, in the same direction",
                )
    for rindex, rule in enumerate(pair.match):
        rloc = (*loc, "match", rindex)
        for side in SIDES:
            _check_path(specs[side], getattr(rule, side), (*rloc, side), problems, side)
        draft.match.append((rule.left, rule.right))
    _check_capabilities(pair, specs, draft.fields, loc, problems)
    return draft if len(problems.errors) == before else None


def _check_cycles(drafts: list[PairDraft], problems: Problems) -> None:
    by_name = {d.name: d for d in drafts}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(by_name[name].refs):
            if target not in by_name:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    path = " -> ".join([*cycle, target])
                    problems.add(
                        by_name[name].ref_locs[target],
                        f"refs form a cycle: {path}",
                        hint="one pair of a cycle must not ref the other; pairs sync in ref order",
                    )
            elif state.get(target) is None:
                visit(target, stack)
        stack.pop()
        state[name] = 2

    for draft in drafts:
        if draft.name not in state:
            visit(draft.name, [])


def check_document(
    problems: Problems, left_specs: Mapping[str, ObjectSpec], right_specs: Mapping[str, ObjectSpec]
) -> list[PairDraft]:
    """Every check of the file; the drafts of the pairs that passed (all of them if no problems)."""
    pairs = _pairs_of(problems)
    names = frozenset(p["name"] for p in pairs if isinstance(p, dict) and isinstance(p.get("name"), str))
    seen: dict[str, int] = {}
    drafts: list[PairDraft] = []
    for index, raw in enumerate(pairs):
        draft = _check_pair(index, raw, left_specs, right_specs, names, seen, problems)
        if draft is not None:
            drafts.append(draft)
    _check_cycles(drafts, problems)
    return drafts
