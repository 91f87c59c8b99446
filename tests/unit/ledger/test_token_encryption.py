"""Tokens and webhook secrets are Fernet-encrypted in the ledger; old plain rows still read."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncengine.ledger import Ledger
from syncengine.ledger.sql import tokens
from syncengine.records import to_json
from syncengine.secrets import KEY_ENV, KEY_FILE_ENV, SecretKeyError, new_key

TOKEN = {"access_token": "acc-SECRET-1", "refresh_token": "ref-SECRET-1",
         "expires_at": datetime(2026, 1, 1, 12, tzinfo=UTC)}


def _raw(ledger: Ledger, name: str) -> str:
    with ledger.engine.connect() as conn:
        value = conn.execute(sa.select(tokens.c.value_json).where(tokens.c.name == name)).scalar_one()
    assert isinstance(value, str)
    return value


@pytest.fixture
def key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "secret.key"
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    return path


def test_a_saved_token_is_stored_encrypted_and_reads_back(ledger: Ledger, key_path: Path) -> None:
    assert not key_path.exists()  # made on first use, not before
    ledger.save_token("freshbooks", TOKEN)
    raw = _raw(ledger, "freshbooks")
    assert "SECRET" not in raw and raw.startswith('{"$fernet"')
    assert ledger.load_token("freshbooks") == TOKEN
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    webhook = {"verifier": "hook-SECRET-verifier"}
    ledger.save_token("webhook:freshbooks:acct1", webhook)
    assert "SECRET" not in _raw(ledger, "webhook:freshbooks:acct1")
    assert ledger.load_token("webhook:freshbooks:acct1") == webhook


def test_a_token_stored_before_encryption_is_read_and_encrypted_on_its_next_write(
    ledger: Ledger, key_path: Path
) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(tokens).values(name="freshbooks", value_json=to_json(TOKEN),
                                              updated_at=datetime.now(UTC)))
    assert ledger.load_token("freshbooks") == TOKEN
    assert not key_path.exists()  # reading a plain value needs no key
    with ledger.token_lock("freshbooks") as slot:
        assert slot.value == TOKEN
        slot.save({**TOKEN, "refresh_token": "ref-SECRET-2"})
    assert "SECRET" not in _raw(ledger, "freshbooks")
    assert ledger.load_token("freshbooks") == {**TOKEN, "refresh_token": "ref-SECRET-2"}


def test_keys_from_the_environment_and_rotation(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key(), new_key()
    monkeypatch.setenv(KEY_ENV, old)
    ledger.save_token("freshbooks", TOKEN)
    sealed_old = _raw(ledger, "freshbooks")
    monkeypatch.setenv(KEY_ENV, new)
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        ledger.load_token("freshbooks")
    monkeypatch.setenv(KEY_ENV, f"{new},{old}")  # the new key encrypts, the old one still decrypts
    assert ledger.load_token("freshbooks") == TOKEN
    assert ledger.reseal_tokens() == ["freshbooks"]
    assert _raw(ledger, "freshbooks") != sealed_old
    monkeypatch.setenv(KEY_ENV, new)
    assert ledger.load_token("freshbooks") == TOKEN


def test_a_bad_key_is_a_clear_error(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(SecretKeyError, match="not a Fernet key"):
        ledger.save_token("freshbooks", TOKEN)
