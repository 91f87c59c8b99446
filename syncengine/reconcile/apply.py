"""Carrying decisions out: the one place that writes to connectors and to the ledger.

Every remote write has its own intent row, committed *before* the call ('pending'), marked
'sent' just before it and finished ('done', or 'failed' when the system refused it) in the same
transaction as the link and snapshot that record its result. A write whose outcome is unknown
(a crash, a timeout) stays 'sent', and the next run settles it before anything is written again
(see :mod:`syncengine.reconcile.recovery`). Each write's idempotency key is derived from what it
writes, so a retry of the same write carries the same key and a different write never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from syncengine.connector import Connector, WriteOp, WriteResult
from syncengine.errors import (
    ConnectorError,
    NeedsDecisionError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    WriteBlockedError,
)
from syncengine.mapping import RecordMappingError, UnresolvedRef
from syncengine.reconcile.actions import Action, PairReport, field_diff
from syncengine.reconcile.merge import Side, other_side
from syncengine.reconcile.observe import DELETED, Seen, project_record
from syncengine.reconcile.recovery import PendingCreate, idempotency_key
from syncengine.reconcile.refs import LedgerRefs
from syncengine.records import Record, encode_value

if TYPE_CHECKING:
    from syncengine.ledger import Ledger, LinkState
    from syncengine.ledger.rows import LinkStatus
    from syncengine.mapping import PairMapping
    from syncengine.reconcile.decide import Decision

__all__ = ["Applier", "Work", "WriteKind"]

WriteKind = Literal["create", "update", "delete", "archive"]


@dataclass(slots=True)
class Work:
    """Everything needed to bring one record pair into agreement."""

    link: LinkState | None
    left: Seen | None
    right: Seen | None
    merged: dict[str, Any] | None
    left_op: WriteKind | None = None
    right_op: WriteKind | None = None
    to_left: dict[str, Any] = field(default_factory=dict)
    to_right: dict[str, Any] = field(default_factory=dict)
    #: drop the link after the writes (both sides gone, or a deletion not to be remembered).
    unlink: bool = False
    conflict_id: int | None = None
    note: str = ""
    #: a write-back of values the other system computed: its own answer is not written back again.
    follow_up: bool = False
    #: the open create of an interrupted run whose record this work links (closed on commit).
    recovered_intent: int | None = None

    @classmethod
    def of(cls, decision: Decision, link: LinkState | None, left: Seen | None, right: Seen | None) -> Work:
        work = cls(link, left, right, decision.merged, unlink=decision.unlink, note=decision.reason)
        for side, (kind, names) in decision.writes.items():
            if side == "left":
                work.left_op, work.to_left = kind, names
            else:
                work.right_op, work.to_right = kind, names
        return work

    @property
    def left_key(self) -> str | None:
        if self.left is not None:
            return self.left.key
        return self.link.left_key if self.link else None

    @property
    def right_key(self) -> str | None:
        if self.right is not None:
            return self.right.key
        return self.link.right_key if self.link else None

    def seen(self, side: Side) -> Seen | None:
        return self.left if side == "left" else self.right

    def op(self, side: Side) -> WriteKind | None:
        return self.left_op if side == "left" else self.right_op

    def names(self, side: Side) -> dict[str, Any]:
        return self.to_left if side == "left" else self.to_right

    @property
    def source(self) -> Seen | None:
        """The record that caused this work: retried by key if the work fails."""
        if self.left is not None and self.left_op is None:
            return self.left
        if self.right is not None and self.right_op is None:
            return self.right
        return self.left or self.right


@dataclass(slots=True)
class _Planned:
    work: Work
    ops: dict[Side, WriteOp] = field(default_factory=dict)
    results: dict[Side, WriteResult] = field(default_factory=dict)
    intent_ids: dict[Side, int] = field(default_factory=dict)
    #: per side, whether a failed write may still have happened (a timeout, a dropped connection).
    uncertain: dict[Side, bool] = field(default_factory=dict)
    error: str | None = None
    #: the reason a target refused the record for a person to settle (parked, not retried blindly).
    parked: str | None = None
    #: the error is the batch's WriteBlockedError, reported once for the run rather than per record.
    quiet: bool = False


class Applier:
    """Applies batches of :class:`Work` for one pair, or (dry run) only reports them."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        pipeline: str,
        pair: PairMapping,
        connectors: dict[Side, Connector],
        refs: LedgerRefs,
        report: PairReport,
        dry_run: bool,
        referenced: bool = True,
    ) -> None:
        self.ledger = ledger
        self.pipeline = pipeline
        self.pair = pair
        self.connectors = connectors
        self.refs = refs
        self.report = report
        self.dry_run = dry_run
        #: open creates of interrupted runs to send again under their own key and payload (the
        #: target honours idempotency keys), by (target side, source key).
        self.replays: dict[tuple[Side, str], PendingCreate] = {}
        #: whether another pair refs this one (only then must new links reach the ref cache).
        self.referenced = referenced
        self.objects: dict[Side, str] = {"left": pair.left_object, "right": pair.right_object}
        self._assigned: dict[Side, list[str]] = {}

    # -- planning one work item into write ops ---------------------------------------------
    def _ops_for(self, item: _Planned) -> None:
        work = item.work
        for side in ("left", "right"):
            kind = work.op(side)
            if kind is None:
                continue
            target_key = work.left_key if side == "left" else work.right_key
            source_key = work.right_key if side == "left" else work.left_key
            seen = work.seen(side)
            prior = seen.hash if seen is not None else (
                (work.link.left_hash if side == "left" else work.link.right_hash) if work.link else None)
            if kind == "create":
                replay = self.replays.pop((side, source_key or ""), None)
                if replay is not None:
                    # The target answers a repeated key with what it made the first time.
                    item.ops[side] = WriteOp(kind, None, replay.payload, replay.idempotency_key)
                    continue
            if kind in ("create", "update"):
                assert work.merged is not None
                payload = self.pair.render(
                    side, work.merged, work.names(side).keys(), self.refs,
                    current=seen.fields if seen else None,
                )
                key_for_id = source_key if kind == "create" else target_key
                op = WriteOp(
                    kind, None if kind == "create" else target_key, payload,
                    idempotency_key(self.pipeline, self.pair.name, side, kind, key_for_id or "", payload,
                                    None if kind == "create" else prior),
                )
            else:
                op = WriteOp(
                    kind, target_key, {},
                    idempotency_key(self.pipeline, self.pair.name, side, kind, target_key or "", None, prior),
                )
            item.ops[side] = op

    def _action(self, item: _Planned, side: Side) -> Action:
        work = item.work
        op = item.ops[side]
        seen = work.seen(side)
        before = seen.common if seen is not None else (work.link.common if work.link else None)
        diff = field_diff(before, work.names(side)) if op.kind in ("create", "update") else {}
        return Action(op.kind, side, work.left_key, work.right_key, diff, work.note, write_back=work.follow_up)

    def _assigned_on_create(self, side: Side) -> list[str]:
        """Common names whose value the system on ``side`` assigns when it creates a record (its
        key, or a field its spec marks read-only: a number, a date) and that flow to the other
        side: a create there is followed by a write-back of these in the same sync."""
        if side not in self._assigned:
            names: list[str] = []
            try:
                spec = self.connectors[side].objects().get(self.objects[side])
            except ConnectorError:
                spec = None
            for fld in self.pair.fields:
                if not fld.flows_from(side) or fld.flows_to(side):
                    continue
                path = fld.path(side)
                found = spec.field_at(path) if spec is not None else None
                if spec is not None and (path == spec.key or (found is not None and found.read_only)):
                    names.append(fld.name)
            self._assigned[side] = names
        return self._assigned[side]

    def _predicted_write_back(self, item: _Planned, side: Side) -> Action | None:
        """In a plan, the write-back a create on ``side`` will cause (see :meth:`_write_back`):
        the values that system assigns are unknown until it answers, so they show as assigned."""
        work = item.work
        merged = work.merged or {}
        names = [n for n in self._assigned_on_create(side) if merged.get(n) in (None, "")]
        if not names:
            return None
        source = other_side(side)
        system = self.connectors[side].name
        diff = {name: (merged.get(name), f"<assigned by {system}>") for name in names}
        return Action("update", source, work.left_key, work.right_key, diff,
                      f"write-back: values {system} assigns on create", write_back=True)

    # -- the batch -------------------------------------------------------------------------
    def apply(self, works: Sequence[Work]) -> None:
        planned: list[_Planned] = []
        for work in works:
            item = _Planned(work)
            try:
                self._ops_for(item)
            except (RecordMappingError, UnresolvedRef) as exc:
                item.error = f"cannot render: {exc}"
                if self.dry_run:
                    self.report.add(Action("error", None, work.left_key, work.right_key, note=str(exc)))
                    continue
            planned.append(item)

        if self.dry_run:
            for item in planned:
                if item.error:
                    continue
                for side, op in item.ops.items():
                    self.report.add(self._action(item, side))
                    if op.kind == "create" and self.referenced:
                        self._learn_planned(item.work, side)
                for side, op in list(item.ops.items()):
                    back = self._predicted_write_back(item, side) if op.kind == "create" else None
                    if back is not None:
                        self.report.add(back)
                if not item.ops and item.work.link is None:
                    self.report.add(Action("link", None, item.work.left_key, item.work.right_key,
                                           note=item.work.note))
            return

        self._begin_intents([p for p in planned if p.error is None])
        blocked: WriteBlockedError | None = None
        for side in ("left", "right"):
            batch = [p for p in planned if p.error is None and side in p.ops]
            if not batch:
                continue
            try:
                results = self.connectors[side].write_batch(self.objects[side], [p.ops[side] for p in batch])
            except ConnectorError as exc:
                # The whole batch failed before any result: every op of it is retried next run.
                for p in batch:
                    p.error = f"{side} write failed: {exc}"
                    p.uncertain[side] = _uncertain(exc)
                    p.quiet = isinstance(exc, WriteBlockedError)
                if isinstance(exc, WriteBlockedError):
                    blocked = exc
                continue
            for p, result in zip(batch, results, strict=True):
                p.results[side] = result
                if result.error is not None and not (
                    isinstance(result.error, NotFoundError) and result.op.kind in ("delete", "archive")
                ):
                    p.error = f"{side} {result.op.kind} failed: {result.error}"
                    p.uncertain[side] = _uncertain(result.error)
                    if isinstance(result.error, NeedsDecisionError):
                        p.parked = f"{side} refused: {result.error.message}"
        self._commit(planned)
        if blocked is not None:
            # Nothing of that batch was written, and every later batch would meet the same lock
            # or mode: stop the pair (and the run) with one error; its records are retried next run.
            raise blocked

    def _learn_planned(self, work: Work, side: Side) -> None:
        """In a plan, a record the plan creates can be referred to by the pairs planned after it
        (an invoice of a client created in the same sync): it gets a placeholder key."""
        source = work.left_key if side == "right" else work.right_key
        placeholder = f"<new {self.pair.name} for {source}>"
        if side == "right" and source is not None:
            self.refs.learn(self.pair.name, source, placeholder)
        elif source is not None:
            self.refs.learn(self.pair.name, placeholder, source)

    def _begin_intents(self, planned: list[_Planned]) -> None:
        """One intent row per write, committed before any remote call, then marked 'sent'. A
        create's row also holds what it aims at (its common names and the merged values), which
        is all a later run needs to recognise the record it made."""
        from syncengine.ledger import IntentWrite

        writes: list[IntentWrite] = []
        owners: list[tuple[_Planned, Side]] = []
        for item in planned:
            work = item.work
            for side, op in item.ops.items():
                source = work.right_key if side == "left" else work.left_key
                target = work.left_key if side == "left" else work.right_key
                expect = None
                if op.kind == "create":
                    expect = {"names": sorted(work.names(side)), "merged": work.merged or {}}
                writes.append(IntentWrite(side, op.kind, source, None if op.kind == "create" else target,
                                          op.idempotency_key, dict(op.fields), expect))
                owners.append((item, side))
        if not writes:
            return
        ids = self.ledger.begin_intents(self.pipeline, self.pair.name, writes)
        for (item, side), intent_id in zip(owners, ids, strict=True):
            item.intent_ids[side] = intent_id
        self.ledger.mark_intents_sent(sorted(set(ids)))

    def _state_after(self, item: _Planned, side: Side) -> tuple[str | None, str | None, dict[str, Any] | None]:
        """(key, hash, common shape if just written) of ``side`` after this work."""
        work = item.work
        seen = work.seen(side)
        link_key = (work.link.left_key if side == "left" else work.link.right_key) if work.link else None
        link_hash = (work.link.left_hash if side == "left" else work.link.right_hash) if work.link else None
        result = item.results.get(side)
        if result is None:
            if seen is not None:
                return seen.key, seen.hash, None
            return link_key, link_hash, None
        if result.op.kind == "delete":
            return (seen.key if seen else link_key), DELETED, None
        if result.op.kind == "archive":
            # An archived record stays linked (a tombstone), so its later edits never come back
            # as a "new" record; its hash is kept as it was.
            return (seen.key if seen else link_key), (seen.hash if seen else link_hash), None
        record: Record | None = result.record
        if record is None:
            # The connector did not hand the record back: the next pull re-reads and settles it.
            return (seen.key if seen else link_key), "", None
        try:
            common, digest, _ = project_record(self.pair, side, record, self.refs)
        except (RecordMappingError, UnresolvedRef):
            return record.key, "", None
        return record.key, digest, common

    def _write_back(self, item: _Planned, side: Side, written: dict[str, Any] | None,
                    merged: dict[str, Any]) -> dict[str, Any]:
        """Values the written system holds after a create or an update that differ from what was
        agreed: those it assigned or computed (an id, a number, totals, a status). They flow back
        to the other side in the same run, so derived values never go stale. Compared in the
        common shape, so a system's own representation of a value ("" for null) is no change."""
        if written is None or item.work.follow_up or item.ops[side].kind not in ("create", "update"):
            return {}
        source = other_side(side)
        return {name: value for name, value in written.items()
                if value != merged.get(name) and self.flows(side, source, name)}

    def flows(self, source: Side, target: Side, name: str) -> bool:
        fld = self.pair.field(name)
        return fld.flows_from(source) and fld.flows_to(target)

    def _commit(self, planned: list[_Planned]) -> None:
        from syncengine.ledger import LinkWrite

        links: list[LinkWrite] = []
        drops: list[str] = []
        done: set[int] = set()
        refused: set[int] = set()
        redo: set[int] = set()
        cleared: dict[Side, list[str]] = {"left": [], "right": []}
        failures: dict[Side, dict[str, str]] = {"left": {}, "right": {}}
        applied_conflicts: list[int] = []
        learned: list[tuple[str, str]] = []
        follow_ups: list[tuple[str, str, str | None, str | None, Side, dict[str, Any], dict[str, Any]]] = []
        parked: list[_Planned] = []
        for item in planned:
            work = item.work
            source = work.source
            if item.parked is not None:
                refused.update(item.intent_ids.values())
                parked.append(item)
                if source is not None:  # looked at again next run: settled once the data is fixed
                    failures[source.side][source.key] = item.parked
                continue
            if item.error is not None:
                for side, intent_id in item.intent_ids.items():
                    result = item.results.get(side)
                    if result is not None and result.ok:
                        done.add(intent_id)
                    elif result is None and side not in item.uncertain:
                        redo.add(intent_id)  # never sent: the other side's write failed first
                    elif item.uncertain.get(side, True) and item.ops[side].kind == "create":
                        # A create that may still have happened (a timed-out POST) stays 'sent':
                        # the next run looks for its record before anything is created again.
                        continue
                    elif item.uncertain.get(side, True):
                        redo.add(intent_id)  # updates and deletes are derived again next run
                    else:
                        refused.add(intent_id)
                if source is not None:
                    failures[source.side][source.key] = item.error
                if not item.quiet:
                    self.report.error(f"{self.pair.name} {self._where(work)}: {item.error}")
                continue
            for side, op in item.ops.items():
                if self.report.keeps_actions:
                    self.report.add(self._action(item, side))
                else:
                    self.report.tally(op.kind, side)
            if not item.ops and work.link is None:
                self.report.add(Action("link", None, work.left_key, work.right_key, note=work.note))
            done.update(item.intent_ids.values())
            if work.recovered_intent is not None:
                done.add(work.recovered_intent)
            if source is not None:
                cleared[source.side].append(source.key)
            if work.conflict_id is not None:
                applied_conflicts.append(work.conflict_id)
            left_key, left_hash, left_written = self._state_after(item, "left")
            right_key, right_hash, right_written = self._state_after(item, "right")
            if work.unlink or (left_hash == DELETED and right_hash == DELETED):
                if work.link is not None:
                    drops.append(work.link.left_key)
                    self.refs.forget(self.pair.name, work.link.left_key, work.link.right_key)
                continue
            if left_key is None or right_key is None:
                continue
            status: LinkStatus = "tombstone" if DELETED in (left_hash, right_hash) else "active"
            common = work.merged if work.merged is not None else (work.link.common if work.link else {})
            for side, written in (("left", left_written), ("right", right_written)):
                back = self._write_back(item, side, written, common)
                if back:
                    follow_ups.append((left_key, right_key, left_hash, right_hash, other_side(side),
                                       {**common, **back}, back))
                    # Until the write-back commits, the created side counts as unseen, so that if
                    # it fails the next run carries the assigned values across after all.
                    if side == "left":
                        left_hash = ""
                    else:
                        right_hash = ""
            links.append(LinkWrite(left_key, right_key, common, left_hash or "", right_hash or "", status,
                                   common_json=self._known_json(work, common)))
            if self.referenced:
                learned.append((left_key, right_key))
        with self.ledger.transaction() as tx:
            if drops:
                tx.drop_links(self.pipeline, self.pair.name, drops)
            if links:
                tx.put_links(self.pipeline, self.pair.name, links)
            for state, ids in (("done", done), ("failed", refused), ("abandoned", redo)):
                if ids:
                    tx.finish_intents(sorted(ids), state)
            for side in ("left", "right"):
                if cleared[side]:
                    tx.clear_failures(self.pipeline, self.pair.name, side, cleared[side])
                if failures[side]:
                    tx.record_failures(self.pipeline, self.pair.name, side, failures[side])
            for conflict_id in applied_conflicts:
                tx.mark_conflict_applied(conflict_id)
            for item in parked:
                self._park_refused(tx, item)
        for left_key, right_key in learned:
            self.refs.learn(self.pair.name, left_key, right_key)
        if follow_ups:
            self._apply_write_backs(follow_ups)

    def _park_refused(self, tx: Any, item: _Planned) -> None:
        """A record the target refused for a person to settle: a conflict naming the reason
        (``syncengine conflicts list``), counted in the run. A record that has no key on one side
        yet (a payment never created) is parked under ``<none: ...>`` for that side; the next run
        refreshes the same conflict rather than adding one."""
        work = item.work
        reason = (item.parked or "").replace(",", ";")
        left_key = work.left_key or f"<none: right {work.right_key}>"
        right_key = work.right_key or f"<none: left {work.left_key}>"
        self.report.add(Action("conflict", None, work.left_key, work.right_key, note=reason))
        left = work.seen("left")
        right = work.seen("right")
        left_common = dict(left.common) if left and left.common is not None else dict(work.merged or {})
        right_common = dict(right.common) if right and right.common is not None else dict(work.merged or {})
        name = reason
        diff = {name: encode_value({"base": None, "left": None, "right": reason})}
        tx.open_conflict(self.pipeline, self.pair.name, left_key, right_key,
                         dict(work.link.common) if work.link else None, left_common, right_common, diff, [name])

    def _apply_write_backs(
        self, follow_ups: list[tuple[str, str, str | None, str | None, Side, dict[str, Any], dict[str, Any]]]
    ) -> None:
        """Write assigned values back to the source records, so the snapshot is complete now
        rather than after one more sync."""
        from syncengine.ledger import LinkState

        works: list[Work] = []
        for left_key, right_key, left_hash, right_hash, target, merged, back in follow_ups:
            link = LinkState(0, left_key, right_key, "active", left_hash, right_hash, None)
            work = Work(link, None, None, merged, note="values the other system computed", follow_up=True)
            if target == "left":
                work.left_op, work.to_left = "update", back
            else:
                work.right_op, work.to_right = "update", back
            works.append(work)
        self.apply(works)

    @staticmethod
    def _known_json(work: Work, common: dict[str, Any]) -> str | None:
        """The canonical JSON of ``common`` when a side's projection already computed it."""
        for seen in (work.left, work.right):
            if seen is not None and seen.common is common:
                return seen.common_json
        return None

    @staticmethod
    def _where(work: Work) -> str:
        return f"left={work.left_key or '-'} right={work.right_key or '-'}"

    def park(self, link: LinkState | None, left: Seen | None, right: Seen | None,
             base: Mapping[str, Any] | None, fields: list[str], *, count: bool = True) -> None:
        """Open (or refresh) a conflict for a person to settle; nothing is written to either side."""
        left_key = left.key if left else (link.left_key if link else None)
        right_key = right.key if right else (link.right_key if link else None)
        if count:
            self.report.add(Action("conflict", None, left_key, right_key, note=", ".join(fields)))
        if self.dry_run or left_key is None or right_key is None:
            return
        left_common = left.common if left and left.common is not None else dict(base or {})
        right_common = right.common if right and right.common is not None else dict(base or {})
        diff = {
            name: encode_value({"base": (base or {}).get(name), "left": left_common.get(name),
                                "right": right_common.get(name)})
            for name in fields
        }
        with self.ledger.transaction() as tx:
            tx.open_conflict(self.pipeline, self.pair.name, left_key, right_key,
                             dict(base) if base is not None else None, left_common, right_common, diff, fields)

    def close_intents(self, ids: list[int], state: str) -> None:
        """Finish intents that this run settled without writing (never sent, or never landed)."""
        if ids and not self.dry_run:
            with self.ledger.transaction() as tx:
                tx.finish_intents(ids, state)

    def advance_cursors(self, left: str | None, right: str | None) -> None:
        """The last step of a pair's run: everything before it is committed."""
        if self.dry_run:
            return
        with self.ledger.transaction() as tx:
            tx.set_cursor(self.pipeline, self.pair.name, "left", left)
            tx.set_cursor(self.pipeline, self.pair.name, "right", right)

    def mark_conflict_applied(self, conflict_id: int) -> None:
        with self.ledger.transaction() as tx:
            tx.mark_conflict_applied(conflict_id)

    def record_failures(self, side: Side, errors: dict[str, str]) -> None:
        """Records that could not even be read or mapped: retried by key next run."""
        if self.dry_run or not errors:
            return
        with self.ledger.transaction() as tx:
            tx.record_failures(self.pipeline, self.pair.name, side, errors)


def _uncertain(error: ConnectorError) -> bool:
    """Whether a failed write may still have happened: a timeout or a dropped connection may come
    after the system acted; a refusal (validation, not found, auth, a 429) means it did not."""
    return isinstance(error, TransientError) and not isinstance(error, RateLimitedError)
