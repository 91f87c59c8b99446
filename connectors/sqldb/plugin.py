"""The SQL connector as the engine sees it (entry point ``sqldb`` in ``syncengine.plugins``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncengine.plugins import ConnectorPlugin

if TYPE_CHECKING:
    from syncengine.connector import Connector
    from syncengine.tokens import TokenStore

__all__ = ["plugin"]


def factory(name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore) -> Connector:
    from connectors.sqldb.connector import SqlConnector

    return SqlConnector.from_config(name, dict(options), base_dir=base_dir)


def check(connector: Connector) -> str:
    """``syncengine validate --online``: the database answers, every table is there or creatable."""
    from connectors.sqldb.connector import SqlConnector

    assert isinstance(connector, SqlConnector)
    return connector.check()


plugin = ConnectorPlugin(name="sqldb", title="SQL", factory=factory, check=check,
                         contract_subjects="tests.contract.subjects")
