"""Entry points behind ``type:`` in config.yaml (group ``syncengine.connectors`` in pyproject).

Each factory takes the connector's name, its options from the config (environment already
expanded), the config file's folder for relative paths, and the ledger as token store.
Imports are deferred so that one connector's dependencies never burden another's users.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncengine.connector import Connector
from syncengine.tokens import TokenStore

__all__ = ["csvfile", "freshbooks", "sqldb", "stripe"]


def csvfile(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.csvfile import CsvConnector

    return CsvConnector.from_config(name, dict(options), base_dir=base_dir)


def sqldb(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.sqldb import SqlConnector

    return SqlConnector.from_config(name, dict(options), base_dir=base_dir)


def freshbooks(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.freshbooks import FreshBooksConnector

    return FreshBooksConnector.from_config(name, dict(options), store=token_store)


def stripe(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.stripe import StripeConnector

    return StripeConnector.from_config(name, dict(options))
