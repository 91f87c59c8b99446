"""The ``syncengine`` command. Exit codes: 0 ok, 1 sync errors, 2 bad config or usage, not a ledger, pipeline busy."""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from syncengine.config import Config, load_config
from syncengine.engine import Engine, SyncOptions
from syncengine.errors import AuthError, ConfigError, ConfigErrors, SyncEngineError
from syncengine.logs import configure_logging
from syncengine.plugins import ConnectorPlugin, installed_plugins
from syncengine.reconcile import RunReport, describe_change
from syncengine.reconcile.pipeline import PAIR_COUNT_SEPARATOR

__all__ = ["app", "main"]

EXIT_OK, EXIT_SYNC_ERRORS, EXIT_CONFIG = 0, 1, 2

# -h as well as --help, on every command (click contexts inherit help_option_names from the parent).
app = typer.Typer(no_args_is_help=True, add_completion=True, help="Two-way record sync.",
                  context_settings={"help_option_names": ["-h", "--help"]})
conflicts_app = typer.Typer(no_args_is_help=True, help="List, show and settle parked conflicts.")
auth_app = typer.Typer(no_args_is_help=True, help="Authorize access to an outside system.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Run a local emulator of an outside API.")
runs_app = typer.Typer(help="Recent runs; `runs show ID` for one run's writes and errors.")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(auth_app, name="auth")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(runs_app, name="runs")
app.add_typer(__import__("syncengine.secrets_cli").secrets_cli.secrets_app, name="secrets")
app.command("daemon")(__import__("syncengine.daemon.cli").daemon.cli.daemon)
app.command("worker")(__import__("syncengine.workers.cli").workers.cli.worker)
app.command("objects")(__import__("syncengine.objects_cli").objects_cli.objects)

# Piped output (logs, CI) gets 120 columns rather than rich's 80, so tables keep their names whole.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", envvar="SYNCENGINE_CONFIG", help="The config file.")
]
PipelineOpt = Annotated[str | None, typer.Option("--pipeline", "-p", help="Pipeline name (default: the only one).")]


@dataclass
class _State:
    log_level: str = "warning"
    json_logs: bool | None = None


_state = _State()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"syncengine {version('syncengine')}", highlight=False)
        except PackageNotFoundError:  # a source tree that was never installed
            out.print("syncengine (not installed)")
        raise typer.Exit(EXIT_OK)


# Options of the whole command that a user may also write after the subcommand
# (`syncengine sync --log-level info`): moved in front of it before click parses argv.
GLOBAL_VALUE_OPTIONS = ("--log-level",)
GLOBAL_FLAG_OPTIONS = ("--json-logs", "--console-logs")


