"""The compact id set the FreshBooks connector keeps in a cursor."""

from __future__ import annotations

import random

import pytest

from connectors.freshbooks.idset import IdSet


def test_runs_are_kept_as_ranges_and_round_trip() -> None:
    ids = IdSet([5, 3, 4, 9, 12, 13, 14, 3])
    assert ids.encode() == "3-5,9,12-14"
    assert IdSet.decode(ids.encode()) == ids
    assert list(ids) == [3, 4, 5, 9, 12, 13, 14] and len(ids) == 7 and ids.ranges == 3
    assert 4 in ids and 9 in ids and 14 in ids
    assert 2 not in ids and 6 not in ids and 15 not in ids and "4" not in ids
    assert IdSet.decode("") == IdSet() and not IdSet()


def test_ten_thousand_ids_with_gaps_stay_small() -> None:
    rng = random.Random(3)
    ids = [i for i in range(600_001, 610_001) if rng.random() > 0.001]
    text = IdSet(ids).encode()
    assert len(text) < 400
    assert list(IdSet.decode(text)) == ids


def test_missing_from_and_union() -> None:
    ids = IdSet(range(1, 11))
    assert ids.missing_from({1, 2, 3, 5, 6, 7, 8, 9, 10}) == [4]
    assert ids.missing_from(IdSet(range(1, 11))) == []
    assert ids.union([12]).encode() == "1-10,12"


@pytest.mark.parametrize("text", ["5-3", "3,3", "1-4,4-6", "a", "-1", "4,2"])
def test_a_damaged_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        IdSet.decode(text)
