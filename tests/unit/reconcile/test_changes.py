"""ChangeSet: a side's changes in memory up to a budget, then staged on disk; nothing lost either way."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from syncengine.ledger import LinkState
from syncengine.reconcile.changes import ChangeSet
from syncengine.reconcile.observe import Seen
from syncengine.records import Money


def seen(i: int, linked: bool = False) -> Seen:
    fields = {"id": f"r{i}", "email": f"p{i}@x.io", "balance": Money(Decimal(f"{i}.50"), "EUR"),
              "at": datetime(2026, 1, 1, tzinfo=UTC)}
    link = LinkState(i, f"l{i}", f"r{i}", "active", "h", "h", None) if linked else None
    return Seen("right", f"r{i}", {"email": f"p{i}@x.io"}, f"hash{i}", datetime(2026, 1, 2, tzinfo=UTC), False,
                fields, link, f'{{"email":"p{i}@x.io"}}')


def email_key(item: Seen) -> tuple[str, ...]:
    return (str(item.fields["email"]),)


def test_records_past_the_budget_are_staged_and_come_back_whole() -> None:
    changes = ChangeSet(budget=10, match_key=email_key)
    for i in range(100):
        changes.add(seen(i, linked=i % 2 == 0))
    assert changes.spilled and len(changes) == 100
    got = changes.take(["r5", "r50", "r51", "nope"])
    assert set(got) == {"r5", "r50", "r51"}
    back = got["r50"]
    assert back.fields["balance"] == Money(Decimal("50.50"), "EUR")
    assert back.fields["at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert back.link is not None and back.link.left_key == "l50"
    assert back.common == {"email": "p50@x.io"} and back.hash == "hash50"
    assert len(changes) == 97
    matched = changes.take_matching([("p71@x.io",), ("p70@x.io",), ("p3@x.io",)])
    # p70 is linked: never a match candidate; p3 is in memory, p71 on disk.
    assert {mk[0] for mk in matched} == {"p71@x.io", "p3@x.io"}
    assert changes.take(["r71"]) == {}, "taken once"
    drained = [s.key for batch in changes.drain(7) for s in batch]
    assert len(drained) == len(set(drained)) == 95
    assert len(changes) == 0
    changes.close()


def test_the_staging_file_is_gone_after_close() -> None:
    changes = ChangeSet(budget=1)
    for i in range(5):
        changes.add(seen(i))
    assert set(changes.take(["r4"])) == {"r4"}
    assert changes._dir is not None
    folder = Path(changes._dir.name)
    assert folder.exists()
    changes.close()
    assert not folder.exists()


def test_under_the_budget_nothing_touches_the_disk() -> None:
    changes = ChangeSet(budget=1000, match_key=email_key)
    for i in range(50):
        changes.add(seen(i))
    assert not changes.spilled
    assert set(changes.take_matching([("p7@x.io",)])) == {("p7@x.io",)}
    assert sum(len(b) for b in changes.drain(10)) == 49