def hoist_global_options(argv: list[str]) -> list[str]:
    """argv with the global options moved before the first word (the subcommand); stops at ``--``."""
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in GLOBAL_FLAG_OPTIONS or any(arg.startswith(f"{o}=") for o in GLOBAL_VALUE_OPTIONS):
            hoisted.append(arg)
        elif arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(argv):
            hoisted.extend(argv[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return hoisted + rest


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
    json_logs: Annotated[bool | None, typer.Option("--json-logs/--console-logs",
                                                   help="Log format (default: console in a terminal).")] = None,
) -> None:
    _state.log_level, _state.json_logs = log_level, json_logs
    configure_logging(log_level, json=json_logs)


def _error(message: object) -> None:
    """An error line on stderr; the message is text, never markup (``[freshbooks]`` stays)."""
    err.print(f"[red]error[/red] {escape(str(message))}", highlight=False, soft_wrap=True)


def _row(table: Table, *cells: object) -> None:
    """A table row of plain text: values such as invoice lines hold brackets rich would parse."""
    table.add_row(*(escape(str(cell)) for cell in cells))


def _when(value: Any) -> str:
    """A timestamp to the second, for tables."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _config_errors(exc: ConfigError | ConfigErrors) -> None:
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    for error in errors:
        _error(error)


@contextmanager
def _loaded(config_path: Path, *, reading: str | None = None) -> Iterator[tuple[Config, Any]]:
    """The config and its ledger; config mistakes exit with code 2. A command that only reads
    (``reading`` says what it shows) finds no SQLite ledger file yet: it says so and exits 0,
    without creating one (a new ledger is the first sync's to make)."""
    from syncengine.ledger import Ledger, LedgerError
    from syncengine.ledger.connect import sqlite_path

    try:
        config = load_config(config_path)
    except (ConfigError, ConfigErrors) as exc:
        _config_errors(exc)
        raise typer.Exit(EXIT_CONFIG) from None
    path = sqlite_path(config.ledger_url) if reading else None
    if path is not None and not os.path.lexists(path):
        config.close()
        out.print(f"no {reading} yet: there is no ledger at {path} (the first `syncengine sync` creates it)")
        raise typer.Exit(0)
    try:
        ledger = Ledger.open(config.ledger_url)
    except LedgerError as exc:  # an empty, foreign or corrupt ledger file: named, with what to do
        config.close()
        _error(exc)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        yield config, ledger
    finally:
        config.close()
        ledger.close()


def _require_pipelines(config: Config) -> None:
    """A config without pipelines has nothing to check or sync: say so rather than pass silently."""
    if not config.pipelines:
        _error(f"{config.path}: no pipelines: add a `pipelines:` list (name, left, right, mapping); "
               "`syncengine init` writes a runnable example")
        raise typer.Exit(EXIT_CONFIG)


def _checked_mapping(config: Config, pipe: Any, ledger: Any) -> Any:
    """The pipeline's mapping, and what every run would fail on whatever it says (a CSV file that
    must exist and does not: the connector's ``blocking_problems``), as ConfigErrors."""
    compiled = config.mapping(pipe, ledger)
    blocking = [p for name in (pipe.left, pipe.right)
                for p in getattr(config.connector(name, ledger), "blocking_problems", list)()]
    if blocking:
        raise ConfigErrors(blocking)
    return compiled


def _mapping(config: Config, ledger: Any, pipeline: str | None) -> tuple[Any, Any]:
    _require_pipelines(config)
    try:
        pipe = config.pipeline(pipeline)
        return pipe, _checked_mapping(config, pipe, ledger)
    except (ConfigError, ConfigErrors) as exc:
        _config_errors(exc)
        raise typer.Exit(EXIT_CONFIG) from None
    except AuthError as exc:
        _error(exc)
        raise typer.Exit(EXIT_CONFIG) from None


# -- init ------------------------------------------------------------------------------------
@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the starter files.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write a runnable starter: config.yaml, a CSV <-> SQLite mapping and a small CSV file."""
    directory.mkdir(parents=True, exist_ok=True)
    starter = resources.files("syncengine") / "starter"
    written = []
    for name in ("config.yaml", "clients.mapping.yaml", "clients.csv"):
        target = directory / name
        if target.exists() and not force:
            err.print(f"[yellow]skip[/yellow] {escape(str(target))} exists (use --force to overwrite)")
            continue
        with resources.as_file(starter / name) as src:
            shutil.copyfile(src, target)
        written.append(str(target))
    for name in written:
        out.print(f"[green]wrote[/green] {name}")
    out.print(f"next: syncengine -h; syncengine validate -c {directory / 'config.yaml'}")


# -- validate --------------------------------------------------------------------------------
@app.command()
def validate(
    config: ConfigOpt = Path("config.yaml"),
    online: Annotated[bool, typer.Option(
        "--online", help="Also check every connector against what it connects to: credentials and "
                         "account (FreshBooks business_id), files, database.")] = False,
) -> None:
    """Check the config and every pipeline's mapping against the connectors' objects."""
    with _loaded(config) as (cfg, ledger):
        _require_pipelines(cfg)
        ledger.verify()  # the whole file read once: a damaged page is named here, not mid-sync
        # Online, the connectors first: a pipeline on a connector that failed is not checked again
        # (its one line said why).
        failed = {name for name in cfg.connectors if not _check_online(cfg, ledger, name)} if online else set()
        problems = len(failed)
        for name in cfg.pipelines:
            if {cfg.pipelines[name].left, cfg.pipelines[name].right} & failed:
                continue
            try:
                compiled = _checked_mapping(cfg, cfg.pipelines[name], ledger)
            except (ConfigError, ConfigErrors) as exc:
                _config_errors(exc)
                problems += 1
                continue
            except SyncEngineError as exc:  # a database that does not answer, a table that is not there
                _error(f"pipeline {name}: {exc}")
                problems += 1
                continue
            pairs = ", ".join(p.name for p in compiled.pairs)
            out.print(f"[green]ok[/green] pipeline {name}: {len(compiled.pairs)} pairs ({pairs})")
        if problems:
            raise typer.Exit(EXIT_CONFIG)


def _check_online(cfg: Config, ledger: Any, name: str) -> bool:
    """One connector's plugin check (`validate --online`): one line, ok or what is wrong."""
    from syncengine.config import connector_types

    spec = cfg.connectors[name]
    plugin = connector_types()[spec.type]
    label = f"connector {name} ({plugin.display_name})"
    if plugin.check is None:
        out.print(f"[yellow]skip[/yellow] {escape(label)}: its plugin has no online check", highlight=False)
        return True
    try:
        seen = plugin.check(cfg.connector(name, ledger))
    except ConfigErrors as exc:
        for error in exc.errors:
            _error(f"{label}: {error}")
        return False
    except ConfigError as exc:  # placed at the connector's section of the config when it names no file
        located = exc if exc.file is not None else cfg.error(exc.message, spec.loc, exc.hint)
        _error(f"{label}: {located}")
        return False
    except SyncEngineError as exc:
        _error(f"{label}: {exc}")
        return False
    out.print(f"[green]ok[/green] {escape(label)}: {escape(seen)}", highlight=False)
    return True


# -- plan / sync -----------------------------------------------------------------------------
def _summary(report: RunReport, title: str) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("pair")
    for column in ("created", "updated", "deleted", "archived", "linked", "conflicts", "errors"):
        table.add_column(column, justify="right")
    for pair in report.pairs:
        c = pair.counts
        def both(kind: str, c: Any = c) -> str:
            left, right = c.get(f"{kind}_left", 0), c.get(f"{kind}_right", 0)
            return f"←{left} →{right}" if left or right else "0"
        _row(table, pair.pair, both("created"), both("updated"), both("deleted"), both("archived"),
                      str(c.get("linked", 0)), str(c.get("conflicts", 0)), str(c.get("errors", 0)))
    # The errors first: the table and the line after it are what a person reads last.
    _print_errors(report.errors + [e for p in report.pairs for e in p.errors])
    err.file.flush()
    out.print(table)
    out.print("[dim]← written on the left side, → written on the right side[/dim]")


def _describe_diff(diff: dict[str, tuple[Any, Any]], pair: Any, side: str | None, most: int = 8) -> str:
    """A field diff in the written side's own field names, the first few fields of it."""
    parts = []
    for name, (before, after) in list(diff.items())[:most]:
        label = pair.field(name).path(side) if side in ("left", "right") else name
        parts.append(f"{label}: {describe_change(before, after)}")
    if len(diff) > most:
        parts.append(f"... +{len(diff) - most} more fields")
    return "; ".join(parts)


@app.command()
def plan(
    config: ConfigOpt = Path("config.yaml"),
    pipeline: PipelineOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Compare everything, not only what changed.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many actions.")] = 200,
) -> None:
    """Show what `sync` would do, with field diffs; nothing is written anywhere."""
    with _loaded(config) as (cfg, ledger):
        pipe, mapping = _mapping(cfg, ledger, pipeline)
        report = Engine(cfg, ledger).plan(pipe.name, SyncOptions(full=full))
        table = Table(title=f"plan for {pipe.name} ({pipe.left} ← → {pipe.right})")
        for column in ("pair", "action", "on", "left key", "right key", "changes"):
            table.add_column(column, overflow="fold")
        shown = 0
        for pair in report.pairs:
            compiled = mapping.pair(pair.pair)
            for action in pair.actions:
                if shown >= limit:
                    break
                changes = _describe_diff(action.diff, compiled, action.side)
                kind = "update (write-back)" if action.write_back else action.kind
                _row(table, pair.pair, kind, action.side or "", action.left_key or "",
                              action.right_key or "", changes or action.note)
                shown += 1
        out.print(table)
        total = sum(len(p.actions) for p in report.pairs)
        if total > shown:
            out.print(f"... and {total - shown} more actions")
        if total == 0:
            out.print("nothing to do: both sides agree")
        _summary(report, "plan summary")
        if report.config_errors or report.busy:  # as `sync` would stop: exit 2, like validate and sync
            raise typer.Exit(EXIT_CONFIG)
        if not report.ok:
            raise typer.Exit(EXIT_SYNC_ERRORS)


@app.command()
def sync(
    config: ConfigOpt = Path("config.yaml"),
    pipeline: PipelineOpt = None,
    full: Annotated[bool, typer.Option("--full", help="List everything on both sides and repair drift.")] = False,
    allow_mass_delete: Annotated[bool, typer.Option(
        "--allow-mass-delete", help="Proceed even when a run would delete many records.")] = False,
) -> None:
    """Reconcile both sides of a pipeline and apply the changes."""
    from syncengine.ledger import PipelineBusyError
    from syncengine.ledger.errors import LedgerStorageError, NotALedgerError

    with _loaded(config) as (cfg, ledger):
        pipe, _ = _mapping(cfg, ledger, pipeline)
        engine = Engine(cfg, ledger)
        show = sys.stderr.isatty()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed} records"), TimeElapsedColumn(),
                      console=err, disable=not show, transient=True) as progress:
            tasks: dict[tuple[str, str], Any] = {}

            def on_progress(pair: str, side: str, count: int) -> None:
                key = (pair, side)
                if key not in tasks:
                    tasks[key] = progress.add_task(f"{pair} {side}", total=None)
                progress.update(tasks[key], completed=count)

            try:
                report = engine.sync(pipe.name, SyncOptions(full=full, allow_mass_delete=allow_mass_delete),
                                     progress=on_progress)
            except (PipelineBusyError, LedgerStorageError, NotALedgerError) as exc:  # busy; a full disk; corrupt
                _error(exc)
                raise typer.Exit(EXIT_CONFIG) from None
            except SyncEngineError as exc:
                _error(exc)
                raise typer.Exit(EXIT_SYNC_ERRORS) from None
        _summary(report, f"sync {pipe.name} ({report.mode})")
        out.print(f"{report.writes} writes, run {report.run_id}")
        if report.config_errors or report.busy:  # a config mistake, or a file another process holds
            raise typer.Exit(EXIT_CONFIG)
        if not report.ok:
            raise typer.Exit(EXIT_SYNC_ERRORS)


