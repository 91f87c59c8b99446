"""Secrets at rest: OAuth tokens and webhook secrets are Fernet-encrypted before they reach the ledger.

A copied ledger file (or a ``SELECT`` on a shared PostgreSQL) must not hand over a refresh token
that opens a business's books. So every token value is encrypted with ``cryptography``'s Fernet
(AES-128-CBC + HMAC-SHA256, authenticated) before it is written. The key comes from:

1. ``SYNCENGINE_SECRET_KEY``: one key, or several separated by commas (the first encrypts, all
   decrypt: how a rotation is done with keys kept in the environment);
2. else the key file ``SYNCENGINE_SECRET_KEY_FILE`` (default ``$XDG_CONFIG_HOME/syncengine/secret.key``,
   i.e. ``~/.config/syncengine/secret.key``): one key per line, the first encrypts. It is created
   with mode 0600 the first time a secret is written, and never beside the ledger, so a copy of
   the ledger's folder does not carry the key with it.

Stored form: ``{"$fernet": "<token>"}`` in the same text column the plain JSON used to fill, so no
migration is needed; a value written before encryption (plain JSON) is still read, and is
encrypted the next time it is written (or by ``syncengine secrets rotate``).
"""

from __future__ import annotations

import json
import os
import secrets as _random
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from syncengine.errors import AuthError

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "SecretBox",
    "SecretKeyError",
    "default_key_file",
    "is_encrypted",
    "key_file",
    "load_box",
    "new_key",
    "sealed_token",
    "write_key_file",
]

KEY_ENV = "SYNCENGINE_SECRET_KEY"
KEY_FILE_ENV = "SYNCENGINE_SECRET_KEY_FILE"
_TAG = "$fernet"


class SecretKeyError(AuthError):
    """No usable key, or a stored secret the configured keys cannot open."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, url-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "syncengine" / "secret.key"


def key_file() -> Path:
    """Where the key file is (whether or not it exists yet)."""
    configured = os.environ.get(KEY_FILE_ENV)
    return Path(configured).expanduser() if configured else default_key_file()


def _parse_keys(text: str, where: str) -> list[str]:
    keys = [k.strip() for k in text.replace(",", "\n").splitlines() if k.strip() and not k.startswith("#")]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{where} holds a value that is not a Fernet key",
                hint="a key is 44 characters of url-safe base64; make one with `syncengine secrets new-key`",
            ) from None
    if not keys:
        raise SecretKeyError(f"{where} holds no key", hint="make one with `syncengine secrets new-key`")
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Write ``keys`` (first one encrypts) atomically, mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{_random.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write("".join(f"{k}\n" for k in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_key_file(path: Path) -> None:
    """A new key file, unless another process made one first (then that one is used)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{_random.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with suppress(FileExistsError):
            os.link(tmp, path)  # fails if the file exists: never overwrite a key in use
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class SecretBox:
    """Encrypts with the first key, decrypts with any of them."""

    keys: tuple[str, ...]
    #: where the keys came from, for messages ("SYNCENGINE_SECRET_KEY" or the file's path).
    source: str

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self.keys])

    def seal(self, plain: str) -> str:
        """The text to store for the secret text ``plain``."""
        return json.dumps({_TAG: self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")})

    def open(self, stored: str, name: str) -> str:
        """The secret text behind ``stored`` (which must be sealed: see :func:`sealed_token`)."""
        token = sealed_token(stored)
        if token is None:
            return stored
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"the stored secret {name!r} cannot be decrypted with the key from {self.source}",
                hint=f"set {KEY_ENV} (or the key file) to the key it was written with, "
                "or authorize again (e.g. `syncengine auth freshbooks`)",
            ) from None


def sealed_token(stored: str) -> str | None:
    """The Fernet token inside stored text, or None for a value written before encryption."""
    if not stored.startswith('{"' + _TAG):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    return data[_TAG] if is_encrypted(data) else None


def is_encrypted(data: Any) -> bool:
    return isinstance(data, dict) and set(data) == {_TAG} and isinstance(data[_TAG], str)


def load_box(*, create: bool = True) -> SecretBox:
    """The keys in force: ``SYNCENGINE_SECRET_KEY``, else the key file (made on first use if ``create``)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return SecretBox(tuple(_parse_keys(from_env, KEY_ENV)), KEY_ENV)
    path = key_file()
    if not path.exists():
        if not create:
            raise SecretKeyError(
                f"no secret key: {KEY_ENV} is not set and {path} does not exist",
                hint=f"set {KEY_ENV}, or {KEY_FILE_ENV} to the key file's path",
            )
        try:
            _create_key_file(path)
        except OSError as exc:
            raise SecretKeyError(
                f"cannot create the secret key file {path}: {exc.strerror}",
                hint=f"set {KEY_ENV}, or {KEY_FILE_ENV} to a writable path",
            ) from None
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc}") from None
    return SecretBox(tuple(_parse_keys(text, str(path))), str(path))
