"""The mapping file's shape as pydantic models: what keys exist, which are required, their types.

Strict models (no coercion: ``left: 123`` is a mistake, not the string "123") that forbid unknown
keys. The loader validates each pair and each field separately, so one bad field does not hide the
mistakes of the others. Transform values are checked by :mod:`syncengine.mapping.registry`, which
knows the transforms; here they are just "anything".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "CONFLICTS",
    "DELETES",
    "DIRECTIONS",
    "Conflict",
    "Deletes",
    "Direction",
    "FieldEntry",
    "MatchRule",
    "PairEntry",
]

Direction = Literal["both", "left_to_right", "right_to_left"]
Conflict = Literal["newest_wins", "left_wins", "right_wins", "manual"]
Deletes = Literal["propagate", "archive", "ignore"]
DIRECTIONS: tuple[str, ...] = ("both", "left_to_right", "right_to_left")
CONFLICTS: tuple[str, ...] = ("newest_wins", "left_wins", "right_wins", "manual")
DELETES: tuple[str, ...] = ("propagate", "archive", "ignore")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class MatchRule(_Strict):
    """Link records that already exist on both sides when these paths hold equal values."""

    left: str
    right: str


class FieldEntry(_Strict):
    """One field of a pair: its paths on both sides, optional common name, direction, transforms."""

    name: str | None = None
    left: str
    right: str
    direction: Direction | None = None
    transform: Any = None


class PairEntry(_Strict):
    """One object pair. ``fields`` items are validated one by one as :class:`FieldEntry`."""

    name: str
    left: str
    right: str
    direction: Direction = "both"
    conflict: Conflict = "newest_wins"
    deletes: Deletes = "propagate"
    match: list[MatchRule] = []
    fields: list[Any]

    @field_validator("match", mode="before")
    @classmethod
    def _one_rule_or_list(cls, value: Any) -> Any:
        # ``match: {left: email, right: email}`` is the common case; a list means "all of these".
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value


KEYS_OF = {
    "top level": ("pairs",),
    "pair": tuple(PairEntry.model_fields),
    "field": tuple(FieldEntry.model_fields),
    "match rule": tuple(MatchRule.model_fields),
}


# -- reading the document into models, with pydantic's complaints turned into ours ------------

_WORD = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "nothing (null)",
}


def kind_of(value: Any) -> str:
    return _WORD.get(type(value), type(value).__name__)


_EXPECTED = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "int_type": "a number",
    "bool_type": "true or false",
}


def explain(error: Any, context: str, data: Any) -> tuple[tuple[Any, ...], str, str | None, bool]:
    """One pydantic error as (loc, message, hint, at_key) in our words.

    ``data`` is the input that was validated, to show what was written instead."""
    from syncengine.mapping.diagnostics import did_you_mean, one_of

    loc = tuple(error["loc"])
    kind = error["type"]
    key = str(loc[-1]) if loc else ""
    if context == "pair" and "match" in loc[:-1]:
        context = "match rule"
    where = context
    if kind == "extra_forbidden":
        known = KEYS_OF.get(context, ())
        return (
            loc,
            f"unknown key {key!r} in {where}{did_you_mean(key, known)}",
            f"allowed keys: {one_of(known)}",
            True,
        )
    if kind == "missing":
        return (loc[:-1], f"missing required key {key!r} in {where}", None, False)
    if kind == "literal_error":
        allowed = {"direction": DIRECTIONS, "conflict": CONFLICTS, "deletes": DELETES}.get(key, ())
        got = error.get("input")
        return (
            loc,
            f"{key} must be one of {one_of(allowed)}, not {got!r}{did_you_mean(str(got), allowed)}",
            None,
            False,
        )
    if kind in _EXPECTED:
        got = error.get("input")
        if loc[-1:] == ("match",) or loc[-2:-1] == ("match",):
            return (loc, f"match must be {{left: <path>, right: <path>}} or a list of them, not {kind_of(got)}",
                    None, False)
        if isinstance(loc[-1], int) and len(loc) > 1:
            key = f"item {loc[-1] + 1} of {loc[-2]}"
        return (loc, f"{key or 'value'} must be {_EXPECTED[kind]}, not {kind_of(got)}", None, False)
    return (loc, f"{key}: {error['msg']}", None, False)
