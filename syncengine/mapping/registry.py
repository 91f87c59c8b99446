"""The transform registry: names to factories, and parsing a field's ``transform:`` value.

Accepted shapes (all may be mixed in a list, which is a chain applied in order):
``upper`` · ``{default: USD}`` · ``{map: {...}, default: draft}`` · ``{money: {right: minor, ...}}``
· ``{ref: clients}`` · ``{date: {...}}`` · ``{datetime: {...}}``
· ``{items: {fields: [{left: name, right: description}]}}``. A transform's own options sit
next to its key (only ``map`` has one: ``default``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from syncengine.mapping.dates import build_date, build_datetime
from syncengine.mapping.diagnostics import did_you_mean, one_of
from syncengine.mapping.items import build_items
from syncengine.mapping.money import build_money
from syncengine.mapping.refs import build_ref
from syncengine.mapping.transforms import (
    BuildContext,
    DefaultTransform,
    LowerTransform,
    Transform,
    UpperTransform,
    ValueMapTransform,
)

__all__ = ["TRANSFORMS", "parse_transforms"]

Factory = Callable[[Any, Mapping[str, Any], BuildContext], Transform | None]


def _no_args(cls: type[Transform]) -> Factory:
    def build(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
        if args not in (None, True, {}):
            ctx.report((), f"{cls.name} takes no arguments; write it as a plain name: {cls.name}")
            return None
        return cls()

    return build


def _build_default(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    if isinstance(args, dict | list):
        ctx.report((), "default takes a single value, like {default: USD}")
        return None
    return DefaultTransform(args)


def _build_map(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    if not isinstance(args, Mapping):
        ctx.report(
            (),
            f"map takes a mapping of left value to right value, not {_kind(args)}",
            hint='like {map: {"1": draft, "2": sent}, default: draft}',
        )
        return None
    if not args:
        ctx.report((), "map is empty")
        return None
    bad = [k for k, v in args.items() if isinstance(v, dict | list)]
    for key in bad:
        ctx.report((key,), "map values must be single values, not a mapping or list")
    if bad:
        return None
    if "default" in options:
        return ValueMapTransform(args, options["default"])
    return ValueMapTransform(args)


TRANSFORMS: dict[str, tuple[Factory, frozenset[str]]] = {
    "upper": (_no_args(UpperTransform), UpperTransform.options),
    "lower": (_no_args(LowerTransform), LowerTransform.options),
    "default": (_build_default, DefaultTransform.options),
    "map": (_build_map, ValueMapTransform.options),
    "money": (build_money, frozenset()),
    "date": (build_date, frozenset()),
    "datetime": (build_datetime, frozenset()),
    "ref": (build_ref, frozenset()),
    "items": (build_items, frozenset()),
}


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _unknown(name: Any, ctx: BuildContext, where: tuple[Any, ...], at_key: bool) -> None:
    ctx.report(
        where,
        f"unknown transform {str(name)!r}{did_you_mean(str(name), TRANSFORMS)}",
        hint=f"known transforms: {one_of(TRANSFORMS)}",
        at_key=at_key,
    )


def _one(spec: Any, ctx: BuildContext) -> Transform | None:
    if isinstance(spec, str):
        if spec not in TRANSFORMS:
            _unknown(spec, ctx, (), at_key=False)
            return None
        return TRANSFORMS[spec][0](None, {}, ctx)
    if isinstance(spec, Mapping):
        if not spec:
            ctx.report((), "empty transform; name one, like lower or {default: X}")
            return None
        keys = list(spec)
        named = [k for k in keys if k in TRANSFORMS]
        if not named:
            _unknown(keys[0], ctx, (keys[0],), at_key=True)
            return None

        def covered(name: str) -> int:
            return sum(1 for k in keys if k == name or k in TRANSFORMS[name][1])

        # the transform is the named key that accounts for most of the others ({map, default})
        name = max(named, key=covered)
        factory, options = TRANSFORMS[name]
        extra = [k for k in keys if k != name and k not in options]
        if not extra:
            return factory(spec[name], {k: spec[k] for k in keys if k != name}, ctx.at(name))
        other = extra[0]
        if other in TRANSFORMS:
            message = f"one transform per mapping: {name!r} does not take {str(other)!r}"
            hint = "chain transforms as a list: [upper, {default: USD}]"
        else:
            message = f"{name!r} does not take {str(other)!r}{did_you_mean(str(other), options)}"
            hint = f"{name} takes: {one_of(options)}" if options else f"{name} takes no options"
        ctx.report((other,), message, hint=hint, at_key=True)
        return None
    ctx.report((), f"a transform is a name or a mapping, not {_kind(spec)}")
    return None


def parse_transforms(spec: Any, ctx: BuildContext) -> list[Transform] | None:
    """The chain for one field (``[]`` for none), or None if anything in it is wrong (reported)."""
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    chain: list[Transform] = []
    ok = True
    for index, item in enumerate(items):
        built = _one(item, ctx.at(index) if isinstance(spec, list) else ctx)
        if built is None:
            ok = False
        else:
            chain.append(built)
    return chain if ok else None
