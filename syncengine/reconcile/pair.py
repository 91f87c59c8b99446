"""Reconciling one object pair: collect both sides' changes, join them, decide, execute.

Phases, so that memory stays bounded by the *changes* of one side rather than both tables:
  0. settle what earlier runs left open: conflicts a person resolved, writes whose outcome is
     unknown (``recovery``), records that failed (retried by key);
  1. collect the right side's changes (those whose hash differs from the snapshot);
  2. stream the left side's changes page by page, joining each with the right change of the same
     link; every joined pair goes through :func:`~syncengine.reconcile.decide.decide` and the
     executor (:class:`~syncengine.reconcile.apply.Applier`) applies a batch per page;
  3. what is left of the right changes is decided and applied the same way;
  4. deletions last, behind the mass-delete safety valve;
  5. cursors advance to where each pull ended (capped at its start), only after all of it is
     committed.
Both sides are pulled, observed, recovered and checked for deletions by the same code
(:meth:`PairSync._observed_pages`); only what happens to the pages differs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syncengine.connector import Capability, Connector, Page
from syncengine.errors import SyncEngineError
from syncengine.reconcile.actions import PairReport
from syncengine.reconcile.apply import Applier, Work
from syncengine.reconcile.changes import ChangeSet
from syncengine.reconcile.decide import Base, Decision, Kind, Observed, Rules, SideState, decide, decide_new
from syncengine.reconcile.merge import Side, other_side
from syncengine.reconcile.observe import DELETED, Seen, observe
from syncengine.reconcile.recovery import PendingCreate, RecoveryIndex
from syncengine.reconcile.refs import LedgerRefs
from syncengine.records import Record, get_path

if TYPE_CHECKING:
    from syncengine.ledger import Ledger, LinkState
    from syncengine.mapping import PairMapping

__all__ = ["MassDeleteError", "PairOptions", "PairSync"]

SIDES: tuple[Side, Side] = ("left", "right")


class MassDeleteError(SyncEngineError):
    """A run would delete more of a side than the safety valve allows."""


@dataclass(frozen=True, slots=True)
class PairOptions:
    full: bool = False
    dry_run: bool = False
    allow_mass_delete: bool = False
    #: stop when a run would delete more than this share of a side's linked records...
    max_delete_fraction: float = 0.25
    #: ...and more than this many (small tables may legitimately lose several rows at once).
    min_mass_delete: int = 10
    batch_size: int = 2000
    #: records of one side's changes held in memory; more are staged on disk for the run.
    memory_budget: int = 10_000


ProgressFn = Callable[[str, Side, int], None]
StopFn = Callable[[], bool]


class Stopped(SyncEngineError):
    """A run was asked to stop between batches; what was committed stays committed."""


@dataclass(slots=True)
class Pull:
    """What one side's pull of this run has seen so far."""

    side: Side
    cursor: str | None
    #: every page said it lists every live record, and none had an unreadable record.
    full: bool = True
    pages: int = 0
    seen_keys: set[str] = field(default_factory=set)
    #: links of the pair when this pull started: a complete listing that saw that many linked
    #: records cannot be missing any.
    links_before: int = 0
    linked_seen: int = 0
    #: every live key, when the connector listed them apart from the records (Page.present).
    present: set[str] | None = None

    @property
    def complete(self) -> bool:
        return self.full and self.pages > 0


#: linked keys read back per pull to confirm an absence from Page.present (the rest wait a run).
ABSENCE_CHECKS = 100

def state_of(hash_: str | None) -> SideState:
    if hash_ == DELETED:
        return SideState.DELETED
    return SideState.UNKNOWN if not hash_ else SideState.LIVE


def observed(seen: Seen | None) -> Observed | None:
    if seen is None:
        return None
    return Observed(seen.common, seen.deleted, seen.updated_at)