def _readable_cursor(cursor: str | None) -> str:
    """A stored cursor (often JSON) as ``key=value`` pairs a person can read."""
    import json

    if not cursor:
        return ""
    try:
        value = json.loads(cursor)
    except ValueError:
        return cursor
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, "", [], {})) or "(start)"
    return str(value)


# -- status ----------------------------------------------------------------------------------
@app.command()
def status(
    config: ConfigOpt = Path("config.yaml"),
    serve: Annotated[bool, typer.Option("--serve", help="Serve the status page at / and /metrics instead.")] = False,
    host: Annotated[str, typer.Option(help="With --serve: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: the port.")] = 8080,
) -> None:
    """Cursors, the last runs and open conflicts (--serve: as a web page, with Prometheus metrics)."""
    with _loaded(config, reading=None if serve else "runs or cursors") as (_cfg, ledger):
        if serve:
            from syncengine.observability import serve_status

            out.print(f"status page on http://{host}:{port}/ and metrics on /metrics (Ctrl-C stops)")
            serve_status(_cfg, ledger, host, port)
            return
        cursors = Table(title="cursors")
        for column in ("pipeline", "pair", "side", "cursor", "updated"):
            cursors.add_column(column, overflow="ellipsis", no_wrap=column != "cursor")
        for c in ledger.cursors():
            _row(cursors, c.pipeline, c.pair, c.side, _readable_cursor(c.cursor), _when(c.updated_at))
        out.print(cursors)
        runs = Table(title="last runs")
        for column in ("id", "pipeline", "mode", "status", "started", "finished", "counts"):
            runs.add_column(column, overflow="fold")
        recent = ledger.recent_runs(limit=10)
        for r in recent:
            counts = _counts_text(r.counts or {})
            _row(runs, str(r.id), r.pipeline, r.mode,
                 (r.status or "running") + (f" ({r.reason})" if r.reason else ""), _when(r.started_at),
                         _when(r.finished_at), counts)
        out.print(runs)
        if recent and recent[0].errors:
            last = recent[0]
            out.print(f"errors of the last run ({last.id}, {last.pipeline}): {len(set(last.errors))} "
                      f"(see: syncengine runs show {last.id})", highlight=False)
            _print_errors(last.errors, most=20)
        open_conflicts = ledger.list_conflicts(status="open")
        out.print(f"open conflicts: {len(open_conflicts)}" + (" (see: syncengine conflicts list)"
                                                              if open_conflicts else ""))


