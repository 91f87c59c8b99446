"""config.yaml: the ledger, the connectors and the pipelines, with environment overrides.

Strings may hold ``${VAR}`` or ``${VAR:-default}``; ``SYNCENGINE_LEDGER_URL`` overrides the
ledger. Relative paths (the SQLite ledger, mapping files, CSV files, SQLite databases) are taken
from the config file's folder, never the working directory, so a config runs the same from
anywhere; a pipeline's ``mapping:`` may also name a ready mapping (``freshbooks-sqldb``).
Connector types are the installed connector plugins (entry-point group ``syncengine.plugins``,
see :mod:`syncengine.plugins`), so the engine names no vendor: a new connector package registers
itself in its own pyproject.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncengine.connector import Connector
from syncengine.errors import ConfigError, ConfigErrors
from syncengine.mapping.diagnostics import did_you_mean
from syncengine.mapping.yaml_source import YamlSource, load_yaml
from syncengine.plugins import ConnectorFactory, ConnectorPlugin, installed_plugins

if TYPE_CHECKING:
    from syncengine.mapping import CompiledMapping
    from syncengine.tokens import TokenStore

__all__ = [
    "Config",
    "ConnectorConfig",
    "ConnectorFactory",
    "DaemonSettings",
    "PipelineConfig",
    "Safety",
    "connector_types",
    "load_config",
    "ready_mappings",
    "resolve_mapping",
]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TOP_KEYS = ("ledger", "connectors", "pipelines", "safety", "daemon", "workers")
_DAEMON_KEYS = ("public_url", "host", "port", "max_body_bytes", "register")
_PIPELINE_KEYS = ("name", "left", "right", "mapping", "schedule", "description")
_SAFETY_KEYS = ("max_delete_fraction", "min_mass_delete")
DEFAULT_LEDGER = "sqlite:///syncengine.db"


def connector_types() -> dict[str, ConnectorPlugin]:
    """Installed connector types (their plugins), by the name used in ``type:``."""
    return dict(installed_plugins())


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """The ``daemon:`` section: where the service listens and the URL outside systems call back."""

    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    #: a webhook body over this answers 413 unread.
    max_body_bytes: int = 256 * 1024
    #: register the webhooks the mappings need at start (needs public_url).
    register: bool = True


@dataclass(frozen=True, slots=True)
class Safety:
    max_delete_fraction: float = 0.25
    min_mass_delete: int = 10


@dataclass(slots=True)
class ConnectorConfig:
    name: str
    type: str
    options: dict[str, Any]
    loc: tuple[Any, ...]


@dataclass(slots=True)
class PipelineConfig:
    name: str
    left: str
    right: str
    mapping: Path
    schedule: str | None
    loc: tuple[Any, ...]


@dataclass(slots=True)
class Config:
    path: Path
    ledger_url: str
    connectors: dict[str, ConnectorConfig]
    pipelines: dict[str, PipelineConfig]
    safety: Safety
    source: YamlSource
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    #: the raw ``workers:`` section (checked by :mod:`syncengine.workers.settings`).
    workers: dict[str, Any] = field(default_factory=dict)
    _built: dict[str, Connector] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def error(self, message: str, loc: tuple[Any, ...], hint: str | None = None) -> ConfigError:
        line, column = self.source.position(loc)
        return ConfigError(message, file=str(self.path), line=line, column=column, hint=hint)

    def pipeline(self, name: str | None) -> PipelineConfig:
        if name is None:
            if len(self.pipelines) == 1:
                return next(iter(self.pipelines.values()))
            raise ConfigError(f"several pipelines ({', '.join(self.pipelines)}); name one with --pipeline",
                              file=str(self.path))
        if name not in self.pipelines:
            raise ConfigError(f"no pipeline {name!r} in this config{did_you_mean(name, self.pipelines)}",
                              file=str(self.path))
        return self.pipelines[name]

    def connector(self, name: str, token_store: TokenStore) -> Connector:
        """Build (once) the connector named in the config."""
        if name in self._built:
            return self._built[name]
        spec = self.connectors[name]
        factory: ConnectorFactory = connector_types()[spec.type].factory
        from syncengine.http.observe import client_name

        try:
            with client_name(name):  # its HTTP calls are counted under the connector's name
                built = factory(name, spec.options, base_dir=self.base_dir, token_store=token_store)
        except ConfigError as exc:
            where = exc.line is None
            prefix = f"connector {name!r}"
            message = exc.message if exc.message.startswith(prefix) else f"{prefix}: {exc.message}"
            loc = (*spec.loc, *getattr(exc, "options_loc", ()))
            raise (self.error(message, loc, exc.hint) if where else exc) from None
        except ConfigErrors as exc:
            raise ConfigErrors([
                self.error(e.message, (*spec.loc, *getattr(e, "options_loc", ())), e.hint) if e.line is None else e
                for e in exc.errors
            ]) from None
        self._built[name] = built
        return built

    def mapping(self, pipeline: PipelineConfig, token_store: TokenStore) -> CompiledMapping:
        """The pipeline's mapping, validated against both connectors' objects."""
        from syncengine.mapping import load_mapping

        left = self.connector(pipeline.left, token_store)
        right = self.connector(pipeline.right, token_store)
        try:
            return load_mapping(pipeline.mapping, left.objects(), right.objects())
        except ConfigErrors:
            # A file that cannot be read (missing, empty, binary) is the cause: say that instead.
            problems = [p for c in (left, right) for p in getattr(c, "problems", list)()]
            if problems:
                raise ConfigErrors(problems) from None
            raise

    def close(self) -> None:
        for connector in self._built.values():
            connector.close()
        self._built.clear()


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def ready_mappings() -> dict[str, Path]:
    """The mappings that ship with syncengine (the ``mappings`` package), by name."""
    try:
        folder = resources.files("mappings")
    except ModuleNotFoundError:
        return {}
    return {
        entry.name.removesuffix(".yaml"): Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.is_file()
    }


def resolve_mapping(value: str, base_dir: Path) -> tuple[Path, str | None]:
    """A pipeline's ``mapping:``: a ready mapping's name (``freshbooks-sqldb``), or a file path,
    relative to the config file's folder. Returns the path and, if it is not usable, why."""
    is_name = "/" not in value and os.sep not in value and not value.endswith((".yaml", ".yml"))
    ready = ready_mappings()
    if is_name:
        if value in ready:
            return ready[value], None
        known = ", ".join(sorted(ready)) or "none installed"
        return base_dir / value, (
            f"no ready mapping named {value!r} (ready mappings: {known}; a mapping file's path ends in .yaml)"
            + did_you_mean(value, ready)
        )
    candidate = Path(value).expanduser()
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    if candidate.exists():
        return candidate, None
    stem = Path(value).name.removesuffix(".yaml").removesuffix(".yml")
    hint = f"; to use the ready mapping of that name write `mapping: {stem}`" if stem in ready else ""
    return candidate, f"mapping file {value!r} does not exist (looked for {candidate}){hint}"