class PairSync:
    """One run of one object pair of one pipeline."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        pipeline: str,
        pair: PairMapping,
        left: Connector,
        right: Connector,
        options: PairOptions,
        progress: ProgressFn | None = None,
        referenced: bool = True,
        refs: LedgerRefs | None = None,
        should_stop: StopFn | None = None,
        keys: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.ledger = ledger
        self.pipeline = pipeline
        self.pair = pair
        self.connectors: dict[Side, Connector] = {"left": left, "right": right}
        self.objects: dict[Side, str] = {"left": pair.left_object, "right": pair.right_object}
        self.options = options
        self.progress = progress
        self.should_stop = should_stop
        #: a keyed sync: only these records (per side) are refetched, with their partners.
        self.keys: dict[Side, list[str]] | None = None
        if keys is not None:
            self.keys = {"left": [str(k) for k in keys.get("left", ())],
                         "right": [str(k) for k in keys.get("right", ())]}
        self.report = PairReport(pair.name)
        #: shared by the pairs of one pipeline run, so a pair sees the links made before it.
        self.refs = refs if refs is not None else LedgerRefs(ledger, pipeline)
        names = tuple(f.name for f in pair.fields)
        flows_from = {(s, f.name): f.flows_from(s) for f in pair.fields for s in SIDES}
        flows_to = {(s, f.name): f.flows_to(s) for f in pair.fields for s in SIDES}
        self.rules = Rules(
            names, pair.conflict, pair.deletes, pair.direction,  # type: ignore[arg-type]
            flows_from=lambda s, n: flows_from[(s, n)], flows_to=lambda s, n: flows_to[(s, n)],
        )
        self.applier = Applier(
            ledger=ledger, pipeline=pipeline, pair=pair, connectors=self.connectors, refs=self.refs,
            report=self.report, dry_run=options.dry_run, referenced=referenced,
        )
        self.deferred_deletes: list[Work] = []
        #: left keys of links with an open conflict: frozen until a person settles them.
        self.open_conflicts: set[str] = set()
        #: creates of earlier runs whose outcome is unknown, by the side they were aimed at.
        self.recovery: dict[Side, RecoveryIndex] = {"left": RecoveryIndex(()), "right": RecoveryIndex(())}
        #: right records recognised as made by an interrupted create, by their source (left) key.
        self.recovered_right: dict[str, Seen] = {}
        self._counted: dict[Side, int] = {"left": 0, "right": 0}
        self._pulls: dict[Side, Pull] = {}

    # -- helpers -------------------------------------------------------------------------
    def _count(self, side: Side, n: int) -> None:
        self._counted[side] += n
        if self.progress is not None:
            self.progress(self.pair.name, side, self._counted[side])

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise Stopped(f"pair {self.pair.name!r} stopped between batches")

    def _links(self, side: Side, keys: list[str]) -> dict[str, LinkState]:
        if not keys:
            return {}
        return self.ledger.links_for(self.pipeline, self.pair.name, side, keys)

    def _current(self, side: Side, key: str) -> Seen | None:
        """A record as it is now, read by key (for a side that did not change in this run)."""
        got = self.connectors[side].get(self.objects[side], [key])
        if not got:
            return None
        seen, _ = observe(self.pair, side, got, {}, self.refs, keep_unchanged=True)
        return seen[0] if seen else None

    # -- the run -------------------------------------------------------------------------
    def run(self) -> PairReport:
        self._load_recovery()
        if not self.options.dry_run:
            self._apply_resolved_conflicts()
        self.open_conflicts = self.ledger.open_conflict_keys(self.pipeline, self.pair.name)

        # Phase 1: the right side's changes, kept by key (spilled to disk past a budget).
        right_changes = ChangeSet(self.options.memory_budget, self._right_match_key if self.pair.match else None)
        try:
            for page in self._observed_pages("right"):
                for item in page:
                    right_changes.add(item)
            right = self._pulls["right"]
            for item in self._infer_deletes(right) if right.complete else self._absent_from_present(right):
                right_changes.add(item)
            self._close_unrecovered("right")

            # Phase 2: the left side, streamed and applied page by page.
            for page in self._observed_pages("left"):
                for start in range(0, len(page), self.options.batch_size):
                    self._process_left(page[start:start + self.options.batch_size], right_changes)
                    self._check_stop()
            left = self._pulls["left"]
            gone = self._infer_deletes(left) if left.complete else self._absent_from_present(left)
            if gone:
                self._process_left(gone, right_changes)
            self._close_unrecovered("left")

            # Phase 3: what is left on the right.
            for batch in right_changes.drain(self.options.batch_size):
                self._process_right(batch)
                self._check_stop()
        finally:
            right_changes.close()

        # Phase 4: deletions, behind the safety valve.
        self._apply_deletes()

        if not self.options.dry_run and self.keys is None:
            self.applier.advance_cursors(left.cursor, right.cursor)
        return self.report

    # -- phase 0 -------------------------------------------------------------------------
    def _load_recovery(self) -> None:
        """Open creates of interrupted runs, by target side. Writes that never left the process
        ('pending') are closed; ones that may have landed ('sent') must be found before the
        record they came from is written again."""
        unsent: list[int] = []
        creates: dict[Side, list[PendingCreate]] = {"left": [], "right": []}
        for intent in self.ledger.pending_intents(self.pipeline, self.pair.name):
            if intent.op == "create" and intent.state == "sent":
                creates[intent.side].append(PendingCreate.from_intent(intent))
            else:
                # Never sent, or an update/delete: repeating those is harmless, and this run
                # re-derives them from what both sides hold now.
                unsent.append(intent.id)
        for side in SIDES:
            self.recovery[side] = RecoveryIndex(creates[side])
            replayable = self.connectors[side].objects()[self.objects[side]].can(Capability.IDEMPOTENT_WRITES)
            if replayable:
                for create in creates[side]:
                    self.applier.replays[(side, create.source_key)] = create
        self.applier.close_intents(unsent, "abandoned")

    def _close_unrecovered(self, side: Side) -> None:
        """After a complete pass over ``side``: creates aimed at it that are nowhere did not land
        (unless the system replays them by idempotency key: then the retry says what happened)."""
        index = self.recovery[side]
        if not index or self.keys is not None:
            return  # a keyed sync did not look at the whole side
        lost = [c for c in index.open() if (side, c.source_key) not in self.applier.replays]
        for create in lost:
            index.take(create)
        self.report.counts["recovery_not_landed"] += len(lost)
        self.applier.close_intents([c.intent_id for c in lost], "abandoned")

    def _retry_records(self, side: Side) -> list[Record]:
        """Records that failed in an earlier run, read again by key; a vanished one is a delete."""
        if self.options.dry_run:
            return []
        keys = [f.key for f in self.ledger.failures(self.pipeline, self.pair.name, side)]
        if not keys:
            return []
        found = {r.key: r for r in self.connectors[side].get(self.objects[side], keys)}
        return [found.get(k) or Record(k, {}, None, deleted=True) for k in keys]

    def _recovered_by_key(self, side: Side) -> list[Record]:
        """Records that open creates aimed at ``side`` named by the target's own key (a mapped
        id): read back directly, whatever the pull returns."""
        index = self.recovery[side]
        if not index:
            return []
        key_field = self.connectors[side].objects()[self.objects[side]].key
        wanted = {str(c.payload[key_field]): c for c in index.open()
                  if c.payload.get(key_field) not in (None, "")}
        if not wanted:
            return []
        return self.connectors[side].get(self.objects[side], list(wanted))

    def _apply_resolved_conflicts(self) -> None:
        works: list[Work] = []
        for conflict in self.ledger.resolved_unapplied_conflicts(self.pipeline, self.pair.name):
            current = {"left": self._current("left", conflict.left_key),
                       "right": self._current("right", conflict.right_key)}
            if current["left"] is None or current["right"] is None:
                self.report.error(f"conflict {conflict.id}: a record is gone or no longer maps; nothing to apply")
                self.applier.mark_conflict_applied(conflict.id)
                continue
            # A conflict parked when two records were first matched has no link yet.
            link = self._links("left", [conflict.left_key]).get(conflict.left_key)
            policy = "left_wins" if conflict.resolution == "left" else "right_wins"
            rules = Rules(self.rules.names, policy, self.rules.deletes, self.rules.direction,  # type: ignore[arg-type]
                          self.rules.flows_from, self.rules.flows_to)
            base = conflict.base
            decision = decide(Base(base), observed(current["left"]), observed(current["right"]), rules) \
                if base is not None else decide_new("left", observed(current["left"]),  # type: ignore[arg-type]
                                                   observed(current["right"]), rules)
            work = Work.of(decision, link, current["left"], current["right"])
            work.conflict_id = conflict.id
            work.note = f"conflict {conflict.id} settled: {conflict.resolution} wins"
            works.append(work)
        if works:
            self.applier.apply(works)

    # -- collecting one side -------------------------------------------------------------
    def _observed_pages(self, side: Side) -> Iterator[list[Seen]]:
        """The changed records of ``side``, a page at a time, in the common shape: records of
        earlier failures and of open creates first, then the pull since the cursor. Tracks what
        the pull saw (for deletions) and recognises records interrupted creates made."""
        if self.keys is None:
            pull = Pull(side, self.ledger.get_cursor(self.pipeline, self.pair.name, side))
            pull.links_before = self.ledger.count_links(self.pipeline, self.pair.name)
        else:
            # A keyed sync moves no cursor and is never a complete listing (no deletes inferred):
            # it needs neither, and counting the links is a scan of the pair's links per run.
            pull = Pull(side, None, full=False)
        self._pulls[side] = pull
        extra = self._retry_records(side) + self._recovered_by_key(side)
        if extra:
            pull.seen_keys.update(r.key for r in extra if not r.deleted)
            links = self._links(side, [r.key for r in extra])
            seen, failed = observe(self.pair, side, extra, links, self.refs, keep_unchanged=True)
            self._mapping_failures(side, failed)
            yield self._recognise(side, seen)
        if self.keys is not None:
            # A keyed sync reads just these records by key (a missing one is a deletion); it
            # proves nothing about the others and moves no cursor.
            records = self._keyed_records(side)
            yield self._recognise(side, self._observe_pull_page(pull, Page(records, None)))
            return
        cursor = None if self.options.full else pull.cursor
        for page in self.connectors[side].changes(self.objects[side], cursor):
            yield self._recognise(side, self._observe_pull_page(pull, page))

    def _keyed_records(self, side: Side) -> list[Record]:
        """The keyed records of ``side`` and the partners of the other side's keyed records, read
        now: a partner's own edit is then merged, never overwritten by a stale snapshot."""
        assert self.keys is not None
        other = other_side(side)
        wanted = list(dict.fromkeys(self.keys[side]))
        partners = self.ledger.links_for(self.pipeline, self.pair.name, other, self.keys[other], with_common=False)
        for link in partners.values():
            key = link.left_key if side == "left" else link.right_key
            if key not in wanted:
                wanted.append(key)
        if not wanted:
            return []
        found = {r.key: r for r in self.connectors[side].get(self.objects[side], wanted)}
        return [found.get(k) or Record(k, {}, None, deleted=True) for k in wanted]

    def _observe_pull_page(self, pull: Pull, page: Page) -> list[Seen]:
        side = pull.side
        pull.pages += 1
        pull.full = pull.full and page.full
        if page.present is not None:
            pull.present = (pull.present or set()) | page.present
        if page.cursor is not None:
            pull.cursor = page.cursor
        for error in page.errors:
            self.report.error(f"{self.pair.name} {side}: {error}")
        for name, count in page.counts.items():
            self.report.counts[f"{side}_{name}"] += count
        if page.errors:
            # An unreadable record may be any record (a broken quote swallows the rows after
            # it): the absence of *any* record from this listing proves nothing.
            pull.full = False
        unique: dict[str, Record] = {}
        for record in page.records:
            unique[record.key] = record  # overlap windows may repeat a record within a page
        # A paged listing can repeat a record when records shift between pages: count it once.
        records = [r for r in unique.values() if r.key not in pull.seen_keys]
        pull.seen_keys.update(r.key for r in records)
        self._count(side, len(records))
        if not records:
            return []
        # Links hashes-only first (most records of a big listing are unchanged), then with their
        # snapshots for the few that changed.
        hashes = self.ledger.links_for(self.pipeline, self.pair.name, side, [r.key for r in records],
                                       with_common=False)
        pull.linked_seen += len(hashes)
        seen, failed = observe(self.pair, side, records, hashes, self.refs, keep_drift=self.options.full)
        self._mapping_failures(side, failed)
        orphans = sum(1 for s in seen if s.orphan)
        if orphans:
            self.report.counts[f"orphans_{side}"] += orphans
        linked = [s.key for s in seen if s.link is not None]
        if linked:
            full = self.ledger.links_for(self.pipeline, self.pair.name, side, linked)
            for item in seen:
                if item.link is not None:
                    item.link = full.get(item.key, item.link)
        return seen

    def _recognise(self, side: Side, seen: list[Seen]) -> list[Seen]:
        """Mark the unlinked records that open creates of an interrupted run made."""
        index = self.recovery[side]
        if not index:
            return seen
        for item in seen:
            if item.link is None and not item.deleted and item.recovered is None:
                create = index.claim(item.common)
                if create is not None:
                    item.recovered = create
                    self.report.counts["recovered_creates"] += 1
                    if side == "right":
                        self.recovered_right[create.source_key] = item
        return seen

    def _mapping_failures(self, side: Side, failed: list[tuple[Record, Exception]]) -> None:
        errors: dict[str, str] = {}
        for record, exc in failed:
            self.report.error(f"{self.pair.name} {side} {record.key}: {exc}")
            errors[record.key] = str(exc)
        self.applier.record_failures(side, errors)

    def _infer_deletes(self, pull: Pull) -> list[Seen]:
        """After a complete listing of a side: linked keys it did not list are deletions."""
        if pull.links_before == 0 or pull.linked_seen >= pull.links_before:
            return []  # every link that existed was listed again: nothing is missing
        side = pull.side
        missing: list[str] = []
        for batch in self.ledger.iter_links(self.pipeline, self.pair.name, with_common=False):
            for link in batch:
                key = link.left_key if side == "left" else link.right_key
                known = link.left_hash if side == "left" else link.right_hash
                if key in pull.seen_keys or known == DELETED:
                    continue
                missing.append(key)
        gone: list[Seen] = []
        for start in range(0, len(missing), 5000):
            for key, link in self._links(side, missing[start:start + 5000]).items():
                gone.append(Seen(side, key, None, DELETED, None, True, {}, link))
        return gone

    def _absent_from_present(self, pull: Pull) -> list[Seen]:
        """An incremental pull whose connector listed every live key apart (Page.present): linked
        keys it neither listed nor pulled may be deletes the connector could not see (a record
        this engine created, deleted before the connector's next pull could know its id). Each
        is read back first, at most :data:`ABSENCE_CHECKS` a run: only one not found is a delete,
        so a listing that shifted under a concurrent change deletes nothing."""
        if pull.present is None or self.keys is not None:
            return []
        side = pull.side
        candidates: list[str] = []
        for batch in self.ledger.iter_links(self.pipeline, self.pair.name, with_common=False):
            for link in batch:
                key = link.left_key if side == "left" else link.right_key
                known = link.left_hash if side == "left" else link.right_hash
                if key not in pull.present and key not in pull.seen_keys and known != DELETED:
                    candidates.append(key)
        if not candidates:
            return []
        checked = candidates[:ABSENCE_CHECKS]
        self.report.counts[f"{side}_absence_checks"] += len(checked)
        found = {r.key for r in self.connectors[side].get(self.objects[side], checked) if not r.deleted}
        gone_keys = [key for key in checked if key not in found]
        self.report.counts[f"{side}_deleted_by_absence_of_links"] += len(gone_keys)
        return [Seen(side, key, None, DELETED, None, True, {}, link)
                for key, link in self._links(side, gone_keys).items()]

    def _right_match_key(self, seen: Seen) -> tuple[Any, ...] | None:
        return self.pair.match_key("right", seen.fields, self.refs)

    # -- joining and deciding ------------------------------------------------------------
    def _process_left(self, seen: list[Seen], right_changes: ChangeSet) -> None:
        # The right changes this page joins with, fetched in one go (they may be staged on disk).
        wanted: list[str] = []
        for left in seen:
            if left.link is not None:
                wanted.append(left.link.right_key)
            elif left.recovered is not None:
                wanted.append(left.recovered.source_key)
            elif left.key in self.recovered_right:
                wanted.append(self.recovered_right[left.key].key)
        joined = right_changes.take(wanted) if wanted else {}
        works: list[Work] = []
        unlinked: list[Seen] = []
        for left in seen:
            if left.link is not None:
                self._decide_linked(left.link, left, joined.get(left.link.right_key), works)
            elif left.recovered is not None:
                partner = joined.get(left.recovered.source_key) or \
                    self._current("right", left.recovered.source_key)
                self._decide_recovered(left.recovered, left, partner, works)
            elif left.key in self.recovered_right:
                made = self.recovered_right.pop(left.key)
                assert made.recovered is not None
                self._decide_recovered(made.recovered, left, made, works)
            else:
                unlinked.append(left)
        if unlinked:
            self._decide_unlinked("left", unlinked, right_changes, works)
        if works:
            self.applier.apply(works)

    def _process_right(self, seen: list[Seen]) -> None:
        works: list[Work] = []
        unlinked: list[Seen] = []
        for right in seen:
            if right.link is not None:
                self._decide_linked(right.link, None, right, works)
            elif right.recovered is not None:
                # Its source did not change in this run: read it as it is now.
                self.recovered_right.pop(right.recovered.source_key, None)
                partner = self._current("left", right.recovered.source_key)
                self._decide_recovered(right.recovered, partner, right, works)
            else:
                unlinked.append(right)
        if unlinked:
            self._decide_unlinked("right", unlinked, None, works)
        if works:
            self.applier.apply(works)

    def _take(self, decision: Decision, link: LinkState | None, left: Seen | None, right: Seen | None,
              works: list[Work], base: Mapping[str, Any] | None = None) -> Work | None:
        """Carry a decision to the executor (deletions wait for the valve)."""
        if decision.counter:
            self.report.counts[decision.counter] += len(decision.conflicts) if decision.conflicts else 1
        if decision.kind is Kind.PARK:
            self.applier.park(link, left, right, base if base is not None else (link.common if link else None),
                              decision.conflicts)
            return None
        if decision.kind is Kind.SKIP:
            return None
        if decision.kind is Kind.UPDATE and not decision.writes and link is not None:
            # Nothing to write, but the snapshot must learn the new hashes (or the next run
            # would merge again): a link-only update.
            self.report.counts["snapshot_only"] += 1
        work = Work.of(decision, link, left, right)
        (self.deferred_deletes if decision.deferred else works).append(work)
        return work

    def _decide_linked(self, link: LinkState, left: Seen | None, right: Seen | None, works: list[Work]) -> None:
        frozen = link.left_key in self.open_conflicts
        base = Base(link.common, state_of(link.left_hash), state_of(link.right_hash), frozen)
        decision = decide(base, observed(left), observed(right), self.rules)
        if frozen:
            self._refresh_parked(link, left, right)
        self._take(decision, link, left, right, works)

    def _decide_recovered(self, create: PendingCreate, left: Seen | None, right: Seen | None,
                          works: list[Work]) -> None:
        """A record an interrupted create made, with the record it was made from: linked as the
        create would have linked them, against what the create meant both to hold."""
        if (right if create.side == "left" else left) is None:
            # The record it was made from is gone since: the deletes rule decides.
            source_side = other_side(create.side)
            gone = Seen(source_side, create.source_key, None, DELETED, None, True, {})
            left, right = (left, gone) if create.side == "left" else (gone, right)
        base = Base(create.merged, SideState.UNKNOWN, SideState.UNKNOWN)
        decision = decide(base, observed(left), observed(right), self.rules)
        work = self._take(decision, None, left, right, works, base=create.merged)
        if work is not None:
            work.note = "recovered an interrupted create"
            work.recovered_intent = create.intent_id

    def _refresh_parked(self, link: LinkState, left: Seen | None, right: Seen | None) -> None:
        """A record with an open conflict changed again: keep it frozen, refresh what the conflict
        shows so the person settling it sees both sides as they are now."""
        left = left or self._current("left", link.left_key)
        right = right or self._current("right", link.right_key)
        if left is None or right is None or left.deleted or right.deleted:
            return
        manual = Rules(self.rules.names, "manual", self.rules.deletes, self.rules.direction,
                       self.rules.flows_from, self.rules.flows_to)
        decision = decide(Base(link.common, state_of(link.left_hash), state_of(link.right_hash)),
                          observed(left), observed(right), manual)
        if decision.kind is Kind.PARK:
            self.applier.park(link, left, right, link.common, decision.conflicts, count=False)

    def _decide_unlinked(self, side: Side, records: list[Seen], other_changes: ChangeSet | None,
                         works: list[Work]) -> None:
        """New records: match an existing partner, or create one."""
        partners = self._match_partners(side, records, other_changes)
        for seen in records:
            partner = partners.get(seen.key)
            decision = decide_new(side, observed(seen), observed(partner), self.rules)  # type: ignore[arg-type]
            left, right = (seen, partner) if side == "left" else (partner, seen)
            work = self._take(decision, None, left, right, works)
            if work is not None and partner is not None:
                work.note = "matched"

    def _match_partners(self, side: Side, records: list[Seen],
                        other_changes: ChangeSet | None) -> dict[str, Seen]:
        """Existing, unlinked records of the other side that the pair's match rule pairs up: first
        among the other side's changes of this run (one lookup per record, in memory or in SQL),
        then, if that side was not listed whole, through the connector's ``find``."""
        if not self.pair.match or not records:
            return {}
        other = other_side(side)
        keyed: list[tuple[Seen, tuple[Any, ...]]] = []
        for seen in records:
            mk = self.pair.match_key(side, seen.fields, self.refs)
            if mk is not None:
                keyed.append((seen, mk))
        found: dict[str, Seen] = {}
        missing: list[tuple[Seen, tuple[Any, ...]]] = []
        available = other_changes.take_matching(mk for _, mk in keyed) if other_changes is not None else {}
        for seen, mk in keyed:
            candidate = available.pop(mk, None)
            if candidate is not None:
                found[seen.key] = candidate
            else:
                missing.append((seen, mk))
        for candidate in available.values():  # two records of this page with one match key
            assert other_changes is not None
            other_changes.add(candidate)
        connector = self.connectors[other]
        spec = connector.objects().get(self.objects[other])
        listed_all = other in self._pulls and self._pulls[other].complete
        if (missing and not listed_all and len(self.pair.match) == 1 and spec is not None
                and spec.can(Capability.FIND)):
            path = self.pair.match[0][1 if other == "right" else 0]
            values = list({get_path(s.fields, self.pair.match[0][0 if side == "left" else 1])
                           for s, _ in missing} - {None})
            candidates = connector.find(self.objects[other], path, values) if values else []
            linked = self._links(other, [c.key for c in candidates])
            observed_, _ = observe(self.pair, other, [c for c in candidates if c.key not in linked], {},
                                   self.refs, keep_unchanged=True)
            by_key: dict[tuple[Any, ...], Seen] = {}
            for candidate in observed_:
                mk = self.pair.match_key(other, candidate.fields, self.refs)
                if mk is not None:
                    by_key.setdefault(mk, candidate)
            for seen, mk in missing:
                if mk in by_key:
                    found[seen.key] = by_key.pop(mk)
        return found

    # -- phase 4 -------------------------------------------------------------------------
    def _apply_deletes(self) -> None:
        if not self.deferred_deletes:
            return
        by_side: dict[Side, int] = defaultdict(int)
        for work in self.deferred_deletes:
            for side in SIDES:
                if work.op(side) in ("delete", "archive"):
                    by_side[side] += 1
        total = self.ledger.count_links(self.pipeline, self.pair.name)
        for side, count in by_side.items():
            if (not self.options.allow_mass_delete and count > self.options.min_mass_delete
                    and count > self.options.max_delete_fraction * max(total, 1)):
                raise MassDeleteError(
                    f"pipeline {self.pipeline!r}, pair {self.pair.name!r}: this run would delete or archive "
                    f"{count} of {total} linked records on the {side} side",
                    hint="check the other side really lost them; rerun with --allow-mass-delete to proceed",
                )
        batch = self.options.batch_size
        for start in range(0, len(self.deferred_deletes), batch):
            self.applier.apply(self.deferred_deletes[start:start + batch])
