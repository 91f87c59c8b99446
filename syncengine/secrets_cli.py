"""``syncengine secrets``: make a key, and rotate the key that encrypts the ledger's tokens.

Registered in :mod:`syncengine.cli` with one line; the encryption itself is :mod:`syncengine.secrets`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from syncengine.config import load_config
from syncengine.errors import ConfigError, ConfigErrors, SyncEngineError
from syncengine.secrets import KEY_ENV, key_file, load_box, new_key, write_key_file

__all__ = ["secrets_app"]

EXIT_CONFIG = 2

secrets_app = typer.Typer(no_args_is_help=True, help="Keys that encrypt tokens and webhook secrets in the ledger.")
_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


def _fail(message: object) -> typer.Exit:
    _err.print(f"[red]error[/red] {escape(str(message))}", soft_wrap=True)
    return typer.Exit(EXIT_CONFIG)


@secrets_app.command("new-key")
def new_key_command() -> None:
    """Print a new key (for SYNCENGINE_SECRET_KEY); nothing is stored."""
    print(new_key())


@secrets_app.command("rotate")
def rotate(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SYNCENGINE_CONFIG",
                                         help="The config file (its ledger is re-encrypted).")] = Path("config.yaml"),
    drop_old: Annotated[bool, typer.Option(
        "--drop-old", help="Remove the old keys from the key file afterwards (no other ledger uses them).")] = False,
) -> None:
    """Re-encrypt every token and secret in the ledger with a new key.

    With the key file: a new key is put first (the old ones stay, to decrypt), every secret is
    re-encrypted with it, and with --drop-old only the new key remains. With SYNCENGINE_SECRET_KEY:
    put the new key first yourself (NEW,OLD), run this, then set SYNCENGINE_SECRET_KEY=NEW."""
    from syncengine.ledger import Ledger

    try:
        cfg = load_config(config)
    except (ConfigError, ConfigErrors) as exc:
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        for error in errors[:-1]:
            _err.print(f"[red]error[/red] {escape(str(error))}", soft_wrap=True)
        raise _fail(errors[-1]) from None
    cfg.close()
    from_env = bool(os.environ.get(KEY_ENV))
    try:
        old = load_box()
        path = key_file()
        if not from_env:
            write_key_file(path, [new_key(), *old.keys])
        with Ledger.open(cfg.ledger_url) as ledger:
            names = ledger.reseal_tokens()
        if not from_env and drop_old:
            write_key_file(path, [load_box().keys[0]])
    except (SyncEngineError, OSError) as exc:
        raise _fail(exc) from None
    _out.print(f"re-encrypted {len(names)} secret(s) in the ledger")
    if from_env:
        _out.print(f"with the first key of {KEY_ENV}; you may now remove the old key(s) from it")
    elif drop_old:
        _out.print(f"{path} holds the new key only")
    else:
        _out.print(f"{path}: the new key encrypts; the old one(s) still decrypt (other ledgers using this key "
                   "file); once they are rotated too, run again with --drop-old")
