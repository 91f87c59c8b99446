"""The CSV connector as the engine sees it (entry point ``csvfile`` in ``syncengine.plugins``)."""

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
    from connectors.csvfile.connector import CsvConnector

    return CsvConnector.from_config(name, dict(options), base_dir=base_dir)


def check(connector: Connector) -> str:
    """``syncengine validate --online``: every file readable and writable, or creatable."""
    from connectors.csvfile.connector import CsvConnector

    assert isinstance(connector, CsvConnector)
    return connector.check()


plugin = ConnectorPlugin(name="csvfile", title="CSV", factory=factory, check=check,
                         contract_subjects="tests.contract.subjects")