# -- runs ------------------------------------------------------------------------------------
def _totals(counts: dict[str, int]) -> dict[str, int]:
    """A run's totals, without the per-pair counts ("clients:created_left") stored beside them."""
    return {k: v for k, v in counts.items() if PAIR_COUNT_SEPARATOR not in k}


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(_totals(counts).items()) if v)


def _print_errors(errors: list[str], most: int = 50) -> None:
    """Each error once, at most ``most`` of them."""
    unique = list(dict.fromkeys(errors))
    for error in unique[:most]:
        _error(error)
    if len(unique) > most:
        err.print(f"... and {len(unique) - most} more errors")


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    config: ConfigOpt = Path("config.yaml"),
    pipeline: PipelineOpt = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
) -> None:
    """Recent runs: when, pipeline, outcome, counts (`runs show ID` for one run's errors and writes)."""
    if ctx.invoked_subcommand is not None:
        return
    with _loaded(config, reading="runs") as (_cfg, ledger):
        table = Table(title="runs")
        for column in ("id", "started", "pipeline", "mode", "outcome", "counts", "errors"):
            table.add_column(column, overflow="fold")
        for r in ledger.recent_runs(limit=limit, pipeline=pipeline):
            _row(table, str(r.id), _when(r.started_at), r.pipeline, r.mode,
                 (r.status or "running") + (f" ({r.reason})" if r.reason else ""), _counts_text(r.counts),
                 str(len(r.errors)))
        out.print(table)


