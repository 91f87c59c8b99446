"""Deciding what to do with one record pair: a pure function of (base, left, right, rules).

Everything the reconciler does to a record is chosen here, from what it knows: the last agreed
snapshot (``base``), what each side holds now (``left``/``right``, None when a side did not change
since the snapshot) and the pair's rules. No I/O, no ledger, no connector: the executor carries
the :class:`Decision` out. That makes every rule testable from a table (see
``tests/unit/reconcile/test_decide.py``), and it keeps the one promise the engine makes: a side is
written only when a change on the other side, or a policy, explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from syncengine.reconcile.merge import Policy, Side, merge_fields, other_side

__all__ = [
    "Base",
    "Decision",
    "Kind",
    "Observed",
    "Rules",
    "SideState",
    "WriteOp",
    "decide",
    "decide_new",
]

WriteOp = Literal["create", "update", "delete", "archive"]
DeleteRule = Literal["propagate", "archive", "ignore"]
Direction = Literal["both", "left_to_right", "right_to_left"]


class SideState(StrEnum):
    """What the snapshot knows of one side of a link."""

    #: the record was there, holding the snapshot's values (its hash is known).
    LIVE = "live"
    #: the record was deleted and the deletion settled (a tombstone link).
    DELETED = "deleted"
    #: the record is there but its last state is not known (a write whose answer was not read).
    UNKNOWN = "unknown"


class Kind(StrEnum):
    #: write the merged values (``writes`` may be empty: only the snapshot learns new hashes).
    UPDATE = "update"
    #: no partner yet: create one on the other side.
    CREATE = "create"
    #: two records that belong together (matched or recovered) are linked, and merged.
    LINK = "link"
    #: a side was deleted: delete, archive, or keep the other (see ``writes`` and ``tombstone``).
    DELETE = "delete"
    #: both sides are gone: forget the link.
    UNLINK = "unlink"
    #: a true conflict under the ``manual`` policy: a person decides; nothing is written.
    PARK = "park"
    #: nothing to do (``reason`` says why; ``counter`` names what to count).
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Observed:
    """One side's record as this run saw it, in the common shape (None fields when deleted)."""

    common: Mapping[str, Any] | None
    deleted: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Base:
    """The last agreed state of a linked pair."""

    common: Mapping[str, Any]
    left: SideState = SideState.LIVE
    right: SideState = SideState.LIVE
    #: an open conflict freezes the pair until a person settles it.
    frozen: bool = False

    def state(self, side: Side) -> SideState:
        return self.left if side == "left" else self.right


@dataclass(frozen=True, slots=True)
class Rules:
    """A pair's rules, as the decision needs them."""

    names: tuple[str, ...]
    policy: Policy
    deletes: DeleteRule = "propagate"
    direction: Direction = "both"
    #: per field: whether a change on ``side`` is carried over / whether ``side`` may be written.
    flows_from: Callable[[Side, str], bool] = lambda side, name: True
    flows_to: Callable[[Side, str], bool] = lambda side, name: True

    def allows(self, source: Side) -> bool:
        """Whether records may flow from ``source`` to the other side at all (pair direction)."""
        return self.direction == "both" or self.direction == f"{source}_to_{other_side(source)}"


@dataclass(slots=True)
class Decision:
    kind: Kind
    #: per side written: the operation and (create/update) the common fields to write.
    writes: dict[Side, tuple[WriteOp, dict[str, Any]]] = field(default_factory=dict)
    #: the values both sides hold once the writes are done (the next snapshot).
    merged: dict[str, Any] | None = None
    #: fields changed on both sides to different values (settled by policy, or parked).
    conflicts: list[str] = field(default_factory=list)
    #: forget the link after the writes.
    unlink: bool = False
    #: deletions wait for the mass-delete valve before they are carried out.
    deferred: bool = False
    reason: str = ""
    #: a count to add to the pair's report (``skipped_left_one_way``...), if any.
    counter: str | None = None

    def op(self, side: Side) -> WriteOp | None:
        write = self.writes.get(side)
        return write[0] if write else None


