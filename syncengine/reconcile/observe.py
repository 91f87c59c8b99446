"""Seeing records: project each into the common shape, hash it, and drop echoes.

A record whose common-shape hash equals the hash the snapshot holds for its side has not
changed in any way the mapping cares about: it is either an echo of our own write or a change
to an unmapped field. Dropping it here is what stops sync loops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syncengine.mapping import RecordMappingError, UnresolvedRef
from syncengine.reconcile.merge import Side
from syncengine.reconcile.refs import ClearingRefs
from syncengine.records import Record, canonical_bytes

if TYPE_CHECKING:
    from syncengine.ledger import LinkState
    from syncengine.mapping import PairMapping, RefResolver
    from syncengine.reconcile.recovery import PendingCreate

__all__ = ["DELETED", "Seen", "observe", "project_record"]

#: The hash a snapshot keeps for a side whose record is gone (a tombstone link).
DELETED = "deleted"


@dataclass(slots=True)
class Seen:
    """A record of one side as this run saw it, in the common shape."""

    side: Side
    key: str
    common: dict[str, Any] | None
    hash: str
    updated_at: datetime | None
    deleted: bool
    fields: dict[str, Any]
    link: LinkState | None = None
    #: the canonical JSON of ``common`` (hashed already; reused as the snapshot's JSON).
    common_json: str | None = None
    #: the open create of an interrupted run that made this record, once recognised.
    recovered: PendingCreate | None = None
    #: it refers to a deleted record (its reference cleared, or itself taken as deleted).
    orphan: bool = False


def project_record(
    pair: PairMapping, side: Side, record: Record, refs: RefResolver
) -> tuple[dict[str, Any] | None, str, str | None]:
    """The common shape, its hash and its canonical JSON; a deleted record has no shape and the
    DELETED hash."""
    if record.deleted:
        return None, DELETED, None
    common = pair.project(side, record.fields, refs)
    canonical = canonical_bytes(common)
    return common, hashlib.sha256(canonical).hexdigest(), canonical.decode("utf-8")


def observe(
    pair: PairMapping,
    side: Side,
    records: Iterable[Record],
    links: Mapping[str, LinkState],
    refs: RefResolver,
    *,
    keep_unchanged: bool = False,
    keep_drift: bool = False,
) -> tuple[list[Seen], list[tuple[Record, Exception]]]:
    """Changed records (echoes dropped unless ``keep_unchanged``) and those that failed to map.

    With ``keep_drift`` (a full reconcile) an echo is kept when its link's two sides were last
    seen holding different values: drift that an earlier run recorded but did not settle."""
    seen: list[Seen] = []
    failed: list[tuple[Record, Exception]] = []
    for record in records:
        orphan = False
        try:
            common, digest, common_json = project_record(pair, side, record, refs)
        except UnresolvedRef as exc:
            if not exc.gone:
                failed.append((record, exc))
                continue
            # It refers to a record that was deleted: retrying would fail for ever. The pair's
            # deletes rule decides: `ignore` keeps it with the reference cleared; `propagate`
            # and `archive` treat it as gone with what it depended on.
            orphan = True
            if pair.deletes == "ignore":
                try:
                    common, digest, common_json = project_record(pair, side, record, ClearingRefs(refs))
                except (RecordMappingError, UnresolvedRef) as again:
                    failed.append((record, again))
                    continue
            else:
                record = Record(record.key, {}, record.updated_at, deleted=True)
                common, digest, common_json = None, DELETED, None
        except RecordMappingError as exc:
            failed.append((record, exc))
            continue
        link = links.get(record.key)
        if link is not None and not keep_unchanged:
            known = link.left_hash if side == "left" else link.right_hash
            if known == digest and not (keep_drift and _drifted(link)):
                continue
        if link is None and record.deleted:
            continue  # a record we never linked is gone: nothing to do
        item = Seen(side, record.key, common, digest, record.updated_at, record.deleted, record.fields,
                    link, common_json)
        item.orphan = orphan
        seen.append(item)
    return seen, failed


def _drifted(link: LinkState) -> bool:
    """Whether the snapshot holds two different states for the sides of a live link."""
    hashes = (link.left_hash, link.right_hash)
    return link.status == "active" and all(hashes) and DELETED not in hashes and hashes[0] != hashes[1]