@runs_app.command("show")
def runs_show(run_id: int, config: ConfigOpt = Path("config.yaml")) -> None:
    """One run: its outcome, what it wrote per pair and direction, and every error."""
    with _loaded(config) as (_cfg, ledger):
        r = ledger.get_run(run_id)
        if r is None:
            _error(f"no run {run_id} in the ledger (see: syncengine runs)")
            raise typer.Exit(EXIT_CONFIG)
        out.print(f"run {r.id}: pipeline {r.pipeline}, {r.mode}, {r.status or 'running'}"
                  + (f" ({r.reason})" if r.reason else "")
                  + f", started {_when(r.started_at)}, finished {_when(r.finished_at) or '-'}", highlight=False)
        per_pair: dict[str, dict[str, int]] = {}
        for key, value in r.counts.items():
            if PAIR_COUNT_SEPARATOR in key:
                pair, _, kind = key.rpartition(PAIR_COUNT_SEPARATOR)
                per_pair.setdefault(pair, {})[kind] = value
        table = Table(title="writes per pair")
        for column in ("pair", "written on left (←)", "written on right (→)", "linked", "conflicts", "errors"):
            table.add_column(column)
        for pair, c in sorted(per_pair.items()):
            def side(s: str, c: dict[str, int] = c) -> str:
                return ", ".join(f"{c[f'{k}_{s}']} {k}" for k in ("created", "updated", "deleted", "archived")
                                 if c.get(f"{k}_{s}")) or "0"
            _row(table, pair, side("left"), side("right"), c.get("linked", 0), c.get("conflicts", 0),
                 c.get("errors", 0))
        out.print(table)
        out.print(f"totals: {_counts_text(r.counts) or 'nothing written'}", highlight=False)
        out.print(f"errors: {len(set(r.errors))}", highlight=False)
        _print_errors(r.errors, most=10_000)


# -- conflicts -------------------------------------------------------------------------------
@conflicts_app.command("list")
def conflicts_list(
    config: ConfigOpt = Path("config.yaml"),
    all_: Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")] = False,
) -> None:
    """Conflicts parked for a person (policy `manual`)."""
    with _loaded(config, reading="conflicts") as (_cfg, ledger):
        table = Table(title="conflicts")
        for column in ("id", "pipeline", "pair", "left key", "right key", "fields", "status", "created"):
            table.add_column(column)
        for c in ledger.list_conflicts(status=None if all_ else "open"):
            _row(table, str(c.id), c.pipeline, c.pair, c.left_key, c.right_key, ", ".join(c.fields),
                          c.status + (f" ({c.resolution})" if c.resolution else ""), _when(c.created_at))
        out.print(table)


