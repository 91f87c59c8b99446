"""The ``ref`` transform: a foreign key translated through the ledger's links of another pair.

An invoice's ``customerid`` on the left names a client by its *left* key; on the right the same
invoice names the customer by its *right* key. The common value is the left key as a string, so
both sides agree once the client pair has linked the two records. Until then the lookup fails with
:class:`~syncengine.mapping.errors.UnresolvedRef`, which the reconciler treats as "retry later"
(this is also why pairs are ordered so that a referenced pair syncs first). A reference to a
record that no longer exists will never resolve: it raises ``UnresolvedRef`` with ``gone`` set,
and the reconciler applies the dependent pair's ``deletes`` rule instead of retrying for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncengine.mapping.errors import UnresolvedRef
from syncengine.mapping.transforms import BuildContext, Converter, RefResolver, Side, Transform

__all__ = ["RefTransform", "build_ref"]


def _as_key(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class RefTransform(Transform):
    """Left keys pass through (as text); right keys are looked up in ``pair``'s links."""

    name = "ref"

    def __init__(self, pair: str) -> None:
        self.pair = pair

    def refs(self) -> frozenset[str]:
        return frozenset({self.pair})

    def to_common_fn(self, side: Side) -> Converter:
        pair = self.pair
        if side == "left":

            def left_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                if value is None or value == "":
                    return None
                key = _as_key(value)
                found = refs.right_key_for(pair, key)
                if found == "":
                    return None  # a deleted record, and the pair keeps its dependents: cleared
                if found is None and refs.is_gone(pair, "left", key):
                    raise UnresolvedRef(pair, key, key_side="left", gone=True)
                return key

            return left_to_common

        def right_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None or value == "":
                return None
            key = _as_key(value)
            found = refs.left_key_for(pair, key)
            if found == "":
                return None
            if found is None:
                raise UnresolvedRef(pair, key, key_side="right", gone=refs.is_gone(pair, "right", key))
            return found

        return right_to_common

    def from_common_fn(self, side: Side) -> Converter:
        pair = self.pair
        if side == "left":

            def common_to_left(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                return None if value is None or value == "" else _as_key(value)

            return common_to_left

        def common_to_right(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None or value == "":
                return None
            key = _as_key(value)
            found = refs.right_key_for(pair, key)
            if found == "":
                return None
            if found is None:
                raise UnresolvedRef(pair, key, key_side="left", gone=refs.is_gone(pair, "left", key))
            return found

        return common_to_right


def build_ref(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    """``{ref: clients}``: the pair must exist in this file and not be the pair itself."""
    from syncengine.mapping.diagnostics import did_you_mean

    if not isinstance(args, str) or not args:
        ctx.report((), "ref takes the name of another pair, like {ref: clients}")
        return None
    if args == ctx.pair:
        ctx.report((), f"pair {ctx.pair!r} cannot ref itself", hint="name the pair the key points to")
        return None
    if args not in ctx.pair_names:
        others = ctx.pair_names - {ctx.pair}
        ctx.report((), f"ref to unknown pair {args!r}{did_you_mean(args, others)}")
        return None
    return RefTransform(args)
