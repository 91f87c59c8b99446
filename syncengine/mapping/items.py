"""The ``items`` transform: a list of objects mapped item by item (invoice lines).

``{items: {fields: [{left: name, right: description}, {left: qty, right: quantity},
{left: unit_cost, right: unit_amount}]}}`` turns each item of one side's array into a common
item keyed by common names (``name:``, else the left path), through each sub-field's own
``transform`` chain, and back. Sub-fields not named are left out of the common value, so
read-only parts (a line's id, its computed amount) never count as a change.

Numbers are normalised in the common value (``Decimal("1.00")``, ``1`` and ``"1"`` from a text
column are all ``1``; ``Decimal("2.50")`` is ``Decimal("2.5")``), so a quantity held as a decimal
on one side and an integer on the other does not flip-flop.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from syncengine.mapping.diagnostics import did_you_mean
from syncengine.mapping.errors import RecordMappingError
from syncengine.mapping.transforms import (
    SIDES,
    BuildContext,
    Converter,
    RefResolver,
    Side,
    Transform,
    chain_from_common,
    chain_to_common,
)
from syncengine.records import get_path, set_path

__all__ = ["ItemField", "ItemsTransform", "build_items"]

_ITEM_FIELD_KEYS = ("left", "right", "name", "transform")


class ItemField:
    """One sub-field of each item: its common name, its path on each side, its transforms."""

    __slots__ = ("left", "name", "right", "transforms")

    def __init__(self, name: str, left: str, right: str, transforms: list[Transform]) -> None:
        self.name = name
        self.left = left
        self.right = right
        self.transforms = transforms

    def path(self, side: Side) -> str:
        return self.left if side == "left" else self.right


def _number(value: Any) -> Any:
    """An int or Decimal as its normal form: integral -> int, else a Decimal without trailing zeros."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return value
    number = Decimal(value)
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


class ItemsTransform(Transform):
    """See the module docstring."""

    name = "items"

    def __init__(self, fields: list[ItemField]) -> None:
        self.fields = fields

    def item_paths(self, side: Side) -> tuple[str, ...]:
        """The sub-paths of each item this transform reads and writes on ``side`` (checked
        against the array field's spec)."""
        return tuple(f.path(side) for f in self.fields)

    def refs(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for f in self.fields:
            for t in f.transforms:
                out |= t.refs()
        return out

    def to_common_fn(self, side: Side) -> Converter:
        steps = tuple((f.name, f.path(side), chain_to_common(f.transforms, side)) for f in self.fields)

        def items_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            if not isinstance(value, list | tuple):
                raise RecordMappingError(f"items expects a list, got {type(value).__name__}")
            out: list[dict[str, Any]] = []
            for index, item in enumerate(value):
                if not isinstance(item, Mapping):
                    raise RecordMappingError(f"item {index + 1} is not an object ({type(item).__name__})")
                common: dict[str, Any] = {}
                for name, path, convert in steps:
                    sub = get_path(item, path)
                    try:
                        if convert is not None:
                            sub = convert(sub, item, refs)
                    except RecordMappingError as exc:
                        exc.message = f"item {index + 1}, {name}: {exc.message}"
                        raise
                    common[name] = None if sub == "" else _number(_text_number(sub))
                out.append(common)
            return out

        return items_to_common

    def from_common_fn(self, side: Side) -> Converter:
        steps = tuple((f.name, f.path(side), chain_from_common(f.transforms, side)) for f in self.fields)

        def items_from_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            if not isinstance(value, list | tuple):
                raise RecordMappingError(f"items expects a list, got {type(value).__name__}")
            out: list[dict[str, Any]] = []
            for index, common in enumerate(value):
                if not isinstance(common, Mapping):
                    raise RecordMappingError(f"item {index + 1} is not an object ({type(common).__name__})")
                item: dict[str, Any] = {}
                for name, path, convert in steps:
                    sub = common.get(name)
                    try:
                        if convert is not None:
                            sub = convert(sub, {}, refs)
                    except RecordMappingError as exc:
                        exc.message = f"item {index + 1}, {name}: {exc.message}"
                        raise
                    set_path(item, path, sub)
                out.append(item)
            return out

        return items_from_common


def _text_number(value: Any) -> Any:
    """Leave text alone unless it is plainly a number (``"1"``, ``"2.50"``), which a CSV or text
    column gives for a quantity."""
    if isinstance(value, str):
        text = value.strip()
        if text and (text[0].isdigit() or (text[0] in "+-" and text[1:2].isdigit())):
            try:
                return Decimal(text)
            except InvalidOperation:
                return value
    return value


def build_items(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    """``{items: {fields: [...]}}``: each sub-field a mapping of left, right, optional name and
    transform (any transform, ``items`` too), reported at its own place in the file."""
    from syncengine.mapping.registry import parse_transforms

    if not isinstance(args, Mapping) or "fields" not in args:
        ctx.report((), "items takes {fields: [{left: a, right: b}, ...]}",
                   hint="like {items: {fields: [{left: name, right: description}]}}")
        return None
    extra = [k for k in args if k != "fields"]
    for key in extra:
        ctx.report((key,), f"items does not take {str(key)!r}{did_you_mean(str(key), ['fields'])}",
                   hint="items takes: fields", at_key=True)
    raw_fields = args["fields"]
    if not isinstance(raw_fields, list) or not raw_fields:
        ctx.report(("fields",), "items fields must be a non-empty list of {left: a, right: b}")
        return None
    ok = not extra
    built: list[ItemField] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_fields):
        at = ctx.at("fields", index)
        if not isinstance(raw, Mapping):
            at.report((), "an item field is a mapping like {left: name, right: description}")
            ok = False
            continue
        bad = [k for k in raw if k not in _ITEM_FIELD_KEYS]
        for key in bad:
            at.report((key,), f"unknown key {str(key)!r}{did_you_mean(str(key), _ITEM_FIELD_KEYS)}",
                      hint="an item field takes: left, right, name, transform", at_key=True)
            ok = False
        paths: dict[Side, str] = {}
        for side in SIDES:
            path = raw.get(side)
            if not isinstance(path, str) or not path:
                at.report((), f"an item field needs {side}: (a path in each item)")
                ok = False
            else:
                paths[side] = path
        if len(paths) < 2:
            continue
        name = raw.get("name", paths["left"])
        if not isinstance(name, str) or not name:
            at.report(("name",), "name must be a non-empty text")
            ok = False
            continue
        if name in names:
            at.report(("name" if "name" in raw else "left",), f"duplicate item field name {name!r}")
            ok = False
            continue
        names.add(name)
        chain = parse_transforms(raw.get("transform"), at.at("transform"))
        if chain is None:
            ok = False
            continue
        built.append(ItemField(name, paths["left"], paths["right"], chain))
    return ItemsTransform(built) if ok else None
