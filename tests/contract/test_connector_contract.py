"""The connector contract: what the engine relies on, checked against every registered subject.

list / changes / get / create / update / delete / archive / find, resuming from a cursor saved
mid-stream (never skipping a record changed after it, even in the boundary's instant), typed
errors (never a raw library exception) and batches where one bad op fails alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncengine.connector import Capability, Connector, Page, WriteOp
from syncengine.errors import NotFoundError, SyncEngineError, ValidationError
from syncengine.records import Record, canonical_bytes

from .subjects import ContractSubject, SubjectEnv


@dataclass
class Pull:
    pages: list[Page]
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def cursor(self) -> str | None:
        return self.pages[-1].cursor

    @property
    def full(self) -> bool:
        return all(p.full for p in self.pages)

    @property
    def live(self) -> dict[str, Record]:
        return {k: r for k, r in self.records.items() if not r.deleted}


def pull(connector: Connector, obj: str, cursor: str | None) -> Pull:
    result = Pull(list(connector.changes(obj, cursor)))
    assert result.pages, "changes() must yield at least one page"
    for page in result.pages:
        assert not page.errors, page.errors
        for record in page.records:
            result.records[record.key] = record  # a later page holds the newer version
    return result


def same(record: Record, expected: Mapping[str, Any]) -> bool:
    """The given fields hold the expected values, compared in canonical form (10.10 == 10.1)."""
    return canonical_bytes({k: record.fields.get(k) for k in expected}) == canonical_bytes(dict(expected))


def seed(connector: Connector, obj: str, subject: ContractSubject, count: int, start: int = 1) -> list[Record]:
    return [connector.create(obj, subject.sample_fields(n), f"seed-{n}") for n in range(start, start + count)]


def needs(subject: ContractSubject, *capabilities: Capability) -> None:
    missing = [c.value for c in capabilities if c not in subject.capabilities]
    if missing:
        pytest.skip(f"{subject.id} does not claim {', '.join(missing)}")


def test_objects_describe_the_claimed_capabilities(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    spec = connector.objects()[obj]
    assert spec.name == obj
    assert spec.key in spec.fields
    assert subject.capabilities <= spec.capabilities, subject.capabilities - spec.capabilities
    for name in subject.sample_fields(1):
        assert spec.field_at(name) is not None, f"sample field {name!r} is not described"


def test_full_pull_lists_what_exists_with_cursors(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    created = seed(connector, obj, subject, 7)
    result = pull(connector, obj, None)
    assert {r.key for r in created} <= set(result.live)
    assert result.cursor is not None, "the last page of a pull must carry a cursor to resume from"
    assert len(result.pages) > 1, "the subject should page (make it with a small page size)"
    if Capability.INCREMENTAL not in subject.capabilities:
        assert result.full, "a non-incremental pull must be a full listing (Page.full)"
    for record, n in zip(created, range(1, 8), strict=True):
        assert same(result.records[record.key], subject.sample_fields(n))


def test_changes_from_a_cursor_include_every_change_after_it(
    subject: ContractSubject, made: tuple[Connector, str]
) -> None:
    connector, obj = made
    created = seed(connector, obj, subject, 4)
    before = pull(connector, obj, None)
    changed = subject.changed_fields(created[1])
    connector.update(obj, created[1].key, changed, "upd-1")
    added = connector.create(obj, subject.sample_fields(9), "seed-9")
    after = pull(connector, obj, before.cursor)
    assert same(after.records[created[1].key], changed)
    assert added.key in after.records
    if Capability.INCREMENTAL not in subject.capabilities:
        assert after.full, "without INCREMENTAL, a pull after a change is a full listing"
        assert {r.key for r in created} <= set(after.live)


def test_nothing_changed_means_nothing_new(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    seed(connector, obj, subject, 4)
    first = pull(connector, obj, None)
    again = pull(connector, obj, first.cursor)
    for key, record in again.records.items():
        # Repeats are allowed (the engine de-duplicates by hash); new content is not.
        assert canonical_bytes(record.fields) == canonical_bytes(first.records[key].fields)
    assert again.cursor is not None


def test_old_changes_are_not_listed_again(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    needs(subject, Capability.INCREMENTAL)
    if not subject.settable_change_time:
        pytest.skip("needs change times in the past")
    created = seed(connector, obj, subject, 4)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    for record in created[:3]:
        subject.external_edit(connector, obj, record.key, long_ago)
    first = pull(connector, obj, None)
    connector.update(obj, created[3].key, subject.changed_fields(created[3]), "upd")
    later = pull(connector, obj, first.cursor)
    assert created[3].key in later.records
    assert not {r.key for r in created[:3]} & set(later.records), "incremental pull re-listed old rows"
    assert not later.full


def test_get_present_and_missing_keys(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    created = seed(connector, obj, subject, 3)
    got = connector.get(obj, [created[0].key, "no-such-key-0", created[2].key, "999999999"])
    assert {r.key for r in got} == {created[0].key, created[2].key}
    assert connector.get(obj, []) == []


def test_create_returns_the_stored_record(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    fields = subject.sample_fields(5)
    record = connector.create(obj, fields, "create-5")
    assert record.key
    assert same(record, fields)
    (stored,) = connector.get(obj, [record.key])
    assert canonical_bytes(stored.fields) == canonical_bytes(record.fields), "create must return what is stored"


def test_create_retried_with_the_same_idempotency_key_makes_one_record(
    subject: ContractSubject, made: tuple[Connector, str]
) -> None:
    connector, obj = made
    if not subject.idempotent_create:
        pytest.skip("the system assigns keys itself")
    first = connector.create(obj, subject.sample_fields(1), "same-key")
    second = connector.create(obj, subject.sample_fields(1), "same-key")
    assert first.key == second.key
    assert len([r for r in pull(connector, obj, None).live.values() if same(r, subject.sample_fields(1))]) == 1


def test_update_changes_only_the_given_fields(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    record = seed(connector, obj, subject, 1)[0]
    (before,) = connector.get(obj, [record.key])
    changed = subject.changed_fields(before)
    after = connector.update(obj, record.key, changed, "upd-only")
    assert after.key == record.key
    assert same(after, changed)
    untouched = set(before.fields) - set(changed) - subject.managed_fields
    assert canonical_bytes({k: after.fields.get(k) for k in untouched}) == canonical_bytes(
        {k: before.fields.get(k) for k in untouched}
    )
    (stored,) = connector.get(obj, [record.key])
    assert canonical_bytes(stored.fields) == canonical_bytes(after.fields), "update must return the whole record"


def test_delete_removes_the_record(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    created = seed(connector, obj, subject, 3)
    before = pull(connector, obj, None)
    connector.delete(obj, created[1].key)
    assert connector.get(obj, [created[1].key]) == []
    after = pull(connector, obj, before.cursor)
    seen = after.records.get(created[1].key)
    assert seen is None or seen.deleted, "a deleted record must come as deleted or not at all"
    if Capability.DELETES_IN_CHANGES in subject.capabilities:
        assert seen is not None and seen.deleted
    full = pull(connector, obj, None)
    assert created[1].key not in full.live
    assert {created[0].key, created[2].key} <= set(full.live)


def test_archive_hides_the_record(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    needs(subject, Capability.ARCHIVE)
    created = seed(connector, obj, subject, 2)
    cursor = pull(connector, obj, None).cursor
    connector.archive(obj, created[0].key)
    assert connector.get(obj, [created[0].key]) == []
    seen = pull(connector, obj, cursor).records.get(created[0].key)
    assert seen is None or seen.deleted


def test_find_by_a_field_value(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    needs(subject, Capability.FIND)
    created = seed(connector, obj, subject, 3)
    field_name, value = next(iter(subject.sample_fields(2).items()))
    found = connector.find(obj, field_name, [value, "nobody-has-this"])
    assert [r.key for r in found] == [created[1].key]


def test_resume_from_a_mid_stream_cursor_never_skips(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    """A cursor saved after the first page, reused later, still brings every later change.

    Includes a record changed in the very instant of the boundary, one already seen before the
    boundary, the records of the pages never delivered, and a record created afterwards.
    """
    connector, obj = made
    created = []
    for n in range(1, 8):  # one at a time: distinct change times where the system keeps them
        created.append(connector.create(obj, subject.sample_fields(n), f"seed-{n}"))
    pages = iter(connector.changes(obj, None))
    first_page = next(pages)
    saved = first_page.cursor
    delivered = {r.key for r in first_page.records}
    rest: set[str] = set()
    for page in pages:
        rest |= {r.key for r in page.records}
    assert rest, "the pull should span several pages"
    boundary_time = max((r.updated_at for r in first_page.records if r.updated_at), default=None)
    not_yet = sorted(rest - delivered)
    edited_after = subject.external_edit(connector, obj, not_yet[0], boundary_time)
    edited_seen = subject.external_edit(connector, obj, sorted(delivered)[0], boundary_time)
    added = connector.create(obj, subject.sample_fields(20), "seed-20")

    resumed = pull(connector, obj, saved)
    assert rest <= set(resumed.records), "records of pages not yet delivered were skipped"
    assert same(resumed.records[not_yet[0]], edited_after)
    assert same(resumed.records[sorted(delivered)[0]], edited_seen), "a change at the boundary was skipped"
    assert added.key in resumed.records


def test_final_cursor_then_changes_in_the_boundary_instant(
    subject: ContractSubject, made: tuple[Connector, str]
) -> None:
    connector, obj = made
    created = seed(connector, obj, subject, 4)
    first = pull(connector, obj, None)
    newest = max((r.updated_at for r in first.records.values() if r.updated_at), default=None)
    edited = subject.external_edit(connector, obj, created[0].key, newest)
    later = pull(connector, obj, first.cursor)
    assert created[0].key in later.records, "an edit stamped with the cursor's own instant was skipped"
    assert same(later.records[created[0].key], edited)


def test_missing_key_is_not_found(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    seed(connector, obj, subject, 1)
    with pytest.raises(NotFoundError):
        connector.update(obj, "424242", subject.sample_fields(3), "upd-missing")
    with pytest.raises(NotFoundError):
        connector.delete(obj, "424242")


def test_invalid_fields_are_a_validation_error_naming_the_field(
    subject: ContractSubject, made: tuple[Connector, str]
) -> None:
    connector, obj = made
    invalid = subject.invalid_fields()
    if invalid is None:
        pytest.skip("the system accepts anything")
    with pytest.raises(ValidationError) as caught:
        connector.create(obj, invalid, "create-invalid")
    assert caught.value.field in invalid, f"the error should name the bad field, got {caught.value.field!r}"


def test_unreachable_system_raises_a_typed_error(subject: ContractSubject, env: SubjectEnv) -> None:
    if subject.unreachable is None:
        pytest.skip("no way to make the system unreachable")
    with subject.unreachable(env) as (connector, obj):
        for attempt in (
            lambda: list(connector.changes(obj, None)),
            lambda: connector.create(obj, subject.sample_fields(1), "x"),
        ):
            with pytest.raises(SyncEngineError):
                attempt()


def test_one_bad_op_in_a_batch_fails_alone(subject: ContractSubject, made: tuple[Connector, str]) -> None:
    connector, obj = made
    existing = seed(connector, obj, subject, 2)
    invalid = subject.invalid_fields()
    ops: Sequence[WriteOp] = [
        WriteOp("create", None, subject.sample_fields(11), "batch-11"),
        WriteOp("update", "424242", subject.sample_fields(12), "batch-missing"),
        WriteOp("update", existing[0].key, subject.changed_fields(existing[0]), "batch-upd"),
        *([WriteOp("create", None, invalid, "batch-invalid")] if invalid is not None else []),
        WriteOp("delete", existing[1].key, {}, "batch-del"),
        WriteOp("create", None, subject.sample_fields(13), "batch-13"),
    ]
    results = connector.write_batch(obj, ops)
    assert [r.op for r in results] == list(ops), "one result per op, in order"
    by_key = {r.op.idempotency_key: r for r in results}
    assert isinstance(by_key["batch-missing"].error, NotFoundError)
    if invalid is not None:
        assert isinstance(by_key["batch-invalid"].error, ValidationError)
    for ok in ("batch-11", "batch-upd", "batch-del", "batch-13"):
        assert by_key[ok].ok, by_key[ok].error
    created = [by_key["batch-11"].record, by_key["batch-13"].record]
    assert all(r is not None for r in created)
    live = pull(connector, obj, None).live
    assert {r.key for r in created if r is not None} <= set(live)
    assert same(live[existing[0].key], subject.changed_fields(existing[0]))
    assert existing[1].key not in live
