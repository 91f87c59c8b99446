"""What a transform is, and the simple ones: ``upper``, ``lower``, ``default`` and value ``map``.

A transform converts one side's value to the **common value** and back. It is compiled once per
side into plain closures (``to_common_fn(side)``, ``from_common_fn(side)``) so the per-record path
is a function call, with no registry lookups or pydantic involved.

The convention every transform keeps: the common value is *normalised*, so the two sides of an
unchanged pair project to equal common values. Otherwise each sync would see a difference that
is not there and the pair would flip-flop (``"A@x.com"`` vs ``"a@x.com"`` under ``lower``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from syncengine.mapping.errors import RecordMappingError

__all__ = [
    "NO_REFS",
    "BuildContext",
    "Converter",
    "DefaultTransform",
    "LowerTransform",
    "RefResolver",
    "Side",
    "Transform",
    "UpperTransform",
    "ValueMapTransform",
    "chain_from_common",
    "chain_to_common",
]

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


class RefResolver(Protocol):
    """The ledger's links of a pair, as the ``ref`` transform needs them.

    A lookup answers the other side's key, None when there is no link (yet), or "" for a
    reference to a deleted record that is to be cleared (the pair keeps such dependents)."""

    def left_key_for(self, pair: str, right_key: str) -> str | None: ...

    def right_key_for(self, pair: str, left_key: str) -> str | None: ...

    def is_gone(self, pair: str, side: str, key: str) -> bool:
        """Whether the record ``key`` of ``pair`` on ``side`` no longer exists (a reference to it
        will never resolve, however often it is retried)."""
        ...


class _NoRefs:
    """A resolver that knows no links (for mappings without ``ref`` and for tests)."""

    def left_key_for(self, pair: str, right_key: str) -> str | None:
        return None

    def right_key_for(self, pair: str, left_key: str) -> str | None:
        return None

    def is_gone(self, pair: str, side: str, key: str) -> bool:
        return False


NO_REFS: RefResolver = _NoRefs()

#: ``(value, record_fields, refs) -> value``. ``record_fields`` is the record being projected
#: (to_common) or the target's current fields, possibly empty (from_common).
Converter = Callable[[Any, Mapping[str, Any], RefResolver], Any]


@dataclass
class BuildContext:
    """What a transform factory may need to check its arguments."""

    pair: str
    pair_names: frozenset[str]
    report: Callable[..., None]
    #: ``report(where, message, *, hint=None, at_key=False)``, ``where`` relative to the transform.
    prefix: tuple[Any, ...] = field(default=())

    def at(self, *where: Any) -> BuildContext:
        """The same context, reporting below ``where`` (a list item, an argument)."""
        parent = self.report

        def report(loc: tuple[Any, ...], message: str, **kw: Any) -> None:
            parent((*where, *loc), message, **kw)

        return BuildContext(self.pair, self.pair_names, report)


class Transform:
    """One step of a field's transform chain, per side both ways."""

    name: ClassVar[str]
    #: option keys allowed next to the transform's own key (``{map: ..., default: ...}``).
    options: ClassVar[frozenset[str]] = frozenset()

    def to_common_fn(self, side: Side) -> Converter:
        raise NotImplementedError

    def from_common_fn(self, side: Side) -> Converter:
        raise NotImplementedError

    def to_common(
        self,
        side: Side,
        value: Any,
        record_fields: Mapping[str, Any] | None = None,
        refs: RefResolver = NO_REFS,
    ) -> Any:
        """Convenience for tests and tools; the hot path calls the compiled closure."""
        return self.to_common_fn(side)(value, record_fields or {}, refs)

    def from_common(
        self,
        side: Side,
        value: Any,
        record_fields: Mapping[str, Any] | None = None,
        refs: RefResolver = NO_REFS,
    ) -> Any:
        return self.from_common_fn(side)(value, record_fields or {}, refs)

    def reads(self, side: Side) -> tuple[str, ...]:
        """Other paths of that side's record this transform reads (checked against the spec)."""
        return ()

    def item_paths(self, side: Side) -> tuple[str, ...]:
        """Paths inside each item of an array field this transform maps (checked against the
        array's item spec); only ``items`` has any."""
        return ()

    def extra_writes(self, side: Side) -> tuple[str, ...]:
        """Paths this transform wants written alongside its field on that side (a money field's
        currency), when no other field maps them."""
        return ()

    def extra_value(self, side: Side, path: str, common: Any) -> Any:
        return None

    def refs(self) -> frozenset[str]:
        return frozenset()