@conflicts_app.command("show")
def conflicts_show(conflict_id: int, config: ConfigOpt = Path("config.yaml")) -> None:
    """One conflict: the base and both sides of every field in conflict."""
    with _loaded(config) as (_cfg, ledger):
        c = ledger.get_conflict(conflict_id)
        if c is None:
            _error(f"no conflict {conflict_id}")
            raise typer.Exit(EXIT_CONFIG)
        out.print(f"conflict {c.id}: pipeline {c.pipeline}, pair {c.pair}, left {c.left_key} <-> right "
                  f"{c.right_key}, {c.status}" + (f", {c.resolution} wins" if c.resolution else ""))
        table = Table()
        for column in ("field", "base (last agreed)", "left now", "right now"):
            table.add_column(column, overflow="fold")
        base, left, right = c.base or {}, c.left or {}, c.right or {}
        for name in c.fields:
            _row(table, name, str(base.get(name, "∅")), str(left.get(name, "∅")), str(right.get(name, "∅")))
        out.print(table)
        out.print(f"settle with: syncengine conflicts resolve {c.id} --take left|right")


@conflicts_app.command("resolve")
def conflicts_resolve(
    conflict_id: int,
    take: Annotated[str, typer.Option(help="The side whose values win: left or right.")],
    config: ConfigOpt = Path("config.yaml"),
) -> None:
    """Settle a conflict; the next sync writes the chosen side's values to the other side."""
    if take not in ("left", "right"):
        _error("--take must be left or right")
        raise typer.Exit(EXIT_CONFIG)
    with _loaded(config) as (_cfg, ledger):
        try:
            c = ledger.resolve_conflict(conflict_id, take)
        except (KeyError, ValueError, LookupError, SyncEngineError) as exc:
            _error(exc)
            raise typer.Exit(EXIT_CONFIG) from None
        out.print(f"conflict {c.id} resolved: {take} wins; the next `syncengine sync` applies it")


# -- auth / sandbox (vendor commands come from the connector plugins) -------------------------
def _keyword_options(fn: Callable[..., object]) -> list[inspect.Parameter]:
    """The keyword-only parameters of a plugin's command, their annotations evaluated (only theirs:
    the positional ones may name types the plugin imports for type checking alone)."""
    namespace = getattr(fn, "__globals__", {})
    return [p.replace(annotation=eval(p.annotation, namespace) if isinstance(p.annotation, str) else p.annotation)
            for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _auth_command(plugin: ConnectorPlugin, authorize: Callable[..., object]) -> Callable[..., None]:
    """``syncengine auth <plugin>``: --config and --connector, then the plugin's own options."""
    title = plugin.display_name

    def command(config: Path, connector: str | None, **cli_options: Any) -> None:
        with _loaded(config) as (cfg, ledger):
            names = [n for n, c in cfg.connectors.items() if c.type == plugin.name]
            if connector is None and len(names) == 1:
                connector = names[0]
            if connector not in names:
                _error(f"name the {title} connector with --connector (one of: {', '.join(names)})")
                raise typer.Exit(EXIT_CONFIG)
            try:
                said = authorize(dict(cfg.connectors[connector].options), ledger, **cli_options)
            except ConfigError as exc:  # placed at the connector's section when it names no file
                spec = cfg.connectors[connector]
                _error(exc if exc.file is not None else cfg.error(exc.message, spec.loc, exc.hint))
                raise typer.Exit(EXIT_CONFIG) from None
            except AuthError as exc:
                _error(exc)
                raise typer.Exit(EXIT_CONFIG) from None
            out.print("[green]authorized[/green]: tokens stored in the ledger")
            if said is not None:  # what the plugin wants the operator to know (FreshBooks: the businesses)
                out.print(said)

    own = _keyword_options(authorize)
    connector_opt = Annotated[str | None, typer.Option(help=f"The {title} connector's name in the config.")]
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("config", keyword, annotation=ConfigOpt, default=Path("config.yaml")),
              inspect.Parameter("connector", keyword, annotation=connector_opt, default=None), *own]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = authorize.__doc__
    command.__name__ = f"auth_{plugin.name}"
    return command


def _register_plugin_commands() -> None:
    for plugin in installed_plugins().values():
        if plugin.auth is not None:
            auth_app.command(plugin.name)(_auth_command(plugin, plugin.auth))
        if plugin.sandbox is not None:
            sandbox_app.command(plugin.name)(plugin.sandbox)


_register_plugin_commands()


def main() -> None:
    from syncengine.ledger.errors import LedgerStorageError, NotALedgerError

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    try:
        app(args=hoist_global_options(sys.argv[1:]), prog_name="syncengine")
    except (ConfigError, ConfigErrors) as exc:
        _config_errors(exc)
        sys.exit(EXIT_CONFIG)
    except (LedgerStorageError, NotALedgerError) as exc:  # met by any command: a full disk, a damaged file
        _error(exc)
        sys.exit(EXIT_CONFIG)
