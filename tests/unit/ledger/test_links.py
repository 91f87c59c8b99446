"""Links and snapshots: unique both ways, upserted by left key, streamed in id order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from syncengine.ledger import Ledger, LinkConflictError, LinkWrite
from syncengine.ledger.bulk import PostgresBulk, SqliteBulk
from syncengine.records import Money, canonical_bytes


def _w(n: int, right: str | None = None, h: str = "h", **common: object) -> LinkWrite:
    return LinkWrite(f"L{n}", right or f"R{n}", dict(common) or {"n": n}, f"{h}l{n}", f"{h}r{n}")


def test_put_links_then_look_up_from_either_side(ledger: Ledger) -> None:
    common = {"total": Money(Decimal("12.30"), "EUR"), "due": datetime(2025, 3, 1, tzinfo=UTC), "n": 1}
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R1", common, "hl", "hr"), _w(2)])
    by_left = ledger.links_for("p", "c", "left", ["L1", "L2", "missing"])
    assert set(by_left) == {"L1", "L2"}
    link = by_left["L1"]
    assert (link.left_key, link.right_key, link.status) == ("L1", "R1", "active")
    assert (link.left_hash, link.right_hash) == ("hl", "hr")
    assert link.common == {"total": Money(Decimal("12.3"), "EUR"), "due": datetime(2025, 3, 1, tzinfo=UTC), "n": 1}
    by_right = ledger.links_for("p", "c", "right", ["R2", "L1"])
    assert set(by_right) == {"R2"}
    assert by_right["R2"].left_key == "L2"
    assert ledger.links_for("p", "other-pair", "left", ["L1"]) == {}
    assert ledger.links_for("p", "c", "left", []) == {}
    assert ledger.count_links("p", "c") == 2


def test_put_links_upserts_snapshot_and_keeps_id(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1, name="old")])
    first = ledger.links_for("p", "c", "left", ["L1"])["L1"]
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1, h="new", name="new")])
    second = ledger.links_for("p", "c", "left", ["L1"])["L1"]
    assert second.id == first.id
    assert (second.left_hash, second.right_hash) == ("newl1", "newr1")
    assert second.common == {"name": "new"}
    assert ledger.count_links("p", "c") == 1


def test_relink_changes_right_key(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1)])
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1, right="R-new")])
    assert ledger.links_for("p", "c", "right", ["R1"]) == {}
    assert ledger.links_for("p", "c", "right", ["R-new"])["R-new"].left_key == "L1"
    # The old right key is free again for another link.
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(2, right="R1")])
    assert ledger.links_for("p", "c", "right", ["R1"])["R1"].left_key == "L2"


def test_a_right_key_cannot_be_linked_twice(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1)])
    with pytest.raises(LinkConflictError) as info, ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(2, right="R1")])
    assert info.value.pipeline == "p"
    assert "R1" not in ledger.links_for("p", "c", "left", ["L2"])
    assert ledger.count_links("p", "c") == 1
    # The same right key in another pair or pipeline is a different record: allowed.
    with ledger.transaction() as tx:
        tx.put_links("p", "other", [_w(2, right="R1")])
        tx.put_links("q", "c", [_w(2, right="R1")])


def test_a_repeated_left_key_in_one_batch_keeps_the_last(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1, h="a"), _w(1, h="b")])
    link = ledger.links_for("p", "c", "left", ["L1"])["L1"]
    assert link.left_hash == "bl1"
    assert ledger.count_links("p", "c") == 1


def test_tombstone_status_and_precomputed_common_json(ledger: Ledger) -> None:
    common = {"amount": Decimal("1.50")}
    text = canonical_bytes(common).decode()
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R1", {}, "x", None, "tombstone", common_json=text)])
    link = ledger.links_for("p", "c", "left", ["L1"])["L1"]
    assert link.status == "tombstone"
    assert link.right_hash is None
    assert link.common == {"amount": Decimal("1.5")}


def test_drop_links_removes_link_and_snapshot(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1), _w(2), _w(3)])
    with ledger.transaction() as tx:
        assert tx.drop_links("p", "c", ["L1", "L3", "nope"]) == 2
    assert set(ledger.links_for("p", "c", "left", ["L1", "L2", "L3"])) == {"L2"}
    assert ledger.count_links("p", "c") == 1
    # Both keys are free again, and a new link starts with a fresh snapshot.
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [LinkWrite("L1", "R3", {"fresh": True}, "f", "f")])
    assert ledger.links_for("p", "c", "right", ["R3"])["R3"].common == {"fresh": True}
    with ledger.engine.connect() as conn:
        import sqlalchemy as sa

        assert conn.execute(sa.text("SELECT count(*) FROM snapshots")).scalar_one() == 2


def test_lookups_and_writes_cross_chunk_boundaries(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SqliteBulk, "in_chunk", 7)
    monkeypatch.setattr(PostgresBulk, "chunk", 3)
    writes = [_w(n) for n in range(50)]
    with ledger.transaction() as tx:
        tx.put_links("p", "c", writes)
    found = ledger.links_for("p", "c", "left", [f"L{n}" for n in range(60)])
    assert sorted(found) == sorted(f"L{n}" for n in range(50))
    assert all(found[f"L{n}"].common == {"n": n} for n in range(50))
    with ledger.transaction() as tx:
        assert tx.drop_links("p", "c", [f"L{n}" for n in range(0, 50, 2)]) == 25
    assert ledger.count_links("p", "c") == 25


def test_iter_links_streams_every_link_in_id_order(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(n) for n in range(23)])
        tx.put_links("p", "other", [_w(n) for n in range(5)])
    pages = list(ledger.iter_links("p", "c", batch_size=5))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    ids = [link.id for page in pages for link in page]
    assert ids == sorted(ids)
    assert {link.left_key for page in pages for link in page} == {f"L{n}" for n in range(23)}
    assert list(ledger.iter_links("p", "empty")) == []
    exact = list(ledger.iter_links("p", "other", batch_size=5))
    assert [len(p) for p in exact] == [5]


def test_hash_only_lookups_leave_the_snapshot_text_out(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.put_links("p", "c", [_w(1, name="x"), _w(2)])
    [light] = ledger.links_for("p", "c", "right", ["R1"], with_common=False).values()
    assert (light.left_key, light.left_hash, light.right_hash, light.common_json) == ("L1", "hl1", "hr1", None)
    [page] = ledger.iter_links("p", "c", with_common=False)
    assert [link.common_json for link in page] == [None, None]
    assert [link.right_hash for link in page] == ["hr1", "hr2"]
    assert ledger.links_for("p", "c", "left", ["L1"])["L1"].common == {"name": "x"}
