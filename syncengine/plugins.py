"""Connector plugins: everything vendor-specific the engine needs, found through one entry point.

A connector package exports one :class:`ConnectorPlugin` under the entry-point group
``syncengine.plugins``; the entry point's name is the ``type:`` that config.yaml uses::

    [project.entry-points."syncengine.plugins"]
    hubspot = "hubspot_connector.plugin:plugin"

The engine imports no connector package: ``type:`` builds through :attr:`~ConnectorPlugin.factory`,
the daemon receives webhooks through :attr:`~ConnectorPlugin.webhook_source`, ``syncengine auth
<type>`` and ``syncengine sandbox <type>`` are the plugin's :attr:`~ConnectorPlugin.auth` and
:attr:`~ConnectorPlugin.sandbox` commands, and the connector contract suite imports
:attr:`~ConnectorPlugin.contract_subjects`. Keep a plugin module light: import the connector
inside the functions it names, so one connector's dependencies never burden another's users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from syncengine.connector import Connector

if TYPE_CHECKING:
    from pydantic import BaseModel

    from syncengine.tokens import TokenStore
    from syncengine.webhooks import WebhookSourceFactory

__all__ = ["GROUP", "ConnectorFactory", "ConnectorPlugin", "PluginError", "installed_plugins"]

#: the entry-point group every connector package registers its :class:`ConnectorPlugin` under.
GROUP = "syncengine.plugins"


class ConnectorFactory(Protocol):
    """Builds a connector from its config.yaml section (environment already expanded); relative
    paths are taken from ``base_dir`` (the config file's folder); the ledger is the token store."""

    def __call__(
        self, name: str, options: Mapping[str, Any], *, base_dir: Path, token_store: TokenStore
    ) -> Connector: ...


@dataclass(frozen=True)
class ConnectorPlugin:
    """What a connector package hands the engine. Only ``name`` and ``factory`` are required."""

    #: the ``type:`` in config.yaml; also the word after ``syncengine auth`` / ``syncengine sandbox``.
    name: str
    factory: ConnectorFactory
    #: how people write the system's name in help and errors ("FreshBooks"); default: ``name``.
    title: str = ""
    #: the pydantic model of the connector's options, loaded on demand (None: it takes a plain dict).
    options_model: Callable[[], type[BaseModel]] | None = None
    #: ``syncengine validate --online``: checks a built connector against what it connects to
    #: (credentials and account, files, database) and returns one line saying what it saw; raises
    #: a SyncEngineError (AuthError, ConfigError(s), ConnectorError) saying what is wrong and what to do.
    check: Callable[[Connector], str] | None = None
    #: ``syncengine auth <name>``. The engine loads config.yaml and the ledger, picks the connector
    #: of this type (``--connector``, or the only one), and calls ``auth(options, token_store,
    #: **cli_options)``: the two positional parameters are followed by keyword-only parameters
    #: declared as typer options (``Annotated[int, typer.Option(help=...)] = 8976``), which become
    #: the command's own options after ``--config`` and ``--connector``. The docstring is its help.
    #: Raise :class:`~syncengine.errors.AuthError` or ``ConfigError`` for a one-line error (exit 2).
    #: What it returns, unless None, is printed (a rich renderable) after the "authorized" line.
    auth: Callable[..., object] | None = None
    #: ``syncengine sandbox <name>``: a typer command function (its parameters are the options).
    sandbox: Callable[..., None] | None = None
    #: the daemon's webhook receiver for this connector type (None: no webhooks).
    webhook_source: WebhookSourceFactory | None = None
    #: dotted name of the module that registers this connector's contract-test subjects when
    #: imported (tests/contract/README.md); None: the connector is not in the contract suite.
    contract_subjects: str | None = None

    @property
    def display_name(self) -> str:
        return self.title or self.name


class PluginError(RuntimeError):
    """An entry point in ``syncengine.plugins`` that is not a :class:`ConnectorPlugin` of its name."""


@cache
def installed_plugins() -> Mapping[str, ConnectorPlugin]:
    """The installed connector plugins, by ``type:`` name, sorted; loaded once per process."""
    found: dict[str, ConnectorPlugin] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        plugin = ep.load()
        if not isinstance(plugin, ConnectorPlugin):
            raise PluginError(f"entry point {ep.name} = {ep.value} ({GROUP}) is a {type(plugin).__name__}, "
                              "not a syncengine.plugins.ConnectorPlugin")
        if plugin.name != ep.name:
            raise PluginError(f"entry point {ep.name} = {ep.value} ({GROUP}) names a plugin {plugin.name!r}; "
                              "the entry point's name must be the plugin's name")
        found[ep.name] = plugin
    return found
