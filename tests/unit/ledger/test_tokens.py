"""Tokens: read under the lock, saved durably before ``save`` returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncengine.ledger import Ledger
from syncengine.tokens import TokenStore


class Boom(Exception):
    pass


def test_the_ledger_is_a_token_store(ledger: Ledger) -> None:
    store: TokenStore = ledger
    assert store.load_token("freshbooks") is None


def test_saved_token_is_visible_to_a_fresh_ledger_while_still_locked(ledger: Ledger) -> None:
    expires = datetime(2026, 1, 1, 12, tzinfo=UTC)
    with ledger.token_lock("freshbooks") as slot:
        assert slot.value is None
        slot.save({"access_token": "a1", "refresh_token": "r1", "expires_at": expires})
        assert slot.value == {"access_token": "a1", "refresh_token": "r1", "expires_at": expires}
        fresh = Ledger.open(ledger.url)
        try:
            assert fresh.load_token("freshbooks") == {
                "access_token": "a1",
                "refresh_token": "r1",
                "expires_at": expires,
            }
        finally:
            fresh.close()
    with ledger.token_lock("freshbooks") as slot:
        assert slot.value is not None and slot.value["refresh_token"] == "r1"
    assert ledger.load_token("other") is None


def test_a_save_survives_an_error_later_in_the_block(ledger: Ledger) -> None:
    ledger.save_token("fb", {"refresh_token": "r1"})
    with pytest.raises(Boom), ledger.token_lock("fb") as slot:
        slot.save({"refresh_token": "r2"})
        raise Boom
    assert ledger.load_token("fb") == {"refresh_token": "r2"}


def test_two_saves_in_one_lock_keep_the_last(ledger: Ledger) -> None:
    with ledger.token_lock("fb") as slot:
        slot.save({"refresh_token": "r1"})
        slot.save({"refresh_token": "r2"})
    assert ledger.load_token("fb") == {"refresh_token": "r2"}
