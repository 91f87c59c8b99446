"""Reconciling one object pair: design steps 1-7 in one place.

Phases, so that memory stays bounded by the *changes* of one side rather than both tables:
  0. apply conflicts a person resolved; load pending intents (crash recovery) and records to retry;
  1. pull the right side's changes and keep those whose hash differs from the snapshot;
  2. stream the left side's changes page by page, pairing each with the right change of the same
     link (three-way merge), matching or creating unlinked ones, applying a batch per page;
  3. what is left of the right changes: propagate to the left, or match/create there;
  4. deletions last, behind the mass-delete safety valve;
  5. cursors advance to where each pull ended (capped at its start), only after all of it is
     committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncengine.connector import Capability, Connector, Page
from syncengine.errors import SyncEngineError
from syncengine.reconcile.actions import Action, PairReport
from syncengine.reconcile.apply import Applier, PendingWrite, Work, expand_intent
from syncengine.reconcile.merge import Side, merge_fields, other_side
from syncengine.reconcile.observe import DELETED, Seen, observe
from syncengine.reconcile.refs import LedgerRefs
from syncengine.records import Record, encode_value, get_path, to_json

if TYPE_CHECKING:
    from syncengine.ledger import Ledger, LinkState
    from syncengine.mapping import PairMapping

__all__ = ["MassDeleteError", "PairOptions", "PairSync"]


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


ProgressFn = Callable[[str, Side, int], None]


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
    ) -> None:
        self.ledger = ledger
        self.pipeline = pipeline
        self.pair = pair
        self.connectors: dict[Side, Connector] = {"left": left, "right": right}
        self.objects: dict[Side, str] = {"left": pair.left_object, "right": pair.right_object}
        self.options = options
        self.progress = progress
        self.report = PairReport(pair.name)
        #: shared by the pairs of one pipeline run, so a pair sees the links made before it.
        self.refs = refs if refs is not None else LedgerRefs(ledger, pipeline)
        self.names = [f.name for f in pair.fields]
        self._flows_from = {(s, f.name): f.flows_from(s) for f in pair.fields for s in ("left", "right")}
        self._flows_to = {(s, f.name): f.flows_to(s) for f in pair.fields for s in ("left", "right")}
        self.pending_creates: dict[tuple[Side, str], PendingWrite] = {}
        #: intent rows of interrupted runs: superseded once this run has handled their writes.
        self.loaded_intents: set[int] = set()
        self.applier = Applier(
            ledger=ledger, pipeline=pipeline, pair=pair, connectors=self.connectors, refs=self.refs,
            report=self.report, dry_run=options.dry_run, pending_creates=self.pending_creates,
            referenced=referenced,
        )
        self.deferred_deletes: list[Work] = []
        #: left keys of links with an open conflict: frozen until a person settles them.
        self.open_conflicts: set[str] = set()
        self.had_links = True
        #: records of this run's pulls that had a link: when a complete listing saw every link,
        #: nothing can be missing and the delete scan is skipped.
        self._linked_seen: dict[Side, int] = {"left": 0, "right": 0}
        self._links_at_start = 0
        self._counted: dict[Side, int] = {"left": 0, "right": 0}
        #: whether a side's pull in this run listed every record: then all its unlinked records
        #: are among the pulled changes and a match never needs to ask the connector to find.
        self._listed_all: dict[Side, bool] = {"left": False, "right": False}

    # -- helpers -------------------------------------------------------------------------
    def _direction_allows(self, source: Side) -> bool:
        """Whether records may flow from ``source`` to the other side at all (pair direction)."""
        direction = self.pair.direction
        return direction == "both" or direction == f"{source}_to_{other_side(source)}"

    def _count(self, side: Side, n: int) -> None:
        self._counted[side] += n
        if self.progress is not None:
            self.progress(self.pair.name, side, self._counted[side])

    def _links(self, side: Side, keys: list[str]) -> dict[str, LinkState]:
        if not keys:
            return {}
        return self.ledger.links_for(self.pipeline, self.pair.name, side, keys)

    def _observe_page(self, side: Side, records: list[Record]) -> list[Seen]:
        """The changed records of a page. Links are looked up hashes-only first (most records of
        a big listing are unchanged), then with their snapshots for the few that changed."""
        keys = [r.key for r in records]
        if not keys:
            return []
        hashes = self.ledger.links_for(self.pipeline, self.pair.name, side, keys, with_common=False)
        self._linked_seen[side] += len(hashes)
        seen, failed = observe(self.pair, side, records, hashes, self.refs)
        self._mapping_failures(side, failed)
        linked = [s.key for s in seen if s.link is not None]
        if linked:
            full = self.ledger.links_for(self.pipeline, self.pair.name, side, linked)
            for item in seen:
                if item.link is not None:
                    item.link = full.get(item.key, item.link)
        return seen

    def _merge(self, base: Mapping[str, Any] | None, left: Seen | None, right: Seen | None,
               policy: str | None = None) -> Any:
        return merge_fields(
            self.names, base,
            left.common if left is not None else None,
            right.common if right is not None else None,
            flows_from=lambda s, n: self._flows_from[(s, n)],
            flows_to=lambda s, n: self._flows_to[(s, n)],
            policy=(policy or self.pair.conflict),  # type: ignore[arg-type]
            left_updated_at=left.updated_at if left else None,
            right_updated_at=right.updated_at if right else None,
        )

    def _pull(self, side: Side) -> Iterator[Page]:
        cursor = None if self.options.full else self.ledger.get_cursor(self.pipeline, self.pair.name, side)
        return iter(self.connectors[side].changes(self.objects[side], cursor))

    # -- the run -------------------------------------------------------------------------
    def run(self) -> PairReport:
        if not self.options.dry_run:
            for intent in self.ledger.pending_intents(self.pipeline, self.pair.name):
                self.loaded_intents.add(intent.id)
                for write in expand_intent(intent):
                    if write.kind == "create":
                        self.pending_creates[(write.side, write.source_key)] = write
            self._apply_resolved_conflicts()
        self.open_conflicts = self.ledger.open_conflict_keys(self.pipeline, self.pair.name)
        # With no links yet (a first sync) no record can have been deleted: skip the link scans.
        self._links_at_start = self.ledger.count_links(self.pipeline, self.pair.name)
        self.had_links = self._links_at_start > 0

        # Phase 1: the right side's changes, kept by key.
        right_changes, right_cursor, right_full, right_seen, right_protected = self._collect_right()
        self._listed_all["right"] = right_full
        if right_full:
            self._infer_deletes("right", right_seen, right_protected, right_changes)
        self._recover_intents("right", right_changes)

        # Phase 2: the left side, streamed and applied page by page.
        left_cursor, left_full, left_seen, left_protected = self._stream_left(right_changes)
        self._listed_all["left"] = left_full
        if left_full:
            left_deleted: dict[str, Seen] = {}
            self._infer_deletes("left", left_seen, left_protected, left_deleted)
            self._process_left(list(left_deleted.values()), right_changes)

        # Phase 3: what is left on the right.
        leftovers = list(right_changes.values())
        for start in range(0, len(leftovers), self.options.batch_size):
            self._process_right(leftovers[start:start + self.options.batch_size])

        # Phase 4: deletions, behind the safety valve.
        self._apply_deletes()

        if not self.options.dry_run:
            with self.ledger.transaction() as tx:
                if self.loaded_intents:
                    tx.finish_intents(sorted(self.loaded_intents), "abandoned")
                tx.set_cursor(self.pipeline, self.pair.name, "left", left_cursor)
                tx.set_cursor(self.pipeline, self.pair.name, "right", right_cursor)
        return self.report

    # -- phase 0 -------------------------------------------------------------------------
    def _retry_records(self, side: Side) -> list[Record]:
        """Records that failed in an earlier run, read again by key; a vanished one is a delete."""
        if self.options.dry_run:
            return []
        keys = [f.key for f in self.ledger.failures(self.pipeline, self.pair.name, side)]
        if not keys:
            return []
        found = {r.key: r for r in self.connectors[side].get(self.objects[side], keys)}
        return [found.get(k) or Record(k, {}, None, deleted=True) for k in keys]

    def _apply_resolved_conflicts(self) -> None:
        works: list[Work] = []
        for conflict in self.ledger.resolved_unapplied_conflicts(self.pipeline, self.pair.name):
            records: dict[Side, Record | None] = {}
            sides: tuple[tuple[Side, str], ...] = (("left", conflict.left_key), ("right", conflict.right_key))
            for side, key in sides:
                got = self.connectors[side].get(self.objects[side], [key])
                records[side] = got[0] if got else None
            # A conflict parked when two records were first matched has no link yet.
            link = self._links("left", [conflict.left_key]).get(conflict.left_key)
            if records["left"] is None or records["right"] is None:
                self.report.error(f"conflict {conflict.id}: a record is gone; nothing to apply")
                with self.ledger.transaction() as tx:
                    tx.mark_conflict_applied(conflict.id)
                continue
            left_seen = observe(self.pair, "left", [records["left"]], {}, self.refs)[0]
            right_seen = observe(self.pair, "right", [records["right"]], {}, self.refs)[0]
            if not left_seen or not right_seen:
                self.report.error(f"conflict {conflict.id}: a record no longer maps")
                continue
            policy = "left_wins" if conflict.resolution == "left" else "right_wins"
            work = self._work_for_pair(link, left_seen[0], right_seen[0], base=conflict.base, policy=policy)
            if work is not None:
                work.conflict_id = conflict.id
                work.note = f"conflict {conflict.id} settled: {conflict.resolution} wins"
                works.append(work)
        if works:
            self.applier.apply(works)

    # -- phase 1 -------------------------------------------------------------------------
    def _collect_right(self) -> tuple[dict[str, Seen], str | None, bool, set[str], set[str]]:
        changes: dict[str, Seen] = {}
        seen_keys: set[str] = set()
        protected: set[str] = set()
        cursor = self.ledger.get_cursor(self.pipeline, self.pair.name, "right")
        full = True
        pages = 0
        for records, page_cursor, page_full, errors in self._pages("right"):
            pages += 1
            full = full and page_full
            cursor = page_cursor if page_cursor is not None else cursor
            if errors is None:
                full = False  # a keyless bad record: its absence proves nothing
            else:
                protected |= errors
            records = _first_sight(records, seen_keys)
            for item in self._observe_page("right", records):
                changes[item.key] = item
            self._count("right", len(records))
        retry = self._retry_records("right")
        if retry:
            links = self._links("right", [r.key for r in retry])
            seen, failed = observe(self.pair, "right", retry, links, self.refs, keep_unchanged=True)
            self._mapping_failures("right", failed)
            for item in seen:
                changes.setdefault(item.key, item)
        return changes, cursor, full and pages > 0, seen_keys, protected

    def _pages(self, side: Side) -> Iterator[tuple[list[Record], str | None, bool, set[str] | None]]:
        """Pages as (records, cursor, full, keys of bad records or None if one had no key)."""
        for page in self._pull(side):
            bad: set[str] | None = set()
            for error in page.errors:
                self.report.error(f"{self.pair.name} {side}: {error}")
                if error.key is None:
                    bad = None
                elif bad is not None:
                    bad.add(error.key)
            unique: dict[str, Record] = {}
            for record in page.records:
                unique[record.key] = record  # overlap windows may repeat a record within a page
            yield list(unique.values()), page.cursor, page.full, bad

    def _mapping_failures(self, side: Side, failed: list[tuple[Record, Exception]]) -> None:
        errors: dict[str, str] = {}
        for record, exc in failed:
            message = f"{self.pair.name} {side} {record.key}: {exc}"
            self.report.error(message)
            errors[record.key] = str(exc)
        self.applier.record_failures(side, errors)

    # -- deletes seen as absence ---------------------------------------------------------
    def _infer_deletes(self, side: Side, seen_keys: set[str], protected: set[str],
                       into: dict[str, Seen]) -> None:
        """After a complete listing of ``side``: linked keys it did not list are deletions."""
        if not self.had_links or self._linked_seen[side] >= self._links_at_start:
            return  # every link that existed was listed again: nothing is missing
        missing: list[str] = []
        for batch in self.ledger.iter_links(self.pipeline, self.pair.name, with_common=False):
            for link in batch:
                key = link.left_key if side == "left" else link.right_key
                known = link.left_hash if side == "left" else link.right_hash
                if key in seen_keys or key in protected or known == DELETED or key in into:
                    continue
                missing.append(key)
        for start in range(0, len(missing), 5000):
            for key, link in self._links(side, missing[start:start + 5000]).items():
                into[key] = Seen(side, key, None, DELETED, None, True, {}, link)

    # -- crash recovery ------------------------------------------------------------------
    def _recover_intents(self, target: Side, changes: dict[str, Seen]) -> list[tuple[PendingWrite, Seen]]:
        """Link records an interrupted run created on ``target`` to their sources, by payload."""
        intents = [i for (side, _), i in self.pending_creates.items() if side == target]
        if not intents:
            return []
        recovered: list[tuple[PendingWrite, Seen]] = []
        candidates = [s for s in changes.values() if s.link is None and not s.deleted]
        for intent in intents:
            for candidate in candidates:
                if _payload_matches(intent.payload, candidate.fields):
                    recovered.append((intent, candidate))
                    candidates.remove(candidate)
                    break
        if not recovered:
            return []
        from syncengine.ledger import LinkWrite

        links: list[LinkWrite] = []
        for intent, seen in recovered:
            source_key = intent.source_key or ""
            left_key, right_key = (source_key, seen.key) if target == "right" else (seen.key, source_key)
            assert seen.common is not None
            # The source side's hash is unknown here: it will be seen as changed and merged.
            left_hash = seen.hash if target == "left" else ""
            right_hash = seen.hash if target == "right" else ""
            links.append(LinkWrite(left_key, right_key, seen.common, left_hash, right_hash, "active"))
            changes.pop(seen.key, None)
            del self.pending_creates[(target, source_key)]
            self.report.add(Action("link", None, left_key, right_key, note="recovered interrupted create"))
        with self.ledger.transaction() as tx:
            tx.put_links(self.pipeline, self.pair.name, links)
        for link in links:
            self.refs.learn(self.pair.name, link.left_key, link.right_key)
        return recovered

    # -- phase 2 -------------------------------------------------------------------------
    def _stream_left(self, right_changes: dict[str, Seen]) -> tuple[str | None, bool, set[str], set[str]]:
        seen_keys: set[str] = set()
        protected: set[str] = set()
        cursor = self.ledger.get_cursor(self.pipeline, self.pair.name, "left")
        full = True
        pages = 0
        retry = self._retry_records("left")
        if retry:
            links = self._links("left", [r.key for r in retry])
            seen, failed = observe(self.pair, "left", retry, links, self.refs, keep_unchanged=True)
            self._mapping_failures("left", failed)
            self._process_left(seen, right_changes)
        for records, page_cursor, page_full, errors in self._pages("left"):
            pages += 1
            full = full and page_full
            cursor = page_cursor if page_cursor is not None else cursor
            if errors is None:
                full = False
            else:
                protected |= errors
            if full:
                records = _first_sight(records, seen_keys)
            seen = self._observe_page("left", records)
            for start in range(0, len(seen), self.options.batch_size):
                self._process_left(seen[start:start + self.options.batch_size], right_changes)
            self._count("left", len(records))
        return cursor, full and pages > 0, seen_keys, protected

    def _process_left(self, seen: list[Seen], right_changes: dict[str, Seen]) -> None:
        works: list[Work] = []
        unlinked: list[Seen] = []
        for left in seen:
            if left.link is None:
                unlinked.append(left)
                continue
            right = right_changes.pop(left.link.right_key, None)
            work = self._decide_linked(left.link, left, right)
            if work is not None:
                works.append(work)
        if unlinked:
            works.extend(self._decide_unlinked("left", unlinked, right_changes))
        if works:
            self.applier.apply(works)

    def _process_right(self, seen: list[Seen]) -> None:
        works: list[Work] = []
        unlinked: list[Seen] = []
        for right in seen:
            if right.link is None:
                unlinked.append(right)
                continue
            work = self._decide_linked(right.link, None, right)
            if work is not None:
                works.append(work)
        if unlinked:
            works.extend(self._decide_unlinked("right", unlinked, {}))
        if works:
            self.applier.apply(works)

    # -- decisions -----------------------------------------------------------------------
    def _current(self, side: Side, key: str) -> Seen | None:
        """A record as it is now, read by key (for a side that did not change in this run)."""
        got = self.connectors[side].get(self.objects[side], [key])
        if not got:
            return None
        seen, _ = observe(self.pair, side, got, {}, self.refs, keep_unchanged=True)
        return seen[0] if seen else None

    def _refresh_parked(self, link: LinkState, left: Seen | None, right: Seen | None) -> None:
        """A record with an open conflict changed again: keep it frozen, refresh what the conflict
        shows so the person settling it sees both sides as they are now."""
        left = left or self._current("left", link.left_key)
        right = right or self._current("right", link.right_key)
        self.report.counts["skipped_open_conflict"] += 1
        if left is None or right is None or left.deleted or right.deleted:
            return
        result = self._merge(link.common, left, right, "manual")
        if result.conflicts:
            self._park(link, left, right, link.common, result.conflicts, count=False)

    def _decide_linked(self, link: LinkState, left: Seen | None, right: Seen | None) -> Work | None:
        if link.left_key in self.open_conflicts:
            self._refresh_parked(link, left, right)
            return None
        left_gone = (left is not None and left.deleted) or (left is None and link.left_hash == DELETED)
        right_gone = (right is not None and right.deleted) or (right is None and link.right_hash == DELETED)
        if left_gone and right_gone:
            return Work(link, left, right, None, unlink=True, note="deleted on both sides")
        if left_gone or right_gone:
            gone: Side = "left" if left_gone else "right"
            alive = right if gone == "left" else left
            if (link.left_hash if gone == "left" else link.right_hash) == DELETED:
                if alive is not None and not alive.deleted:
                    self.report.counts[f"skipped_{other_side(gone)}_partner_deleted"] += 1
                return None
            return self._decide_delete(link, gone, left, right)
        # Otherwise (including a deleted record that came back): merge against the snapshot.
        return self._work_for_pair(link, left, right, base=link.common)

    def _work_for_pair(self, link: LinkState | None, left: Seen | None, right: Seen | None, *,
                       base: Mapping[str, Any] | None, policy: str | None = None) -> Work | None:
        result = self._merge(base, left, right, policy)
        if result.parked:
            self._park(link, left, right, base, result.conflicts)
            return None
        if result.conflicts:
            self.report.counts["conflicts_settled"] += len(result.conflicts)
        work = Work(link, left, right, result.merged)
        if result.to_left:
            work.left_op, work.to_left = ("create" if left is None and link is None else "update",
                                          result.to_left)
        if result.to_right:
            work.right_op, work.to_right = ("create" if right is None and link is None else "update",
                                            result.to_right)
        if work.left_op is None and work.right_op is None and link is not None:
            # Nothing to write, but the snapshot must learn the new hashes (or the next run
            # would merge again): commit a link-only update.
            self.report.counts["snapshot_only"] += 1
        return work

    def _park(self, link: LinkState | None, left: Seen | None, right: Seen | None,
              base: Mapping[str, Any] | None, fields: list[str], *, count: bool = True) -> None:
        left_key = left.key if left else (link.left_key if link else None)
        right_key = right.key if right else (link.right_key if link else None)
        if count:
            self.report.add(Action("conflict", None, left_key, right_key, note=", ".join(fields)))
        if self.options.dry_run or left_key is None or right_key is None:
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

    def _decide_delete(self, link: LinkState, gone: Side, left: Seen | None, right: Seen | None) -> Work | None:
        alive_side = other_side(gone)
        alive = right if gone == "left" else left
        rule = self.pair.deletes
        if alive is not None and not alive.deleted and self.pair.conflict == "manual":
            # Deleted on one side, edited on the other: a person decides.
            self._park(link, left, right, link.common, ["<deleted>"])
            return None
        if alive is not None:
            self.report.counts[f"edits_discarded_by_delete_{alive_side}"] += 1
        if rule == "ignore" or not self._direction_allows(gone):
            work = Work(link, left, right, link.common, note=f"deleted on {gone}; kept on {alive_side}")
            if not self._direction_allows(gone):
                work.unlink = True
            self._defer(work)
            return None
        work = Work(link, left, right, link.common, note=f"deleted on {gone}")
        if rule == "archive":
            work.right_op = "archive" if alive_side == "right" else None
            work.left_op = "archive" if alive_side == "left" else None
        else:
            work.right_op = "delete" if alive_side == "right" else None
            work.left_op = "delete" if alive_side == "left" else None
            work.unlink = True
        self._defer(work)
        return None

    def _defer(self, work: Work) -> None:
        self.deferred_deletes.append(work)

    def _decide_unlinked(self, side: Side, records: list[Seen], other_changes: dict[str, Seen]) -> list[Work]:
        """New records: recover an interrupted create, match an existing partner, or create one."""
        target = other_side(side)
        works: list[Work] = []
        # A record an interrupted run created on *this* side from the other one.
        remaining: list[Seen] = []
        for seen in records:
            intent = self._intent_matching(side, seen)
            if intent is not None:
                source_key = intent.source_key or ""
                partner = other_changes.pop(source_key, None)
                work = self._link_new(seen, partner, source_key, base=None, note="recovered create")
                del self.pending_creates[(side, source_key)]
                if work is not None:
                    works.append(work)
                continue
            remaining.append(seen)
        partners = self._match_partners(side, remaining, other_changes)
        for seen in remaining:
            partner = partners.get(seen.key)
            if partner is not None:
                other_changes.pop(partner.key, None)
                work = self._link_new(seen, partner, partner.key, base=None, note="matched")
                if work is not None:
                    works.append(work)
                continue
            if not self._direction_allows(side):
                self.report.counts[f"skipped_{side}_one_way"] += 1
                continue
            assert seen.common is not None
            names = {n: seen.common.get(n) for n in self.names if self._flows_to[(target, n)]}
            work = Work(None, seen if side == "left" else None, seen if side == "right" else None, seen.common)
            if target == "left":
                work.left_op, work.to_left = "create", names
            else:
                work.right_op, work.to_right = "create", names
            works.append(work)
        return works

    def _intent_matching(self, side: Side, seen: Seen) -> PendingWrite | None:
        for (target, _), intent in self.pending_creates.items():
            if target == side and _payload_matches(intent.payload, seen.fields):
                return intent
        return None

    def _link_new(self, seen: Seen, partner: Seen | None, partner_key: str, *,
                  base: Mapping[str, Any] | None, note: str) -> Work | None:
        """Link ``seen`` with a record of the other side and merge the two (no snapshot yet)."""
        other = other_side(seen.side)
        if partner is None:
            got = self.connectors[other].get(self.objects[other], [partner_key])
            if not got:
                return None
            observed = observe(self.pair, other, got, {}, self.refs)[0]
            if not observed:
                return None
            partner = observed[0]
        left, right = (seen, partner) if seen.side == "left" else (partner, seen)
        work = self._work_for_pair(None, left, right, base=base)
        if work is not None:
            work.note = note
        return work

    def _match_partners(self, side: Side, records: list[Seen], other_changes: dict[str, Seen]) -> dict[str, Seen]:
        """Existing, unlinked records of the other side that the pair's match rule pairs up."""
        if not self.pair.match or not records:
            return {}
        other = other_side(side)
        index: dict[tuple[Any, ...], Seen] = {}
        for candidate in other_changes.values():
            if candidate.link is None and not candidate.deleted:
                mk = self.pair.match_key(other, candidate.fields, self.refs)
                if mk is not None:
                    index.setdefault(mk, candidate)
        found: dict[str, Seen] = {}
        missing: list[tuple[Seen, tuple[Any, ...]]] = []
        for seen in records:
            mk = self.pair.match_key(side, seen.fields, self.refs)
            if mk is None:
                continue
            if mk in index:
                found[seen.key] = index.pop(mk)
            else:
                missing.append((seen, mk))
        connector = self.connectors[other]
        spec = connector.objects().get(self.objects[other])
        if (missing and not self._listed_all[other] and len(self.pair.match) == 1 and spec is not None
                and spec.can(Capability.FIND)):
            path = self.pair.match[0][1 if other == "right" else 0]
            values = list({get_path(s.fields, self.pair.match[0][0 if side == "left" else 1])
                           for s, _ in missing} - {None})
            candidates = connector.find(self.objects[other], path, values) if values else []
            linked = self._links(other, [c.key for c in candidates])
            observed, _ = observe(self.pair, other, [c for c in candidates if c.key not in linked], {},
                                  self.refs, keep_unchanged=True)
            by_key: dict[tuple[Any, ...], Seen] = {}
            for candidate in observed:
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
            for side in ("left", "right"):
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


def _first_sight(records: list[Record], seen_keys: set[str]) -> list[Record]:
    """Records not listed earlier in this pull (a paged listing can repeat one when records
    shift between pages); ``seen_keys`` learns them. Keeps the linked-records count exact."""
    fresh = [r for r in records if r.key not in seen_keys]
    seen_keys.update(r.key for r in fresh)
    return fresh


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = value


def _payload_matches(payload: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether a record holds every value an intent's payload wrote (compared canonically)."""
    flat: dict[str, Any] = {}
    _flatten("", dict(payload), flat)
    if not flat:
        return False
    return all(to_json({"v": get_path(fields, path)}) == to_json({"v": value}) for path, value in flat.items())
