"""``syncengine objects [CONNECTOR [OBJECT]]``: what the configured connectors offer to a mapping.

Without arguments, every object of every connector in the config with its capabilities; with a
connector, that connector's objects; with an object too, its fields (type, read-only, required,
description) from the connector's spec. Connectors are built through the registry the engine
uses (entry points ``syncengine.plugins``); nothing is read from or sent to an outside system.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from syncengine.config import Config, load_config
from syncengine.connector import Capability, Connector, FieldSpec, ObjectSpec
from syncengine.errors import ConfigError, ConfigErrors, SyncEngineError
from syncengine.mapping.diagnostics import did_you_mean
from syncengine.tokens import MemoryTokenStore

__all__ = ["field_rows", "objects"]

EXIT_CONFIG = 2


def _consoles() -> tuple[Console, Console]:
    from syncengine.cli import err, out  # loaded by now: this module is registered by syncengine.cli

    return out, err


def _fail(message: str) -> typer.Exit:
    _, err = _consoles()
    err.print(f"[red]error[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_CONFIG)


def field_rows(fields: Mapping[str, FieldSpec], prefix: str = "") -> Iterator[tuple[str, FieldSpec]]:
    """Every field with its dotted path, sub-fields of objects and money values included."""
    for name, spec in fields.items():
        path = f"{prefix}{name}"
        yield path, spec
        children = dict(spec.fields)
        if spec.type == "money":
            children = {part: child for part in ("amount", "currency") if (child := spec.child(part)) is not None}
        yield from field_rows(children, f"{path}.")


def _capabilities(spec: ObjectSpec) -> str:
    return ", ".join(c.value for c in Capability if c in spec.capabilities)  # in the enum's order


def _build(config: Config, name: str) -> Connector:
    # A token store of its own: describing objects needs no credentials, and no ledger is created.
    try:
        return config.connector(name, MemoryTokenStore())
    except (ConfigError, ConfigErrors) as exc:
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        raise _fail("; ".join(str(e) for e in errors)) from None


def objects(
    connector: Annotated[str | None, typer.Argument(help="A connector's name in the config (default: all).")] = None,
    obj: Annotated[str | None, typer.Argument(metavar="[OBJECT]", help="One object: list its fields.")] = None,
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SYNCENGINE_CONFIG",
                                         help="The config file.")] = Path("config.yaml"),
) -> None:
    """The connectors' objects and capabilities; with CONNECTOR OBJECT, that object's fields."""
    out, _ = _consoles()
    try:
        cfg = load_config(config)
    except (ConfigError, ConfigErrors) as exc:
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        raise _fail("; ".join(str(e) for e in errors)) from None
    try:
        if connector is not None and connector not in cfg.connectors:
            known = ", ".join(cfg.connectors) or "none"
            raise _fail(f"no connector {connector!r} in {config}{did_you_mean(connector, cfg.connectors)} "
                        f"(connectors: {known})")
        names = [connector] if connector is not None else list(cfg.connectors)
        if obj is not None:
            assert connector is not None
            specs = _build(cfg, connector).objects()
            if obj not in specs:
                raise _fail(f"connector {connector!r} has no object {obj!r}{did_you_mean(obj, specs)} "
                            f"(objects: {', '.join(sorted(specs))})")
            _show_object(out, connector, specs[obj])
            return
        for name in names:
            try:
                specs = _build(cfg, name).objects()
            except SyncEngineError as exc:
                raise _fail(f"connector {name!r}: {exc}") from None
            plural = "s" if len(specs) != 1 else ""
            out.print(f"{name} ({cfg.connectors[name].type}): {len(specs)} object{plural}", highlight=False)
            width = max((len(s) for s in specs), default=0)
            for spec in specs.values():
                out.print(f"  {spec.name:<{width}}  key {spec.key}, {len(spec.fields)} fields; "
                          f"can: {_capabilities(spec)}", highlight=False, soft_wrap=True)
        out.print("fields of one object: syncengine objects CONNECTOR OBJECT", highlight=False)
    finally:
        cfg.close()


def _show_object(out: Console, connector: str, spec: ObjectSpec) -> None:
    out.print(f"{connector}.{spec.name}: key {spec.key}"
              + (f", cursor field {spec.cursor_field}" if spec.cursor_field else "")
              + f"; can: {_capabilities(spec)}", highlight=False, soft_wrap=True)
    if spec.description:
        out.print(spec.description, highlight=False)
    table = Table(title=f"fields of {connector}.{spec.name}")
    for column in ("field", "type", "read-only", "required", "description"):
        table.add_column(column, overflow="fold")
    for path, field in field_rows(spec.fields):
        table.add_row(*(escape(str(cell)) for cell in (
            path, field.type, "read-only" if field.read_only else "", "required" if field.required else "",
            field.description)))
    out.print(table)