def load_config(path: str | Path) -> Config:
    """Read and check a config file; every mistake is reported with its file:line:column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigErrors([ConfigError(
            "cannot read config: no such file: `syncengine init` writes a runnable starter; or name yours with "
            "-c/--config (or $SYNCENGINE_CONFIG)", file=str(path))]) from None
    except OSError as exc:
        raise ConfigErrors([ConfigError(f"cannot read config: {exc.strerror}", file=str(path))]) from None
    except UnicodeDecodeError as exc:
        raise ConfigErrors([ConfigError(
            f"not UTF-8 text (byte {exc.start}): a config is a YAML file; is this the right file?",
            file=str(path))]) from None
    source = load_yaml(text, str(path))
    errors: list[ConfigError] = []

    def err(message: str, loc: tuple[Any, ...], suggestion: str = "", *, at_key: bool = False) -> None:
        line, column = source.key_position(loc) if at_key else source.position(loc)
        errors.append(ConfigError(message + suggestion, file=str(path), line=line, column=column))

    data = source.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        err("the config must be a mapping with ledger, connectors and pipelines", ())
        raise ConfigErrors(errors)
    for key in data:
        if key not in _TOP_KEYS:
            err(f"unknown key {key!r}", (key,), did_you_mean(str(key), _TOP_KEYS), at_key=True)

    ledger_url = os.environ.get("SYNCENGINE_LEDGER_URL") or _expand(data.get("ledger") or DEFAULT_LEDGER)
    if not isinstance(ledger_url, str):
        err("ledger must be a database URL such as sqlite:///syncengine.db", ("ledger",))
        ledger_url = DEFAULT_LEDGER
    elif not ledger_url.startswith(("sqlite:", "postgresql:", "postgresql+", "postgres:")):
        err(f"unsupported ledger URL {ledger_url.split('://')[0]}://...: use sqlite:///path/to/ledger.db "
            "or postgresql://user@host/db", ("ledger",))
        ledger_url = DEFAULT_LEDGER
    elif ledger_url.startswith("sqlite:///") and not ledger_url.startswith("sqlite:////"):
        relative = ledger_url[len("sqlite:///"):]
        if relative and relative != ":memory:":
            ledger_url = f"sqlite:///{(path.parent / relative).resolve()}"

    types = connector_types()
    connectors: dict[str, ConnectorConfig] = {}
    raw_connectors = data.get("connectors") or {}
    if not isinstance(raw_connectors, dict):
        err("connectors must be a mapping of name -> settings", ("connectors",))
        raw_connectors = {}
    for name, options in raw_connectors.items():
        loc = ("connectors", name)
        if not isinstance(options, dict):
            err(f"connector {name!r} must be a mapping with a type", loc)
            continue
        kind = options.get("type")
        if kind is None:
            err(f"connector {name!r} has no type (one of: {', '.join(sorted(types))})", loc)
            continue
        if kind not in types:
            err(f"unknown connector type {kind!r}", (*loc, "type"), did_you_mean(str(kind), types))
            continue
        opts = _expand({k: v for k, v in options.items() if k != "type"})
        connectors[str(name)] = ConnectorConfig(str(name), str(kind), opts, loc)

    pipelines: dict[str, PipelineConfig] = {}
    raw_pipelines = data.get("pipelines") or []
    if not isinstance(raw_pipelines, list):
        err("pipelines must be a list", ("pipelines",))
        raw_pipelines = []
    for index, entry in enumerate(raw_pipelines):
        loc = ("pipelines", index)
        if not isinstance(entry, dict):
            err("a pipeline must be a mapping with name, left, right and mapping", loc)
            continue
        for key in entry:
            if key not in _PIPELINE_KEYS:
                err(f"unknown pipeline key {key!r}", (*loc, key), did_you_mean(str(key), _PIPELINE_KEYS),
                    at_key=True)
        missing = [k for k in ("name", "left", "right", "mapping") if not entry.get(k)]
        if missing:
            err(f"pipeline is missing {', '.join(missing)}", loc)
            continue
        name = str(entry["name"])
        if name in pipelines:
            err(f"duplicate pipeline name {name!r}", (*loc, "name"))
        for side in ("left", "right"):
            if entry[side] not in raw_connectors:
                err(f"{side} connector {entry[side]!r} is not defined under connectors", (*loc, side),
                    did_you_mean(str(entry[side]), [str(c) for c in raw_connectors]))
        mapping_path, problem = resolve_mapping(str(_expand(str(entry["mapping"]))), path.parent)
        if problem:
            err(problem, (*loc, "mapping"))
        schedule = entry.get("schedule")
        if schedule is not None:
            from syncengine.schedule import ScheduleError, parse_schedule

            try:
                parse_schedule(str(schedule))
            except ScheduleError as exc:
                err(str(exc), (*loc, "schedule"))
        pipelines[name] = PipelineConfig(name, str(entry["left"]), str(entry["right"]), mapping_path,
                                         str(schedule) if schedule is not None else None, loc)

    safety = Safety()
    raw_safety = data.get("safety") or {}
    if isinstance(raw_safety, dict):
        for key in raw_safety:
            if key not in _SAFETY_KEYS:
                err(f"unknown safety key {key!r}", ("safety", key), did_you_mean(str(key), _SAFETY_KEYS),
                    at_key=True)
        fraction = raw_safety.get("max_delete_fraction", safety.max_delete_fraction)
        minimum = raw_safety.get("min_mass_delete", safety.min_mass_delete)
        if not isinstance(fraction, int | float) or not 0 <= float(fraction) <= 1:
            err("max_delete_fraction must be a number from 0 to 1", ("safety", "max_delete_fraction"))
            fraction = safety.max_delete_fraction
        if not isinstance(minimum, int) or minimum < 0:
            err("min_mass_delete must be a whole number >= 0", ("safety", "min_mass_delete"))
            minimum = safety.min_mass_delete
        safety = Safety(float(fraction), int(minimum))
    else:
        err("safety must be a mapping", ("safety",))

    daemon = DaemonSettings()
    raw_daemon = data.get("daemon") or {}
    if not isinstance(raw_daemon, dict):
        err("daemon must be a mapping (public_url, host, port, max_body_bytes, register)", ("daemon",))
    else:
        for key in raw_daemon:
            if key not in _DAEMON_KEYS:
                err(f"unknown daemon key {key!r}", ("daemon", key), did_you_mean(str(key), _DAEMON_KEYS),
                    at_key=True)
        port, limit = raw_daemon.get("port", daemon.port), raw_daemon.get("max_body_bytes", daemon.max_body_bytes)
        if not isinstance(port, int) or not 0 <= port < 65536:
            err("port must be a whole number from 0 to 65535", ("daemon", "port"))
            port = daemon.port
        if not isinstance(limit, int) or limit <= 0:
            err("max_body_bytes must be a whole number > 0", ("daemon", "max_body_bytes"))
            limit = daemon.max_body_bytes
        public = raw_daemon.get("public_url")
        daemon = DaemonSettings(
            public_url=str(_expand(public)).rstrip("/") if public else None,
            host=str(raw_daemon.get("host", daemon.host)), port=port, max_body_bytes=limit,
            register=bool(raw_daemon.get("register", True)),
        )

    if errors:
        raise ConfigErrors(errors)
    workers = _expand(data.get("workers") or {})
    return Config(path, ledger_url, connectors, pipelines, safety, source, daemon,
                  workers if isinstance(workers, dict) else {"": workers})