def _gone(side: Side, seen: Observed | None, base: Base) -> bool:
    return (seen is not None and seen.deleted) or (seen is None and base.state(side) is SideState.DELETED)


def decide(base: Base, left: Observed | None, right: Observed | None, rules: Rules) -> Decision:
    """A linked pair, of which at least one side changed since ``base``."""
    if base.frozen:
        return Decision(Kind.SKIP, reason="open conflict", counter="skipped_open_conflict")
    left_gone, right_gone = _gone("left", left, base), _gone("right", right, base)
    if left_gone and right_gone:
        return Decision(Kind.UNLINK, unlink=True, reason="deleted on both sides")
    if left_gone or right_gone:
        return _decide_delete(base, "left" if left_gone else "right", left, right, rules)
    # Otherwise (including a deleted record that came back): merge against the snapshot.
    return _merge(base.common, left, right, rules, Kind.UPDATE)


def decide_new(source: Side, seen: Observed, partner: Observed | None, rules: Rules) -> Decision:
    """A record with no link yet: merged with the ``partner`` found for it (a match, or the record
    an interrupted run created), else created on the other side if the direction allows."""
    if partner is not None:
        left, right = (seen, partner) if source == "left" else (partner, seen)
        return _merge(None, left, right, rules, Kind.LINK)
    if not rules.allows(source):
        return Decision(Kind.SKIP, reason="one-way pair", counter=f"skipped_{source}_one_way")
    assert seen.common is not None
    target = other_side(source)
    fields = {n: seen.common.get(n) for n in rules.names if rules.flows_to(target, n)}
    return Decision(Kind.CREATE, writes={target: ("create", fields)}, merged=dict(seen.common))


def _merge(base: Mapping[str, Any] | None, left: Observed | None, right: Observed | None, rules: Rules,
           kind: Kind) -> Decision:
    result = merge_fields(
        list(rules.names), base,
        left.common if left is not None else None,
        right.common if right is not None else None,
        flows_from=rules.flows_from, flows_to=rules.flows_to, policy=rules.policy,
        left_updated_at=left.updated_at if left else None,
        right_updated_at=right.updated_at if right else None,
    )
    if result.parked:
        return Decision(Kind.PARK, conflicts=result.conflicts, reason="changed on both sides")
    decision = Decision(kind, merged=result.merged, conflicts=result.conflicts)
    # Both records exist (linked, or just paired up): whatever differs is an update.
    if result.to_left:
        decision.writes["left"] = ("update", result.to_left)
    if result.to_right:
        decision.writes["right"] = ("update", result.to_right)
    if result.conflicts:
        decision.counter = "conflicts_settled"
    return decision


def _decide_delete(base: Base, gone: Side, left: Observed | None, right: Observed | None,
                   rules: Rules) -> Decision:
    alive_side = other_side(gone)
    alive = right if gone == "left" else left
    if base.state(gone) is SideState.DELETED:
        # Deleted before and settled (kept under `ignore`, or an archive): the alive side lives on.
        if alive is not None and not alive.deleted:
            return Decision(Kind.SKIP, reason=f"{gone} was deleted", counter=f"skipped_{alive_side}_partner_deleted")
        return Decision(Kind.SKIP, reason=f"{gone} was deleted")
    if alive is not None and rules.policy == "manual":
        # Deleted on one side, edited on the other: a person decides.
        return Decision(Kind.PARK, conflicts=["<deleted>"], reason=f"deleted on {gone}, edited on {alive_side}")
    counter = f"edits_discarded_by_delete_{alive_side}" if alive is not None else None
    if rules.deletes == "ignore" or not rules.allows(gone):
        # Keep the other side; remember the deletion (a tombstone) so it is not "new" next run.
        return Decision(Kind.DELETE, merged=dict(base.common), unlink=not rules.allows(gone), deferred=True,
                        reason=f"deleted on {gone}; kept on {alive_side}", counter=counter)
    op: WriteOp = "archive" if rules.deletes == "archive" else "delete"
    return Decision(Kind.DELETE, writes={alive_side: (op, {})}, merged=dict(base.common),
                    unlink=op == "delete", deferred=True, reason=f"deleted on {gone}", counter=counter)
