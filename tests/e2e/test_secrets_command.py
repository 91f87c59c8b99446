"""`syncengine secrets new-key` and `syncengine secrets rotate` through the real command."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from syncengine.ledger import Ledger
from syncengine.ledger.sql import tokens

TOKEN = {"access_token": "acc-SECRET", "refresh_token": "ref-SECRET"}


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncengine", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_new_key_prints_a_fernet_key() -> None:
    done = _run("secrets", "new-key", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    Fernet(done.stdout.strip())  # a valid key


def test_rotate_re_encrypts_the_ledger_with_a_new_key_file_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "cfg" / "secret.key"
    env = {k: v for k, v in os.environ.items() if k != "SYNCENGINE_SECRET_KEY"}
    env["SYNCENGINE_SECRET_KEY_FILE"] = str(key_file)
    config = tmp_path / "config.yaml"
    config.write_text("ledger: sqlite:///ledger.db\nconnectors: {}\npipelines: []\n")
    monkeypatch.delenv("SYNCENGINE_SECRET_KEY", raising=False)
    monkeypatch.setenv("SYNCENGINE_SECRET_KEY_FILE", str(key_file))
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.save_token("freshbooks", TOKEN)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first_key = key_file.read_text().split()

    done = _run("secrets", "rotate", "-c", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 secret(s)" in done.stdout
    keys = key_file.read_text().split()
    assert keys[1:] == first_key and len(keys) == 2  # new key first, old one kept to decrypt
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(tokens.c.value_json)).scalar_one()
    engine.dispose()
    assert "SECRET" not in stored
    assert Fernet(keys[0]).decrypt(stored.split('"')[3].encode())  # sealed with the new key

    done = _run("secrets", "rotate", "-c", str(config), "--drop-old", env=env)
    assert done.returncode == 0, done.stderr
    only = key_file.read_text().split()
    assert len(only) == 1 and only[0] not in keys
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        assert ledger.load_token("freshbooks") == TOKEN


def test_rotate_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    done = _run("secrets", "rotate", "-c", str(tmp_path / "missing.yaml"), env=dict(os.environ))
    assert done.returncode == 2
    assert "cannot read config" in done.stderr