def _identity(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
    return value


def chain_to_common(steps: list[Transform], side: Side) -> Converter | None:
    """The transforms applied in list order; None when there are none (a plain copy)."""
    fns = [t.to_common_fn(side) for t in steps]
    return _compose(fns)


def chain_from_common(steps: list[Transform], side: Side) -> Converter | None:
    """The transforms' inverses applied in reverse list order."""
    fns = [t.from_common_fn(side) for t in reversed(steps)]
    return _compose(fns)


def _compose(fns: list[Converter]) -> Converter | None:
    if not fns:
        return None
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        first, second = fns

        def two(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            return second(first(value, fields, refs), fields, refs)

        return two
    chain = tuple(fns)

    def many(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
        for fn in chain:
            value = fn(value, fields, refs)
        return value

    return many


def _upper(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
    return value.lower() if isinstance(value, str) else value


class UpperTransform(Transform):
    """Upper-cases strings both ways, so ``usd`` and ``USD`` are the same common value."""

    name = "upper"

    def to_common_fn(self, side: Side) -> Converter:
        return _upper

    def from_common_fn(self, side: Side) -> Converter:
        return _upper


class LowerTransform(Transform):
    """Lower-cases strings both ways (emails)."""

    name = "lower"

    def to_common_fn(self, side: Side) -> Converter:
        return _lower

    def from_common_fn(self, side: Side) -> Converter:
        return _lower


class DefaultTransform(Transform):
    """None, a missing field or ``""`` becomes the default, both ways (so an empty side and a
    side holding the default agree)."""

    name = "default"

    def __init__(self, value: Any) -> None:
        self.value = value

    def _fn(self) -> Converter:
        default = self.value

        def apply_default(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            return default if value is None or value == "" else value

        return apply_default

    def to_common_fn(self, side: Side) -> Converter:
        return self._fn()

    def from_common_fn(self, side: Side) -> Converter:
        return self._fn()


_NO_DEFAULT = object()


def map_key(value: Any) -> Any:
    """Map keys compare as text: YAML ``1:`` and ``"1":`` and a record's ``1`` are one key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return value


class ValueMapTransform(Transform):
    """Left value -> right value. The common value is the *right* value, so both sides of an
    unchanged pair agree; left values the map does not name take ``default`` (a right value) if
    given, else the record fails. Several left values may map to one right value; writing back to
    the left then picks the first of them in file order."""

    name = "map"
    options = frozenset({"default"})

    def __init__(self, values: Mapping[Any, Any], default: Any = _NO_DEFAULT) -> None:
        self.forward = {map_key(k): v for k, v in values.items()}
        self.reverse: dict[Any, Any] = {}
        for k, v in values.items():
            self.reverse.setdefault(map_key(v), k)
        self.default = default

    def to_common_fn(self, side: Side) -> Converter:
        if side == "right":
            return _identity
        forward, default = self.forward, self.default
        missing = object()

        def left_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            try:
                found = forward.get(map_key(value), missing)
            except TypeError:  # an unhashable value (a dict) is simply not in the map
                found = missing
            if found is not missing:
                return found
            if default is not _NO_DEFAULT:
                return default
            raise RecordMappingError(
                f"value {value!r} is not in the map (known: {', '.join(map(str, forward))})",
                hint="add it to the map or give the map a default",
            )

        return left_to_common

    def from_common_fn(self, side: Side) -> Converter:
        if side == "right":
            return _identity
        reverse = self.reverse
        missing = object()

        def common_to_left(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            try:
                found = reverse.get(map_key(value), missing)
            except TypeError:
                found = missing
            if found is missing:
                raise RecordMappingError(
                    f"no left value maps to {value!r} (known right values: {', '.join(map(str, reverse))})",
                    hint="add a left value for it to the map",
                )
            return found

        return common_to_left
